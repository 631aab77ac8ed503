/**
 * The entry of the client bundle (`dist/bundle/client-cli.cjs`, scripts/bundle.ts): the
 * program with the client command the command line names. It holds no server code, and is
 * loaded with a V8 code cache made when it was built (client-bundle.ts).
 */
import { clientCommand } from "./client-command-table.js";
import { runProgram } from "./program.js";

/** Runs the client command `argv[2]` names (the caller checked that it names one). */
export async function main(argv: readonly string[]): Promise<void> {
  const builder = clientCommand(argv[2]);
  if (builder === undefined) throw new Error(`"${argv[2] ?? ""}" is not a client command`);
  await runProgram(argv, [builder]);
}
