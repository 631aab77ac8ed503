import assert from "node:assert/strict";
import { once } from "node:events";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { closedPort, jsonOf, runCli } from "../helpers/run-cli.js";

// Issue 4, item 3: exit codes documented and kept; usage errors say what was expected;
// a refused connection suggests starting `bftp serve`; --help teaches with examples.

const COMMANDS = ["get", "put", "ls", "stat", "hash", "mkdir", "rm", "rmdir", "mv"] as const;

let base: string;
let port: number;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-exit-")));
  await fs.writeFile(path.join(base, "local.txt"), "x");
  port = await closedPort();
});

after(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

test("a refused connection exits 3 and suggests `bftp serve`", async () => {
  const result = await runCli(["ls", `bftp://127.0.0.1:${port}/`]);
  assert.equal(result.code, 3);
  assert.match(result.stderr, /bftp serve/);
  assert.match(result.stderr, /\(BFTP_ERR_CONNECTION_REFUSED\)\n$/);
  assert.equal(result.stdout, "");
});

test("--json reports the refused connection as a document, still exit 3", async () => {
  const result = await runCli(["get", "--json", `bftp://127.0.0.1:${port}/a.txt`], { cwd: base });
  assert.equal(result.code, 3);
  const doc = jsonOf(result);
  assert.equal(doc["ok"], false);
  const error = doc["error"] as { code: string; message: string };
  assert.equal(error.code, "BFTP_ERR_CONNECTION_REFUSED");
  assert.match(error.message, /bftp serve/);
  assert.equal(result.stderr, "");
});

test("put exits 3 too, and leaves no file behind", async () => {
  const result = await runCli(["put", "local.txt", `bftp://127.0.0.1:${port}/x.txt`], {
    cwd: base,
  });
  assert.equal(result.code, 3);
  assert.deepEqual(await fs.readdir(base), ["local.txt"]);
});

test("usage errors exit 2: missing arguments, unknown flags, bad values", async () => {
  const cases: string[][] = [
    ["get"],
    ["put", "local.txt"],
    ["ls", "bftp://127.0.0.1/", "--frobnicate"],
    ["ls", "--timeout", "soon", "bftp://127.0.0.1/"],
    ["mv", "bftp://127.0.0.1/a"],
  ];
  for (const args of cases) {
    const result = await runCli(args, { cwd: base });
    assert.equal(result.code, 2, `bftp ${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, /--help/, "says where to learn more");
  }
});

test("a location that is not bftp://HOST/PATH is a usage error that shows the form", async () => {
  for (const bad of ["127.0.0.1:9921/a", "http://127.0.0.1/a", "bftp://u:secret@host/a"]) {
    const result = await runCli(["stat", bad]);
    assert.equal(result.code, 2, `${bad}: ${result.stderr}`);
    assert.match(result.stderr, /\(BFTP_ERR_INVALID_ARGUMENT\)\n$/);
  }
  const shape = await runCli(["ls", "files.local/docs"]);
  assert.match(shape.stderr, /bftp:\/\/HOST\[:PORT\]\/PATH/);
});

test("--timeout gives up on a silent server with exit 3", async () => {
  // A server that accepts and never answers HELLO.
  const silent = net.createServer((socket) => socket.on("error", () => {}));
  silent.listen(0, "127.0.0.1");
  await once(silent, "listening");
  const silentPort = (silent.address() as net.AddressInfo).port;
  try {
    const started = Date.now();
    const result = await runCli(["ls", "--timeout", "0.5", `bftp://127.0.0.1:${silentPort}/`]);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /BFTP_ERR_TIMEOUT/);
    assert.ok(Date.now() - started < 8000, "it gave up quickly");
  } finally {
    silent.close();
  }
});

test("every command's --help exits 0 with examples and the exit codes", async () => {
  for (const command of COMMANDS) {
    const help = await runCli([command, "--help"]);
    assert.equal(help.code, 0, command);
    assert.match(help.stdout, /Examples:\n {2}bftp /, command);
    assert.match(help.stdout, /Exit codes:/, command);
    assert.match(help.stdout, /3 {2}could not connect/, command);
    assert.match(help.stdout, /--json/, command);
  }
  const top = await runCli(["--help"]);
  assert.equal(top.code, 0);
  for (const command of COMMANDS) assert.match(top.stdout, new RegExp(`\\n  ${command} `));
});
