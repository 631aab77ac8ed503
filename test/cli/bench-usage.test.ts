import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { readdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { waitUntil } from "../helpers/wait-until.js";
import { closedPort, jsonOf, runCli, startCli } from "../helpers/run-cli.js";
import { serveTempFolder, type ServedFolder } from "../helpers/serve-temp.js";

// Issue 5, item 1: `bftp bench` validates every flag (exit 2), and Ctrl-C cleans up.

let folder: ServedFolder;

before(async () => {
  folder = await serveTempFolder("bftp-cli-bench-usage");
});

after(() => folder.stop());

test("every bad flag is a usage error, exit 2, and nothing is uploaded", async () => {
  const bad: string[][] = [
    ["--sizes", "4XiB"],
    ["--sizes", "1,,2"],
    ["--sizes", "17GiB"],
    ["--sizes", "1.5"],
    ["--iterations", "0"],
    ["--iterations", "x"],
    ["--iterations", "10001"],
    ["--concurrency", "0"],
    ["--concurrency", "65"],
    ["--seed", "-1"],
    ["--seed", "4294967296"],
    ["--server-pid", "0"],
    ["--server-pid", "2147483647"],
    ["--report", path.join(folder.base, "no-such-folder", "r.html")],
    ["--timeout", "0"],
    ["--no-such-flag"],
  ];
  for (const args of bad) {
    const result = await runCli(["bench", ...args, folder.url]);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.notEqual(result.stderr, "", args.join(" "));
  }
  for (const where of ["http://127.0.0.1/", "127.0.0.1"]) {
    assert.equal((await runCli(["bench", where])).code, 2, where);
  }
  assert.equal((await runCli(["bench"])).code, 2, "the server is required");
  const json = await runCli([
    "bench",
    "--json",
    "--report",
    path.join(folder.base, "nope", "r.html"),
    folder.url,
  ]);
  assert.equal(json.code, 2);
  assert.equal((jsonOf(json)["error"] as { code: string }).code, "BFTP_ERR_INVALID_ARGUMENT");
  assert.deepEqual(await fs.readdir(folder.served), []);
});

test("--help teaches: examples, what is measured, the exit codes", async () => {
  const result = await runCli(["bench", "--help"]);
  assert.equal(result.code, 0);
  for (const text of [
    "Examples:",
    "--sizes",
    "--iterations",
    "--concurrency",
    "--report",
    "--server-pid",
    "--keep",
    "--seed",
    "BFTP_ERR_VERIFY_FAILED",
    "discarded",
    "Exit codes:",
  ]) {
    assert.ok(result.stdout.includes(text), text);
  }
});

test("nothing listening is exit 3", async () => {
  const result = await runCli(["bench", "--sizes", "1", `bftp://127.0.0.1:${await closedPort()}`]);
  assert.equal(result.code, 3, result.stderr);
});

test("Ctrl-C stops the run, removes the files and exits 130", async () => {
  const running = startCli(["bench", "--sizes", "1MiB", "--iterations", "10000", folder.url], {
    timeout: 30_000,
  });
  const uploaded = (): boolean =>
    readdirSync(folder.served).some((d) => {
      try {
        return readdirSync(path.join(folder.served, d)).includes(String(1024 * 1024));
      } catch {
        return false;
      }
    });
  await waitUntil(uploaded, "the bench uploaded its file", 20_000);
  running.child.kill("SIGINT");
  const result = await running.result;
  assert.equal(result.code, 130, result.stderr);
  assert.match(result.stderr, /BFTP_ERR_ABORTED/);
  assert.deepEqual(await fs.readdir(folder.served), [], "the folder and its file are gone");
});
