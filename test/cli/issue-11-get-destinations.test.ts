// Issue 11, item 4: as root, `bftp get --overwrite URL /dev/null` replaced the /dev/null
// device with a regular file (the download's partial was renamed over it), and did the same
// to the /dev/stdout link. A destination that is not a regular file is now written into (a
// character device, a FIFO, a link to one), as cp and curl -o do, or refused; a link to a
// regular file is written through (the link stays, its target gets the content), as cp does.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { localDestination } from "../../src/client/local-destination.js";
import { runCli } from "../helpers/run-cli.js";
import { serveTempFolder, type ServedFolder } from "../helpers/serve-temp.js";

const CONTENT = "the bytes of the remote file\n".repeat(1000);

let served: ServedFolder;
let work: string;
let url: string;

before(async () => {
  served = await serveTempFolder("bftp-issue11-dest");
  await fs.writeFile(path.join(served.served, "data.txt"), CONTENT);
  work = path.join(served.base, "work");
  await fs.mkdir(work);
  url = `${served.url}/data.txt`;
});

after(async () => {
  await served.stop();
});

/** Makes a FIFO with mkfifo(1) and starts `cat` reading it; `read` is what cat read. */
async function fifoWithReader(fifo: string): Promise<{ read: Promise<string> }> {
  await promisify(execFile)("mkfifo", [fifo]);
  const cat = spawn("cat", [fifo], { stdio: ["ignore", "pipe", "inherit"] });
  const out: Buffer[] = [];
  cat.stdout.on("data", (chunk: Buffer) => out.push(chunk));
  // A bounded wait: if nothing ever opens the FIFO for writing, this cat (only) is killed.
  const deadline = setTimeout(() => cat.kill("SIGKILL"), 20_000);
  deadline.unref();
  const read = once(cat, "close").then(() => {
    clearTimeout(deadline);
    return Buffer.concat(out).toString("utf8");
  });
  return { read };
}

test("/dev/null is written into, with or without --overwrite, and stays a character device", async () => {
  // Checked through the library first, so a regression cannot replace the machine's /dev/null.
  assert.equal((await localDestination("/dev/null")).kind, "stream");
  for (const flags of [["--overwrite"], []]) {
    const result = await runCli(["get", ...flags, url, "/dev/null"], { cwd: work });
    assert.equal(result.code, 0, result.stderr);
    assert.ok((await fs.lstat("/dev/null")).isCharacterDevice());
  }
});

test("a FIFO, and a link to one, are written into and stay what they were", async () => {
  const fifo = path.join(work, "pipe");
  const { read } = await fifoWithReader(fifo);
  const direct = await runCli(["get", "--overwrite", url, fifo], { cwd: work });
  assert.equal(direct.code, 0, direct.stderr);
  assert.equal(await read, CONTENT);
  assert.ok((await fs.lstat(fifo)).isFIFO());
  const fifo2 = path.join(work, "pipe2");
  const link = path.join(work, "to-pipe");
  const { read: readAgain } = await fifoWithReader(fifo2);
  await fs.symlink(fifo2, link);
  const through = await runCli(["get", "--overwrite", url, link], { cwd: work });
  assert.equal(through.code, 0, through.stderr);
  assert.equal(await readAgain, CONTENT);
  assert.ok((await fs.lstat(link)).isSymbolicLink());
  assert.ok((await fs.lstat(fifo2)).isFIFO());
  assert.deepEqual(
    (await fs.readdir(work)).filter((n) => n.includes("bftp-part")),
    [],
  );
});

test("a link to a regular file is written through with --overwrite: the link stays, its target changes", async () => {
  const dir = path.join(work, "links");
  await fs.mkdir(path.join(dir, "elsewhere"), { recursive: true });
  const target = path.join(dir, "elsewhere", "real.txt");
  const link = path.join(dir, "link.txt");
  await fs.writeFile(target, "old");
  await fs.symlink(path.join("elsewhere", "real.txt"), link);
  const refused = await runCli(["get", url, link], { cwd: work });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /BFTP_ERR_LOCAL_FILE/);
  assert.equal(await fs.readFile(target, "utf8"), "old");
  const result = await runCli(["get", "--overwrite", url, link], { cwd: work });
  assert.equal(result.code, 0, result.stderr);
  assert.ok((await fs.lstat(link)).isSymbolicLink());
  assert.equal(await fs.readlink(link), path.join("elsewhere", "real.txt"));
  assert.equal(await fs.readFile(target, "utf8"), CONTENT);
  assert.deepEqual((await fs.readdir(dir)).sort(), ["elsewhere", "link.txt"]);
  assert.deepEqual(await fs.readdir(path.join(dir, "elsewhere")), ["real.txt"]);
});

test("a dangling link is refused and left alone, as cp refuses to write through one", async () => {
  const link = path.join(work, "dangling");
  await fs.symlink(path.join(work, "nothing-here"), link);
  const result = await runCli(["get", "--overwrite", url, link], { cwd: work });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /BFTP_ERR_LOCAL_FILE/);
  assert.ok((await fs.lstat(link)).isSymbolicLink());
  await assert.rejects(fs.access(path.join(work, "nothing-here")));
});
