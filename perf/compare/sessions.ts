/**
 * One connection to a server under test, the same three operations whatever the protocol:
 * bftp through its own client library (src/client), the FTP servers through ftp-client.ts.
 * Every download is checked byte for byte against the file's pattern and then dropped (into
 * memory, never to disk); every upload is sent from the pattern in memory.
 */
import { Readable, Writable } from "node:stream";
import { BftpClient } from "../../src/client/client.js";
import { inWindow } from "../../src/client/window.js";
import { FtpClient } from "./ftp-client.js";
import { PatternCheck, patternChunks } from "./pattern.js";
import type { RunningServer } from "./servers.js";

/** A file the bench serves: where it is and what it must hold. */
export interface PatternFile {
  readonly path: string;
  readonly seed: number;
  readonly size: number;
}

/** One connection to a server. */
export interface Session {
  /** Downloads and verifies one file. */
  get(file: PatternFile): Promise<void>;
  /** Downloads and verifies many files over this connection (bftp pipelines them). */
  getMany(files: readonly PatternFile[]): Promise<void>;
  /** Uploads a pattern file; resolves once the server confirmed it. */
  put(file: PatternFile): Promise<void>;
  close(): Promise<void>;
}

/** Deadline for every reply and data stall, ms, unless the caller gives one. */
const TIMEOUT_MS = 60_000;
/** Requests in flight on one bftp connection for `getMany` (the client's batch default). */
const BFTP_WINDOW = 64;

/**
 * Opens a session to `server`. `timeoutMs` bounds connecting and the greeting (and, for FTP,
 * each later reply and data stall).
 */
export async function openSession(server: RunningServer, timeoutMs = TIMEOUT_MS): Promise<Session> {
  if (server.protocol === "bftp") {
    const client = await BftpClient.connect(
      { host: "127.0.0.1", port: server.port },
      { timeout: timeoutMs },
    );
    return bftpSession(client);
  }
  return ftpSession(await FtpClient.connect({ port: server.port, timeoutMs }));
}

function bftpSession(client: BftpClient): Session {
  const get = async (file: PatternFile): Promise<void> => {
    const check = new PatternCheck(file.seed, file.size);
    const sink = new Writable({
      highWaterMark: 1 << 20,
      write: (chunk: Buffer, _encoding, done) => {
        check.update(chunk);
        done();
      },
      writev: (chunks, done) => {
        for (const { chunk } of chunks) check.update(chunk as Buffer);
        done();
      },
    });
    await client.download(file.path, sink);
    check.verify(file.path);
  };
  return {
    get,
    getMany: async (files) => {
      const outcomes = await inWindow(files, BFTP_WINDOW, get);
      const failed = outcomes.find((o) => o.status === "rejected");
      if (failed) throw failed.reason;
    },
    put: async (file) => {
      const source = Readable.from(patternChunks(file.seed, file.size), { objectMode: false });
      await client.upload(source, file.path);
    },
    close: () => client.close(),
  };
}

function ftpSession(client: FtpClient): Session {
  const get = async (file: PatternFile): Promise<void> => {
    const check = new PatternCheck(file.seed, file.size);
    await client.retr(file.path, (chunk) => {
      check.update(chunk);
    });
    check.verify(file.path);
  };
  return {
    get,
    // FTP has one transfer at a time per control connection (RFC 959): one after another.
    getMany: async (files) => {
      for (const file of files) await get(file);
    },
    put: async (file) => {
      const sent = await client.stor(file.path, patternChunks(file.seed, file.size));
      if (sent !== file.size) throw new Error(`${file.path}: sent ${sent} of ${file.size} bytes`);
    },
    close: () => client.quit(),
  };
}
