import { BftpError } from "../../errors.js";

/** How the end of a line is quoted: outside quotes, inside '…', or inside "…". */
export type QuoteState = "none" | "single" | "double";

/** One word of a command line: its value with quotes and escapes removed, and where it began. */
export interface ScannedWord {
  readonly value: string;
  /** Index in the line of the word's first character (a quote, if it starts with one). */
  readonly start: number;
}

/** What {@link scanLine} found: the words, and the state at the end of the line. */
export interface LineScan {
  /** Every word, including one still being typed at the end of the line. */
  readonly words: readonly ScannedWord[];
  /** True when the line ends inside a word (no whitespace after the last one). */
  readonly inWord: boolean;
  /** The quote still open at the end of the line. */
  readonly quote: QuoteState;
  /** True when the line ends with a backslash that escapes nothing yet. */
  readonly escape: boolean;
  /** True when the line ends in a `#` comment. */
  readonly comment: boolean;
}

const SPACE = /[ \t\r\n\v\f]/;

/**
 * Splits a command line into words the way a POSIX shell does, minus expansions: whitespace
 * separates words; '…' keeps everything literally; "…" keeps everything but `\"` and `\\`;
 * outside quotes a backslash makes the next character literal; `#` at the start of a word
 * begins a comment. Never throws: an unfinished line is reported in the result, which is what
 * tab completion needs (see {@link tokenize} for the strict form).
 *
 * @example
 * scanLine(`get "my file" 'it''s'`).words.map((w) => w.value); // ["get", "my file", "its"]
 */
export function scanLine(line: string): LineScan {
  const words: ScannedWord[] = [];
  let value = "";
  let start = 0;
  let inWord = false;
  let quote: QuoteState = "none";
  let escape = false;
  let comment = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (escape) {
      // In "…" only " and \ are escaped (POSIX); elsewhere the backslash stays.
      value += quote === "double" && c !== '"' && c !== "\\" ? `\\${c}` : c;
      escape = false;
    } else if (quote === "single") {
      if (c === "'") quote = "none";
      else value += c;
    } else if (quote === "double") {
      if (c === '"') quote = "none";
      else if (c === "\\") escape = true;
      else value += c;
    } else if (SPACE.test(c)) {
      if (inWord) words.push({ value, start });
      inWord = false;
    } else if (c === "#" && !inWord) {
      comment = true;
      break;
    } else {
      if (!inWord) {
        inWord = true;
        start = i;
        value = "";
      }
      if (c === "'") quote = "single";
      else if (c === '"') quote = "double";
      else if (c === "\\") escape = true;
      else value += c;
    }
  }
  if (inWord) words.push({ value, start });
  return { words, inWord, quote, escape, comment };
}

/**
 * The words of a complete command line (see {@link scanLine} for the rules). An unterminated
 * quote or a trailing backslash is a usage error, `BFTP_ERR_INVALID_ARGUMENT`.
 *
 * @example
 * tokenize(String.raw`put my\ file.txt "/in/a b"`); // ["put", "my file.txt", "/in/a b"]
 */
export function tokenize(line: string): string[] {
  const scan = scanLine(line);
  if (scan.quote !== "none") {
    const mark = scan.quote === "single" ? "'" : '"';
    throw new BftpError(
      "BFTP_ERR_INVALID_ARGUMENT",
      `Cannot read the command: the quote ${mark} is not closed`,
    );
  }
  if (scan.escape) {
    throw new BftpError(
      "BFTP_ERR_INVALID_ARGUMENT",
      "Cannot read the command: it ends with a backslash that escapes nothing",
    );
  }
  return scan.words.map((w) => w.value);
}

/**
 * Writes `text` so that, typed after a line whose quote state is `quote`, it reads back as
 * exactly `text`: backslashes outside quotes, `\"` and `\\` inside "…", and `'\''` inside '…'.
 * Tab completion uses it to extend what the user began in whatever quoting they chose.
 *
 * @example
 * quoteRest("a b", "none");   // "a\\ b"
 * quoteRest(`say "hi"`, "double"); // 'say \\"hi\\"'
 */
export function quoteRest(text: string, quote: QuoteState): string {
  switch (quote) {
    case "none":
      return text.replace(/[\s'"\\#]/g, "\\$&");
    case "double":
      return text.replace(/["\\]/g, "\\$&");
    case "single":
      return text.replace(/'/g, `'\\''`);
  }
}

/**
 * One word that {@link tokenize} reads back as `text`: unchanged when it needs no quoting,
 * else in single quotes.
 *
 * @example
 * quoteWord("report.txt"); // "report.txt"
 * quoteWord("it's here");  // "'it'\\''s here'"
 */
export function quoteWord(text: string): string {
  if (text !== "" && !/[\s'"\\#]/.test(text)) return text;
  return `'${quoteRest(text, "single")}'`;
}

/** The character that closes `quote` ("" outside quotes). */
export function closingQuote(quote: QuoteState): string {
  return quote === "single" ? "'" : quote === "double" ? '"' : "";
}
