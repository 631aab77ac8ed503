import assert from "node:assert/strict";
import { test } from "node:test";
import { SHELL_COMMANDS } from "../../src/cli/shell/command-table.js";
import {
  complete,
  ListingCache,
  type Candidate,
  type CompletionSources,
} from "../../src/cli/shell/completer.js";
import { quoteRest, tokenize, type QuoteState } from "../../src/cli/shell/tokenize.js";

const file = (name: string): Candidate => ({ name, dir: false });
const dir = (name: string): Candidate => ({ name, dir: true });

/** A fake server tree, and a record of which folders were listed where. */
function sources(tree: Record<string, Candidate[]>): CompletionSources & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    commands: SHELL_COMMANDS,
    listRemote: (d) => {
      calls.push(`remote:${d}`);
      return Promise.resolve(tree[d] ?? []);
    },
    listLocal: (d) => {
      calls.push(`local:${d}`);
      return Promise.resolve(tree[d] ?? []);
    },
  };
}

const TREE = {
  "": [
    file("report-2026.txt"),
    dir("reports"),
    file("my file.txt"),
    dir("my dir"),
    file(".hidden"),
    file("evil\u001b[2Jname"),
    file("back\\slash"),
  ],
  "reports/": [file("q1.txt"), file("q2.txt")],
  "my dir/": [file("a b.txt")],
};

