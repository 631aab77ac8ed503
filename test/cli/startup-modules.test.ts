import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import { CLI } from "../helpers/spawn-serve.js";

// Issue 12, item 4 (start-up): `bftp` loads only what the command it runs needs. Asserted on
// which modules a run imports (never on time): a module hook registered with --import
// appends every URL it resolves to a file, one a line.

const run = promisify(execFile);

/** dist/src, where the CLI's own modules live. */
const SRC = path.dirname(path.dirname(CLI));

/** Modules that make start-up slow: the client, the server, their schemas and drawing. */
// (string-width is CommonJS, required by cli-progress: the ESM resolve hook does not see it.)
const HEAVY_PACKAGES = ["zod", "cli-progress", "@peculiar/x509", "reflect-metadata"];

let base: string;
let hook: string;

before(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-startup-"));
  const resolveHook = path.join(base, "resolve-hook.mjs");
  // Runs on the hooks thread; appendFileSync so that every line is written before exit.
  await fs.writeFile(
    resolveHook,
    `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.BFTP_TEST_MODULE_LOG, result.url + "\\n");
  return result;
}
`,
  );
  hook = path.join(base, "register.mjs");
  await fs.writeFile(
    hook,
    `import { register } from "node:module";
register(${JSON.stringify(pathToFileURL(resolveHook).href)});
`,
  );
});

after(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

let runs = 0;

/** Runs the built CLI with ARGS under the hook; the modules it loaded, as paths or URLs. */
async function modulesLoadedBy(args: readonly string[]): Promise<string[]> {
  runs += 1;
  const log = path.join(base, `modules-${runs}.log`);
  await fs.writeFile(log, "");
  const env = { ...process.env, BFTP_TEST_MODULE_LOG: log };
  await run(process.execPath, ["--import", pathToFileURL(hook).href, CLI, ...args], {
    env,
    timeout: 20_000,
  });
  const urls = (await fs.readFile(log, "utf8")).split("\n").filter((line) => line !== "");
  return urls.map((url) => (url.startsWith("file:") ? fileURLToPath(url) : url));
}

/** The loaded modules of bftp's own under dist/src/DIR. */
function ours(modules: readonly string[], dir: string): string[] {
  const root = path.join(SRC, dir) + path.sep;
  return modules.filter((m) => m.startsWith(root));
}

function packagesIn(modules: readonly string[]): string[] {
  return HEAVY_PACKAGES.filter((name) =>
    modules.some((m) => m.includes(`${path.sep}node_modules${path.sep}${name}${path.sep}`)),
  );
}

test("the hook sees what a run loads (the other tests would pass vacuously otherwise)", async () => {
  const modules = await modulesLoadedBy(["--help"]);
  assert.ok(modules.includes(CLI));
  assert.ok(modules.some((m) => m.includes(`${path.sep}node_modules${path.sep}commander`)));
  // --help lists every command, so it still loads them all, and with them the heavy modules.
  assert.ok(ours(modules, "client").length > 0);
  assert.ok(ours(modules, "server").length > 0);
  // (@peculiar/x509 comes only when a TLS identity is made, cli-progress only when bars are
  // drawn, so neither comes here.)
  assert.deepEqual(packagesIn(modules), ["zod"]);
});

test("bftp --version loads no command, no client, no server, no protocol", async () => {
  for (const flag of ["--version", "-V"]) {
    const modules = await modulesLoadedBy([flag]);
    assert.ok(modules.includes(CLI));
    assert.deepEqual(ours(modules, "client"), []);
    assert.deepEqual(ours(modules, "server"), []);
    assert.deepEqual(ours(modules, "protocol"), []);
    assert.deepEqual(
      ours(modules, "cli").filter((m) => m !== CLI),
      [],
    );
    assert.deepEqual(packagesIn(modules), []);
  }
});

test("a client command loads neither the server nor the other commands", async () => {
  for (const args of [
    ["get", "--help"],
    ["put", "--help"],
    ["ls", "--help"],
    ["mv", "--help"],
  ]) {
    const modules = await modulesLoadedBy(args);
    // Nothing of the server (its accounts, listener, sessions, TLS identity), and no progress
    // bars: cli-progress is loaded only when they are drawn (progress-display.ts).
    assert.deepEqual(ours(modules, "server"), [], args.join(" "));
    assert.deepEqual(packagesIn(modules), ["zod"], args.join(" "));
    const commands = ours(modules, "cli").filter((m) => /-command(s)?\.js$/.test(m));
    const own = args[0] === "ls" ? "remote-commands.js" : `${args[0] ?? ""}-command.js`;
    assert.ok(
      commands.every((m) => path.basename(m) === own || path.basename(m) === "remote-command.js"),
      `${args.join(" ")} loaded ${commands.join(", ")}`,
    );
    assert.ok(commands.some((m) => path.basename(m) === own));
  }
});

test("bftp serve --help loads no client command", async () => {
  const modules = await modulesLoadedBy(["serve", "--help"]);
  const commands = ours(modules, "cli").filter((m) => /-command(s)?\.js$/.test(m));
  assert.deepEqual(
    commands.map((m) => path.basename(m)),
    ["serve-command.js"],
  );
});
