import { BftpError } from "../../errors.js";
import type { ShellContext } from "./shell-context.js";

/** What an operand names, which decides how it is tab-completed. */
export type OperandKind = "remote" | "local" | "command";

/** One flag of a shell command: `-r`, `--overwrite`. */
export interface FlagSpec {
  /** The key it sets in {@link ParsedArgs.flags}. */
  readonly key: string;
  /** Its spellings, e.g. `["-r", "--recursive"]`. */
  readonly names: readonly string[];
  readonly help: string;
}

/** A command line after its flags were recognised. */
export interface ParsedArgs {
  readonly flags: ReadonlySet<string>;
  readonly operands: readonly string[];
}

/** One command of the shell: its help, its flags and operands, and what it does. */
export interface ShellCommandSpec {
  readonly name: string;
  readonly aliases?: readonly string[];
  /** E.g. `get [-r] [-c] [--overwrite] REMOTE [LOCAL]`. */
  readonly usage: string;
  /** One line for `help`. */
  readonly summary: string;
  /** More lines for `help NAME`. */
  readonly details?: string;
  readonly flags?: readonly FlagSpec[];
  /** The operands by position (at most this many); their kinds drive completion. */
  readonly operands: readonly OperandKind[];
  /** The fewest operands it accepts. */
  readonly minOperands: number;
  /** Runs the command; resolves with an exit code when it is not 0, throws on failure. */
  readonly run: (ctx: ShellContext, args: ParsedArgs) => Promise<number | undefined>;
}

/**
 * Recognises a command's flags among its words: short flags may be grouped (`-rc`), `--`
 * ends the flags (so `rm -- -x` removes a file named `-x`), and a lone `-` is an operand.
 * An unknown flag or a wrong number of operands is a usage error.
 *
 * @example
 * parseArgs(getSpec, ["-rc", "docs"]); // { flags: Set {"recursive", "resume"}, operands: ["docs"] }
 */
export function parseArgs(spec: ShellCommandSpec, words: readonly string[]): ParsedArgs {
  const flags = new Set<string>();
  const operands: string[] = [];
  const byName = new Map<string, string>();
  for (const flag of spec.flags ?? []) for (const name of flag.names) byName.set(name, flag.key);
  let flagsOver = false;
  for (const word of words) {
    if (flagsOver || word === "-" || !word.startsWith("-")) {
      operands.push(word);
    } else if (word === "--") {
      flagsOver = true;
    } else if (word.startsWith("--")) {
      flags.add(known(spec, byName, word));
    } else {
      for (const letter of word.slice(1)) flags.add(known(spec, byName, `-${letter}`));
    }
  }
  if (operands.length < spec.minOperands || operands.length > spec.operands.length) {
    throw new BftpError(
      "BFTP_ERR_INVALID_ARGUMENT",
      `Cannot run ${spec.name} with ${operands.length} operand(s): usage: ${spec.usage}`,
    );
  }
  return { flags, operands };
}

function known(spec: ShellCommandSpec, byName: ReadonlyMap<string, string>, name: string): string {
  const key = byName.get(name);
  if (key === undefined) {
    throw new BftpError(
      "BFTP_ERR_INVALID_ARGUMENT",
      `Cannot run ${spec.name}: unknown option ${JSON.stringify(name)} (see "help ${spec.name}")`,
    );
  }
  return key;
}
