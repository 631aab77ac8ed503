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
 * Run by `npm run build` after tsc: `node dist/scripts/bundle.js`.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

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
  external: [
    "@node-rs/crc32",
    "@peculiar/x509",
    "reflect-metadata",
    "ssh2",
    "@aws-sdk/*",
    "prom-client",
    "pino",
  ],
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
