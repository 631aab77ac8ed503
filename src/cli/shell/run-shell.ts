import fs from "node:fs/promises";
import readline from "node:readline";
import { escapeControls } from "../../client/safe-name.js";
import { isBftpError } from "../../errors.js";
import { EXIT, exitCodeFor } from "../common.js";
import { parseArgs } from "./command-spec.js";
import { findCommand, SHELL_COMMANDS, unknownCommand } from "./command-table.js";
import { complete, ListingCache, type Candidate, type CompletionSources } from "./completer.js";
import { HISTORY_SIZE, HistoryWriter, loadHistory } from "./history.js";
import { expandHome } from "./local-path.js";
import { sessionEndpoint, type ShellContext } from "./shell-context.js";
import { runLocal, userShell } from "./local-commands.js";
import type { ShellSession } from "./shell-session.js";
import { tokenize } from "./tokenize.js";

/** How {@link runShell} reads commands and writes results. */
export interface RunShellOptions {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream & { isTTY?: boolean };
  readonly errorOutput: NodeJS.WritableStream;
  /** A person at a terminal: prompt, line editing, completion, history, Ctrl-C handling. */
  readonly interactive: boolean;
  /** No result lines for transfers (errors and asked-for output still appear). */
  readonly quiet: boolean;
  /** Scripted: stop at the first failing command instead of going on. */
  readonly stopOnError: boolean;
  /**
   * Scripted: the script's name for messages (`stdin`, or the file of `-b FILE`). Each failed
   * line is named `NAME:LINE: COMMAND`, as sftp -b names it; default `stdin`.
   */
  readonly scriptName?: string;
  /** Where history is kept (interactive only); undefined keeps it in memory only. */
  readonly historyFile: string | undefined;
  /** Draw progress bars for transfers. */
  readonly drawProgress: boolean;
  /** How long completion waits for a remote listing, ms (default 3 s). */
  readonly completionTimeoutMs?: number;
}

/** The prompt: `bftp:/remote/folder> `. */
export function promptFor(cwd: string): string {
  return `bftp:${escapeControls(cwd)}> `;
}

/**
 * Runs the shell until `quit`, Ctrl-D or the end of the input, and resolves with the exit
 * code: interactively 0 (the session's errors were shown as they happened); scripted, 0 when
 * every command succeeded, else the code of the first failure; {@link EXIT.lost} in both
 * when the connection is lost. A refused command prints `error: MESSAGE (CODE)` and the shell
 * goes on.
 */
export async function runShell(session: ShellSession, options: RunShellOptions): Promise<number> {
  const { input, output, errorOutput, interactive } = options;
  const cache = new ListingCache();
  // Set from callbacks (quit, the reader closing, a lost connection), read by the loop.
  const state = { quitting: false, lost: false, inputClosed: false };
  const ctx: ShellContext = {
    session,
    endpoint: sessionEndpoint(session),
    print: (line) => output.write(`${line}\n`),
    warn: (line) => errorOutput.write(`${line}\n`),
    quiet: options.quiet,
    drawProgress: options.drawProgress,
    settings: { progress: options.drawProgress },
    interactive,
    commands: SHELL_COMMANDS,
    quit: () => {
      state.quitting = true;
    },
  };
  const { rl, history } = interactive
    ? await interactiveReader(session, options, cache)
    : { rl: readline.createInterface({ input, terminal: false, crlfDelay: Infinity }) };

  let running = false;
  let recovering: AbortController | undefined;
  // Ctrl-C: at the prompt it clears the line, as in bash; during a command it interrupts it
  // (by closing the connection, then opening a new one: -c resumes a transfer); while the
  // new connection is being opened, it gives up on it.
  rl.on("SIGINT", () => {
    if (recovering !== undefined) {
      recovering.abort();
    } else if (running) {
      session.interrupt();
    } else {
      const clear = (rl as unknown as { clearLine?: () => void }).clearLine;
      if (typeof clear === "function") clear.call(rl);
      else output.write("\n");
      rl.prompt();
    }
  });

  const reconnect = async (): Promise<void> => {
    recovering = new AbortController();
    try {
      await session.reconnect(recovering.signal);
    } finally {
      recovering = undefined;
    }
  };
  const loseConnection = (): number => {
    ctx.warn(`bftp: lost the connection to ${session.where}; exiting`);
    state.lost = true;
    return EXIT.lost;
  };

  const execute = async (line: string): Promise<number> => {
    let run: () => Promise<number | undefined>;
    try {
      const bang = /^\s*!(.*)$/su.exec(line);
      if (bang !== null) {
        // `!cmd` runs cmd through the user's shell; a lone `!` starts it (sftp's escape).
        const command = (bang[1] ?? "").trim();
        run = () =>
          Promise.resolve(
            runLocal(userShell(), command === "" ? [] : ["-c", command], { interactive }),
          );
        return await runCommand(run);
      }
      const words = tokenize(line);
      const name = words[0];
      if (name === undefined) return EXIT.ok;
      const spec = findCommand(SHELL_COMMANDS, name);
      if (spec === undefined) throw unknownCommand(name); // printError escapes it
      const args = parseArgs(spec, words.slice(1));
      run = () => spec.run(ctx, args);
    } catch (err) {
      printError(ctx, err);
      return exitCodeFor(err);
    }
    return runCommand(run);
  };

  const runCommand = async (run: () => Promise<number | undefined>): Promise<number> => {
    try {
      // A person who left the prompt alone past the server's idle timeout gets a new
      // connection, in the same folder; a script gets the lost connection reported.
      if (interactive && session.closedWhileIdle) {
        await reconnect();
        ctx.warn(`bftp: the server closed the idle connection; reconnected to ${session.where}`);
      }
    } catch (err) {
      printError(ctx, err);
      return loseConnection();
    }
    let code: number;
    running = true;
    try {
      code = (await run()) ?? EXIT.ok;
    } catch (err) {
      printError(ctx, err);
      // If the connection survived (checked below), this was a refusal, whatever its code
      // (a remote BFTP_ERR_TIMEOUT, say): never "lost".
      code = exitCodeFor(err);
      if (code === EXIT.lost || code === EXIT.connect) code = EXIT.failed;
    } finally {
      running = false;
    }
    if (session.takeInterrupt()) {
      try {
        await reconnect();
      } catch (err) {
        printError(ctx, err);
        return loseConnection();
      }
      return 130;
    }
    return session.failure === undefined ? code : loseConnection();
  };

  rl.on("close", () => {
    state.inputClosed = true;
  });
  let firstFailure: number = EXIT.ok;
  let lineNumber = 0;
  if (interactive) rl.prompt();
  for await (const line of rl) {
    lineNumber++;
    // sftp -b: a command written "-cmd" may fail without failing the script.
    const tolerated = !interactive && /^\s*-/u.test(line);
    const code = await execute(tolerated ? line.replace(/^\s*-/u, "") : line);
    if (code !== EXIT.ok && !interactive) {
      ctx.warn(
        `bftp: ${options.scriptName ?? "stdin"}:${lineNumber}: ${escapeControls(line.trim())}: failed (exit ${code})${tolerated ? ", ignored (-)" : ""}`,
      );
    }
    if (firstFailure === EXIT.ok && !tolerated) firstFailure = code;
    if (
      state.lost ||
      state.quitting ||
      (!interactive && options.stopOnError && code !== EXIT.ok && !tolerated)
    )
      break;
    cache.clear();
    // After Ctrl-D typed ahead the reader is closed; prompting would resume the input.
    if (interactive && !state.inputClosed) {
      rl.setPrompt(promptFor(session.cwd));
      rl.prompt();
    }
  }
  // Ctrl-D left the cursor on the prompt.
  if (interactive && !state.quitting && !state.lost) output.write("\n");
  rl.close();
  await history?.flush();
  if (state.lost) return EXIT.lost;
  return interactive ? EXIT.ok : firstFailure;
}

