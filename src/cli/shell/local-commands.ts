import { spawnSync } from "node:child_process";
import { escapeControls } from "../../client/safe-name.js";
import { BftpError } from "../../errors.js";
import type { ShellCommandSpec } from "./command-spec.js";
import { expandHome, localError } from "./local-path.js";

/** `lcd [DIR]`: change the local folder (home without DIR). */
export const lcdSpec: ShellCommandSpec = {
  name: "lcd",
  usage: "lcd [DIR]",
  summary: "change the local folder (home without DIR)",
  operands: ["local"],
  minOperands: 0,
  run: (_ctx, { operands }) => {
    const dir = expandHome(operands[0] ?? "~");
    try {
      process.chdir(dir);
    } catch (err) {
      return Promise.reject(localError(err, `Cannot change to ${JSON.stringify(dir)}`));
    }
    return Promise.resolve(undefined);
  },
};

/** `lpwd`: the local folder. */
export const lpwdSpec: ShellCommandSpec = {
  name: "lpwd",
  usage: "lpwd",
  summary: "print the local folder",
  operands: [],
  minOperands: 0,
  run: (ctx) => {
    ctx.print(escapeControls(process.cwd()));
    return Promise.resolve(undefined);
  },
};

/** `lls [ls-options] [PATH...]`: the local ls, as sftp runs it. */
export const llsSpec: ShellCommandSpec = {
  name: "lls",
  usage: "lls [ls-options] [PATH...]",
  summary: "list the local folder with the local ls and its options (lls -la)",
  details: `Runs ls in the local folder (see lcd) with the words given, as sftp does: lls -la,
lls -lh *.txt (the pattern is ls's operand, not expanded here). Its exit status other than 0
is a failed command (BFTP_ERR_LOCAL_FILE).`,
  operands: ["local"],
  minOperands: 0,
  passThrough: true,
  run: (_ctx, { operands }) =>
    Promise.resolve(
      runLocal(
        "ls",
        operands.map((w) => (w.startsWith("-") ? w : expandHome(w))),
      ),
    ),
};

/** `progress`: turns the progress bars of transfers on or off, as sftp's command. */
export const progressSpec: ShellCommandSpec = {
  name: "progress",
  usage: "progress",
  summary: "turn the progress bars of transfers on or off",
  operands: [],
  minOperands: 0,
  run: (ctx) => {
    ctx.settings.progress = !ctx.settings.progress;
    ctx.print(`progress bars ${ctx.settings.progress ? "on" : "off"}`);
    return Promise.resolve(undefined);
  },
};

/**
 * Runs a local program in the local folder and waits for it: its output goes straight to
 * the shell's own. A person at the terminal lends it the terminal (input too, line mode, and
 * Ctrl-C goes to it: the shell ignores SIGINT meanwhile); a script keeps its input, so the
 * program cannot eat the script's next lines. A status other than 0 is BFTP_ERR_LOCAL_FILE.
 */
export function runLocal(
  file: string,
  args: readonly string[],
  options: { readonly interactive?: boolean } = {},
): number | undefined {
  const stdin = process.stdin as NodeJS.ReadStream & { isRaw?: boolean };
  const raw = options.interactive === true && stdin.isTTY && stdin.isRaw;
  const ignore = (): void => undefined;
  process.on("SIGINT", ignore);
  if (raw) stdin.setRawMode(false);
  let result;
  try {
    result = spawnSync(file, args, {
      stdio: [options.interactive === true ? "inherit" : "ignore", "inherit", "inherit"],
    });
  } finally {
    if (raw) stdin.setRawMode(true);
    process.off("SIGINT", ignore);
  }
  if (result.error !== undefined) {
    throw localError(result.error, `Cannot run ${JSON.stringify(file)}`);
  }
  if (result.status !== 0) {
    throw new BftpError(
      "BFTP_ERR_LOCAL_FILE",
      `${file} ${result.status === null ? `ended by ${String(result.signal)}` : `exited with status ${result.status}`}`,
      { details: { status: result.status ?? -1 } },
    );
  }
  return undefined;
}

/** The user's shell, for `!`: $SHELL, else /bin/sh. */
export function userShell(): string {
  const shell = process.env["SHELL"];
  return shell !== undefined && shell !== "" ? shell : "/bin/sh";
}
