// The client bundle (src/cli/client-bundle.ts, issue 12 item 4): a client command of the
// built CLI runs from dist/bundle/client-cli.cjs with the V8 code cache the build made. It
// must be what runs, be accepted by this node, hold no server code, print exactly what the
// unbundled CLI prints, and still work when V8 refuses the cache.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import { CLIENT_BUNDLE } from "../../src/cli/client-bundle.js";
import { CLIENT_COMMANDS } from "../../src/cli/client-command-table.js";
import { CLI, UNBUNDLED_CLI } from "../helpers/spawn-serve.js";

const run = promisify(execFile);
const BUNDLE = path.join(path.dirname(CLI), CLIENT_BUNDLE);
const LOADER = pathToFileURL(path.join(path.dirname(UNBUNDLED_CLI), "client-bundle.js")).href;

let base: string;

before(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-client-bundle-"));
});

after(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

/** Runs node with ARGS; stdout, stderr and the exit code, whatever the code. */
async function node(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, args, { env, timeout: 20_000 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: unknown };
    if (typeof e.code !== "number") throw err;
    return { stdout: e.stdout ?? "", stderr: e.stderr ?? "", code: e.code };
  }
}

/** The files node compiled with `vm.Script` while the built CLI ran ARGS. */
async function scriptsCompiledBy(args: readonly string[]): Promise<string[]> {
  const log = path.join(base, `scripts-${args.join("-").replace(/[^a-z-]/g, "")}.log`);
  const preload = path.join(base, "vm-preload.cjs");
  await fs.writeFile(
    preload,
    `const vm = require("node:vm"); const fs = require("node:fs"); const Script = vm.Script;
vm.Script = function (source, options) {
  fs.appendFileSync(process.env.BFTP_TEST_VM_LOG, String(options && options.filename) + "\\n");
  return new Script(source, options);
};
`,
  );
  await fs.writeFile(log, "");
  await node(["--require", preload, CLI, ...args], { ...process.env, BFTP_TEST_VM_LOG: log });
  return (await fs.readFile(log, "utf8")).split("\n").filter((line) => line !== "");
}

test("a client command runs from the client bundle; --version, serve and --help do not", async () => {
  for (const args of [
    ["ls", "--help"],
    ["get", "--help"],
    ["put", "--bogus"],
  ]) {
    assert.deepEqual(await scriptsCompiledBy(args), [BUNDLE], args.join(" "));
  }
  for (const args of [["--version"], ["serve", "--help"], ["--help"], ["help", "get"]]) {
    assert.deepEqual(await scriptsCompiledBy(args), [], args.join(" "));
  }
});

test("the build's code cache is accepted by this node, and the bundle holds no server code", async () => {
  const { stdout } = await node([
    "--input-type=module",
    "--eval",
    `import fs from "node:fs";
const { loadClientBundle } = await import(${JSON.stringify(LOADER)});
const file = ${JSON.stringify(BUNDLE)};
const bundle = loadClientBundle(file, fs.readFileSync(file + ".cache"));
process.stdout.write(JSON.stringify({ rejected: bundle.cacheRejected }));`,
  ]);
  assert.deepEqual(JSON.parse(stdout), { rejected: false });
  // Strict, as the ES modules it is made of: the directive must be the file's first statement.
  assert.ok((await fs.readFile(BUNDLE, "utf8")).startsWith('"use strict";'));
  const meta = JSON.parse(
    await fs.readFile(path.join(path.dirname(CLI), "client-meta.json"), "utf8"),
  ) as { inputs: Record<string, unknown> };
  const inputs = Object.keys(meta.inputs);
  assert.deepEqual(
    inputs.filter((input) => input.startsWith("dist/src/server/")),
    [],
  );
  for (const name of ["get", "put", "sync", "mv", "remote-config"]) {
    assert.ok(inputs.includes(`dist/src/cli/${name}-command.js`), name);
  }
});

test("a cache V8 refuses costs only time: the command still runs", async () => {
  const { stdout, stderr, code } = await node([
    "--input-type=module",
    "--eval",
    `const { loadClientBundle } = await import(${JSON.stringify(LOADER)});
const file = ${JSON.stringify(BUNDLE)};
const bundle = loadClientBundle(file, Buffer.from("not a code cache"));
process.stderr.write(JSON.stringify({ rejected: bundle.cacheRejected }) + "\\n");
await bundle.main([process.execPath, file, "ls", "--help"]);`,
  ]);
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(stderr.trim()), { rejected: true });
  assert.match(stdout, /^Usage: bftp ls /);
});

test("the client bundle prints what the unbundled CLI prints: help, usage errors, exit codes", async () => {
  const cases = [
    ...CLIENT_COMMANDS.map(([name]) => [name, "--help"]),
    ["get"],
    ["get", "--bogus"],
    ["put", "-r"],
    ["ls", "--json", "--bogus"],
    ["mv", "only-one"],
  ];
  for (const args of cases) {
    const bundled = await node([CLI, ...args]);
    const unbundled = await node([UNBUNDLED_CLI, ...args]);
    assert.deepEqual(bundled, unbundled, args.join(" "));
  }
});