/** What node:readline does with a completer's answer: insert the common prefix of the hits. */
function apply(line: string, [hits, typed]: [string[], string]): string {
  if (hits.length === 0) return line;
  let prefix = hits[0] ?? "";
  for (const hit of hits) while (!hit.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix.startsWith(typed) ? line + prefix.slice(typed.length) : line;
}

test("command names: one completes with a space, several are offered", async () => {
  const s = sources(TREE);
  assert.deepEqual(await complete("g", s), [["get "], "g"]);
  assert.deepEqual(await complete("l", s), [["lcd", "lls", "lpwd", "ls"], "l"]);
  assert.equal((await complete("", s))[0].length > 15, true);
  assert.deepEqual(await complete("help mk", s), [["mkdir "], "mk"]);
  assert.deepEqual(s.calls, [], "no listing for command names");
});

test("a remote file completes, a folder completes with /", async () => {
  const s = sources(TREE);
  assert.deepEqual(await complete("get rep", s), [["report-2026.txt", "reports/"], "rep"]);
  assert.deepEqual(await complete("get report-", s), [["report-2026.txt "], "report-"]);
  assert.deepEqual(await complete("get reports", s), [["reports/"], "reports"]);
  assert.deepEqual(await complete("get reports/", s), [
    ["reports/q1.txt", "reports/q2.txt"],
    "reports/",
  ]);
  assert.deepEqual(await complete("get reports/q2", s), [["reports/q2.txt "], "reports/q2"]);
  assert.deepEqual(s.calls, [
    "remote:",
    "remote:",
    "remote:",
    "remote:reports/",
    "remote:reports/",
  ]);
});

test("names with spaces keep the quoting the user chose", async () => {
  const s = sources(TREE);
  assert.deepEqual(await complete("get my\\ f", s), [["my\\ file.txt "], "my\\ f"]);
  assert.deepEqual(await complete(`get "my f`, s), [[`"my file.txt" `], `"my f`]);
  assert.deepEqual(await complete(`get 'my f`, s), [[`'my file.txt' `], `'my f`]);
  assert.deepEqual(await complete("get my", s), [["my\\ dir/", "my\\ file.txt"], "my"]);
  // A sole folder leaves the quote open, so the path can go on (as bash does).
  assert.deepEqual(await complete(`get "my d`, s), [[`"my dir/`], `"my d`]);
  assert.deepEqual(await complete(`get "my dir/a`, s), [[`"my dir/a b.txt" `], `"my dir/a`]);
  const line = apply(`get "my dir/a`, await complete(`get "my dir/a`, s));
  assert.deepEqual(tokenize(line), ["get", "my dir/a b.txt"]);
});

test("names with control characters or backslashes are never offered; dot files on request", async () => {
  const s = sources(TREE);
  assert.deepEqual(await complete("get ev", s), [[], "ev"]);
  assert.deepEqual(await complete("get back", s), [[], "back"]);
  const all = (await complete("get ", s))[0];
  assert.ok(!all.some((h) => h.includes("\u001b") || h.startsWith(".")), all.join(","));
  assert.deepEqual(await complete("get .h", s), [[".hidden "], ".h"]);
});

test("flags complete, and do not count as operands", async () => {
  const s = sources(TREE);
  assert.deepEqual(await complete("get -", s), [
    ["--continue", "--literal", "--overwrite", "--preserve", "--recursive", "-c", "-p", "-r"],
    "-",
  ]);
  assert.deepEqual(await complete("get --ov", s), [["--overwrite "], "--ov"]);
  await complete("put -r rep", s); // put LOCAL: the local side
  await complete("put -r x rep", s); // put LOCAL REMOTE: the remote side
  await complete("lcd rep", s);
  await complete("mv a rep", s);
  assert.deepEqual(s.calls, ["local:", "remote:", "local:", "remote:"]);
  assert.deepEqual(await complete("get a b c", s), [[], "c"], "no third operand");
  assert.deepEqual(await complete("pwd x", s), [[], "x"]);
  assert.deepEqual(await complete("frobnicate rep", s), [[], "rep"]);
  assert.deepEqual(await complete("rm -- -", s), [[], "-"], "after -- a dash is a name");
});

test("completion at every split of a name, in every quoting, reads back as the name", async () => {
  // No backslash: PROTOCOL.md refuses them in paths, so completion never offers one.
  const name = `it's a "test" #1  here (v2).txt`;
  const s = sources({ "": [file(name)], "sub dir/": [file(name)] });
  const openers: Record<QuoteState, string> = { none: "", single: "'", double: '"' };
  for (const folder of ["", "sub dir/"]) {
    const whole = `${folder}${name}`;
    for (const quote of ["none", "single", "double"] as const) {
      for (let k = folder.length; k <= whole.length; k++) {
        const typed = `get ${openers[quote]}${quoteRest(whole.slice(0, k), quote)}`;
        const line = apply(typed, await complete(typed, s));
        assert.deepEqual(tokenize(line), ["get", whole], `${quote} at ${k}: ${line}`);
        assert.ok(line.endsWith(" "), "a sole file is closed and followed by a space");
      }
    }
  }
});

test("a line that cannot be completed gets nothing: a comment, a pending backslash", async () => {
  const s = sources(TREE);
  assert.deepEqual(await complete("get # rep", s), [[], ""]);
  assert.deepEqual(await complete("get rep\\", s), [[], ""]);
});

test("ListingCache: one load per folder while fresh; failures are not kept", async () => {
  const cache = new ListingCache(60_000);
  let loads = 0;
  const load = (): Promise<Candidate[]> => {
    loads++;
    return Promise.resolve([file("a")]);
  };
  assert.deepEqual(await cache.get("k", load), [file("a")]);
  assert.deepEqual(await cache.get("k", load), [file("a")]);
  assert.equal(loads, 1);
  cache.clear();
  await cache.get("k", load);
  assert.equal(loads, 2);
  const failing = (): Promise<Candidate[]> => {
    loads++;
    return Promise.reject(new Error("gone"));
  };
  assert.deepEqual(await cache.get("f", failing), []);
  assert.deepEqual(await cache.get("f", failing), []);
  assert.equal(loads, 4, "a failed listing is tried again");
  const stale = new ListingCache(0);
  await stale.get("k", load);
  await stale.get("k", load);
  assert.equal(loads, 6, "a stale listing is loaded again");
});
