import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { childEnv, drivePty, SHELL_ENTRY, type PtyStep } from "../fixtures/spawn-shell.js";
import { throttleProxy, type ThrottleProxy } from "../fixtures/throttle-proxy.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// The shell at a terminal (issue 4, item 5): a pseudo-terminal made by pty_drive.py types
// the keys and reads the screen. The server's bytes pass through a throttling proxy, so a
// download lasts long enough to draw a bar or to be interrupted on any machine.

const BIG = 8 << 20; // 8 MiB at 8 MiB/s: about a second
const RATE = 8 << 20;
const DEADLINE_S = 30;

let base: string;
let served: string;
let serve: ServeProcess;
let proxy: ThrottleProxy;
let url: string;
let bigSha: string;

before(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-shell-pty-"));
  served = path.join(base, "served");
  serve = await spawnServe(served);
  proxy = await throttleProxy(serve.port, RATE);
  url = `bftp://127.0.0.1:${proxy.port}`;
  await fs.writeFile(path.join(served, "report-2026.txt"), "the report\n");
  await fs.writeFile(path.join(served, "my file.txt"), "spaced\n");
  await fs.mkdir(path.join(served, "archive-2025"));
  await fs.writeFile(path.join(served, "archive-2025", "old.txt"), "old\n");
  const big = randomBytes(BIG);
  bigSha = createHash("sha256").update(big).digest("hex");
  await fs.writeFile(path.join(served, "big.bin"), big);
});

