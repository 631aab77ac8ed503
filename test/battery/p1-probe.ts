/**
 * What the path checks (P1, P2) share: a server with a canary outside its root, requests sent
 * pipelined on one connection, and the canary's watch. Built on the helpers of the hostile
 * path tests (test/server/hostile-paths.test.ts), but returning findings instead of asserting,
 * so a battery check can count them.
 */
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { snapshotTree } from "../fixtures/tree-snapshot.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, type Body } from "../helpers/protocol-connection.js";
import { probeAtime, readWithoutAtime } from "../helpers/canary.js";

/** One request of a batch; PUT carries its data phase. */
export interface Item {
  readonly request: Record<string, unknown>;
  readonly data?: Buffer;
  /** The input this request tests, when it tests one. */
  readonly input?: string;
}

/** A reply as it came off the wire, with its data phase when it had one. */
export interface Outcome {
  readonly item: Item;
  readonly reply: Body;
  readonly wire: Buffer;
}

/** A server, and a canary beside its root whose every byte, time and inode is watched. */
export interface CanaryWorld {
  readonly srv: TestServer;
  /** A string found only in files outside the root: on the wire, it means one was read. */
  readonly marker: string;
  readonly canarySha256: string;
  /** Undefined when nothing outside the root changed and the canary was not read. */
  readonly untouched: () => Promise<string | undefined>;
  /** Whether the file system moves atime on reads (false under noatime: reads then unseen). */
  readonly atimeWatched: boolean;
  readonly stop: () => Promise<void>;
}

/**
 * Starts a server and plants `outside/canary.txt` (atime older than mtime, so under relatime
 * any read moves it) and `outside/dir/secret.txt`, both holding the marker.
 */
export async function startCanaryWorld(): Promise<CanaryWorld> {
  const srv = await startServer();
  const marker = `bftp-canary-${randomUUID()}`;
  const content = `${marker}\nthis file lies outside the served root\n`;
  const canary = path.join(srv.outside, "canary.txt");
  await fs.writeFile(canary, content);
  await fs.mkdir(path.join(srv.outside, "dir"));
  await fs.writeFile(path.join(srv.outside, "dir", "secret.txt"), marker);
  await fs.utimes(canary, new Date("2020-01-01"), new Date());
  const atimeWatched = await probeAtime(srv.outside);
  const stats = await fs.stat(canary);
  const base = path.dirname(srv.root);
  const outsideBefore = await snapshotTree(base, srv.root);
  const untouched = async (): Promise<string | undefined> => {
    const now = await fs.stat(canary).catch(() => undefined);
    if (now === undefined) return "the canary is gone";
    if (now.ino !== stats.ino) return "the canary was replaced";
    if (now.mtimeMs !== stats.mtimeMs) return "the canary was written";
    if (atimeWatched && now.atimeMs !== stats.atimeMs) return "the canary was read";
    if ((await readWithoutAtime(canary)) !== content) return "the canary was rewritten";
    const outsideNow = await snapshotTree(base, srv.root);
    if (JSON.stringify(outsideNow) !== JSON.stringify(outsideBefore))
      return `outside the root changed: ${JSON.stringify(outsideNow.filter((e) => !outsideBefore.includes(e)))}`;
    return undefined;
  };
  return {
    srv,
    marker,
    canarySha256: createHash("sha256").update(content).digest("hex"),
    untouched,
    atimeWatched,
    stop: () => srv.stop(),
  };
}

/** Sends every item pipelined while reading the replies, so neither side can block. */
export async function runBatch(port: number, items: readonly Item[]): Promise<Outcome[]> {
  const conn = await ProtocolConnection.open(port);
  try {
    const write = (async () => {
      for (const item of items) {
        await conn.send(item.request);
        if (item.data !== undefined) await conn.sendData(item.data);
      }
    })();
    const outcomes: Outcome[] = [];
    for (const item of items) {
      const reply = await conn.reply();
      const pieces: Uint8Array[] = [Buffer.from(JSON.stringify(reply))];
      const op = item.request["op"];
      if (reply.ok && (op === "GET" || op === "LIST")) {
        const { data, trailer } = await conn.readData();
        pieces.push(data, Buffer.from(JSON.stringify(trailer)));
      }
      outcomes.push({ item, reply, wire: Buffer.concat(pieces) });
      if (reply["close"] === true) break; // fatal: the rest cannot be read
    }
    await write;
    return outcomes;
  } finally {
    conn.close();
  }
}

/** The content a PUT of input number `i` sends. */
export function putContent(i: number): Buffer {
  return Buffer.from(`uploaded by hostile input ${i}\n`);
}

/**
 * Every command that takes a path, as the requests one input becomes: RENAME twice (the
 * input as `from`, then as `to`), PUT with and without overwrite, MKDIR with and without
 * parents. `i` numbers the input, for the RENAME sources the root holds (`/rename-source-i`).
 */
export const PATH_COMMANDS: readonly {
  readonly name: string;
  readonly build: (input: string, i: number) => Item;
}[] = [
  ...["CD", "STAT", "LIST", "GET", "HASH", "RESUME", "DELETE", "RMDIR", "MKDIR"].map((op) => ({
    name: op,
    build: (input: string): Item => ({ request: { op, path: input }, input }),
  })),
  {
    name: "MKDIR parents",
    build: (input) => ({ request: { op: "MKDIR", path: input, parents: true }, input }),
  },
  ...[false, true].map((overwrite) => ({
    name: overwrite ? "PUT overwrite" : "PUT",
    build: (input: string, i: number): Item => ({
      request: { op: "PUT", path: input, overwrite },
      data: putContent(i),
      input,
    }),
  })),
  {
    name: "RENAME from",
    build: (input, i) => ({ request: { op: "RENAME", from: input, to: `/renamed-${i}` }, input }),
  },
  {
    name: "RENAME to",
    build: (input, i) => ({
      request: { op: "RENAME", from: `/rename-source-${i}`, to: input, overwrite: true },
      input,
    }),
  },
];

/** Empties the root, keeping nothing: each run plants what it needs. */
export async function emptyRoot(root: string): Promise<void> {
  for (const name of await fs.readdir(root)) {
    await fs.rm(path.join(root, name), { recursive: true, force: true });
  }
}

/** Whether `real` (absolute) is `root` or lies below it, by components. */
export function isInside(root: string, real: string): boolean {
  const rel = path.relative(root, real);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** Where a virtual path the server reported lies on disk (its directory's links followed). */
export async function realOf(root: string, virtual: string): Promise<string> {
  const full = path.join(root, virtual);
  const dir = await fs.realpath(path.dirname(full)).catch(() => path.dirname(full));
  return path.join(dir, path.basename(full));
}
