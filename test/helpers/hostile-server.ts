import { once } from "node:events";
import net from "node:net";
import { encodeMessage } from "../../src/protocol/replies.js";
import { sendDataPhase } from "../../src/protocol/send-data-phase.js";
import { StreamReader, writeAll } from "../../src/wire/index.js";

/** One name of a hostile listing. */
export interface HostileEntry {
  readonly name: string;
  readonly type: "file" | "dir";
}

/**
 * Names a hostile server puts in a listing (the client treats names from the
 * server as hostile): traversal, absolute paths, separators, NUL, terminal escapes, CR/LF,
 * C1 controls and a Windows drive. Only `ok.txt` is safe.
 */
export const HOSTILE_NAMES: readonly HostileEntry[] = [
  { name: "../evil", type: "file" },
  { name: "/etc/evil", type: "file" },
  { name: "a\\b", type: "file" },
  { name: "x\u0000y", type: "file" },
  { name: "..", type: "dir" },
  { name: ".", type: "dir" },
  { name: "../../escape-dir", type: "dir" },
  { name: "\u001b[2J\u001b[31mred.txt", type: "file" },
  { name: "line\r\nbreak.txt", type: "file" },
  { name: "\u009b31mc1.txt", type: "file" },
  { name: "C:evil", type: "file" },
  { name: "ok.txt", type: "file" },
];

/** What every GET is answered with, whatever its path: a client that asks gets bytes to write. */
export const HOSTILE_CONTENT = Buffer.from("served by the hostile server\n");

/** A fake BFTP/1 server whose listings are hostile. */
export interface HostileServer {
  readonly port: number;
  /** Every request received, in order: `op` and `path`. */
  readonly requests: { op: string; path: string | undefined }[];
  readonly close: () => Promise<void>;
}

/** Options for {@link startHostileServer}. */
export interface HostileServerOptions {
  /** The listing sent for a LIST of `path` (default: always {@link HOSTILE_NAMES}). */
  readonly listing?: (path: string) => readonly HostileEntry[];
  /**
   * Raw bytes to answer a request of `op` with instead of its reply, written in these pieces
   * (one write each, so a frame can arrive split); undefined for the normal reply.
   */
  readonly rawReply?: (op: string) => readonly Buffer[] | undefined;
}

/**
 * Starts a server on 127.0.0.1 port 0 that speaks just enough BFTP/1 through src/wire and
 * src/protocol: HELLO, STAT (every path is a folder, except names ending in `.txt`), LIST
 * (by default always {@link HOSTILE_NAMES}), GET (always {@link HOSTILE_CONTENT}) and QUIT;
 * `rawReply` replaces any of these replies with bytes of the test's choosing.
 */
export async function startHostileServer(
  options: HostileServerOptions = {},
): Promise<HostileServer> {
  const listing = options.listing ?? (() => HOSTILE_NAMES);
  const requests: { op: string; path: string | undefined }[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    serve(socket, requests, listing, options.rawReply).catch(() => socket.destroy());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

async function serve(
  socket: net.Socket,
  requests: { op: string; path: string | undefined }[],
  listing: (path: string) => readonly HostileEntry[],
  rawReply: HostileServerOptions["rawReply"],
): Promise<void> {
  const reader = new StreamReader(socket);
  const mtime = Date.UTC(2024, 0, 1);
  for (;;) {
    const req = JSON.parse(
      (await reader.readFrame({ maxSize: 65_536, timeout: 10_000 })).toString("utf8"),
    ) as { op: string; path?: string };
    requests.push({ op: req.op, path: req.path });
    const raw = rawReply?.(req.op);
    if (raw !== undefined) {
      for (const piece of raw) await writeAll(socket, piece);
      continue;
    }
    const reply = (body: object): Promise<void> =>
      writeAll(socket, encodeMessage({ ok: true, ...body }));
    switch (req.op) {
      case "HELLO":
        await reply({
          version: 1,
          server: "hostile/0",
          auth: { required: false, methods: ["anonymous"] },
          limits: { maxControlFrame: 8192, maxChunk: 1 << 20 },
          checksums: ["crc32", "sha256"],
          capabilities: ["pipelining"],
        });
        break;
      case "STAT": {
        const file = (req.path ?? "/").endsWith(".txt");
        await reply({
          entry: {
            name: req.path ?? "/",
            type: file ? "file" : "dir",
            size: file ? HOSTILE_CONTENT.length : 0,
            mtime,
          },
        });
        break;
      }
      case "LIST": {
        const entries = listing(req.path ?? "/").map((e) => ({
          ...e,
          size: e.type === "file" ? HOSTILE_CONTENT.length : 0,
          mtime,
        }));
        await sendDataPhase(socket, oneChunk(Buffer.from(JSON.stringify(entries))), {
          alg: "crc32",
          maxChunk: 1 << 20,
          prefix: [encodeMessage({ ok: true, path: req.path ?? "/" })],
          trailerFields: () => ({ count: entries.length }),
        });
        break;
      }
      case "GET":
        await sendDataPhase(socket, oneChunk(HOSTILE_CONTENT), {
          alg: "crc32",
          maxChunk: 1 << 20,
          prefix: [
            encodeMessage({
              ok: true,
              size: HOSTILE_CONTENT.length,
              mtime,
              offset: 0,
              length: HOSTILE_CONTENT.length,
            }),
          ],
        });
        break;
      case "QUIT":
        await reply({});
        socket.end();
        return;
      default:
        await writeAll(
          socket,
          encodeMessage({
            ok: false,
            error: { code: "BFTP_ERR_UNKNOWN_COMMAND", status: 400, message: "Cannot do that" },
          }),
        );
    }
  }
}

/** One buffer as the async iterable a data phase reads. */
async function* oneChunk(bytes: Buffer): AsyncGenerator<Buffer> {
  yield await Promise.resolve(bytes);
}
