import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

// Issue 13, item 10: the README is a front page. It starts with the two set-up commands (the
// test one exactly what CI runs), reads in five minutes, and links every page of docs/.

const ROOT = new URL("../../../", import.meta.url);
const readme = readFileSync(new URL("README.md", ROOT), "utf8");

/** About 200 words a minute for technical prose: five minutes is under 1,000 words. */
const MAX_WORDS = 1_000;

test("the first code block holds the two set-up commands, the test one as .ci/run runs it", () => {
  const first = /```sh\n([\s\S]*?)```/u.exec(readme);
  assert.ok(first !== null, "no sh block");
  assert.ok(readme.indexOf("```sh") < readme.indexOf("\n## ", readme.indexOf("## Install")));
  const commands = (first[1] ?? "")
    .trim()
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/u, "").trim());
  assert.deepEqual(commands, ["npm ci && npm start", "npm ci && npm test"]);
  const ci = readFileSync(new URL(".ci/run", ROOT), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"))
    .filter((line) => !/^(set|cd) /u.test(line));
  assert.deepEqual(ci, ["npm ci && npm test"]);
});

test("the README reads in five minutes", () => {
  const prose = readme.replace(/^\|.*\|$/gmu, "").replace(/```[\s\S]*?```/gu, "");
  const words = prose.split(/\s+/u).filter((w) => w !== "").length;
  assert.ok(words < MAX_WORDS, `${words} words of prose`);
});

test("the README links every page of docs/", () => {
  for (const page of readdirSync(new URL("docs/", ROOT)).filter((f) => f.endsWith(".md"))) {
    assert.ok(readme.includes(`](docs/${page})`), `docs/${page} is not linked`);
  }
});
