import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { after, before, test } from "node:test";
import stringWidth from "string-width";
import {
  loadColumnWidths,
  ProgressDisplay,
  renderRow,
  shouldDraw,
  type ProgressStream,
} from "../../src/cli/progress-display.js";
import { runCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";
import { waitUntil } from "../helpers/wait-until.js";

// Issue 4, item 4: progress bars on a terminal (name, bytes, percentage, rate, ETA; one line
// per file, a total for recursive transfers), nothing but the result off a terminal.

const MiB = 1024 * 1024;

let base: string;
let serve: ServeProcess;
let url: string;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-progress-")));
  const served = path.join(base, "served");
  await fs.mkdir(path.join(served, "tree", "sub"), { recursive: true });
  await fs.writeFile(path.join(served, "big.bin"), Buffer.alloc(64 * MiB, 1));
  await fs.writeFile(path.join(served, "tree", "a.txt"), "a");
  await fs.writeFile(path.join(served, "tree", "sub", "b.txt"), "bb");
  serve = await spawnServe(served);
  url = `bftp://127.0.0.1:${serve.port}`;
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

/** A stream that records what is drawn on it, posing as a terminal when `tty`. */
function fakeStream(tty: boolean): { stream: ProgressStream; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = Object.assign(new PassThrough(), { isTTY: tty, columns: 100 });
  stream.on("data", (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

test("renderRow fits the width and shows name, bar, percentage, bytes, rate and ETA", () => {
  const row = { label: "/photos/big.iso", bytes: 50 * MiB, total: 200 * MiB, rate: 10 * MiB };
  const line = renderRow(row, 100);
  assert.ok(line.length <= 100, line);
  assert.match(
    line,
    /^\/photos\/big\.iso +\[=+> +\] +25% 50\.0 MiB\/200 MiB 10\.0 MiB\/s ETA 0:15$/,
  );
  const long = renderRow({ ...row, label: `/${"deep/".repeat(20)}file.bin` }, 80);
  assert.ok(long.length <= 80, long);
  assert.match(long, /^….*\/file\.bin /, "a long name keeps its end");
  const unknown = renderRow({ label: "stream", bytes: 5, total: undefined, rate: 0 }, 60);
  assert.match(unknown, /\? 5 B 0 B\/s ETA --:--$/);
});

test("names of wide characters (CJK, emoji) take their columns: the bars line up", async () => {
  await loadColumnWidths(); // what a drawing display loads (string-width)
  const row = { bytes: 1, total: 2, rate: 1 };
  const lines = ["/report.pdf", "/報告書.pdf", "/📷 photo.jpg", `/${"写真".repeat(30)}.jpg`].map(
    (label) => renderRow({ ...row, label }, 90),
  );
  // Every bar starts at the same column: the label is measured in columns, not characters.
  const columns = lines.map((l) => stringWidth(l.slice(0, l.indexOf(" ["))));
  assert.deepEqual(new Set(columns).size, 1, lines.join("\n"));
  assert.ok(
    lines.every((l) => stringWidth(l) <= 90),
    lines.join("\n"),
  );
  assert.match(lines[3] ?? "", /^…写/u, "a long wide name keeps its end");
});

test("shouldDraw: a terminal or BFTP_PROGRESS=1, never with -q or --json", () => {
  const tty = { isTTY: true } as ProgressStream;
  const pipe = { isTTY: false } as ProgressStream;
  assert.equal(shouldDraw({}, tty, {}), true);
  assert.equal(shouldDraw({}, pipe, {}), false);
  assert.equal(shouldDraw({}, pipe, { BFTP_PROGRESS: "1" }), true);
  assert.equal(shouldDraw({}, tty, { BFTP_PROGRESS: "0" }), false);
  assert.equal(shouldDraw({ quiet: true }, tty, { BFTP_PROGRESS: "1" }), false);
  assert.equal(shouldDraw({ json: true }, tty, { BFTP_PROGRESS: "1" }), false);
});

test("on a terminal: a line per file in flight and a total, cleared at the end", async () => {
  const { stream, text } = fakeStream(true);
  const display = await ProgressDisplay.create(true, stream);
  display.expect(2, 30 * MiB);
  display.onProgress({ name: "/t/one.bin", bytes: 5 * MiB, total: 10 * MiB, rate: MiB });
  display.onProgress({ name: "/t/two\u001b[2J.bin", bytes: MiB, total: 20 * MiB, rate: MiB });
  await waitUntil(() => text().includes("two"), "the first frame is drawn");
  display.done("/t/one.bin", 10 * MiB);
  display.log("bftp: warning: something");
  display.stop();
  display.stop(); // twice is harmless
  const out = text();
  const frames = out.split("\u001b[0J");
  const first = frames[0] ?? "";
  assert.match(first, /total 0\/2 files +\[=+> *\] +20% 6\.0 MiB\/30\.0 MiB/);
  assert.match(first, /\/t\/one\.bin +\[=+> *\] +50% 5\.0 MiB\/10\.0 MiB 1\.0 MiB\/s ETA 0:05/);
  assert.match(first, /\/t\/two\\x1b\[2J\.bin +\[> *\] +5%/, "names are escaped");
  assert.ok(!out.includes("two\u001b"), "no raw escape from a name");
  assert.match(out, /total 1\/2 files .* 36% 11\.0 MiB\/30\.0 MiB/, "finished and in-flight bytes");
  assert.match(out, /bftp: warning: something\n/);
  assert.ok(out.endsWith("\u001b[0J"), "the bars are cleared: only the result stays");
});

test("when not drawing, every call is a no-op but log", async () => {
  const { stream, text } = fakeStream(true);
  const display = await ProgressDisplay.create(false, stream);
  display.expect(1, 10);
  display.onProgress({ name: "/a", bytes: 5, total: 10, rate: 1 });
  display.done("/a", 10);
  display.stop();
  assert.equal(text(), "");
  display.log("plain line");
  assert.equal(text(), "plain line\n");
});

test("bftp get draws on stderr with BFTP_PROGRESS=1; stdout has only the result", async () => {
  const work = path.join(base, "forced");
  await fs.mkdir(work);
  const result = await runCli(["get", `${url}/big.bin`], {
    cwd: work,
    env: { BFTP_PROGRESS: "1" },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    /\/big\.bin +\[[=> ]+\] +\d+% [\d.]+ MiB\/64\.0 MiB [\d.]+ \S+\/s ETA /,
  );
  assert.match(result.stdout, /^saved big\.bin \(64\.0 MiB in .+\)\n$/);
});

test("bftp get -r draws a total line with BFTP_PROGRESS=1", async () => {
  const work = path.join(base, "forced-tree");
  await fs.mkdir(work);
  const result = await runCli(["get", "-r", `${url}/tree`, "copy"], {
    cwd: work,
    env: { BFTP_PROGRESS: "1" },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /total 2\/2 files +\[=+\] 100% 3 B\/3 B/);
  assert.match(result.stdout, /^copied 2 files to copy /);
});

test("nothing but the result off a terminal, and nothing at all with -q or --json", async () => {
  const work = path.join(base, "quiet");
  await fs.mkdir(work);
  const plain = await runCli(["get", `${url}/big.bin`, "plain.bin"], { cwd: work });
  assert.equal(plain.code, 0);
  assert.equal(plain.stderr, "");
  assert.equal(plain.stdout.split("\n").length, 2, "one line");
  const quiet = await runCli(["get", "-q", `${url}/big.bin`, "quiet.bin"], {
    cwd: work,
    env: { BFTP_PROGRESS: "1" },
  });
  assert.equal(quiet.code, 0);
  assert.equal(quiet.stderr + quiet.stdout, "");
  const json = await runCli(["get", "--json", `${url}/tree/a.txt`, "a.txt"], {
    cwd: work,
    env: { BFTP_PROGRESS: "1" },
  });
  assert.equal(json.code, 0);
  assert.equal(json.stderr, "");
  assert.equal((JSON.parse(json.stdout) as { ok: boolean }).ok, true);
});
