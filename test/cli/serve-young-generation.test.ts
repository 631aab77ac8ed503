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

/**
 * Runs `bftp serve ...args` with a hook loaded first (--import, inherited by --workers
 * processes) that samples the young generation's size every 2 ms (a missed sample can only
 * hide growth, never invent it) and writes its start and peak at exit, one file per process;
 * puts 4 rounds of 8 concurrent GETs of 4 MiB through it, stops it with SIGTERM and returns
 * every process's report.
 */
async function serveUnderLoad(name: string, args: readonly string[]): Promise<unknown[]> {
  const dir = path.join(base, name);
  const reports = path.join(base, `${name}-reports`);
  await fs.mkdir(dir);
  await fs.mkdir(reports);
  await fs.writeFile(path.join(dir, "four.bin"), Buffer.alloc(4 * 1024 * 1024, 7));
  const hook = path.join(base, `${name}-hook.mjs`);
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
  fs.writeFileSync(${JSON.stringify(reports)} + "/" + process.pid + ".json", JSON.stringify({ start, peak }));
});
`,
  );
  const child = spawn(
    process.execPath,
    ["--import", hook, CLI, "serve", dir, "--port", "0", "--log-format", "json", ...args],
    {
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, XDG_CONFIG_HOME: NO_CONFIG_HOME },
    },
  );
  const exited = once(child, "exit") as Promise<[number | null]>;
  try {
    let stdout = "";
    const listening = new Promise<number>((resolve) => {
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString("utf8");
        const match = /^listening on .+:(\d+)\n/.exec(stdout);
        if (match !== null) resolve(Number(match[1]));
      });
    });
    const port = await Promise.race([
      listening,
      exited.then(() => {
        throw new Error("bftp serve exited before listening");
      }),
      new Promise<never>((_, reject) =>
        setTimeout(() => {
          reject(new Error("no listening line within 10 s"));
        }, 10_000).unref(),
      ),
    ]);
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
  const files = await fs.readdir(reports);
  return Promise.all(
    files.map(async (f) => JSON.parse(await fs.readFile(path.join(reports, f), "utf8")) as unknown),
  );
}

test("bftp serve keeps the young generation small while it serves", async () => {
  const reports = await serveUnderLoad("one", []);
  assert.equal(reports.length, 1);
  const { start, peak } = reports[0] as Record<string, unknown>;
  assertStayedSmall(start, peak);
});

test("so does each process of bftp serve --workers 2", async () => {
  const reports = await serveUnderLoad("workers", ["--workers", "2"]);
  assert.equal(reports.length, 3, "the primary and two workers");
  for (const report of reports) {
    const { start, peak } = report as Record<string, unknown>;
    assertStayedSmall(start, peak);
  }
});
