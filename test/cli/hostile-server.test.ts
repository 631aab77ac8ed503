import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import {
  HOSTILE_CONTENT,
  HOSTILE_NAMES,
  startHostileServer,
  type HostileServer,
} from "../helpers/hostile-server.js";
import { jsonOf, runCli, type CliResult } from "../helpers/run-cli.js";

// Issue 4, acceptance: a fake hostile server sends `../` and absolute names and control
// characters in a listing; a recursive download writes nothing outside its target and the
// terminal output contains no raw control characters.

let hostile: HostileServer;
let base: string;

before(async () => {
  hostile = await startHostileServer();
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-hostile-")));
});

after(async () => {
  await hostile.close();
  await fs.rm(base, { recursive: true, force: true });
});

/** Every file and folder under `dir`, relative, sorted. */
async function tree(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true });
  return entries.map((e) => e.split(path.sep).join("/")).sort();
}

/** No byte below 0x20 but \n, no DEL, and no C1 control once decoded. */
function assertNoControls(result: CliResult): void {
  for (const byte of result.raw) {
    assert.ok(byte >= 0x20 || byte === 0x0a, `raw control byte 0x${byte.toString(16)} in output`);
    assert.notEqual(byte, 0x7f, "raw DEL in output");
  }
  assert.doesNotMatch(result.raw.toString("utf8"), /[\u0080-\u009f]/u, "raw C1 control in output");
}

test("get -r writes only OUT/ok.txt, exits 5 (skipped entries), prints no raw controls", async () => {
  const work = path.join(base, "get-r");
  await fs.mkdir(work);
  await fs.writeFile(path.join(work, "canary"), "untouched");
  const outsideBefore = await tree(path.dirname(work));
  const since = hostile.requests.length;

  const result = await runCli(["get", "-r", `bftp://127.0.0.1:${hostile.port}/`, "OUT"], {
    cwd: work,
  });

  assert.equal(result.code, 5, result.stderr);
  assert.deepEqual(await tree(path.join(work, "OUT")), ["ok.txt"]);
  assert.deepEqual(await fs.readFile(path.join(work, "OUT", "ok.txt")), HOSTILE_CONTENT);
  assert.deepEqual((await tree(work)).sort(), ["OUT", "OUT/ok.txt", "canary"]);
  // Nothing appeared beside the work folder either (../evil, ../../escape-dir).
  assert.deepEqual(
    await tree(path.dirname(work)),
    [...outsideBefore, "get-r/OUT", "get-r/OUT/ok.txt"].sort(),
  );
  await assert.rejects(fs.lstat("/etc/evil"));
  // The client fetched ok.txt only, and listed the root only.
  const asked = hostile.requests.slice(since).filter((r) => r.op === "GET" || r.op === "LIST");
  assert.deepEqual(asked, [
    { op: "LIST", path: "/" },
    { op: "GET", path: "/ok.txt" },
  ]);
  assertNoControls(result);
  assert.match(result.stderr, /warning: skipped/);
  assert.match(result.stderr, /skipped 11 entries/);
});

test("get -r --json reports the skipped names as warnings, escaped, and ok: false", async () => {
  const work = path.join(base, "json");
  await fs.mkdir(work);
  const result = await runCli(["get", "-r", "--json", `bftp://127.0.0.1:${hostile.port}/`, "OUT"], {
    cwd: work,
  });
  assert.equal(result.code, 5);
  assertNoControls(result);
  const doc = jsonOf(result);
  assert.equal(doc["ok"], false);
  assert.equal(doc["skipped"], HOSTILE_NAMES.length - 1);
  const files = doc["files"] as { remote: string; local: string }[];
  assert.deepEqual(
    files.map((f) => [f.remote, f.local]),
    [["/ok.txt", path.join("OUT", "ok.txt")]],
  );
  const warnings = doc["warnings"] as string[];
  assert.equal(warnings.length, HOSTILE_NAMES.length - 1);
  // eslint-disable-next-line no-control-regex
  for (const w of warnings) assert.doesNotMatch(w, /[\u0000-\u001f\u007f-\u009f]/u);
  assert.equal(result.stderr, "", "with --json, warnings go into the document");
});

test("get -r into an existing folder puts nothing beside it", async () => {
  const work = path.join(base, "existing");
  await fs.mkdir(path.join(work, "OUT"), { recursive: true });
  // The server's root has no name of its own: its safe contents go into OUT.
  const result = await runCli(["get", "-r", "-q", `bftp://127.0.0.1:${hostile.port}/`, "OUT"], {
    cwd: work,
  });
  assert.equal(result.code, 5);
  assert.deepEqual(await tree(work), ["OUT", "OUT/ok.txt"]);
  assert.equal(result.stdout, "");
  assertNoControls(result);
});

test("ls shows every hostile name escaped, one per line, and no raw controls", async () => {
  // -a: names that begin with a dot (../evil, ..) are hidden without it, as ls hides them.
  const result = await runCli(["ls", "-a", `bftp://127.0.0.1:${hostile.port}/`]);
  assert.equal(result.code, 0, result.stderr);
  assertNoControls(result);
  const lines = result.stdout.trimEnd().split("\n");
  assert.equal(lines.length, HOSTILE_NAMES.length, "a CR/LF in a name does not add lines");
  assert.ok(lines.some((l) => l.endsWith(" \\x1b[2J\\x1b[31mred.txt")));
  assert.ok(lines.some((l) => l.endsWith(" line\\r\\nbreak.txt")));
  assert.ok(lines.some((l) => l.endsWith(" x\\x00y")));
  assert.ok(lines.some((l) => l.endsWith(" \\x9b31mc1.txt")));
  assert.ok(lines.some((l) => /^- +\d+ \S+ \S+ ok\.txt$/.test(l)));
});

test("ls --json keeps the names exact but escapes every control character", async () => {
  const result = await runCli(["ls", "-a", "--json", `bftp://127.0.0.1:${hostile.port}/`]);
  assert.equal(result.code, 0);
  assertNoControls(result);
  const entries = jsonOf(result)["entries"] as { name: string }[];
  assert.deepEqual(entries.map((e) => e.name).sort(), HOSTILE_NAMES.map((e) => e.name).sort());
});
