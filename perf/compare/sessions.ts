/**
 * One connection to a server under test, the same three operations whatever the protocol:
 * bftp through its own client library (src/client), the FTP servers through ftp-client.ts.
 * Every download is checked byte for byte against the file's pattern and then dropped (into
 * memory, never to disk: bftp's batch goes through `downloadMany` into a folder in /dev/shm);
 * every upload is sent from the pattern in memory.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { BftpClient } from "../../src/client/client.js";
import { downloadMany } from "../../src/client/tree.js";
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
  /**
   * Downloads many files over this connection (bftp pipelines them); resolves once they are
   * all in, with the check of their bytes against the patterns to run after the clock stops.
   * An FTP client checks each file as it streams in (in memory, no disk: its check is inside
   * the time); bftp's files land on disk, each already checked end to end by the client
   * (its CRC-32), so reading them back for the bench's own check is left out of the time.
   */
  getMany(files: readonly PatternFile[]): Promise<() => void>;
  /** Uploads a pattern file; resolves once the server confirmed it. */
  put(file: PatternFile): Promise<void>;
  close(): Promise<void>;
}

/** Deadline for every reply and data stall, ms, unless the caller gives one. */
const TIMEOUT_MS = 60_000;
/** Where `getMany` puts bftp's files before checking them: memory, not disk, when it can. */
const SCRATCH = process.env["TMPDIR"] ?? (existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir());
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
  // Through `downloadChunks`, the library's call for a consumer that finishes with each
  // piece at once: as the FTP client's `retr`, whose data sockets read into one shared buffer
  // (data-socket.ts), the pieces are views of memory the next read reuses. A Writable may
  // keep its chunks, so `download(path, writable)` reads into fresh memory: about a third
  // more client CPU under 100 clients (docs/performance.md).
  const get = async (file: PatternFile): Promise<void> => {
    const check = new PatternCheck(file.seed, file.size);
    await client.downloadChunks(file.path, (chunk) => {
      check.update(chunk);
    });
    check.verify(file.path);
  };
  return {
    get,
    // Through the library's batch download, as a program would (issue 12 item 2: one GETTREE
    // list for the batch when the server offers it): the files land in a scratch folder in
    // memory (/dev/shm when there is one), are checked against their patterns, then removed.
    getMany: async (files) => {
      const dir = await fs.mkdtemp(path.join(SCRATCH, "bftp-getmany-"));
      try {
        const items = files.map((file, i) => ({
          remote: file.path,
          local: path.join(dir, `${i}`),
        }));
        const result = await downloadMany(client, items, { window: BFTP_WINDOW });
        const first = result.failed[0];
        if (first !== undefined) throw first.error;
      } catch (err) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
      return () => {
        try {
          for (const [i, file] of files.entries()) {
            const check = new PatternCheck(file.seed, file.size);
            check.update(readFileSync(path.join(dir, `${i}`))); // one call, not four pool hops
            check.verify(file.path);
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      };
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
      return () => undefined; // each file was checked as it arrived
    },
    put: async (file) => {
      const sent = await client.stor(file.path, patternChunks(file.seed, file.size));
      if (sent !== file.size) throw new Error(`${file.path}: sent ${sent} of ${file.size} bytes`);
    },
    close: () => client.quit(),
  };
}