after(async () => {
  await proxy.close();
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

/** Runs the shell in a pseudo-terminal, in a fresh local folder, with history in `state`. */
async function session(name: string, steps: readonly PtyStep[]) {
  const cwd = path.join(base, name);
  const state = path.join(base, `${name}-state`);
  await fs.mkdir(cwd);
  const result = await drivePty([SHELL_ENTRY, "shell", url], steps, {
    cwd,
    env: childEnv(state, { TERM: "xterm" }),
    deadlineS: DEADLINE_S,
  });
  return { ...result, cwd, state };
}

const prompt = (dir: string): PtyStep => ({ expect: `bftp:${dir}> ` });
const esc = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

test("Tab completes remote names (quoted when needed) and folders with /", async () => {
  const got = await session("complete", [
    prompt("/"),
    { send: "get rep\t" }, // only report-2026.txt matches: the line completes
    { expect: esc("ort-2026.txt ") },
    { send: "\r" },
    { expect: esc("saved report-2026.txt (11 B") },
    prompt("/"),
    { send: `get "my f\t` }, // the name has a space: the quote is closed for us
    { expect: esc(`ile.txt" `) },
    { send: "\r" },
    { expect: esc("saved my file.txt (7 B") },
    prompt("/"),
    { send: "cd arc\t" }, // a folder completes with a slash
    { expect: esc("hive-2025/") },
    { send: "\r" },
    prompt("/archive-2025"),
    { send: "g\t" }, // command names complete too
    { expect: "et " },
    { send: "o\t" }, // completion is asynchronous: wait for it before Enter
    { expect: esc("ld.txt ") },
    { send: "\r" },
    { expect: esc("saved old.txt (4 B") },
    prompt("/archive-2025"),
    { send: "\u0004" }, // Ctrl-D ends the session
    { wait_exit: 5 },
  ]);
  assert.ok(got.ok, `${got.error ?? ""}\n${got.output}`);
  assert.equal(got.exit, 0);
  assert.equal(await fs.readFile(path.join(got.cwd, "report-2026.txt"), "utf8"), "the report\n");
  assert.equal(await fs.readFile(path.join(got.cwd, "my file.txt"), "utf8"), "spaced\n");
  assert.equal(await fs.readFile(path.join(got.cwd, "old.txt"), "utf8"), "old\n");
});

test("a progress bar is drawn during get, on the terminal", async () => {
  const got = await session("progress", [
    prompt("/"),
    { send: "get big.bin\r" },
    { expect: String.raw`\[=*>? *\] +\d{1,2}% `, timeout: 15 }, // a bar part-way
    { expect: esc("saved big.bin (8.0 MiB"), timeout: 15 },
    prompt("/"),
    { send: "quit\r" },
    { wait_exit: 5 },
  ]);
  assert.ok(got.ok, `${got.error ?? ""}\n${got.output}`);
  assert.equal(got.exit, 0);
  assert.match(got.output, /big\.bin +\[/, "the bar names the file");
  assert.match(got.output, /\/s ETA (\d+:\d\d|--:--)/, "with the rate and the time left");
  const copy = await fs.readFile(path.join(got.cwd, "big.bin"));
  assert.equal(createHash("sha256").update(copy).digest("hex"), bigSha);
});

test("Ctrl-C interrupts a transfer and the shell goes on; get -c resumes it", async () => {
  const got = await session("interrupt", [
    prompt("/"),
    { send: "get big.bin\r" },
    { expect: String.raw`\d+% `, timeout: 15 },
    { send: "\u0003" },
    { expect: esc("(BFTP_ERR_ABORTED)") },
    prompt("/"), // on a new connection, in the same folder
    { send: "get -c big.bin\r" },
    {
      expect: String.raw`saved big\.bin \([\d.]+ [KM]iB in .*, resumed at [\d.]+ [KM]iB\)`,
      timeout: 20,
    },
    prompt("/"),
    { send: "typed then\u0003" }, // at the prompt, Ctrl-C only clears the line
    prompt("/"),
    { send: "pwd\r" },
    { expect: "\r\n/\r\n" },
    prompt("/"),
    { send: "\u001b[A\r" }, // Up: the history brings pwd back
    { expect: "\r\n/\r\n" },
    prompt("/"),
    { send: "exit\r" },
    { wait_exit: 5 },
  ]);
  assert.ok(got.ok, `${got.error ?? ""}\n${got.output}`);
  assert.equal(got.exit, 0);
  assert.doesNotMatch(got.output, /typed thenpwd/);
  const copy = await fs.readFile(path.join(got.cwd, "big.bin"));
  assert.equal(createHash("sha256").update(copy).digest("hex"), bigSha);
  // The history was saved as it went: private, oldest first.
  const file = path.join(got.state, "bftp", "history");
  assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
  const lines = (await fs.readFile(file, "utf8")).trimEnd().split("\n");
  assert.deepEqual(lines, ["get big.bin", "get -c big.bin", "pwd", "exit"]);
});

test("--no-history reads and writes no history file", async () => {
  const cwd = path.join(base, "nohist");
  const state = path.join(base, "nohist-state");
  await fs.mkdir(cwd);
  const got = await drivePty(
    [SHELL_ENTRY, "shell", "--no-history", url],
    [prompt("/"), { send: "pwd\r" }, prompt("/"), { send: "quit\r" }, { wait_exit: 5 }],
    { cwd, env: childEnv(state), deadlineS: DEADLINE_S },
  );
  assert.ok(got.ok, `${got.error ?? ""}\n${got.output}`);
  assert.equal(got.exit, 0);
  await assert.rejects(fs.stat(state));
});

test("after the server closed the idle connection, the next command reconnects", async () => {
  const idle = await spawnServe(path.join(base, "served-idle"), ["--idle-timeout", "0.5"]);
  try {
    const cwd = path.join(base, "idle");
    await fs.mkdir(cwd);
    await fs.mkdir(path.join(base, "served-idle", "sub"));
    const got = await drivePty(
      [SHELL_ENTRY, "shell", "--no-history", `bftp://127.0.0.1:${idle.port}/sub`],
      [
        prompt("/sub"),
        { sleep: 1.5 }, // past the server's idle timeout
        { send: "pwd\r" },
        { expect: "reconnected" },
        { expect: "\r\n/sub\r\n" }, // in the same folder
        prompt("/sub"),
        { send: "quit\r" },
        { wait_exit: 5 },
      ],
      { cwd, env: childEnv(path.join(base, "idle-state")), deadlineS: DEADLINE_S },
    );
    assert.ok(got.ok, `${got.error ?? ""}\n${got.output}`);
    assert.equal(got.exit, 0);
  } finally {
    await idle.stop();
  }
});
