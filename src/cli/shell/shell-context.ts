import type { ShellCommandSpec } from "./command-spec.js";
import type { ShellSession } from "./shell-session.js";

/** What a shell command can use: the connection, output, and the shell's settings. */
export interface ShellContext {
  /** The connection and the remote working directory. */
  readonly session: ShellSession;
  /** Writes a line of output (stdout). */
  readonly print: (line: string) => void;
  /** Writes a line of warning (stderr). */
  readonly warn: (line: string) => void;
  /** With `--quiet`: no result lines for transfers and changes, only what was asked for. */
  readonly quiet: boolean;
  /** Whether transfers draw progress bars (see progress-display.ts: a terminal on stderr). */
  readonly drawProgress: boolean;
  /** Every command, for `help` and completion. */
  readonly commands: readonly ShellCommandSpec[];
  /** Ends the shell after the current command. */
  readonly quit: () => void;
}
