import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** The most lines kept, in memory and in the file. */
export const HISTORY_SIZE = 1000;

/**
 * Where the history lives: `$XDG_STATE_HOME/bftp/history`, else
 * `~/.local/state/bftp/history` (the XDG Base Directory default for state).
 */
export function historyPath(env: NodeJS.ProcessEnv = process.env): string {
  const state = env["XDG_STATE_HOME"];
  // The specification says a relative value is invalid and must be ignored.
  const base =
    state !== undefined && path.isAbsolute(state)
      ? state
      : path.join(os.homedir(), ".local", "state");
  return path.join(base, "bftp", "history");
}

/**
 * The saved history, newest first (node:readline's order), at most {@link HISTORY_SIZE}
 * lines; empty when there is no file yet or it cannot be read.
 */
export async function loadHistory(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(-HISTORY_SIZE)
    .reverse();
}

/**
 * Saves the history (newest first, as readline hands it over) as one line per command,
 * oldest first, capped at {@link HISTORY_SIZE}. The file is private (mode 0600, in a 0700
 * folder: commands name files and hosts) and replaced atomically, so a crash leaves the old
 * history or the new one. Saves are serialised; after a failure it reports once and stops.
 */
export class HistoryWriter {
  readonly #file: string;
  readonly #onError: (err: unknown) => void;
  #chain: Promise<void> = Promise.resolve();
  #failed = false;
  #next = 0;

  constructor(file: string, onError: (err: unknown) => void) {
    this.#file = file;
    this.#onError = onError;
  }

  /** Queues a save of `newestFirst`. */
  save(newestFirst: readonly string[]): void {
    const lines = newestFirst.slice(0, HISTORY_SIZE).reverse();
    this.#chain = this.#chain.then(() => this.#write(lines));
  }

  /** Resolves once every queued save has finished. */
  flush(): Promise<void> {
    return this.#chain;
  }

  async #write(lines: readonly string[]): Promise<void> {
    if (this.#failed) return;
    const temp = `${this.#file}.${process.pid}.${this.#next++}.tmp`;
    try {
      await fs.mkdir(path.dirname(this.#file), { recursive: true, mode: 0o700 });
      await fs.writeFile(temp, lines.map((l) => `${l}\n`).join(""), { mode: 0o600 });
      await fs.rename(temp, this.#file);
    } catch (err) {
      this.#failed = true;
      await fs.rm(temp, { force: true }).catch(() => undefined);
      this.#onError(err);
    }
  }
}
