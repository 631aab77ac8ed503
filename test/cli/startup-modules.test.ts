import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import { CLI, UNBUNDLED_CLI, spawnServe } from "../helpers/spawn-serve.js";

// Issue 12, item 4 (start-up): `bftp` loads only what the command it runs needs. Asserted on
// which modules a run imports (never on time): a module hook registered with --import
// appends every URL it resolves to a file, one a line. Every test runs on both builds: tsc's
// one module per source file, and the bundle `bin` runs (scripts/bundle.ts), whose loaded
// chunks are mapped back to the source modules they hold through esbuild's metafile. In the
// bundle a client command runs from the client bundle (client-cli.cjs, with its code cache:
// src/cli/client-bundle.ts), which the hook does not see: tests of its own below.

const run = promisify(execFile);

/** dist/src, where the CLI's own modules live. */
const SRC = path.dirname(path.dirname(UNBUNDLED_CLI));
/** dist/bundle, the bundle's entry, worker and chunks. */
const BUNDLE = path.dirname(CLI);
/** Where the metafile's paths are relative to: the package (dist/..). */
const PACKAGE = path.dirname(path.dirname(SRC));

/** One build of the CLI: its entry, and how its loaded files map to source modules. */
interface Build {
  readonly name: string;
  readonly cli: string;
  readonly modules: (loaded: readonly string[]) => string[];
}

interface Metafile {
  readonly outputs: Record<string, { readonly inputs: Record<string, unknown> }>;
}

/** Each output of the bundle (an absolute path) and the source modules in it (absolute). */
async function bundleInputs(): Promise<Map<string, string[]>> {
  const meta = JSON.parse(await fs.readFile(path.join(BUNDLE, "meta.json"), "utf8")) as Metafile;
  return new Map(
    Object.entries(meta.outputs).map(([output, { inputs }]) => [
      path.resolve(PACKAGE, output),
      Object.keys(inputs).map((input) => path.resolve(PACKAGE, input)),
    ]),
  );
}

const BUILDS: readonly Build[] = [
  { name: "tsc", cli: UNBUNDLED_CLI, modules: (loaded) => [...loaded] },
  {
    name: "bundle",
    cli: CLI,
    modules: (loaded) => {
      // Each loaded output stands for the modules it holds; the bundle holds all of ours and
      // of the packages, so nothing else but node's own modules may be loaded.
      const inputs = bundled;
      assert.ok(inputs !== undefined);
      return loaded.flatMap((m) => {
        if (m.startsWith("node:") || EXTERNAL.some((name) => m.includes(name))) return [m];
        const held = inputs.get(m);
        assert.ok(held !== undefined, `loaded ${m}, which is not an output of the bundle`);
        return held;
      });
    },
  },
];

let bundled: Map<string, string[]> | undefined;

/** The packages scripts/bundle.ts leaves to node (a TLS certificate's). */
const EXTERNAL = ["@peculiar/x509", "reflect-metadata"].map(
  (name) => `${path.sep}node_modules${path.sep}${name}${path.sep}`,
);

/** Modules that make start-up slow: the client, the server, their schemas and drawing. */
// (string-width is CommonJS, required by cli-progress: the ESM resolve hook does not see it.)
const HEAVY_PACKAGES = ["zod", "cli-progress", "@peculiar/x509", "reflect-metadata"];

let base: string;
let hook: string;

