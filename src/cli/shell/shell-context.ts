import type { CommonFlags } from "../common.js";
import type { Endpoint } from "../run-transfer.js";
import type { ShellCommandSpec } from "./command-spec.js";
import type { ShellSession } from "./shell-session.js";

/** The shell's settings that commands change as it runs. */
export interface ShellSettings {
  /** Draw progress bars for transfers (the `progress` command toggles it). */
  progress: boolean;
}

/** What a shell command can use: the connection, output, and the shell's settings. */
export interface ShellContext {
  /** The connection and the remote working directory. */
  readonly session: ShellSession;
  /** The session as an endpoint for the operations the command line shares (run-transfer.ts). */
  readonly endpoint: Endpoint;
  /** Writes a line of output (stdout). */
  readonly print: (line: string) => void;
  /** Writes a line of warning (stderr). */
  readonly warn: (line: string) => void;
  /** With `--quiet`: no result lines for transfers and changes, only what was asked for. */
  readonly quiet: boolean;
  /** Whether transfers draw progress bars (see progress-display.ts: a terminal on stderr). */
  readonly drawProgress: boolean;
  readonly settings: ShellSettings;
  /** A person at a terminal (not a script): `!` may hand the terminal to a subshell. */
  readonly interactive: boolean;
  /** Every command, for `help` and completion. */
  readonly commands: readonly ShellCommandSpec[];
  /** Ends the shell after the current command. */
  readonly quit: () => void;
}

/** The flags the shared operations read, for the shell's settings. */
export function operationFlags(ctx: ShellContext): CommonFlags {
  return { quiet: ctx.quiet, progress: ctx.settings.progress };
}

/** The session as an {@link Endpoint}: its own connection, logged in, in its folder. */
export function sessionEndpoint(session: ShellSession): Endpoint {
  return {
    get where() {
      return session.location;
    },
    use: (body) => body(session.client),
  };
}
