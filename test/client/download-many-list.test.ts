// downloadMany over GETTREE's list form (PROTOCOL.md §8.13, issue 12 item 2): one stream for
// the whole batch, each file to its own target; folders as whole subtrees; missing and
// hostile paths fail alone; a re-run with `resume` fetches only what changed; `perFile`
// and the list form give the same files.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { downloadMany, type BatchItem } from "../../src/client/tree.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";

let srv: TestServer;

before(async () => {
  srv = await startServer();
  const { root } = srv;
  await fs.mkdir(path.join(root, "many/sub/deeper"), { recursive: true });
  for (let i = 0; i < 200; i++) {
    await fs.writeFile(path.join(root, `many/f${i}.txt`), `file ${i}\n`.repeat(i));
  }
  await fs.writeFile(path.join(root, "many/big.bin"), randomBytes(3 * 1024 * 1024 + 7));
  await fs.writeFile(path.join(root, "many/sub/b.txt"), "bee\n");
  await fs.writeFile(path.join(root, "many/sub/deeper/c.txt"), "sea\n");
  await fs.writeFile(path.join(srv.outside, "secret.txt"), "outside the root\n");
  await fs.symlink(path.join(srv.outside, "secret.txt"), path.join(root, "many/link.txt"));
});

after(async () => {
  await srv.stop();
});

async function connect(): Promise<BftpClient> {
  return BftpClient.connect({ host: "127.0.0.1", port: srv.port });
}

async function scratch(): Promise<string> {
  return fs.mkdtemp(path.join(srv.outside, "..", "list-"));
}

function codes(failed: readonly { path: string; error: { code: string } }[]): string[] {
  return failed.map((f) => `${f.path} ${f.error.code}`).sort();
}

test("the server announces the list form", async () => {
  const client = await connect();
  try {
    assert.ok((client.server["capabilities"] as string[]).includes("tree-list"));
  } finally {
    await client.close();
  }
});

test("a batch arrives in one stream, each file to its own target, identical", async () => {
  const local = await scratch();
  const items: BatchItem[] = [];
  for (let i = 0; i < 200; i++)
    items.push({ remote: `/many/f${i}.txt`, local: path.join(local, `copy-${i}`) });
  items.push({ remote: "many/big.bin", local: path.join(local, "big") });
  const client = await connect();
  try {
    const seen: string[] = [];
    const result = await downloadMany(client, items, { onFile: (r) => seen.push(r.path) });
    assert.deepEqual(result.failed, []);
    assert.equal(result.files.length, items.length);
    assert.equal(seen.length, items.length);
    for (const item of items) {
      const remote = path.join(srv.root, item.remote);
      assert.deepEqual(await fs.readFile(item.local), await fs.readFile(remote));
    }
    assert.deepEqual(
      (await fs.readdir(local)).filter((n) => !n.startsWith("copy-") && n !== "big"),
      [],
    );
  } finally {
    await client.close();
  }
});

test("a folder in the list is its whole subtree below its target", async () => {
  const local = await scratch();
  const client = await connect();
  try {
    const result = await downloadMany(client, [
      { remote: "/many/sub", local: path.join(local, "s") },
      { remote: "/many/f3.txt", local: path.join(local, "three") },
    ]);
    assert.deepEqual(result.failed, []);
    assert.equal(await fs.readFile(path.join(local, "s/b.txt"), "utf8"), "bee\n");
    assert.equal(await fs.readFile(path.join(local, "s/deeper/c.txt"), "utf8"), "sea\n");
    assert.equal(await fs.readFile(path.join(local, "three"), "utf8"), "file 3\n".repeat(3));
  } finally {
    await client.close();
  }
});

test("missing and hostile paths fail alone, in order, and the server stays up", async () => {
  const local = await scratch();
  const hostile = [
    "/../secret.txt",
    "../../etc/passwd",
    "/many/a\u0001b",
    "/many/.bftp-x",
    "/many/link.txt",
  ];
  const items: BatchItem[] = [
    { remote: "/many/f1.txt", local: path.join(local, "one") },
    { remote: "/many/nope.txt", local: path.join(local, "nope") },
    { remote: "/nowhere/x.txt", local: path.join(local, "x") },
    ...hostile.map((remote, i) => ({ remote, local: path.join(local, `h${i}`) })),
    { remote: "/many/f2.txt", local: path.join(local, "two") },
    { remote: "/many/f2.txt", local: path.join(local, "two-again") },
  ];
  const client = await connect();
  try {
    const result = await downloadMany(client, items);
    assert.deepEqual(result.files.map((f) => f.path).sort(), [
      "/many/f1.txt",
      "/many/f2.txt",
      "/many/f2.txt",
    ]);
    assert.deepEqual(codes(result.failed), [
      "../../etc/passwd BFTP_ERR_PATH_REFUSED",
      "/../secret.txt BFTP_ERR_PATH_REFUSED",
      "/many/.bftp-x BFTP_ERR_PATH_REFUSED",
      "/many/a\u0001b BFTP_ERR_PATH_REFUSED",
      "/many/nope.txt BFTP_ERR_NOT_FOUND",
      "/nowhere/x.txt BFTP_ERR_NOT_FOUND",
    ]);
    assert.equal(result.skipped, 1); // the link: never followed
    assert.deepEqual((await fs.readdir(local)).sort(), ["one", "two", "two-again"]);
    assert.equal((await client.stat("/many/f1.txt")).type, "file"); // still answering
  } finally {
    await client.close();
  }
});

test("a re-run with resume fetches only the files that differ", async () => {
  const local = await scratch();
  const items = [0, 1, 2, 3].map((i) => ({
    remote: `/many/f${i + 10}.txt`,
    local: path.join(local, `r${i}`),
  }));
  const client = await connect();
  try {
    assert.deepEqual((await downloadMany(client, items)).failed, []);
    await fs.rm(path.join(local, "r1"));
    await fs.writeFile(path.join(local, "r2"), "not the same\n");
    const again = await downloadMany(client, items, { resume: true, overwrite: false });
    const moved = new Map(again.files.map((f) => [f.path, f.bytes]));
    assert.equal(moved.get("/many/f10.txt"), 0);
    assert.equal(moved.get("/many/f13.txt"), 0);
    assert.ok((moved.get("/many/f11.txt") ?? 0) > 0);
    // r2 differs: sent again, and refused locally without overwrite, as a per-file GET is
    assert.deepEqual(codes(again.failed).length, 1);
    assert.deepEqual(
      await fs.readFile(path.join(local, "r1")),
      await fs.readFile(path.join(srv.root, "many/f11.txt")),
    );
  } finally {
    await client.close();
  }
});

test("perFile and the list form give the same files and the same failures", async () => {
  const items = (dir: string): BatchItem[] => [
    { remote: "/many/f5.txt", local: path.join(dir, "a") },
    { remote: "/many/missing", local: path.join(dir, "b") },
    { remote: "/many/big.bin", local: path.join(dir, "c") },
  ];
  const one = await scratch();
  const two = await scratch();
  const client = await connect();
  try {
    const listed = await downloadMany(client, items(one));
    const perFile = await downloadMany(client, items(two), { perFile: true });
    assert.deepEqual(codes(listed.failed), codes(perFile.failed));
    assert.deepEqual(
      listed.files.map((f) => [f.path, f.size]),
      perFile.files.map((f) => [f.path, f.size]),
    );
    for (const name of ["a", "c"])
      assert.deepEqual(
        await fs.readFile(path.join(one, name)),
        await fs.readFile(path.join(two, name)),
      );
  } finally {
    await client.close();
  }
});
