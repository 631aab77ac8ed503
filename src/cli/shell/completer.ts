import type { OperandKind, ShellCommandSpec } from "./command-spec.js";
import { findCommand } from "./command-table.js";
import { closingQuote, quoteRest, scanLine, type QuoteState } from "./tokenize.js";

/** A name a completion may offer, and whether it is a folder (completed with `/`). */
export interface Candidate {
  readonly name: string;
  readonly dir: boolean;
}

/** Where completions come from. */
export interface CompletionSources {
  readonly commands: readonly ShellCommandSpec[];
  /** The entries of a remote folder ("" is the working folder); [] when it cannot be listed. */
  readonly listRemote: (dir: string) => Promise<readonly Candidate[]>;
  /** The entries of a local folder ("" is the working folder). */
  readonly listLocal: (dir: string) => Promise<readonly Candidate[]>;
}

// A name we could not show safely or send back (PROTOCOL.md refuses backslashes): never offered.
// eslint-disable-next-line no-control-regex
const UNOFFERABLE = /[\u0000-\u001f\u007f-\u009f/\\]/u;

/**
 * Completes the word before the cursor, for node:readline's completer: `[hits, typed]`, each
 * hit being the typed word extended. Completes command names, a command's flags, and its
 * operands by kind: remote paths (a LIST of the folder part of the word), local paths,
 * command names. The extension keeps the user's quoting (`"my fi` → `"my file.txt" `,
 * `my\ fi` → `my\ file.txt `); a sole folder ends with `/` and leaves the quote open so the
 * path can go on, a sole file closes it and adds a space, as bash does.
 *
 * @example
 * await complete("get rep", sources); // [["get report-2026.txt "], "rep"]
 */
export async function complete(
  line: string,
  sources: CompletionSources,
): Promise<[string[], string]> {
  const scan = scanLine(line);
  // After a lone backslash the next character's meaning depends on what it is: do not guess.
  if (scan.comment || scan.escape) return [[], ""];
  const current = scan.inWord ? scan.words.at(-1) : undefined;
  const before = scan.inWord ? scan.words.slice(0, -1) : scan.words;
  const typed = current === undefined ? "" : line.slice(current.start);
  const value = current?.value ?? "";
  const words = (names: readonly string[]): Candidate[] =>
    names.filter((n) => n.startsWith(value)).map((name) => ({ name, dir: false }));

  const first = before[0];
  if (first === undefined) return render(typed, value, scan.quote, words(commandNames(sources)));
  const spec = findCommand(sources.commands, first.value);
  if (spec === undefined) return [[], typed];

  let index = 0;
  let flagsOver = false;
  for (const word of before.slice(1)) {
    if (flagsOver || word.value === "-" || !word.value.startsWith("-")) index++;
    else if (word.value === "--") flagsOver = true;
  }
  if (!flagsOver && scan.quote === "none" && value.startsWith("-")) {
    return render(typed, value, "none", words((spec.flags ?? []).flatMap((f) => f.names)));
  }
  const kind: OperandKind | undefined = spec.operands[index];
  if (kind === undefined) return [[], typed];
  if (kind === "command") return render(typed, value, scan.quote, words(commandNames(sources)));

  const slash = value.lastIndexOf("/");
  const dir = value.slice(0, slash + 1);
  const prefix = value.slice(slash + 1);
  const listed = await (kind === "remote" ? sources.listRemote(dir) : sources.listLocal(dir));
  const matches = listed
    .filter(
      (c) =>
        c.name.startsWith(prefix) &&
        c.name !== "." &&
        c.name !== ".." &&
        !UNOFFERABLE.test(c.name) &&
        (prefix.startsWith(".") || !c.name.startsWith(".")),
    )
    .map((c) => ({ name: `${dir}${c.name}${c.dir ? "/" : ""}`, dir: c.dir }));
  return render(typed, value, scan.quote, matches);
}

/** The hits: `typed` extended by the rest of each candidate, quoted to suit `quote`. */
function render(
  typed: string,
  value: string,
  quote: QuoteState,
  candidates: readonly Candidate[],
): [string[], string] {
  const sole = candidates.length === 1;
  const hits = candidates.map((c) => {
    const end = sole && !c.dir ? `${closingQuote(quote)} ` : "";
    return `${typed}${quoteRest(c.name.slice(value.length), quote)}${end}`;
  });
  hits.sort();
  return [hits, typed];
}

function commandNames(sources: CompletionSources): string[] {
  return sources.commands.flatMap((c) => [c.name, ...(c.aliases ?? [])]).filter((n) => n !== "?");
}

/**
 * Folder listings for completion, kept for `ttlMs` so that pressing Tab again (or completing
 * the next name in the same folder) costs no round trip. Cleared after every command, since
 * a command may change what is there.
 */
export class ListingCache {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { at: number; value: Promise<readonly Candidate[]> }>();

  constructor(ttlMs = 5000) {
    this.#ttlMs = ttlMs;
  }

  /** The listing under `key`, loaded with `load` when absent or stale; [] if loading fails. */
  get(key: string, load: () => Promise<readonly Candidate[]>): Promise<readonly Candidate[]> {
    const now = performance.now();
    const hit = this.#entries.get(key);
    if (hit !== undefined && now - hit.at < this.#ttlMs) return hit.value;
    const value = load().catch(() => {
      this.#entries.delete(key);
      return [];
    });
    this.#entries.set(key, { at: now, value });
    return value;
  }

  /** Forgets every listing. */
  clear(): void {
    this.#entries.clear();
  }
}
