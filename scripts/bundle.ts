/**
 * Bundles the CLI that `bin` runs (issue 12, item 4: start-up): `dist/bundle/bftp.js` and the
 * tree worker `dist/bundle/tree-worker.js`, built by esbuild from tsc's output in `dist/src`
 * (so tsc stays the one compiler and type checker). Loading one entry file and a few chunks
 * instead of about 150 modules saves node's resolution and per-module work: about 50 ms of
 * every command (docs/performance.md, "Start-up").
 *
 * Code splitting keeps each command's lazy `import()` (bftp.ts) a chunk of its own, so
 * `bftp --version` still loads no command. The worker is an entry point of its own because
 * `fs-pool.ts` starts it as `new URL("./tree-worker.js", import.meta.url)`: every chunk lands
 * in the one folder, so that URL names the bundled worker. `dist/bundle/meta.json` records
 * which source modules each output holds (test/cli/startup-modules.test.ts reads it).
 *
 * Then the client's commands once more, as one CommonJS file (`client-cli.cjs`, from
 * `src/cli/client-main.ts`; `client-meta.json` lists what it holds, and the build fails if
 * that includes a server module), and V8's code cache of it (`client-cli.cjs.cache`), made by
 * a fresh node: a client command runs from there, compiled already (src/cli/client-bundle.ts:
 * about 30 ms less start-up; docs/performance.md, "A code cache for the client's commands").
 *
 * Run by `npm run build` after tsc: `node dist/scripts/bundle.js`.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";
import { CLIENT_BUNDLE } from "../src/cli/client-bundle.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The line of commander's `lib/command.js` that loads `node:child_process` up front. */
const COMMANDER_CHILD_PROCESS = "const childProcess = require('node:child_process');";

/**
 * Commander loads `node:child_process` when it is imported, for the one thing that needs it:
 * running a subcommand that is a separate executable, which bftp has none of. Loading it
 * (with `dgram` and the socket list it brings) is about 5 ms of every command's start-up,
 * `--version` included (issue 12, item 4). This plugin makes that `require` lazy: the same
 * module, loaded on the first `spawn`. It fails the build if the line is not there, so a new
 * commander cannot quietly undo it.
 */
const lazyChildProcess: Plugin = {
  name: "lazy-child-process",
  setup(plugin) {
    plugin.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const source = fs.readFileSync(args.path, "utf8");
      if (!source.includes(COMMANDER_CHILD_PROCESS)) {
        throw new Error(`${args.path}: no \`${COMMANDER_CHILD_PROCESS}\` to make lazy`);
      }
      const lazy =
        "let loadedChildProcess; const childProcess = { spawn: (...args) => " +
        "(loadedChildProcess ??= require('node:child_process')).spawn(...args) };";
      return { contents: source.replace(COMMANDER_CHILD_PROCESS, lazy), loader: "js" };
    });
  },
};

const OUT = path.join(ROOT, "dist", "bundle");

/** Left to node, from node_modules (see the first build below for why). */
const EXTERNAL = [
  "@node-rs/crc32",
  "@peculiar/x509",
  "reflect-metadata",
  "ssh2",
  "@aws-sdk/*",
  "prom-client",
  "pino",
];

fs.rmSync(OUT, { recursive: true, force: true });
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: {
    bftp: "dist/src/cli/bftp.js",
    "tree-worker": "dist/src/server/tree-worker.js",
  },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Loaded only to make a TLS certificate, CommonJS whose named exports node's own loader
  // finds (a bundled copy would offer only a default export), and a native addon that picks
  // its platform's build at run time: left to node, from node_modules.
  external: EXTERNAL,
  // The CommonJS packages (commander's, cli-progress's dependencies) call require(): an ES
  // module has none, so each output gets one made for it.
  banner: {
    js: 'import { createRequire as __bftpCreateRequire } from "node:module"; const require = __bftpCreateRequire(import.meta.url);',
  },
  plugins: [lazyChildProcess],
  metafile: true,
  logLevel: "warning",
});
fs.writeFileSync(path.join(OUT, "meta.json"), JSON.stringify(result.metafile));
fs.chmodSync(path.join(OUT, "bftp.js"), 0o755);

// The client's commands again, as one CommonJS file with no server code, loaded with a V8
// code cache (src/cli/client-bundle.ts): node 20 keeps no compiled code for ES modules.
// `import.meta.url` (CommonJS has none) is the file's own URL, which the loader passes in
// beside `__filename` (a banner would come before the file's "use strict", which would then
// be no directive: the bundle would run in sloppy mode).
const client = await build({
  absWorkingDir: ROOT,
  entryPoints: ["dist/src/cli/client-main.js"],
  outfile: path.join(OUT, CLIENT_BUNDLE),
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  external: EXTERNAL,
  define: { "import.meta.url": "__bftpModuleUrl" },
  // Every import() becomes a require() (of node's modules and the externals, all loadable so):
  // a script run with vm has no import() of its own without an experimental flag of node's.
  supported: { "dynamic-import": false },
  plugins: [lazyChildProcess],
  metafile: true,
  logLevel: "warning",
});
fs.writeFileSync(path.join(OUT, "client-meta.json"), JSON.stringify(client.metafile));
const serverModules = Object.keys(client.metafile.inputs).filter((input) =>
  input.startsWith("dist/src/server/"),
);
if (serverModules.length > 0) {
  throw new Error(`The client bundle holds server modules: ${serverModules.join(", ")}`);
}

// Its code cache, made by a fresh node with no flags of this one (V8 keeps a cache only for
// the flags it was made with), which runs each client command's --help: what a client
// command then finds compiled. Its output is the commands' help: discarded.
const made = spawnSync(
  process.execPath,
  [
    "--input-type=module",
    "--eval",
    `const { writeClientCache } = await import(${JSON.stringify(
      pathToFileURL(path.join(ROOT, "dist", "src", "cli", "client-bundle.js")).href,
    )});
await writeClientCache(${JSON.stringify(path.join(OUT, CLIENT_BUNDLE))});`,
  ],
  { stdio: ["ignore", "ignore", "inherit"], timeout: 60_000 },
);
if (made.status !== 0)
  throw new Error(`Cannot make the client bundle's code cache (${made.status})`);
