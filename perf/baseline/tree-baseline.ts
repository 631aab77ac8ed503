/**
 * The project's own straight-line baseline for many small files (issue 12, item 6): the same
 * job as `../shared/ceilings/ceiling-tree.cjs`. One connection carries one stream of records
 * `[u32 name length][name][u32 size][bytes][u32 CRC-32]`; files are read and written with
 * synchronous calls, each written under a temporary name, checked, then renamed into place.
 * A yardstick, not a design: no protocol, no listing, no resume. Unlike the shared program,
 * the receiver keeps at most one record plus one socket chunk (a record over the caps below
 * ends the connection) and takes only plain names (no separator, no `..`), so a stray peer
 * cannot make it write elsewhere.
 *
 * The command line is the shared program's, so the benches drive either one:
 *   serve DIR            prints "listening on 127.0.0.1:PORT"; streams DIR's files to each client
 *   fetch PORT OUT       receives them into OUT (created); prints "files N" on stderr
 *   sink DIR             prints "listening ..."; writes each record received into DIR, replies
 *                        "files N" when the sender ends
 *   send PORT SRCDIR     streams SRCDIR's files to a sink; prints the sink's reply
 *
 * @example
 * node dist/perf/baseline/tree-baseline.js serve /dev/shm/tree &
 * time node dist/perf/baseline/tree-baseline.js fetch PORT /dev/shm/copy
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

/** Bytes gathered before one socket write: many small records per write. */
const BATCH = 1 << 20;
const MAX_NAME = 4096;
const MAX_FILE = 64 << 20;

/** Writes every regular file of `dir` as records, in 1 MiB writes, honouring backpressure. */
function streamDir(socket: net.Socket, dir: string, done: () => void): void {
  const names = fs.readdirSync(dir);
  let i = 0;
  const pump = (): void => {
    while (i < names.length) {
      const parts: Buffer[] = [];
      let bytes = 0;
      while (i < names.length && bytes < BATCH) {
        const name = names[i++] ?? "";
        const fd = fs.openSync(path.join(dir, name), "r");
        const size = fs.fstatSync(fd).size;
        const data = Buffer.allocUnsafe(size);
        fs.readSync(fd, data, 0, size, 0);
        fs.closeSync(fd);
        const nameBytes = Buffer.from(name);
        const head = Buffer.allocUnsafe(8 + nameBytes.length);
        head.writeUInt32BE(nameBytes.length, 0);
        nameBytes.copy(head, 4);
        head.writeUInt32BE(size, 4 + nameBytes.length);
        const tail = Buffer.allocUnsafe(4);
        tail.writeUInt32BE(zlib.crc32(data), 0);
        parts.push(head, data, tail);
        bytes += head.length + size + 4;
      }
      if (!socket.write(Buffer.concat(parts, bytes))) {
        socket.once("drain", pump);
        return;
      }
    }
    done();
  };
  pump();
}

/** A name from the wire that stays inside the output folder. */
function plainName(name: string): boolean {
  return (
    name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0")
  );
}

/** Reads records from `socket` into `out`; `done(files)` at the end of the stream. */
function receiveRecords(socket: net.Socket, out: string, done: (files: number) => void): void {
  fs.mkdirSync(out, { recursive: true });
  let pending: Buffer = Buffer.alloc(0);
  let files = 0;
  const fail = (why: string): void => {
    process.stderr.write(`tree-baseline: ${why}\n`);
    socket.destroy();
  };
  socket.on("data", (chunk: Buffer) => {
    // pending holds less than one record (capped below), so this concat is bounded.
    pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    let o = 0;
    for (;;) {
      if (pending.length - o < 4) break;
      const nameLength = pending.readUInt32BE(o);
      if (nameLength > MAX_NAME) {
        fail("name too long");
        return;
      }
      if (pending.length - o < 8 + nameLength) break;
      const size = pending.readUInt32BE(o + 4 + nameLength);
      if (size > MAX_FILE) {
        fail("file too large");
        return;
      }
      const end = o + 8 + nameLength + size + 4;
      if (pending.length < end) break;
      const name = pending.toString("utf8", o + 4, o + 4 + nameLength);
      if (!plainName(name)) {
        fail("not a plain name");
        return;
      }
      const data = pending.subarray(o + 8 + nameLength, end - 4);
      if (zlib.crc32(data) !== pending.readUInt32BE(end - 4)) {
        fail(`bad CRC-32: ${name}`);
        return;
      }
      const temporary = path.join(out, `.${name}.part`);
      fs.writeFileSync(temporary, data);
      fs.renameSync(temporary, path.join(out, name));
      files++;
      o = end;
    }
    pending = pending.subarray(o);
  });
  socket.on("end", () => {
    done(files);
  });
}

