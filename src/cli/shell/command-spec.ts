import { parseArgs as nodeParseArgs } from "node:util";
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
  /** Any number of operands (the last kind in `operands` repeats). */
  readonly manyOperands?: boolean;
  /** Every word is an operand, flags included (`lls -la`: the words go to the local ls). */
  readonly passThrough?: boolean;
  /**
   * The operation it runs, shared with the command line's command of the same job (issue
   * 13, item 9): the test holds the two equal.
   */
  readonly operation?: unknown;
  /** Runs the command; resolves with an exit code when it is not 0, throws on failure. */
  readonly run: (ctx: ShellContext, args: ParsedArgs) => Promise<number | undefined>;
}

/**
 * Recognises a command's flags among its words with node's own argument parser
 * (`util.parseArgs`, strict): short flags may be grouped (`-rc`), `--` ends the flags (so
 * `rm -- -x` removes a file named `-x`), and a lone `-` is an operand. An unknown flag or a
 * wrong number of operands is a usage error.
 *
 * @example
 * parseArgs(getSpec, ["-rc", "docs"]); // { flags: Set {"recursive", "resume"}, operands: ["docs"] }
 */
export function parseArgs(spec: ShellCommandSpec, words: readonly string[]): ParsedArgs {
  if (spec.passThrough === true) return { flags: new Set(), operands: [...words] };
  // Each spelling is an option of its own (`-r` and `-R` may both mean "recursive").
  const options: Record<string, { type: "boolean"; short?: string }> = {};
  const keyOf = new Map<string, string>();
  for (const flag of spec.flags ?? []) {
    for (const name of flag.names) {
      // A long spelling is the option's own name; a short one gets a name of its own.
      const id = name.startsWith("--") ? name.slice(2) : `-${name.slice(1)}`;
      options[id] = name.startsWith("--")
        ? { type: "boolean" }
        : { type: "boolean", short: name.slice(1) };
      keyOf.set(id, flag.key);
    }
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = nodeParseArgs({ args: [...words], options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new BftpError(
      "BFTP_ERR_INVALID_ARGUMENT",
      `Cannot run ${spec.name}: ${unknownOption(err)} (see "help ${spec.name}")`,
      { cause: err },
    );
  }
  const flags = new Set<string>();
  for (const [id, value] of Object.entries(parsed.values)) {
    const key = keyOf.get(id);
    if (value === true && key !== undefined) flags.add(key);
  }
  const operands = parsed.positionals;
  const most = spec.manyOperands === true ? Infinity : spec.operands.length;
  if (operands.length < spec.minOperands || operands.length > most) {
    throw new BftpError(
      "BFTP_ERR_INVALID_ARGUMENT",
      `Cannot run ${spec.name} with ${operands.length} operand(s): usage: ${spec.usage}`,
    );
  }
  return { flags, operands };
}

/** The option util.parseArgs refused, in a few words. */
function unknownOption(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const named = /'([^']+)'/u.exec(message);
  return named === null
    ? "an option it does not take"
    : `unknown option ${JSON.stringify(named[1])}`;
}
