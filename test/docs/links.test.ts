import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

// Issue 13, item 10: every link from the README, PROTOCOL.md and docs/ to a file of the
// repository resolves, and so does every #anchor into a Markdown file (GitHub's heading ids).

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const PAGES = [
  "README.md",
  "PROTOCOL.md",
  ...readdirSync(path.join(ROOT, "docs")).map((f) => `docs/${f}`),
].filter((f) => f.endsWith(".md"));

/** GitHub's id of a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/gu, "")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/gu, "-");
}

/** The anchors of a Markdown file's headings (a repeated one gets -1, -2, ... as on GitHub). */
function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*)$/u.exec(line);
    if (heading === null) continue;
    const base = slug(heading[1] ?? "");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The relative links of a page: [text](target), outside code fences and inline code. */
function linksOf(file: string): string[] {
  const links: string[] = [];
  let fenced = false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    if (fenced) continue;
    const text = line.replace(/`[^`]*`/gu, "");
    for (const match of text.matchAll(/\]\(([^)\s]+)\)/gu)) {
      const target = match[1] ?? "";
      if (!/^[a-z]+:/u.test(target)) links.push(target);
    }
  }
  return links;
}

test("every relative link and anchor in the README, PROTOCOL.md and docs/ resolves", () => {
  const broken: string[] = [];
  for (const page of PAGES) {
    const from = path.join(ROOT, page);
    for (const link of linksOf(from)) {
      const [target = "", anchor] = link.split("#");
      const file = target === "" ? from : path.resolve(path.dirname(from), target);
      if (!existsSync(file)) {
        broken.push(`${page}: ${link} (no such file)`);
        continue;
      }
      if (anchor !== undefined && file.endsWith(".md") && !anchorsOf(file).has(anchor)) {
        broken.push(`${page}: ${link} (no such heading)`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

test("heading ids are made as GitHub makes them", () => {
  assert.equal(slug("Issue 12: before and after"), "issue-12-before-and-after");
  assert.equal(slug("`bftp get -r`: the time"), "bftp-get--r-the-time");
  assert.ok(!anchorsOf(path.join(ROOT, "README.md")).has("no-such-heading-anywhere"));
});
