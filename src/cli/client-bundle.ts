/**
 * The client bundle and its code cache (issue 12, item 4: start-up). Node 20 compiles every
 * ES module from source on each run (`module.enableCompileCache` came with Node 22): about a
 * third of a client command's start-up. So the build (scripts/bundle.ts) also bundles the
 * client's commands (client-main.ts) into one CommonJS file, `client-cli.cjs`, runs each
 * command's `--help` once in a fresh process, and keeps V8's code cache of the result as
 * `client-cli.cjs.cache`. A client command then loads the file with that cache (`vm.Script`'s
 * `cachedData`): no parsing, and the modules' code already compiled. A cache V8 refuses
 * (another node, other V8 flags) costs only the compiling it would have saved.
 *
 * `bftp serve` does not come this way: its memory under load is a target (issue 12, item 5),
 * and a bundle of the whole CLI kept 3 to 4 MB more in it.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import vm from "node:vm";
import { CLIENT_COMMANDS, clientCommand } from "./client-command-table.js";

/** The bundle's file name, beside the entry (`dist/bundle/bftp.js`). */
export const CLIENT_BUNDLE = "client-cli.cjs";

/** A loaded client bundle: its script (for its code cache) and its entry. */
export interface ClientBundle {
  readonly script: vm.Script;
  /** Whether V8 refused the cache it was given (undefined when none was). */
  readonly cacheRejected: boolean | undefined;
  readonly main: (argv: readonly string[]) => Promise<void>;
}

/**
 * Loads the CommonJS bundle `file` with `cachedData` if given, as node would load it (the same
 * module wrapper, a `require` of its own), and with `__bftpModuleUrl`, the file's URL, which
 * the build put for `import.meta.url`. (The build also turned every `import()` in it into a
 * `require`: a script run this way has no `import()` unless given node's experimental loader.)
 */
export function loadClientBundle(file: string, cachedData?: Buffer): ClientBundle {
  const source = readFileSync(file, "utf8");
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname, __bftpModuleUrl) {${source}\n})`,
    { filename: file, ...(cachedData ? { cachedData } : {}) },
  );
  const module = { exports: {} as { main?: ClientBundle["main"] } };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  const url = pathToFileURL(file).href;
  wrapper(module.exports, createRequire(file), module, file, path.dirname(file), url);
  const { main } = module.exports;
  if (typeof main !== "function") throw new Error(`${file} has no main()`);
  return {
    script,
    cacheRejected: cachedData === undefined ? undefined : script.cachedDataRejected === true,
    main,
  };
}

/**
 * Runs a client command from the bundle beside this module, with its code cache when there
 * is one; undefined (nothing run) when `argv` names no client command or when there is no
 * bundle (the unbundled build, dist/src).
 */
export function runClientBundle(argv: readonly string[]): Promise<void> | undefined {
  if (clientCommand(argv[2]) === undefined) return undefined;
  const file = fileURLToPath(new URL(`./${CLIENT_BUNDLE}`, import.meta.url));
  if (!existsSync(file)) return undefined;
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(`${file}.cache`);
  } catch {
    cachedData = undefined; // built without one: compiled from source, as the ES modules are
  }
  return loadClientBundle(file, cachedData).main(argv);
}

/**
 * The build's step (scripts/bundle.ts runs it in a fresh node, output discarded): loads the
 * bundle `file`, runs every client command's `--help` (which loads each command's modules),
 * and writes the code cache of all that was compiled to `file.cache`. A `--help` that fails
 * leaves a nonzero exit code, which fails the build.
 */
export async function writeClientCache(file: string): Promise<void> {
  const bundle = loadClientBundle(file);
  for (const [name] of CLIENT_COMMANDS) {
    await bundle.main([process.execPath, file, name, "--help"]);
  }
  writeFileSync(`${file}.cache`, bundle.script.createCachedData());
}