/** The readline of a person at a terminal: completion, history (persisted), the prompt. */
async function interactiveReader(
  session: ShellSession,
  options: RunShellOptions,
  cache: ListingCache,
): Promise<{ rl: readline.Interface; history?: HistoryWriter }> {
  const wait = options.completionTimeoutMs ?? 3000;
  const sources: CompletionSources = {
    commands: SHELL_COMMANDS,
    listRemote: (dir) =>
      cache.get(`remote\0${session.cwd}\0${dir}`, async () => {
        const folder = dir === "" ? undefined : dir.length > 1 ? dir.replace(/\/+$/, "") : dir;
        const entries = await withDeadline(session.client.list(folder), wait);
        return entries.map((e) => ({ name: e.name, dir: e.type === "dir" }));
      }),
    listLocal: (dir) => cache.get(`local\0${process.cwd()}\0${dir}`, () => listLocal(dir)),
  };
  const file = options.historyFile;
  const rl = readline.createInterface({
    input: options.input,
    output: options.output,
    terminal: options.output.isTTY === true,
    prompt: promptFor(session.cwd),
    history: file === undefined ? [] : await loadHistory(file),
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    completer: (
      line: string,
      callback: (err: Error | null, result: [string[], string]) => void,
    ) => {
      complete(line, sources).then(
        (result) => {
          callback(null, result);
        },
        () => {
          callback(null, [[], line]);
        },
      );
    },
  });
  if (file === undefined) return { rl };
  const writer = new HistoryWriter(file, (err) => {
    const why = isBftpError(err) ? err.message : String((err as { code?: unknown }).code ?? err);
    options.errorOutput.write(
      `bftp: warning: cannot save the history in ${escapeControls(file)} (${why}); keeping it in memory\n`,
    );
  });
  rl.on("history", (entries: string[]) => {
    writer.save(entries);
  });
  return { rl, history: writer };
}

async function listLocal(dir: string): Promise<Candidate[]> {
  const folder = expandHome(dir === "" ? "." : dir);
  const entries = await fs.readdir(folder, { withFileTypes: true });
  return Promise.all(
    entries.map(async (e) => ({
      name: e.name,
      dir:
        e.isDirectory() ||
        (e.isSymbolicLink() &&
          (await fs.stat(`${folder}/${e.name}`).then(
            (s) => s.isDirectory(),
            () => false,
          ))),
    })),
  );
}

/** `promise`, or a rejection after `ms` (the call itself goes on in the background). */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error("completion timed out"));
    }, ms);
  });
  return Promise.race([promise, deadline]).finally(() => {
    clearTimeout(timer);
  });
}

function printError(ctx: ShellContext, err: unknown): void {
  const code = isBftpError(err) ? err.code : "BFTP_ERR_INTERNAL";
  const message = err instanceof Error ? err.message : String(err);
  ctx.warn(`error: ${escapeControls(message)} (${code})`);
}
