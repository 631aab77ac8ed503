import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { OPERATIONS, SHELL_NAMES } from "../../src/cli/operations.js";
import { findCommand, SHELL_COMMANDS } from "../../src/cli/shell/command-table.js";
import { childEnv, runShellScript } from "../fixtures/spawn-shell.js";
import { runCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 13, item 9: the command line and the shell reach the same operation for every remote
// command, so they cannot drift. Structurally: each shell command names the very function
// (or table entry) its `bftp` command runs. Behaviourally: the cases that had drifted (put -c
// of a complete file, ls -l lines, rm of a folder, globs, many sources) end the same way
// through both, against one server.

let base: string;
let served: string;
let serve: ServeProcess;
let url: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-same-op-")));
  served = path.join(base, "served");
  await fs.mkdir(served);
  serve = await spawnServe(served);
  url = `bftp://127.0.0.1:${serve.port}`;
  env = childEnv(path.join(base, "state"));
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

test("every remote command of the CLI and its shell commands reach one operation", async () => {
  const remote = new Set<string>();
  for (const [name, load] of Object.entries(OPERATIONS)) {
    const operation = await load();
    assert.equal(typeof operation === "function" || typeof operation === "object", true, name);
    for (const shellName of SHELL_NAMES[name as keyof typeof OPERATIONS]) {
      const spec = findCommand(SHELL_COMMANDS, shellName);
      assert.ok(spec !== undefined, `the shell has ${shellName}`);
      assert.equal(spec.operation, operation, `${shellName} runs bftp ${name}'s operation`);
      remote.add(spec.name);
    }
  }
  // Every shell command that names an operation is in the table, and the CLI's commands
  // that act on a server (bftp --help) each have one.
  for (const spec of SHELL_COMMANDS) {
    if (spec.operation !== undefined) assert.ok(remote.has(spec.name), spec.name);
  }
  const help = await runCli(["--help"]);
  const cliRemote = ["get", "put", "sync", "ls", "stat", "hash", "mkdir", "rm", "rmdir", "mv"];
  for (const name of cliRemote) {
    assert.match(help.stdout, new RegExp(`^  ${name} `, "mu"), name);
    assert.ok(name in OPERATIONS, name);
  }
});

/** Runs the same commands through the CLI (one process each) and the shell (one script). */
async function both(
  name: string,
  cli: readonly (readonly string[])[],
  shell: readonly string[],
): Promise<{ cli: number[]; shell: string; shellCode: number | null }> {
  const cwd = path.join(base, name);
  await fs.mkdir(cwd, { recursive: true });
  const codes: number[] = [];
  for (const args of cli) codes.push((await runCli(args, { cwd })).code ?? -1);
  const script = await runShellScript(url, `${shell.join("\n")}\n`, { cwd, env });
  return { cli: codes, shell: script.stderr, shellCode: script.code };
}

test("put -c of a file already complete: done in both (it failed in one)", async () => {
  await fs.mkdir(path.join(base, "put-c"), { recursive: true });
  await fs.writeFile(path.join(base, "put-c", "f.txt"), "same bytes");
  await fs.writeFile(path.join(served, "f.txt"), "same bytes");
  const result = await both(
    "put-c",
    [["put", "-c", "f.txt", `${url}/f.txt`]],
    ["put -c f.txt /f.txt"],
  );
  assert.deepEqual(result.cli, [0]);
  assert.equal(result.shellCode, 0, result.shell);
});

test("ls -l lines are the same lines", async () => {
  await fs.mkdir(path.join(served, "list", "sub"), { recursive: true });
  await fs.writeFile(path.join(served, "list", "a.txt"), "aaa");
  await fs.writeFile(path.join(served, "list", "big.bin"), Buffer.alloc(123_456));
  const cwd = path.join(base, "ls");
  await fs.mkdir(cwd);
  const cli = await runCli(["ls", `${url}/list`], { cwd });
  const shell = await runShellScript(url, "ls -l /list\n", { cwd, env });
  assert.equal(cli.code, 0);
  assert.equal(shell.stdout, cli.stdout);
  const human = await runCli(["ls", "--human-readable", `${url}/list`], { cwd });
  const shellHuman = await runShellScript(url, "ls -lh /list\n", { cwd, env });
  assert.equal(shellHuman.stdout, human.stdout);
  assert.match(human.stdout, /121K/u);
});

test("rm of a folder: the same refusal; rm -r removes it in both", async () => {
  for (const dir of ["rm-a", "rm-b"]) {
    await fs.mkdir(path.join(served, dir, "in"), { recursive: true });
    await fs.writeFile(path.join(served, dir, "in", "x"), "x");
  }
  const refused = await runCli(["rm", "--json", `${url}/rm-a`]);
  const shell = await runShellScript(url, "rm /rm-a\n", { cwd: base, env });
  assert.equal(refused.code, 1);
  assert.equal(shell.code, 1);
  assert.match(refused.stdout, /BFTP_ERR_IS_A_DIRECTORY/u);
  assert.match(shell.stderr, /\(BFTP_ERR_IS_A_DIRECTORY\)/u);
  const removed = await both("rm", [["rm", "-r", `${url}/rm-a`]], ["rm -r /rm-b"]);
  assert.deepEqual(removed.cli, [0]);
  assert.equal(removed.shellCode, 0);
  await assert.rejects(fs.lstat(path.join(served, "rm-a")), { code: "ENOENT" });
  await assert.rejects(fs.lstat(path.join(served, "rm-b")), { code: "ENOENT" });
});

test("globs matching none, one and many, and many sources, the same way in both", async () => {
  await fs.mkdir(path.join(served, "g"), { recursive: true });
  for (const n of ["a1.log", "a2.log", "b.txt", ".hidden.log"]) {
    await fs.writeFile(path.join(served, "g", n), n);
  }
  for (const side of ["cli", "shell"]) {
    const cwd = path.join(base, `glob-${side}`);
    await fs.mkdir(cwd);
    const none =
      side === "cli"
        ? (await runCli(["get", `${url}/g/*.none`, "."], { cwd })).code
        : (await runShellScript(url, "mget /g/*.none\n", { cwd, env })).code;
    assert.equal(none, 1, `${side}: no match is a failure`);
    const one =
      side === "cli"
        ? (await runCli(["get", `${url}/g/b.*`, "."], { cwd })).code
        : (await runShellScript(url, "cd g\nmget b.*\n", { cwd, env })).code;
    assert.equal(one, 0);
    const many =
      side === "cli"
        ? (await runCli(["get", `${url}/g/a*.log`, "."], { cwd })).code
        : (await runShellScript(url, "cd g\nget a*.log .\n", { cwd, env })).code;
    assert.equal(many, 0);
    // Many sources: into one remote folder.
    const into = `/many-${side}/`;
    const sent =
      side === "cli"
        ? (await runCli(["put", "a1.log", "a2.log", `${url}${into}`], { cwd })).code
        : (await runShellScript(url, `put a1.log a2.log ${into}\n`, { cwd, env })).code;
    assert.equal(sent, 0);
    assert.deepEqual((await fs.readdir(path.join(served, into))).sort(), ["a1.log", "a2.log"]);
    // A glob never matches a dotfile unless it begins with a dot, as in shells.
    assert.deepEqual((await fs.readdir(cwd)).sort(), ["a1.log", "a2.log", "b.txt"]);
  }
});
