/**
 * The project's own straight-line baseline for one large file (issue 12, item 6): the same job
 * as `../shared/ceilings/ceiling-get.cjs`, so bftp's figures can be read as a fraction of what
 * this runtime does with nothing else in the way. No framing, no protocol, no sandbox: a
 * yardstick, not a design. The sender reads the file with positioned reads into four rotating
 * 1 MiB buffers and writes them to the socket, honouring backpressure; the receiver reads the
 * socket into one 1 MiB slab (`onread` where Node allows it: a client socket), computes CRC-32
 * of every byte and writes it to the destination file.
 *
 * The command line is the shared program's, so the benches drive either one:
 *   serve SRC             prints "listening on 127.0.0.1:PORT"; each connection gets SRC (GET)
 *   fetch PORT DST        writes what arrives into DST; prints "BYTES CRC32" on stderr
 *   sink                  prints "listening ..."; each connection sends a destination path and
 *                         a newline, then the bytes, which are CRC-checked and written there (PUT)
 *   send PORT SRC DST     sends DST's name, then SRC's bytes; prints the sink's "BYTES CRC32"
 *
 * @example
 * node dist/perf/baseline/file-baseline.js serve /dev/shm/big.bin &
 * time node dist/perf/baseline/file-baseline.js fetch PORT /dev/shm/copy.bin
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

const MiB = 1 << 20;
/** Longest destination line the sink accepts: a cap checked before anything is kept. */
const MAX_HEAD = 4096;

/** Writes `size` bytes of `fd` to `socket` from four rotating buffers; `done` once all queued. */
function pumpFile(socket: net.Socket, fd: number, size: number, done: () => void): void {
  const buffers = [0, 1, 2, 3].map(() => Buffer.allocUnsafe(MiB));
  let position = 0;
  let turn = 0;
  const pump = (): void => {
    while (position < size) {
      const buffer = buffers[turn++ % buffers.length] ?? Buffer.allocUnsafe(MiB);
      const n = fs.readSync(fd, buffer, 0, Math.min(MiB, size - position), position);
      if (n === 0) break;
      position += n;
      if (!socket.write(buffer.subarray(0, n))) {
        socket.once("drain", pump);
        return;
      }
    }
    done();
  };
  pump();
}

/** Prints the line the benches wait for, then serves. */
function listen(server: net.Server): void {
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as net.AddressInfo;
    process.stdout.write(`listening on 127.0.0.1:${port}\n`);
  });
}

function serve(source: string): void {
  listen(
    net.createServer((socket) => {
      socket.on("error", () => {});
      const fd = fs.openSync(source, "r");
      pumpFile(socket, fd, fs.fstatSync(fd).size, () => {
        fs.closeSync(fd);
        socket.end();
      });
    }),
  );
}

/** Stall deadline of the in-process sides: no byte moved for this long ends the transfer. */
const STALL_MS = 60_000;

/** Settles when `socket` has ended (resolve) or failed, stalled or closed early (reject). */
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
 * The receiving side of GET: connects to a `serve` on `port` and writes what arrives into
 * `destination`. Exported so `bench:compare` can time it in its own process.
 */
export async function fetchFile(
  port: number,
  destination: string,
): Promise<{ bytes: number; crc: number }> {
  const fd = fs.openSync(destination, "w");
  let crc = 0;
  let total = 0;
  try {
    const socket = net.connect({
      port,
      host: "127.0.0.1",
      onread: {
        buffer: Buffer.allocUnsafe(MiB),
        callback: (n: number, slab: Uint8Array): boolean => {
          const piece = slab.subarray(0, n);
          crc = zlib.crc32(piece, crc);
          fs.writeSync(fd, piece);
          total += n;
          return true;
        },
      },
    });
    await ended(socket, "fetch");
    socket.destroy();
  } finally {
    fs.closeSync(fd);
  }
  return { bytes: total, crc };
}

function sink(): void {
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on("error", () => {});
    let fd = -1;
    let crc = 0;
    let total = 0;
    let head = Buffer.alloc(0);
    const take = (piece: Buffer): void => {
      crc = zlib.crc32(piece, crc);
      fs.writeSync(fd, piece);
      total += piece.length;
    };
    socket.on("data", (chunk: Buffer) => {
      if (fd >= 0) {
        take(chunk);
        return;
      }
      // The destination line: bounded, so a peer that never sends a newline is cut off.
      const newline = chunk.indexOf(10);
      if (newline < 0) {
        if (head.length + chunk.length > MAX_HEAD) socket.destroy();
        else head = Buffer.concat([head, chunk]);
        return;
      }
      if (head.length + newline > MAX_HEAD) {
        socket.destroy();
        return;
      }
      fd = fs.openSync(Buffer.concat([head, chunk.subarray(0, newline)]).toString("utf8"), "w");
      if (newline + 1 < chunk.length) take(chunk.subarray(newline + 1));
    });
    socket.on("end", () => {
      if (fd >= 0) fs.closeSync(fd);
      socket.end(`${total} ${crc.toString(16)}\n`);
    });
  });
  listen(server);
}

/**
 * The sending side of PUT: sends `destination` and a newline, then `source`'s bytes, to a
 * `sink` on `port`; resolves with the sink's "BYTES CRC32" once it has them all.
 */
export async function sendFile(port: number, source: string, destination: string): Promise<string> {
  const socket = net.connect({ port, host: "127.0.0.1", noDelay: true }, () => {
    socket.write(`${destination}\n`);
    const fd = fs.openSync(source, "r");
    pumpFile(socket, fd, fs.fstatSync(fd).size, () => {
      fs.closeSync(fd);
      socket.end();
    });
  });
  const reply: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => {
    if (reply.length < 16) reply.push(chunk); // "BYTES CRC32\n": a few bytes
  });
  await ended(socket, "send");
  socket.destroy();
  return Buffer.concat(reply).toString("utf8").trim();
}

/** The command line, when this file is the program (not when a bench imports it). */
function main(): void {
  const [mode, a, b, c] = process.argv.slice(2);
  const done = (text: string): void => {
    process.stderr.write(`${text}\n`);
    process.exit(0);
  };
  const failed = (err: unknown): void => {
    process.stderr.write(`file-baseline: ${String(err)}\n`);
    process.exit(1);
  };
  if (mode === "serve" && a !== undefined) serve(a);
  else if (mode === "fetch" && a !== undefined && b !== undefined)
    fetchFile(Number(a), b).then((r) => {
      done(`${r.bytes} ${r.crc.toString(16)}`);
    }, failed);
  else if (mode === "sink") sink();
  else if (mode === "send" && a !== undefined && b !== undefined && c !== undefined)
    sendFile(Number(a), b, c).then(done, failed);
  else {
    process.stderr.write("usage: serve SRC | fetch PORT DST | sink | send PORT SRC DST\n");
    process.exitCode = 2;
  }
}

if (
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
)
  main();
