import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import {
  emptyAndDeleteBucket,
  freshBucket,
  useGateway,
  s3Gateway,
  type S3Gateway,
} from "./s3-gateway.js";
import { closedPort } from "./run-cli.js";
import { spawnServe, type ServeProcess } from "./spawn-serve.js";

/**
 * Several `bftp serve s3://...` nodes behind HAProxy in TCP mode, all on 127.0.0.1, over the
 * real S3 gateway (issue 15, item 3): what `npm run cluster:demo` shows and the
 * kill-and-resume test checks. Nodes hold nothing of their own: files and partial uploads live
 * in the bucket, so any node can serve any request, and a killed node's upload resumes
 * through another.
 */
export interface Cluster {
  readonly gateway: S3Gateway;
  readonly s3: S3Client;
  readonly bucket: string;
  /** The served prefix in the bucket ("files/"). */
  readonly prefix: string;
  /** HAProxy's port: where clients connect. */
  readonly port: number;
  readonly nodes: ClusterNode[];
  /** Starts a killed node again, on its port. */
  restart(node: ClusterNode): Promise<void>;
  /** Stops HAProxy and every node (by PID), and deletes the bucket. */
  stop(): Promise<void>;
}

/** One `bftp serve` node on a fixed port (so HAProxy finds it again after a restart). */
export interface ClusterNode {
  readonly name: string;
  readonly port: number;
  /** The running process, or undefined while killed. */
  process: ServeProcess | undefined;
  /** Every log line of every run of this node. */
  readonly log: string[];
}

