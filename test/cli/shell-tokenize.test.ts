import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  closingQuote,
  quoteRest,
  quoteWord,
  scanLine,
  tokenize,
  type QuoteState,
} from "../../src/cli/shell/tokenize.js";
import { throwsWithCode } from "../helpers/assert-code.js";

/** [line, its words]: the rules of the shell's tokenizer, one per row. */
const CASES: readonly (readonly [string, readonly string[]])[] = [
  ["", []],
  ["   \t ", []],
  ["get a b", ["get", "a", "b"]],
  ["  get   a\tb  ", ["get", "a", "b"]],
  [`get "my file.txt"`, ["get", "my file.txt"]],
  [`get 'my file.txt' here`, ["get", "my file.txt", "here"]],
  [String.raw`get my\ file.txt`, ["get", "my file.txt"]],
  [String.raw`put "a \"quoted\" name"`, ["put", `a "quoted" name`]],
  [String.raw`put 'it'\''s'`, ["put", "it's"]],
  [String.raw`put "back\\slash"`, ["put", String.raw`back\slash`]],
  [String.raw`put "keep\n"`, ["put", String.raw`keep\n`]], // in "…" only \" and \\ escape
  [String.raw`put 'no \escape'`, ["put", String.raw`no \escape`]],
  [String.raw`put \a\\b`, ["put", String.raw`a\b`]],
  [`get a"b c"d`, ["get", "ab cd"]],
  [`get "" x`, ["get", "", "x"]],
  [`get '' x`, ["get", "", "x"]],
  ["ls # a comment", ["ls"]],
  ["# a whole-line comment", []],
  ["get a#b", ["get", "a#b"]],
  [`get "#x" '#y' \\#z`, ["get", "#x", "#y", "#z"]],
  ["get café/日本 🙂", ["get", "café/日本", "🙂"]],
  ["get a\r", ["get", "a"]], // a script with CRLF line ends
];

test("tokenize: the rules, row by row", () => {
  for (const [line, words] of CASES) assert.deepEqual(tokenize(line), words, line);
});

test("tokenize: an unterminated quote or a trailing backslash is a usage error", () => {
  for (const line of [
    `get "abc`,
    `get 'abc`,
    String.raw`get abc\ `.trimEnd(),
    String.raw`get "abc\"`,
  ]) {
    throwsWithCode(() => tokenize(line), "BFTP_ERR_INVALID_ARGUMENT");
  }
  assert.equal(scanLine(`get "abc`).quote, "double");
  assert.equal(scanLine(`get 'abc`).quote, "single");
  assert.equal(scanLine("get abc\\").escape, true);
});

test("scanLine at every split: finished words are final, the last one grows", () => {
  for (const [line, words] of CASES) {
    for (let k = 0; k <= line.length; k++) {
      const prefix = line.slice(0, k);
      const scan = scanLine(prefix); // never throws, whatever the prefix
      const got = scan.words.map((w) => w.value);
      const done = scan.inWord ? got.slice(0, -1) : got;
      assert.deepEqual(done, words.slice(0, done.length), JSON.stringify(prefix));
      if (scan.inWord && !scan.comment) {
        const last = got.at(-1) ?? "";
        const full = words[got.length - 1] ?? "";
        assert.ok(full.startsWith(last), `${JSON.stringify(prefix)}: ${last} of ${full}`);
      }
    }
  }
});

test("scanLine reports where each word starts (completion replaces from there)", () => {
  const scan = scanLine(`get  "my fi`);
  assert.deepEqual(
    scan.words.map((w) => [w.value, w.start]),
    [
      ["get", 0],
      ["my fi", 5],
    ],
  );
  assert.equal(scan.inWord, true);
  assert.equal(scanLine("get ").inWord, false);
  assert.equal(scanLine("ls #x").comment, true);
});

// Names that need every kind of care: spaces, both quotes, backslashes, a leading #, Unicode.
const TRICKY = [
  "report 2026.txt",
  `it's "here"`,
  String.raw`back\slash`,
  "#hash",
  "  lead and trail  ",
  "tab\there",
  "naïve 日本 🙂",
];
const OPENERS: Record<QuoteState, string> = { none: "", single: "'", double: '"' };

test("quoteRest continues any quoting at every split of a tricky name", () => {
  for (const name of TRICKY) {
    for (const quote of ["none", "single", "double"] as const) {
      for (let k = 0; k <= name.length; k++) {
        // What a person typed (in their quoting), then what completion appends.
        const typed = `get ${OPENERS[quote]}${quoteRest(name.slice(0, k), quote)}`;
        const scan = scanLine(typed);
        assert.equal(scan.quote, quote);
        const line = `${typed}${quoteRest(name.slice(k), scan.quote)}${closingQuote(scan.quote)}`;
        assert.deepEqual(tokenize(line), ["get", name], `${quote} at ${k}: ${line}`);
      }
    }
  }
});

test("quoteWord: plain names stay plain, others read back exactly", () => {
  assert.equal(quoteWord("report.txt"), "report.txt");
  assert.equal(quoteWord("a b"), "'a b'");
  assert.equal(quoteWord(""), "''");
  for (const name of TRICKY) assert.deepEqual(tokenize(quoteWord(name)), [name]);
});

test("property: quoteWord and quoteRest read back as the same text, at every split", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: "grapheme", maxLength: 24 }),
      fc.nat(),
      fc.constantFrom<QuoteState>("none", "single", "double"),
      (text, at, quote) => {
        assert.deepEqual(tokenize(`x ${quoteWord(text)}`), ["x", text]);
        const k = text.length === 0 ? 0 : at % (text.length + 1);
        const line = `x ${OPENERS[quote]}${quoteRest(text.slice(0, k), quote)}${quoteRest(text.slice(k), quote)}${closingQuote(quote)}`;
        if (text === "" && quote === "none") assert.deepEqual(tokenize(line), ["x"]);
        else assert.deepEqual(tokenize(line), ["x", text]);
      },
    ),
    { numRuns: 500 },
  );
});
