import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import {
  childEnv,
  drivePty,
  runShellScript,
  SHELL_ENTRY,
  type PtyStep,
} from "../fixtures/spawn-shell.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 13, item 6: the shell as good as sftp's and lftp's. Through piped input: mget and
// mput with globs, ls -la and -h, lls with the local ls's flags, !cmd, progress, mirror, and
// batch mode naming the failing line (sftp -b, with "-" to let a line fail). Through a
// pseudo-terminal: the same commands as a person types them.

let base: string;
let served: string;
let serve: ServeProcess;
let url: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-shell-new-")));
  served = path.join(base, "served");
  await fs.mkdir(path.join(served, "docs", "deep"), { recursive: true });
  for (const n of ["a.txt", "b.txt", "c.log", ".hidden"]) {
    await fs.writeFile(path.join(served, "docs", n), `${n}\n`);
  }
  await fs.writeFile(path.join(served, "docs", "deep", "d.txt"), Buffer.alloc(5000, 1));
  serve = await spawnServe(served);
  url = `bftp://127.0.0.1:${serve.port}`;
  env = childEnv(path.join(base, "state"));
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

async function folder(name: string): Promise<string> {
  const dir = path.join(base, name);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

test("mget and mput: globs (none, one, many, **) into the current folders", async () => {
  const cwd = await folder("m");
  const got = await runShellScript(url, "cd docs\nmget *.txt\nmget *.log\n", { cwd, env });
  assert.equal(got.code, 0, got.stderr);
  assert.deepEqual((await fs.readdir(cwd)).sort(), ["a.txt", "b.txt", "c.log"]);
  const deep = await runShellScript(url, "mget /docs/**/d.txt\n", { cwd, env });
  assert.equal(deep.code, 0, deep.stderr);
  assert.equal((await fs.stat(path.join(cwd, "deep", "d.txt"))).size, 5000);
  const none = await runShellScript(url, "mget /docs/*.none\n", { cwd, env });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /\(BFTP_ERR_NO_MATCH\)/u);

  await fs.writeFile(path.join(cwd, "up1.dat"), "1");
  await fs.writeFile(path.join(cwd, "up2.dat"), "2");
  const up = await runShellScript(url, "mkdir /in\ncd /in\nmput *.dat\nmput a.*\n", { cwd, env });
  assert.equal(up.code, 0, up.stderr);
  assert.deepEqual((await fs.readdir(path.join(served, "in"))).sort(), [
    "a.txt",
    "up1.dat",
    "up2.dat",
  ]);
  const noLocal = await runShellScript(url, "mput *.none\n", { cwd, env });
  assert.equal(noLocal.code, 1);
  assert.match(noLocal.stderr, /\(BFTP_ERR_NO_MATCH\)/u);
});

test("ls -a shows dotfiles, -l long lines, -h sizes for people", async () => {
  const cwd = await folder("ls");
  const { code, stdout } = await runShellScript(url, "cd docs\nls\nls -a\nls -lh deep\n", {
    cwd,
    env,
  });
  assert.equal(code, 0);
  const [plain, all] = [stdout.split("\n").slice(0, 4), stdout.split("\n").slice(4, 9)];
  assert.deepEqual(plain, ["a.txt", "b.txt", "c.log", "deep/"]);
  assert.deepEqual(all, [".hidden", "a.txt", "b.txt", "c.log", "deep/"]);
  assert.match(stdout, /^- +4\.9K \d{4}-\d\d-\d\d \d\d:\d\d d\.txt$/mu);
});

test("lls runs the local ls with its flags; ! runs a local command; progress toggles", async () => {
  const cwd = await folder("local");
  await fs.writeFile(path.join(cwd, ".dot"), "x");
  await fs.writeFile(path.join(cwd, "plain"), "x");
  const script = [
    "lls",
    "lls -a",
    "lls -l plain",
    "!echo bang > made-by-bang.txt",
    "progress",
    "progress",
    "lls /no/such/place",
  ].join("\n");
  const { code, stdout, stderr } = await runShellScript(url, `${script}\n`, { cwd, env });
  assert.equal(code, 1, "ls of a missing path fails the script");
  const lines = stdout.split("\n");
  assert.equal(lines[0], "plain");
  assert.ok(lines.includes(".dot"), stdout);
  assert.match(stdout, /^-rw.* plain$/mu);
  assert.equal(await fs.readFile(path.join(cwd, "made-by-bang.txt"), "utf8"), "bang\n");
  assert.ok(lines.includes("progress bars on"), stdout);
  assert.ok(lines.includes("progress bars off"), stdout);
  assert.match(stderr, /\(BFTP_ERR_LOCAL_FILE\)/u);
  assert.match(stderr, /^bftp: stdin:7: lls \/no\/such\/place: failed \(exit 1\)$/mu);
});

