import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import {
  keepYoungGenerationSmall,
  userSizedYoungGeneration,
} from "../../src/cli/young-generation.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { CLI, NO_CONFIG_HOME } from "../helpers/spawn-serve.js";

// Issue 12, item 5 (server memory under load): `bftp serve` keeps V8's young generation at its
// start size, unless the user sized it with V8's own flags. Asserted on V8's heap statistics
// in the process concerned (never on time or RSS): with the growth factor at 1, V8 still takes
// the young generation from its start size to its first capacity (1 to 2 MiB on Node 20),
// then never further, whatever the load; left alone it doubles up to 16 MiB or more.

const run = promisify(execFile);

const MODULE = fileURLToPath(new URL("../../src/cli/young-generation.js", import.meta.url));

let base: string;

before(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-young-gen-"));
});

after(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

const none = { execArgv: [], nodeOptions: undefined } as const;

test("the user sizes the young generation with V8's flags, on the command line or in NODE_OPTIONS", () => {
  assert.equal(userSizedYoungGeneration(none), false);
  assert.equal(userSizedYoungGeneration({ execArgv: [], nodeOptions: "" }), false);
  for (const flag of [
    "--max-semi-space-size=16",
    "--max_semi_space_size=16",
    "--min-semi-space-size=4",
    "--semi-space-growth-factor=4",
    "--max-semi-space-size",
  ]) {
    assert.equal(
      userSizedYoungGeneration({ execArgv: [flag], nodeOptions: undefined }),
      true,
      flag,
    );
    const options = `--enable-source-maps  ${flag} --trace-warnings`;
    assert.equal(userSizedYoungGeneration({ execArgv: [], nodeOptions: options }), true, flag);
  }
});

test("other Node and V8 flags leave the choice to bftp", () => {
  for (const flag of [
    "--max-old-space-size=512",
    "--expose-gc",
    "--max-semi-space-size-extra=1",
    "--semi-space",
    "max-semi-space-size=16",
  ]) {
    assert.equal(userSizedYoungGeneration({ execArgv: [flag], nodeOptions: flag }), false, flag);
  }
});

test("a user's size stands: keepYoungGenerationSmall then changes nothing", () => {
  const sources = { execArgv: ["--max-semi-space-size=16"], nodeOptions: undefined };
  assert.equal(keepYoungGenerationSmall(sources), false);
});

/** Runs `script` (an ES module importing young-generation.js as `young`) in a fresh node. */
async function inFreshNode(script: string, nodeArgs: readonly string[] = []): Promise<string> {
  const file = path.join(base, `script-${String(Date.now())}-${String(Math.random())}.mjs`);
  await fs.writeFile(file, `import * as young from ${JSON.stringify(MODULE)};\n${script}`);
  const { stdout } = await run(process.execPath, [...nodeArgs, file], { timeout: 30_000 });
  return stdout.trim();
}

/** The most the young generation may reach from `start` with bftp's setting: one step. */
function assertStayedSmall(start: unknown, peak: unknown): void {
  assert.equal(typeof start, "number");
  assert.equal(typeof peak, "number");
  assert.ok(
    (peak as number) <= 2 * (start as number),
    `grew from ${String(start)} to ${String(peak)}`,
  );
}

// A bounded allocation loop that makes V8 scavenge many times over: enough, without the
// setting, for V8 to grow the young generation on this machine; with it, growth is impossible.
const CHURN = `
import v8 from "node:v8";
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size;
const start = newSpace();
let peak = start;
let keep = [];
for (let i = 0; i < 400_000; i++) {
  keep.push({ i, bytes: Buffer.allocUnsafe(64) });
  if (keep.length > 4_000) keep = [];
  if (i % 1_000 === 0) peak = Math.max(peak, newSpace());
}
console.log(JSON.stringify({ applied, start, peak }));
`;

test("in a running process, the young generation then stays small under load", async () => {
  const out = await inFreshNode(
    `const applied = young.keepYoungGenerationSmall({ execArgv: [], nodeOptions: undefined });${CHURN}`,
  );
  const { applied, start, peak } = JSON.parse(out) as Record<string, unknown>;
  assert.equal(applied, true);
  assertStayedSmall(start, peak);
});

test("bftp serve keeps the young generation small while it serves", async () => {
  const dir = path.join(base, "served");
  await fs.mkdir(dir);
  await fs.writeFile(path.join(dir, "four.bin"), Buffer.alloc(4 * 1024 * 1024, 7));
  // Loaded before the CLI with --import: samples the young generation's size every 2 ms (a
  // missed sample can only hide growth, never invent it) and writes the peak at exit.
  const report = path.join(base, "serve-report.json");
  const hook = path.join(base, "sample-new-space.mjs");
  await fs.writeFile(
    hook,
    `import fs from "node:fs";
import v8 from "node:v8";
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size;
const start = newSpace();
let peak = start;
setInterval(() => { peak = Math.max(peak, newSpace()); }, 2).unref();
process.on("exit", () => {
  peak = Math.max(peak, newSpace());
  fs.writeFileSync(${JSON.stringify(report)}, JSON.stringify({ start, peak }));
});
`,
  );
  const child = spawn(
    process.execPath,
    ["--import", hook, CLI, "serve", dir, "--port", "0", "--log-format", "json"],
    {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, XDG_CONFIG_HOME: NO_CONFIG_HOME },
    },
  );
  const exited = once(child, "exit") as Promise<[number | null]>;
  try {
    const [first] = (await Promise.race([
      once(child.stdout, "data"),
      exited.then(() => {
        throw new Error("bftp serve exited before listening");
      }),
    ])) as [Buffer];
    const port = Number(/:(\d+)\n/.exec(first.toString("utf8"))?.[1]);
    assert.ok(port > 0);
    // 4 rounds of 8 concurrent GETs of 4 MiB: 128 MiB through the server's transfer path.
    const conns = await Promise.all(Array.from({ length: 8 }, () => ProtocolConnection.open(port)));
    try {
      for (let round = 0; round < 4; round++) {
        const got = await Promise.all(conns.map((conn) => conn.get("/four.bin")));
        for (const g of got) assert.equal(g.data?.length, 4 * 1024 * 1024);
      }
    } finally {
      for (const conn of conns) conn.close();
    }
  } finally {
    child.kill("SIGTERM");
  }
  const [code] = await exited;
  assert.equal(code, 0);
  const { start, peak } = JSON.parse(await fs.readFile(report, "utf8")) as Record<string, unknown>;
  assertStayedSmall(start, peak);
});
