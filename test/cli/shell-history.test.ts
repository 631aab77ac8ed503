import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import {
  HISTORY_SIZE,
  HistoryWriter,
  historyPath,
  loadHistory,
} from "../../src/cli/shell/history.js";

let base: string;

before(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-shell-history-"));
});

after(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

test("historyPath: $XDG_STATE_HOME when absolute, else ~/.local/state", () => {
  assert.equal(historyPath({ XDG_STATE_HOME: "/var/state" }), "/var/state/bftp/history");
  const fallback = path.join(os.homedir(), ".local", "state", "bftp", "history");
  assert.equal(historyPath({ XDG_STATE_HOME: "relative/state" }), fallback);
  assert.equal(historyPath({}), fallback);
});

test("saves oldest first, loads newest first, private and capped", async () => {
  const file = path.join(base, "new", "bftp", "history");
  const errors: unknown[] = [];
  const writer = new HistoryWriter(file, (err) => errors.push(err));
  const newestFirst = Array.from({ length: HISTORY_SIZE + 500 }, (_, i) => `pwd ${1500 - i}`);
  writer.save(["ls"]);
  writer.save(newestFirst);
  await writer.flush();
  assert.deepEqual(errors, []);
  const lines = (await fs.readFile(file, "utf8")).split("\n");
  assert.equal(lines.length, HISTORY_SIZE + 1, "1000 lines and the final newline");
  assert.equal(lines[0], "pwd 501");
  assert.equal(lines[HISTORY_SIZE - 1], "pwd 1500");
  assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
  assert.equal((await fs.stat(path.dirname(file))).mode & 0o777, 0o700);
  const loaded = await loadHistory(file);
  assert.equal(loaded.length, HISTORY_SIZE);
  assert.equal(loaded[0], "pwd 1500", "newest first, as readline wants it");
  assert.deepEqual(await fs.readdir(path.dirname(file)), ["history"], "no temporary file left");
});

test("loadHistory: a missing file is an empty history; blank lines and excess are dropped", async () => {
  assert.deepEqual(await loadHistory(path.join(base, "missing")), []);
  const file = path.join(base, "long");
  const text = Array.from({ length: 1200 }, (_, i) => (i % 2 === 0 ? `cd ${i}` : "")).join("\n");
  await fs.writeFile(file, `${text}\n\n  \n`);
  const loaded = await loadHistory(file);
  assert.equal(loaded.length, 600);
  assert.equal(loaded[0], "cd 1198");
});

test("a history that cannot be saved is reported once, then kept in memory only", async () => {
  const blocker = path.join(base, "a-file");
  await fs.writeFile(blocker, "");
  const errors: unknown[] = [];
  const writer = new HistoryWriter(path.join(blocker, "bftp", "history"), (err) =>
    errors.push(err),
  );
  writer.save(["pwd"]);
  writer.save(["ls", "pwd"]);
  await writer.flush();
  assert.equal(errors.length, 1);
});