function listen(server: net.Server): void {
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as net.AddressInfo;
    process.stdout.write(`listening on 127.0.0.1:${port}\n`);
  });
}

/** Stall deadline of the in-process sides: no byte moved for this long ends the transfer. */
const STALL_MS = 60_000;

function ended(socket: net.Socket, what: string): Promise<void> {
  socket.setTimeout(STALL_MS, () => socket.destroy(new Error(`${what}: stalled`)));
  return new Promise((resolve, reject) => {
    socket.once("end", resolve);
    socket.once("error", reject);
    socket.once("close", () => {
      reject(new Error(`${what}: closed before the end`));
    });
  });
}

/**
 * The receiving side of GET: connects to a `serve` on `port` and writes its records into
 * `out`; resolves with the count. Exported so `bench:compare` can time it in its own process.
 */
export async function fetchTree(port: number, out: string): Promise<number> {
  const socket = net.connect({ port, host: "127.0.0.1", noDelay: true });
  let files = 0;
  receiveRecords(socket, out, (n) => {
    files = n;
  });
  await ended(socket, "fetch");
  socket.destroy();
  return files;
}

/** The sending side of PUT: streams `dir`'s files to a `sink`; resolves with its reply. */
export async function sendTree(port: number, dir: string): Promise<string> {
  const socket = net.connect({ port, host: "127.0.0.1", noDelay: true }, () => {
    streamDir(socket, dir, () => socket.end());
  });
  let reply = "";
  socket.setEncoding("utf8");
  socket.on("data", (text: string) => {
    if (reply.length < 256) reply += text; // "files N\n"
  });
  await ended(socket, "send");
  socket.destroy();
  return reply.trim();
}

/** The command line, when this file is the program (not when a bench imports it). */
function main(): void {
  const [mode, a, b] = process.argv.slice(2);
  const done = (text: string): void => {
    process.stderr.write(`${text}\n`);
    process.exit(0);
  };
  const failed = (err: unknown): void => {
    process.stderr.write(`tree-baseline: ${String(err)}\n`);
    process.exit(1);
  };
  if (mode === "serve" && a !== undefined) {
    listen(
      net.createServer({ noDelay: true }, (socket) => {
        socket.on("error", () => {});
        streamDir(socket, a, () => socket.end());
      }),
    );
  } else if (mode === "fetch" && a !== undefined && b !== undefined) {
    fetchTree(Number(a), b).then((n) => {
      done(`files ${n}`);
    }, failed);
  } else if (mode === "sink" && a !== undefined) {
    listen(
      net.createServer({ noDelay: true }, (socket) => {
        socket.on("error", () => {});
        receiveRecords(socket, a, (files) => socket.end(`files ${files}\n`));
      }),
    );
  } else if (mode === "send" && a !== undefined && b !== undefined) {
    sendTree(Number(a), b).then(done, failed);
  } else {
    process.stderr.write("usage: serve DIR | fetch PORT OUT | sink DIR | send PORT SRCDIR\n");
    process.exitCode = 2;
  }
}

if (
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
)
  main();
