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
  collectOnMainThread,
  MAIN_THREAD_COLLECTOR_FLAGS,
  userChoseCollectorThreads,
} from "../../src/cli/collector-threads.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { CLI, NO_CONFIG_HOME } from "../helpers/spawn-serve.js";

// Issue 12, item 1 (the upload path): `bftp serve` keeps V8's collections on its main thread,
// unless the user chose otherwise with V8's own flags. Asserted on V8's own account of each
// collection (`--trace-gc-nvp`: the milliseconds background threads spent in it), never on
// time or CPU. Tracing is switched on only once the setting is in place (a hook wraps
// `v8.setFlagsFromString`), so every traced collection is one the setting governs.

const run = promisify(execFile);

const MODULE = fileURLToPath(new URL("../../src/cli/collector-threads.js", import.meta.url));

let base: string;

before(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-collector-"));
});

after(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

const none = { execArgv: [], nodeOptions: undefined } as const;

test("the user chooses the collector's threads with V8's flags, either polarity, anywhere", () => {
  assert.equal(userChoseCollectorThreads(none), false);
  assert.equal(userChoseCollectorThreads({ execArgv: [], nodeOptions: "" }), false);
  for (const flag of [
    "--single-threaded-gc",
    "--single-threaded",
    "--parallel-scavenge",
    "--no-parallel-scavenge",
    "--concurrent_marking",
    "--no-concurrent-sweeping",
    "--parallel-marking",
    "--no_parallel_compaction",
    "--parallel-pointer-update",
    "--concurrent-array-buffer-sweeping=false",
  ]) {
    assert.equal(userChoseCollectorThreads({ execArgv: [flag], nodeOptions: undefined }), true);
    const options = `--enable-source-maps  ${flag} --trace-warnings`;
    assert.equal(userChoseCollectorThreads({ execArgv: [], nodeOptions: options }), true, flag);
  }
});

test("other Node and V8 flags leave the choice to bftp", () => {
  for (const flag of [
    "--max-old-space-size=512",
    "--expose-gc",
    "--trace-gc",
    "--single-threaded-gc-extra",
    "--no-single",
    "single-threaded-gc",
    "-single-threaded-gc",
  ]) {
    assert.equal(userChoseCollectorThreads({ execArgv: [flag], nodeOptions: flag }), false, flag);
  }
});

test("a user's choice stands: collectOnMainThread then changes nothing", () => {
  const sources = { execArgv: ["--concurrent-marking"], nodeOptions: undefined };
  assert.equal(collectOnMainThread(sources), false);
});

/** The milliseconds background threads spent, summed over `trace`'s collections, by field. */
function background(trace: string): {
  collections: number;
  scavenges: number;
  ms: Map<string, number>;
} {
  const ms = new Map<string, number>();
  let collections = 0;
  let scavenges = 0;
  for (const line of trace.split("\n")) {
    if (!/ gc=\w+ /.test(line)) continue;
    collections++;
    if (line.includes(" gc=s ")) scavenges++;
    for (const [, field, value] of line.matchAll(/ (background\.[\w.]+)=([\d.]+)/g)) {
      ms.set(field as string, (ms.get(field as string) ?? 0) + Number(value));
    }
  }
  return { collections, scavenges, ms };
}

/**
 * The work the setting moves to the main thread: scavenging, sweeping, evacuating. Marking
 * in the atomic pause stays parallel (`--no-parallel-marking` aborts V8 on Node 20), and the
 * unmapper only returns pages to the system.
 */
const MOVED = /^background\.(scavenge|sweep|evacuate)/;

function assertNoBackgroundWork(trace: string): void {
  const { scavenges, ms } = background(trace);
  assert.ok(scavenges >= 1, "no scavenge was traced");
  for (const [field, total] of ms) {
    if (MOVED.test(field)) assert.equal(total, 0, `${field}: ${String(total)} ms`);
  }
}

/**
 * Runs `script` in a fresh node, after `apply` (code that uses collector-threads.js as
 * `threads`), with tracing switched on once `apply` has run; returns stdout (the trace).
 */
async function traceInFreshNode(apply: string): Promise<string> {
  const file = path.join(base, `script-${String(Date.now())}-${String(Math.random())}.mjs`);
  await fs.writeFile(
    file,
    `import v8 from "node:v8";
import * as threads from ${JSON.stringify(MODULE)};
${apply}
v8.setFlagsFromString("--trace-gc-nvp");
let keep = [];
const old = [];
for (let i = 0; i < 2_000_000; i++) {
  keep.push({ i, bytes: Buffer.allocUnsafe(64) });
  if (keep.length > 50_000) {
    old.push(keep);
    if (old.length > 8) old.shift();
    keep = [];
  }
}
`,
  );
  const { stdout } = await run(process.execPath, [file], {
    timeout: 60_000,
    maxBuffer: 64 << 20,
  });
  return stdout;
}

test("in a running process, the setting leaves nothing of a collection to background threads", async () => {
  const trace = await traceInFreshNode(
    `if (!threads.collectOnMainThread({ execArgv: [], nodeOptions: undefined })) process.exit(3);`,
  );
  assertNoBackgroundWork(trace);
});

test("left alone, V8 scavenges on background threads too (what the setting changes)", async () => {
  const { scavenges, ms } = background(await traceInFreshNode(""));
  assert.ok(scavenges >= 10, `${String(scavenges)} scavenges`);
  assert.ok((ms.get("background.scavenge.parallel") ?? 0) > 0);
});

/**
 * Runs `node ...nodeArgs bftp serve ...serveArgs` with a hook loaded first (--import,
 * inherited by --workers processes) that switches
 * tracing on right after bftp sets the collector's flags; puts 6 uploads of
 * 32 MiB through it (each piece a fresh buffer: the garbage this is about), stops it with
 * SIGTERM and returns its stdout, the trace among it.
 */
async function traceServeUnderUploads(
  name: string,
  nodeArgs: readonly string[],
  serveArgs: readonly string[] = [],
): Promise<string> {
  const dir = path.join(base, name);
  await fs.mkdir(dir);
  const hook = path.join(base, `${name}-hook.mjs`);
  await fs.writeFile(
    hook,
    `import v8 from "node:v8";
const set = v8.setFlagsFromString;
v8.setFlagsFromString = (flags) => {
  set(flags);
  if (flags.includes(${JSON.stringify(MAIN_THREAD_COLLECTOR_FLAGS[0])})) set("--trace-gc-nvp");
};
`,
  );
  const child = spawn(
    process.execPath,
    [...nodeArgs, "--import", hook, CLI, "serve", dir, "--port", "0", "--quiet", ...serveArgs],
    {
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, XDG_CONFIG_HOME: NO_CONFIG_HOME },
    },
  );
  const exited = once(child, "exit") as Promise<[number | null]>;
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const deadline = setTimeout(() => {
        reject(new Error("no listening line within 10 s"));
      }, 10_000);
      const look = (): void => {
        const match = /listening on .+:(\d+)\n/.exec(stdout);
        if (match === null) return;
        clearTimeout(deadline);
        child.stdout.off("data", look);
        resolve(Number(match[1]));
      };
      child.stdout.on("data", look);
      void exited.then(() => {
        reject(new Error("bftp serve exited before listening"));
      });
    });
    const data = Buffer.alloc(32 << 20, 7);
    const conn = await ProtocolConnection.open(port);
    try {
      for (let i = 0; i < 6; i++) {
        const reply = await conn.put(`/up-${String(i)}.bin`, data, { size: data.length });
        assert.equal(reply["ok"], true);
      }
    } finally {
      conn.close();
    }
  } finally {
    child.kill("SIGTERM");
  }
  const [code] = await exited;
  assert.equal(code, 0);
  return stdout;
}

test("bftp serve collects on its main thread while it takes uploads", async () => {
  assertNoBackgroundWork(await traceServeUnderUploads("one", []));
});

test("so does each process of bftp serve --workers 2", async () => {
  // The workers inherit stdout and the hook (--import); the primary only accepts. Each line
  // names its process: every process that traced has set the flags before it did.
  const trace = await traceServeUnderUploads("workers", [], ["--workers", "2"]);
  assertNoBackgroundWork(trace);
  const pids = new Set([...trace.matchAll(/^\[(\d+):0x[\da-f]+\] .* gc=/gm)].map((m) => m[1]));
  assert.ok(pids.size >= 2, `collections traced in ${String(pids.size)} process(es)`);
});

test("a user's V8 flag on the node command line stands: bftp serve then sets nothing", async () => {
  // The hook traces only once bftp has set the flags: nothing traced, nothing set.
  const { collections } = background(
    await traceServeUnderUploads("chosen", ["--parallel-scavenge"]),
  );
  assert.equal(collections, 0);
});
