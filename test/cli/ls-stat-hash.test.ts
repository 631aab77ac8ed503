import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 4, item 3: the read-only commands `bftp ls`, `bftp stat` and `bftp hash`.

let base: string;
let served: string;
let serve: ServeProcess;
let url: string;
const BLOB = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-ls-")));
  served = path.join(base, "served");
  await fs.mkdir(path.join(served, "photos", "2024"), { recursive: true });
  await fs.writeFile(path.join(served, "zeta.txt"), "z");
  await fs.writeFile(path.join(served, "alpha.bin"), BLOB);
  await fs.writeFile(path.join(served, "Mid dle.txt"), "0123456789");
  serve = await spawnServe(served);
  url = `bftp://127.0.0.1:${serve.port}`;
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

test("ls prints one `ls -l` line per entry, sorted by name", async () => {
  const result = await runCli(["ls", `${url}/`]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  const lines = result.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 4);
  const date = String.raw`\d{4}-\d{2}-\d{2} \d{2}:\d{2}`;
  assert.match(lines[0] ?? "", new RegExp(String.raw`^- +10 ${date} Mid dle\.txt$`));
  assert.match(lines[1] ?? "", new RegExp(String.raw`^- +70000 ${date} alpha\.bin$`));
  assert.match(lines[2] ?? "", new RegExp(String.raw`^d +0 ${date} photos$`));
  assert.match(lines[3] ?? "", new RegExp(String.raw`^- +1 ${date} zeta\.txt$`));
  // Sizes are right-aligned in one column.
  assert.equal(new Set(lines.map((l) => l.indexOf(":"))).size, 1);
});

test("ls --json gives the entries, sorted, with type, size and mtime", async () => {
  const result = await runCli(["ls", "--json", `${url}/`]);
  assert.equal(result.code, 0, result.stderr);
  const doc = jsonOf(result);
  assert.equal(doc["ok"], true);
  assert.equal(doc["path"], "/");
  const entries = doc["entries"] as { name: string; type: string; size: number; mtime: number }[];
  assert.deepEqual(
    entries.map((e) => [e.name, e.type, e.size]),
    [
      ["Mid dle.txt", "file", 10],
      ["alpha.bin", "file", 70_000],
      ["photos", "dir", 0],
      ["zeta.txt", "file", 1],
    ],
  );
  for (const e of entries) assert.ok(Number.isInteger(e.mtime) && e.mtime > 0);
});

test("ls of an empty folder prints nothing; of a file, describes it; of nothing, exit 1", async () => {
  const empty = await runCli(["ls", `${url}/photos/2024`]);
  assert.equal(empty.code, 0, empty.stderr);
  assert.equal(empty.stdout, "");
  const file = await runCli(["ls", "--json", `${url}/zeta.txt`]);
  assert.equal(file.code, 0, file.stderr);
  assert.deepEqual(
    (jsonOf(file)["entries"] as { name: string }[]).map((e) => e.name),
    ["zeta.txt"],
  );
  const missing = await runCli(["ls", `${url}/nowhere`]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /\(BFTP_ERR_NOT_FOUND\)\n$/);
});

test("stat describes a file and a folder; --json gives the entry", async () => {
  const file = await runCli(["stat", `${url}/alpha.bin`]);
  assert.equal(file.code, 0, file.stderr);
  assert.match(file.stdout, /path: \/alpha\.bin\n/);
  assert.match(file.stdout, /type: file\n/);
  assert.match(file.stdout, /size: 70000 \(68\.4 KiB\)\n/);
  assert.match(file.stdout, /modified: \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(\d{4}-.+Z\)\n/);
  const dir = await runCli(["stat", "--json", `${url}/photos`]);
  assert.equal(dir.code, 0, dir.stderr);
  const doc = jsonOf(dir);
  assert.equal(doc["ok"], true);
  assert.equal(doc["path"], "/photos");
  const entry = doc["entry"] as { name: string; type: string };
  assert.equal(entry.type, "dir");
  const missing = await runCli(["stat", "--json", `${url}/nope`]);
  assert.equal(missing.code, 1);
  assert.equal((jsonOf(missing)["error"] as { code: string }).code, "BFTP_ERR_NOT_FOUND");
});

test("hash prints `HEX  PATH` as sha256sum does, and matches node:crypto", async () => {
  const expected = createHash("sha256").update(BLOB).digest("hex");
  const result = await runCli(["hash", `${url}/alpha.bin`]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `${expected}  /alpha.bin\n`);
  const spaced = await runCli(["hash", `${url}/Mid%20dle.txt`]);
  assert.equal(
    spaced.stdout,
    `${createHash("sha256").update("0123456789").digest("hex")}  /Mid dle.txt\n`,
  );
});

test("hash --json gives alg and value; a folder is refused with exit 1", async () => {
  const result = await runCli(["hash", "--json", `${url}/alpha.bin`]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(jsonOf(result), {
    ok: true,
    path: "/alpha.bin",
    alg: "sha256",
    value: createHash("sha256").update(BLOB).digest("hex"),
  });
  const folder = await runCli(["hash", "--json", `${url}/photos`]);
  assert.equal(folder.code, 1);
  assert.equal((jsonOf(folder)["error"] as { code: string }).code, "BFTP_ERR_IS_A_DIRECTORY");
});
