#!/usr/bin/env node
/**
 * The `bftp` command: argument parsing and dispatch only (the CLI is thin: the work is in src/client).
 * Exit codes (common.ts EXIT): 0 success, 1 failure, 2 usage error, 3 cannot connect,
 * 4 connection lost, 5 a recursive transfer partly failed.
 *
 * A client command runs from the client bundle with its code cache when the build made them
 * (client-bundle.ts: about 30 ms less start-up); anything else, and every command of the
 * unbundled build, through the program here (program.ts), whose commands' modules are
 * imported only when the command line names them (issue 12, item 4): `bftp --version`
 * loads none.
 */
import { runClientBundle } from "./client-bundle.js";

// `bftp serve` keeps V8's young generation small under load (issue 12, item 5) and its
// collections on the main thread (issue 12, item 1): set before the server's modules load,
// since V8 already grows the young generation while compiling them.
if (process.argv[2] === "serve") {
  const sources = { execArgv: process.execArgv, nodeOptions: process.env["NODE_OPTIONS"] };
  (await import("./young-generation.js")).keepYoungGenerationSmall(sources);
  (await import("./collector-threads.js")).collectOnMainThread(sources);
}

const bundled = runClientBundle(process.argv);
if (bundled !== undefined) await bundled;
else {
  const [{ runProgram }, { commandsFor }] = await Promise.all([
    import("./program.js"),
    import("./command-table.js"),
  ]);
  await runProgram(process.argv, commandsFor(process.argv));
}