before(async () => {
  bundled = await bundleInputs();
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

/**
 * Runs a build of the CLI with ARGS under the hook; the source modules it loaded, as paths or
 * URLs (for the bundle, those held by the files it loaded).
 */
async function modulesLoadedBy(build: Build, args: readonly string[]): Promise<string[]> {
  runs += 1;
  const log = path.join(base, `modules-${runs}.log`);
  await fs.writeFile(log, "");
  const env = { ...process.env, BFTP_TEST_MODULE_LOG: log };
  await run(process.execPath, ["--import", pathToFileURL(hook).href, build.cli, ...args], {
    env,
    timeout: 20_000,
  });
  const urls = (await fs.readFile(log, "utf8")).split("\n").filter((line) => line !== "");
  const loaded = urls.map((url) => (url.startsWith("file:") ? fileURLToPath(url) : url));
  assert.ok(loaded.includes(build.cli));
  return build.modules(loaded);
}

/** The CLI's dispatch (no command in them): what every run loads. */
const DISPATCH = [
  "bftp.js",
  "client-bundle.js",
  "client-command-table.js",
  "command-table.js",
  "program.js",
];

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

for (const build of BUILDS) {
  test(`${build.name}: the hook sees what a run loads (the other tests would pass vacuously otherwise)`, async () => {
    const modules = await modulesLoadedBy(build, ["--help"]);
    assert.ok(modules.includes(UNBUNDLED_CLI));
    assert.ok(modules.some((m) => m.includes(`${path.sep}node_modules${path.sep}commander`)));
    // --help lists every command, so it still loads them all, and with them the heavy modules.
    assert.ok(ours(modules, "client").length > 0);
    assert.ok(ours(modules, "server").length > 0);
    // (@peculiar/x509 comes only when a TLS identity is made, cli-progress only when bars are
    // drawn, so neither comes here.)
    assert.deepEqual(packagesIn(modules), ["zod"]);
  });

  test(`${build.name}: bftp --version loads no command, no client, no server, no protocol`, async () => {
    for (const flag of ["--version", "-V"]) {
      const modules = await modulesLoadedBy(build, [flag]);
      assert.ok(modules.includes(UNBUNDLED_CLI));
      assert.deepEqual(ours(modules, "client"), []);
      assert.deepEqual(ours(modules, "server"), []);
      assert.deepEqual(ours(modules, "protocol"), []);
      assert.deepEqual(
        ours(modules, "cli").filter((m) => !DISPATCH.includes(path.basename(m))),
        [],
      );
      assert.deepEqual(packagesIn(modules), []);
    }
  });

  test(`${build.name}: a client command loads neither the server nor the other commands`, async () => {
    for (const args of [
      ["get", "--help"],
      ["put", "--help"],
      ["ls", "--help"],
      ["mv", "--help"],
    ]) {
      const modules = await modulesLoadedBy(build, args);
      // Nothing of the server (its accounts, listener, sessions, TLS identity), no progress
      // bars (cli-progress is loaded only when they are drawn, progress-display.ts), and no
      // zod: the client checks replies with protocol/shape.ts (about 45 ms of start-up).
      assert.deepEqual(ours(modules, "server"), [], args.join(" "));
      assert.deepEqual(packagesIn(modules), [], args.join(" "));
      // node's TLS and prompt modules only for bftps:// and for questions to a person.
      for (const builtin of ["node:tls", "node:readline/promises", "node:readline"]) {
        assert.ok(!modules.includes(builtin), `${args.join(" ")} loaded ${builtin}`);
      }
      const commands = ours(modules, "cli").filter((m) => /-command(s)?\.js$/.test(m));
      if (build.name === "bundle") {
        // The command runs from the client bundle: no command's ES module is loaded at all.
        assert.deepEqual(commands, [], args.join(" "));
        continue;
      }
      const own = args[0] === "ls" ? "remote-commands.js" : `${args[0] ?? ""}-command.js`;
      assert.ok(
        commands.every((m) => path.basename(m) === own || path.basename(m) === "remote-command.js"),
        `${args.join(" ")} loaded ${commands.join(", ")}`,
      );
      assert.ok(commands.some((m) => path.basename(m) === own));
    }
  });

  test(`${build.name}: bftp serve --help loads no client command`, async () => {
    const modules = await modulesLoadedBy(build, ["serve", "--help"]);
    const commands = ours(modules, "cli").filter((m) => /-command(s)?\.js$/.test(m));
    assert.deepEqual(
      commands.map((m) => path.basename(m)),
      ["serve-command.js"],
    );
  });
}

/**
 * node's own modules a command needs only for something a plain transfer never does, each
 * several ms of start-up: `crypto` (SHA-256, TLS fingerprints; src/node-crypto.ts loads it on
 * first use), `zlib` (the fallback CRC-32 when the native one does not load; crc32.ts) and
 * `child_process` (commander's executable subcommands; scripts/bundle.ts makes it lazy).
 */
const UNNEEDED_BUILTINS = ["crypto", "zlib", "child_process"];

/**
 * Runs the bundled CLI with ARGS under a preload that writes, at exit, every module of node's
 * own the process loaded (`process.moduleLoadList`, which sees `require` and `import` alike).
 */
async function builtinsLoadedBy(args: readonly string[], cwd: string): Promise<string[]> {
  runs += 1;
  const log = path.join(base, `builtins-${runs}.log`);
  const preload = path.join(base, "builtins-preload.cjs");
  await fs.writeFile(
    preload,
    `process.on("exit", () => require("node:fs").writeFileSync(process.env.BFTP_TEST_BUILTIN_LOG,
  process.moduleLoadList.filter((m) => m.startsWith("NativeModule ")).map((m) => m.slice(13)).join("\\n")));
`,
  );
  await run(process.execPath, ["--require", preload, CLI, ...args], {
    cwd,
    env: { ...process.env, BFTP_TEST_BUILTIN_LOG: log },
    timeout: 20_000,
  });
  return (await fs.readFile(log, "utf8")).split("\n");
}

test("bundle: --version, put -r and get of a plain transfer load no crypto, zlib or child_process", async () => {
  const served = await fs.mkdtemp(path.join(base, "served-"));
  const local = await fs.mkdtemp(path.join(base, "local-"));
  await fs.mkdir(path.join(local, "tree"));
  await fs.writeFile(path.join(local, "tree", "a.txt"), "hello\n");
  const serve = await spawnServe(served);
  try {
    const url = `bftp://${serve.host}:${serve.port}`;
    const version = await builtinsLoadedBy(["--version"], local);
    const putTree = await builtinsLoadedBy(["put", "-r", "-q", "tree", `${url}/up`], local);
    const get = await builtinsLoadedBy(["get", "-q", `${url}/up/a.txt`, "copy.txt"], local);
    assert.equal(await fs.readFile(path.join(local, "copy.txt"), "utf8"), "hello\n");
    for (const [name, loaded] of [
      ["--version", version],
      ["put -r", putTree],
      ["get", get],
    ] as const) {
      // The list is node's: it must hold what every command loads, or the check proves nothing.
      assert.ok(loaded.includes("fs") && loaded.includes("path"), `${name}: ${loaded.join(" ")}`);
      for (const builtin of UNNEEDED_BUILTINS) {
        assert.ok(!loaded.includes(builtin), `${name} loaded ${builtin}`);
      }
    }
    assert.ok(putTree.includes("net") && get.includes("net"));
  } finally {
    await serve.stop();
  }
});
