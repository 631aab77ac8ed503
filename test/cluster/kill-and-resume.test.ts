// Issue 15, acceptance: three `bftp serve s3://...` nodes behind HAProxy (TCP mode) over the
// real S3 gateway. 20 uploads; in each, the node receiving it is killed (SIGKILL) at a random
// point; the client connects again through HAProxy, which sends it to another node, continues
// the upload from the partial kept in the store (RESUME checks the bytes kept against its own),
// and the object's SHA-256 matches the file's. Meanwhile the bucket is listed over and over:
// no object ever appears with a size other than its file's (nothing partial is ever visible).
import assert from "node:assert/strict";
import { createHash, randomBytes, randomInt } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { isBftpError } from "../../src/errors.js";
import {
  recordedParts,
  servingNode,
  watchListings,
  connectionsOf,
  killNode,
  startCluster,
  type Cluster,
  type ClusterNode,
} from "../helpers/cluster.js";

const UPLOADS = 20;
const MiB = 1024 * 1024;
/** The nodes' part size (--s3-part-size 5m in test/helpers/cluster.ts). */
const PART = 5 * MiB;

let cluster: Cluster;
let work: string;

before(async () => {
  cluster = await startCluster(3);
  work = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cluster-files-"));
});
after(async () => {
  await cluster.stop();
  await fs.rm(work, { recursive: true, force: true });
});

const sha256 = (data: Buffer): string => createHash("sha256").update(data).digest("hex");

function connect(): Promise<BftpClient> {
  return BftpClient.connect({ host: "127.0.0.1", port: cluster.port });
}

test("clients are spread over the three nodes", async () => {
  const before = cluster.nodes.map((n) => connectionsOf(n));
  for (let i = 0; i < 9; i++) {
    const client = await connect();
    await client.list("/");
    await client.close();
  }
  // HAProxy's health checks connect too; each node got at least two of the nine clients.
  const got = cluster.nodes.map((n, i) => connectionsOf(n) - (before[i] ?? 0));
  for (const [i, n] of got.entries()) assert.ok(n >= 2, `node${i + 1} got ${n} connections`);
});

test(`${UPLOADS} uploads, each cut by killing its node, resume through another node`, async (t) => {
  const expected = new Map<string, number>();
  const files: { name: string; local: string; data: Buffer }[] = [];
  for (let i = 0; i < UPLOADS; i++) {
    const data = randomBytes(randomInt(24 * MiB, 40 * MiB));
    const name = `upload-${i}.bin`;
    const local = path.join(work, name);
    await fs.writeFile(local, data);
    files.push({ name, local, data });
    expected.set(name, data.length);
  }
  const watch = watchListings(cluster, expected);
  const resumed: { parts: number; offset: number }[] = [];
  try {
    for (const [i, { name, local, data }] of files.entries()) {
      // Even uploads: cut after a random number of bytes sent (often before any part is
      // stored: then the upload starts again from 0). Odd ones: cut once the store records
      // a random number of whole parts, which the resumed upload must not send again.
      const parts = i % 2 === 1 ? randomInt(1, Math.floor(data.length / PART)) : 0;
      const cut = randomInt(MiB, data.length - MiB);
      const progress = { sent: 0, done: false };
      let killed: ClusterNode | undefined;
      // An upload that wins the race (all stored before the cut) still has its node killed,
      // its connection open: then the object is whole, which the checks below prove.
      const killer = (async () => {
        while (
          !progress.done &&
          !(parts === 0 ? progress.sent >= cut : (await recordedParts(cluster)) >= parts)
        ) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        killed = await servingNode(cluster.nodes);
        if (killed !== undefined) await killNode(killed);
      })();
      const first = await connect();
      const failure = await first
        .upload(local, `/${name}`, {
          resumable: true,
          onProgress: (p) => {
            progress.sent = p.bytes;
          },
        })
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      progress.done = true;
      await killer;
      await first.close().catch(() => undefined);
      assert.ok(killed !== undefined, `${name}: the node serving the upload was killed`);
      if (failure !== undefined)
        assert.ok(
          isBftpError(failure),
          `${name}: ${failure instanceof Error ? failure.message : "not an Error"}`,
        );
      // Resumed through HAProxy while the killed node is still down: another node serves it.
      const second = await connect();
      try {
        if (failure !== undefined) {
          const result = await second.upload(local, `/${name}`, { resume: true });
          resumed.push({ parts, offset: result.offset });
          assert.ok(
            result.offset >= parts * PART,
            `${name}: resumed at ${result.offset} with ${parts} parts recorded`,
          );
        }
        assert.equal(
          await second.hash(`/${name}`),
          sha256(data),
          `${name}: the stored object's SHA-256`,
        );
        assert.equal((await second.stat(`/${name}`)).size, data.length);
        await second.delete(`/${name}`);
      } finally {
        await second.close();
      }
      await cluster.restart(killed);
    }
  } finally {
    const wrong = await watch.stop();
    assert.deepEqual(wrong, [], "no object was ever listed with a size other than its file's");
    assert.ok(watch.rounds() > UPLOADS, `the bucket was listed ${watch.rounds()} times`);
  }
  // The uploads cut after parts were recorded (those that lost the race to the kill) went
  // on from the bytes kept, through another node.
  const fromKept = resumed.filter((r) => r.parts > 0 && r.offset > 0).length;
  t.diagnostic(`resumed (parts recorded at the kill, offset): ${JSON.stringify(resumed)}`);
  assert.ok(fromKept >= 5, `resumed from kept parts: ${JSON.stringify(resumed)}`);
});
