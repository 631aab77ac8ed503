import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { CLI } from "../helpers/spawn-serve.js";
import { childEnv, drivePty, type PtyStep } from "../fixtures/spawn-shell.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 7, item 5: passwords typed at a terminal are not echoed. A pseudo-terminal
// (pty_drive.py) types them and records everything the program wrote to the screen.

const SECRET = "tty-Secret-93";
const DEADLINE_S = 30;

let base: string;
let config: string;
let served: string;
let server: ServeProcess | undefined;

before(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-user-pty-"));
  config = path.join(base, "config");
  served = path.join(base, "served");
  await fs.mkdir(served);
});

after(async () => {
  await server?.stop();
  await fs.rm(base, { recursive: true, force: true });
});

function drive(args: readonly string[], steps: readonly PtyStep[]) {
  const env = childEnv(path.join(base, "state"), { TERM: "xterm" });
  delete env["BFTP_PASSWORD"];
  return drivePty([CLI, ...args], steps, { cwd: base, env, deadlineS: DEADLINE_S });
}

test("user add asks twice without echo; two different answers change nothing", async () => {
  const differ = await drive(
    ["user", "add", "carol", "--config-dir", config],
    [
      { expect: "Password for carol: " },
      { send: `${SECRET}\r` },
      { expect: "Again: " },
      { send: "something else\r" },
      { wait_exit: 10 },
    ],
  );
  assert.ok(differ.ok, differ.error ?? "");
  assert.equal(differ.exit, 2);
  await assert.rejects(fs.stat(path.join(config, "users.json")));

  const added = await drive(
    ["user", "add", "carol", "--config-dir", config],
    [
      { expect: "Password for carol: " },
      { send: `${SECRET}x\u007f\r` }, // a typo, and Backspace
      { expect: "Again: " },
      { send: `${SECRET}\r` },
      { expect: "added carol" },
      { wait_exit: 10 },
    ],
  );
  assert.ok(added.ok, added.error ?? added.output);
  assert.equal(added.exit, 0, added.output);
  assert.ok(!added.output.includes(SECRET), added.output);
});

test("a client prompts for the password without echo, and the shell logs in with it", async () => {
  server = await spawnServe(served, ["--config-dir", config, "--login-delay", "0"]);
  const where = `127.0.0.1:${server.port}`;
  await fs.writeFile(path.join(served, "visible.txt"), "hi");
  const ls = await drive(
    ["ls", `bftp://carol@${where}/`],
    [
      { expect: `Password for carol@${where.replace(/\./gu, "\\.")}: ` },
      { send: `${SECRET}\r` },
      { expect: "visible\\.txt" },
      { wait_exit: 10 },
    ],
  );
  assert.ok(ls.ok, ls.error ?? ls.output);
  assert.equal(ls.exit, 0, ls.output);
  assert.ok(!ls.output.includes(SECRET), ls.output);

  const shell = await drive(
    ["shell", "--no-history", `bftp://carol@${where}`],
    [
      { expect: "Password for carol@" },
      { send: `${SECRET}\r` },
      { expect: "bftp:/> " },
      { send: "ls\r" },
      { expect: "visible\\.txt" },
      { expect: "bftp:/> " },
      { send: "quit\r" },
      { wait_exit: 10 },
    ],
  );
  assert.ok(shell.ok, shell.error ?? shell.output);
  assert.equal(shell.exit, 0, shell.output);
  assert.ok(!shell.output.includes(SECRET), shell.output);
});
