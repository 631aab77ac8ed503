import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { serveTempFolder, type ServedFolder } from "../helpers/serve-temp.js";

// Issue 13, item 5: `bftp remote add|list|remove` edits config.toml in --config-dir, keeping
// what the file already says (comments too), and a remote it adds works as NAME:PATH.

let base: string;
let config: string;
let served: ServedFolder;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-remote-cmd-")));
  config = path.join(base, "config");
  served = await serveTempFolder("bftp-cli-remote-cmd-served");
  await fs.mkdir(path.join(served.served, "docs"));
  await fs.writeFile(path.join(served.served, "docs", "a.txt"), "a\n");
});

after(async () => {
  await served.stop();
  await fs.rm(base, { recursive: true, force: true });
});

const remote = (...args: string[]) => runCli(["remote", ...args, "--config-dir", config]);
const file = () => path.join(config, "config.toml");

test("add writes a [remotes.NAME] table that NAME:PATH then reaches", async () => {
  const added = await remote("add", "--json", "docs", `${served.url}/docs`);
  assert.equal(added.code, 0, added.stderr);
  assert.deepEqual(jsonOf(added)["remote"], {
    host: "127.0.0.1",
    port: served.serve.port,
    path: "/docs",
  });
  assert.equal((await fs.stat(file())).mode & 0o777, 0o600);
  const listed = await runCli(["ls", "--json", "--config-dir", config, "docs:"]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(
    (jsonOf(listed)["entries"] as { name: string }[]).map((e) => e.name),
    ["a.txt"],
  );
});

test("list prints each remote as its location; --json gives the tables", async () => {
  const text = await remote("list");
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^docs {2}bftp:\/\/127\.0\.0\.1:\d+\/docs\n$/);
  const json = await remote("list", "--json");
  assert.deepEqual(Object.keys(jsonOf(json)["remotes"] as object), ["docs"]);
});

test("add refuses a name in use, a bad name and a location that is not a URL", async () => {
  const again = await remote("add", "--json", "docs", "bftp://elsewhere/");
  assert.equal(again.code, 1);
  assert.equal((jsonOf(again)["error"] as { code: string }).code, "BFTP_ERR_EXISTS");
  for (const args of [
    ["add", "a/b", "bftp://h/"],
    ["add", "-x", "bftp://h/"],
    ["add", "ok", "h:/x"],
  ]) {
    const result = await remote(...args);
    assert.equal(result.code, 2, args.join(" "));
  }
});

test("add and remove keep comments and other tables; remove of an unknown name fails", async () => {
  const before = await fs.readFile(file(), "utf8");
  await fs.writeFile(file(), `# my servers\n${before}`);
  const added = await remote("add", "lab.one", "bftps://ann@10.0.0.5:7000/");
  assert.equal(added.code, 0, added.stderr);
  const removed = await remote("remove", "docs");
  assert.equal(removed.code, 0, removed.stderr);
  const text = await fs.readFile(file(), "utf8");
  assert.match(text, /^# my servers\n/);
  assert.doesNotMatch(text, /remotes\.docs/);
  const listed = jsonOf(await remote("list", "--json"))["remotes"];
  assert.deepEqual(listed, {
    "lab.one": { host: "10.0.0.5", port: 7000, tls: true, user: "ann" },
  });
  const unknown = await remote("rm", "--json", "docs");
  assert.equal(unknown.code, 2);
  assert.equal((jsonOf(unknown)["error"] as { code: string }).code, "BFTP_ERR_UNKNOWN_REMOTE");
});

test("a table written in a form remove does not edit is left alone", async () => {
  const inline = `remotes = { x = { host = "h" } }\n`;
  await fs.writeFile(file(), inline);
  const result = await remote("remove", "--json", "x");
  assert.equal(result.code, 1);
  assert.equal((jsonOf(result)["error"] as { code: string }).code, "BFTP_ERR_LOCAL_FILE");
  assert.equal(await fs.readFile(file(), "utf8"), inline);
});