/** Starts `count` nodes and HAProxy in front of them. */
export async function startCluster(count = 3): Promise<Cluster> {
  const gateway = await s3Gateway();
  const s3 = useGateway(gateway);
  const bucket = await freshBucket(s3, "cluster");
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cluster-"));
  const nodes: ClusterNode[] = [];
  let haproxy: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    if (haproxy !== undefined && haproxy.exitCode === null) {
      haproxy.kill("SIGKILL");
      await once(haproxy, "exit");
    }
    await Promise.all(nodes.map((n) => stopNode(n)));
    await emptyAndDeleteBucket(s3, bucket).catch(() => undefined);
    s3.destroy();
    await fs.rm(work, { recursive: true, force: true });
  };
  try {
    for (let i = 1; i <= count; i++) {
      const node: ClusterNode = {
        name: `node${i}`,
        port: await closedPort(),
        process: undefined,
        log: [],
      };
      nodes.push(node);
    }
    await Promise.all(nodes.map((n) => startNode(n, bucket, gateway, work)));
    const port = await closedPort();
    const config = path.join(work, "haproxy.cfg");
    await fs.writeFile(config, haproxyConfig(port, nodes));
    haproxy = spawn("haproxy", ["-f", config, "-db"], { stdio: ["ignore", "ignore", "pipe"] });
    const errors: string[] = [];
    haproxy.stderr?.on("data", (chunk: Buffer) => errors.push(chunk.toString()));
    await waitForPort(port, haproxy, () => errors.join(""));
    return {
      gateway,
      s3,
      bucket,
      prefix: "files/",
      port,
      nodes,
      restart: (node) => startNode(node, bucket, gateway, work),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** HAProxy in TCP mode: round robin, a dead node found by its failed connect and skipped. */
function haproxyConfig(port: number, nodes: readonly ClusterNode[]): string {
  return [
    "global",
    "  maxconn 2000",
    "defaults",
    "  mode tcp",
    "  timeout connect 2s",
    "  timeout client 120s",
    "  timeout server 120s",
    // A connect refused by a killed node is tried again on another one (redispatch).
    "  retries 3",
    "  option redispatch",
    "frontend bftp",
    `  bind 127.0.0.1:${port}`,
    "  default_backend nodes",
    "backend nodes",
    "  balance roundrobin",
    "  default-server inter 1s fall 1 rise 1",
    ...nodes.map((n) => `  server ${n.name} 127.0.0.1:${n.port} check`),
    "",
  ].join("\n");
}

/** Starts (or restarts) a node on its port, over the cluster's bucket. */
export async function startNode(
  node: ClusterNode,
  bucket: string,
  gateway: S3Gateway,
  work: string,
): Promise<void> {
  const config = path.join(work, "config"); // shared by every node: the users file would be here
  await fs.mkdir(config, { recursive: true });
  const serve = await spawnServe(`s3://${bucket}/files`, [
    "--s3-endpoint",
    gateway.endpoint,
    "--port",
    String(node.port),
    "--s3-part-size",
    "5m",
    "--config-dir",
    config,
    "--temp-dir",
    path.join(work, node.name),
  ]);
  node.process = serve;
  const seen = serve.stderr.length;
  node.log.push(...serve.stderr.slice(0, seen));
  serve.child.stderr?.on("data", (chunk: Buffer) => {
    node.log.push(
      ...chunk
        .toString()
        .split("\n")
        .filter((l) => l !== ""),
    );
  });
}

/** Kills a node at once (SIGKILL: no goodbye, as a machine that dies). */
export async function killNode(node: ClusterNode): Promise<void> {
  const running = node.process;
  node.process = undefined;
  if (running === undefined || running.child.exitCode !== null) return;
  const exited = once(running.child, "exit");
  running.child.kill("SIGKILL");
  await exited;
}

async function stopNode(node: ClusterNode): Promise<void> {
  const running = node.process;
  node.process = undefined;
  if (running === undefined || running.child.exitCode !== null) return;
  await running.stop();
}

/**
 * The node holding a client's connection now: the one with an established TCP connection on
 * its port (/proc/net/tcp). With one client at a time, that is the node serving it (HAProxy's
 * health checks open and close at once).
 */
export async function servingNode(nodes: readonly ClusterNode[]): Promise<ClusterNode | undefined> {
  const table = await fs.readFile("/proc/net/tcp", "utf8");
  const established = new Map<number, number>();
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (local === undefined || fields[3] !== "01") continue; // 01: ESTABLISHED
    const port = parseInt(local.split(":")[1] ?? "", 16);
    established.set(port, (established.get(port) ?? 0) + 1);
  }
  let best: ClusterNode | undefined;
  let most = 0;
  for (const node of nodes) {
    const count = node.process === undefined ? 0 : (established.get(node.port) ?? 0);
    if (count > most) {
      most = count;
      best = node;
    }
  }
  return best;
}

/** Connections each node logged (its "connect" events), HAProxy's checks included. */
export function connectionsOf(node: ClusterNode): number {
  return node.log.filter((l) => l.includes('"event":"connect"')).length;
}

async function waitForPort(port: number, child: ChildProcess, why: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited: ${why()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => {
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`haproxy not listening on ${port}: ${why()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Lists the served prefix every few ms until stopped; returns what it saw wrong: an object
 * of one of the uploads listed with a size other than its file's.
 */
export function watchListings(
  cluster: Cluster,
  expected: ReadonlyMap<string, number>,
): {
  stop: () => Promise<string[]>;
  rounds: () => number;
} {
  const wrong: string[] = [];
  const state = { running: true };
  let rounds = 0;
  const loop = (async () => {
    while (state.running) {
      const page = await cluster.s3.send(
        new ListObjectsV2Command({ Bucket: cluster.bucket, Prefix: cluster.prefix }),
      );
      for (const object of page.Contents ?? []) {
        const name = (object.Key ?? "").slice(cluster.prefix.length);
        const size = expected.get(name);
        if (size !== undefined && object.Size !== size)
          wrong.push(`${name}: ${object.Size} of ${size}`);
      }
      rounds++;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    rounds: () => rounds,
    stop: async () => {
      state.running = false;
      await loop;
      return wrong;
    },
  };
}

/** The whole parts the partial uploads' records list now (one upload at a time here). */
export async function recordedParts(cluster: Cluster): Promise<number> {
  const page = await cluster.s3.send(
    new ListObjectsV2Command({
      Bucket: cluster.bucket,
      Prefix: `${cluster.prefix}.bftp-partials/`,
    }),
  );
  let most = 0;
  for (const object of page.Contents ?? []) {
    if (!(object.Key ?? "").endsWith("/manifest")) continue;
    const answer = await cluster.s3
      .send(new GetObjectCommand({ Bucket: cluster.bucket, Key: object.Key }))
      .catch(() => undefined);
    const text = (await answer?.Body?.transformToString()) ?? "{}";
    const chunks = (JSON.parse(text) as { chunks?: unknown[] }).chunks?.length ?? 0;
    most = Math.max(most, chunks);
  }
  return most;
}