test("a failing ! command fails its line; a script's next lines are not eaten by it", async () => {
  const cwd = await folder("bang");
  const { code, stderr } = await runShellScript(url, "!cat\n!exit 3\nmkdir /after-bang\n", {
    cwd,
    env,
  });
  assert.equal(code, 1);
  assert.match(stderr, /^bftp: stdin:2: !exit 3: failed \(exit 1\)$/mu);
  await fs.stat(path.join(served, "after-bang")); // cat read nothing of the script
});

test("-b FILE stops at the first failure and names FILE:LINE; '-' lets a line fail", async () => {
  const cwd = await folder("batch");
  const file = path.join(cwd, "nightly.bftp");
  await fs.writeFile(
    file,
    ["mkdir /batch-1", "-rm /no-such-file", "mkdir /batch-2", "cd /nope", "mkdir /batch-3"].join(
      "\n",
    ),
  );
  const result = await runShellScript(url, "", { cwd, env, args: ["-b", file] });
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    new RegExp(`^bftp: ${file}:2: -rm /no-such-file: failed \\(exit 1\\), ignored \\(-\\)$`, "mu"),
  );
  assert.match(result.stderr, new RegExp(`^bftp: ${file}:4: cd /nope: failed \\(exit 1\\)$`, "mu"));
  await fs.stat(path.join(served, "batch-1"));
  await fs.stat(path.join(served, "batch-2"));
  await assert.rejects(fs.stat(path.join(served, "batch-3")), "nothing after the failure");
  const missing = await runShellScript(url, "", { cwd, env, args: ["-b", path.join(cwd, "none")] });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /\(BFTP_ERR_LOCAL_FILE\)/u);
});

test("mirror and mirror -R bring folders up to date, as bftp sync", async () => {
  const cwd = await folder("mirror");
  const down = await runShellScript(url, "mirror /docs copy\nmirror /docs copy\n", { cwd, env });
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, /sent 5 new and 0 changed files/u);
  assert.match(down.stdout, /sent 0 new and 0 changed files .*5 unchanged/u);
  assert.equal(
    await fs.readFile(path.join(cwd, "copy", "deep", "d.txt"), "utf8"),
    "\u0001".repeat(5000),
  );
  await fs.writeFile(path.join(cwd, "copy", "new.txt"), "new");
  const up = await runShellScript(url, "mirror -R -n copy /docs\nmirror -R copy /docs\n", {
    cwd,
    env,
  });
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout, /^send +new\.txt$/mu);
  assert.equal(await fs.readFile(path.join(served, "docs", "new.txt"), "utf8"), "new");
});

test("at a terminal: ls -la, !, progress and mget as a person types them", async () => {
  const cwd = await folder("pty");
  const prompt = (dir: string): PtyStep => ({ expect: `bftp:${dir}> ` });
  const result = await drivePty(
    [SHELL_ENTRY, "shell", `${url}/docs`],
    [
      prompt("/docs"),
      { send: "ls -la\r" },
      { expect: String.raw`\.hidden` },
      prompt("/docs"),
      { send: "!echo from-the-subshell\r" },
      { expect: "from-the-subshell" },
      prompt("/docs"),
      { send: "progress\r" },
      { expect: "progress bars off" },
      prompt("/docs"),
      { send: "mget [ab].txt\r" },
      { expect: String.raw`copied 2 files to \.` },
      prompt("/docs"),
      { send: "quit\r" },
      { wait_exit: 10 },
    ],
    { cwd, env: childEnv(path.join(base, "pty-state"), { TERM: "xterm" }), deadlineS: 30 },
  );
  assert.ok(
    result.ok,
    `${result.error ?? ""} at step ${String(result.failed_step)}\n${result.output}`,
  );
  assert.equal(result.exit, 0);
  assert.deepEqual((await fs.readdir(cwd)).sort(), ["a.txt", "b.txt"]);
});
