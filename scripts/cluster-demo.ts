// `npm run cluster:demo` (issue 15, item 3): three `bftp serve s3://...` nodes, HAProxy in TCP
// mode in front of them, and a real S3 store (Ceph's RADOS Gateway, scripts/s3-gateway.sh),
// all on 127.0.0.1. It shows clients spread over the nodes, a node killed in the middle of an
// upload, the upload resumed through another node and checked by SHA-256, and the bucket
// listed all along without a partial object. Everything it starts is stopped at the end.
// The same scenario, 20 times over, is test/cluster/kill-and-resume.test.ts.
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { BftpClient } from "../src/client/client.js";
import {
  connectionsOf,
  killNode,
  recordedParts,
  servingNode,
  startCluster,
  watchListings,
} from "../test/helpers/cluster.js";
import { stopS3Gateway } from "../test/helpers/s3-gateway.js";

const MiB = 1024 * 1024;
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const started = Date.now();
say("starting the S3 gateway (Ceph RGW), three bftp nodes and HAProxy on 127.0.0.1 ...");
const cluster = await startCluster(3);
const work = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cluster-demo-"));
try {
  say(
    `  S3 gateway  ${cluster.gateway.endpoint}, bucket ${cluster.bucket}, prefix ${cluster.prefix}`,
  );
  for (const node of cluster.nodes)
    say(`  ${node.name}       bftp serve s3://... on 127.0.0.1:${node.port}`);
  say(
    `  HAProxy     127.0.0.1:${cluster.port} (TCP mode, round robin)  ready in ${Date.now() - started} ms`,
  );
  const connect = (): Promise<BftpClient> =>
    BftpClient.connect({ host: "127.0.0.1", port: cluster.port });

  say("\n1. Nine clients connect through HAProxy and list /:");
  const before = cluster.nodes.map((n) => connectionsOf(n));
  for (let i = 0; i < 9; i++) {
    const client = await connect();
    await client.list("/");
    await client.close();
  }
  for (const [i, node] of cluster.nodes.entries()) {
    say(
      `  ${node.name} served ${connectionsOf(node) - (before[i] ?? 0)} (HAProxy's health checks included)`,
    );
  }

  const data = randomBytes(64 * MiB);
  const sha = createHash("sha256").update(data).digest("hex");
  const local = path.join(work, "big.bin");
  await fs.writeFile(local, data);
  const watch = watchListings(cluster, new Map([["big.bin", data.length]]));

  say("\n2. A 64 MiB upload through HAProxy; its node is killed once 3 parts are stored:");
  const first = await connect();
  const upload = first.upload(local, "/big.bin", { resumable: true }).then(
    () => "completed",
    (err: unknown) => (err instanceof Error ? err.message : "failed"),
  );
  while ((await recordedParts(cluster)) < 3) await new Promise((r) => setTimeout(r, 10));
  const victim = await servingNode(cluster.nodes);
  if (victim === undefined) throw new Error("no node holds the upload's connection");
  await killNode(victim);
  say(`  killed ${victim.name} (SIGKILL); the client saw: ${await upload}`);
  await first.close().catch(() => undefined);

  say("\n3. The client connects again (HAProxy picks a live node) and continues:");
  const second = await connect();
  const result = await second.upload(local, "/big.bin", { resume: true });
  const served = await servingNode(cluster.nodes);
  say(
    `  resumed at ${result.offset / MiB} MiB through ${served?.name ?? "?"}, ${result.bytes / MiB} MiB sent`,
  );
  const remote = await second.hash("/big.bin");
  await second.close();
  say(`  SHA-256 on the server ${remote}`);
  say(`  SHA-256 of the file    ${sha}  ${remote === sha ? "(match)" : "(MISMATCH)"}`);
  const wrong = await watch.stop();
  say(
    `\n4. The bucket was listed ${watch.rounds()} times meanwhile: ${wrong.length === 0 ? "no partial object was ever visible" : `PARTIAL OBJECTS SEEN: ${wrong.join(", ")}`}`,
  );
  await cluster.restart(victim);
  say(`   ${victim.name} restarted on its port.`);
  if (remote !== sha || wrong.length > 0) process.exitCode = 1;
} finally {
  await cluster.stop();
  await stopS3Gateway();
  await fs.rm(work, { recursive: true, force: true });
  say("\nstopped everything this demo started.");
}
