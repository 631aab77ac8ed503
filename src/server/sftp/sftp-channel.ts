import ssh2, { type SFTPWrapper } from "ssh2";
import { BftpError, isBftpError } from "../../errors.js";
import type { Account } from "../accounts/accounts.js";
import type { Permission } from "../accounts/permissions.js";
import type { Logger } from "../logger.js";
import { NO_METRICS, type ServerMetrics } from "../metrics.js";
import { logTransfer } from "../transfer-log.js";
import type { FolderReader, ReadHandle, Storage, UploadHandle } from "../storage/storage.js";
import { longName, toAttributes, toStatus } from "./attributes.js";
import { CoveredRanges } from "./covered-ranges.js";
import { ReadAhead } from "./read-ahead.js";
import { WriteBehind } from "./write-behind.js";

const { STATUS_CODE, OPEN_MODE } = ssh2.utils.sftp;

/** Limits of one SFTP channel (docs/sftp.md, "Limits"). */
export interface SftpChannelLimits {
  /** Requests worked on at once; more wait in order. */
  readonly concurrency: number;
  /** Requests waiting; past this a request is answered at once with a FAILURE status. */
  readonly maxQueued: number;
  /** Handles open at once. */
  readonly maxHandles: number;
  /** Largest READ answered; a longer request gets this many bytes (as OpenSSH's server does). */
  readonly maxRead: number;
  /** Answer bytes waiting for the client's window before new READs wait. */
  readonly maxPendingOutput: number;
}

/** The defaults of {@link SftpChannelLimits}. */
export const SFTP_CHANNEL_LIMITS: SftpChannelLimits = {
  concurrency: 16,
  maxQueued: 4096,
  maxHandles: 256,
  maxRead: 256 * 1024 - 1024,
  maxPendingOutput: 4 * 1024 * 1024,
};

/** Read handles per channel that read in chunks (1 MiB held each at most). */
const READ_AHEAD_HANDLES = 8;

/** Upload handles per channel that gather their writes (two 256 KiB batches each at most). */
const WRITE_BEHIND_HANDLES = 8;

/** Names per READDIR answer (OpenSSH's sftp-server sends 100). */
const NAMES_PER_READDIR = 100;

/** What a channel works with: the logged-in account, its storage, logs. */
export interface SftpChannelOptions {
  readonly account: Account;
  readonly storage: Storage;
  readonly log: Logger;
  /** What operators count (metrics.ts); nothing when absent. */
  readonly metrics?: ServerMetrics;
  readonly peer: string;
  readonly limits?: SftpChannelLimits;
  /**
   * The connection's socket: answers sent in one turn of the event loop are corked into one
   * write (each 32 KiB answer is two SSH packets, and ssh2 writes each on its own).
   */
  readonly socket?: { cork(): void; uncork(): void };
}

interface ReadOpen {
  readonly kind: "read";
  readonly file: ReadHandle;
  /** Chunked reads for this handle, or undefined (read directly) past the channel's few. */
  readonly ahead: ReadAhead | undefined;
  bytes: number;
  readonly started: number;
}
interface UploadOpen {
  readonly kind: "upload";
  readonly file: UploadHandle;
  readonly append: boolean;
  readonly covered: CoveredRanges;
  /** Gathered writes for this handle, or undefined (written directly) past the channel's few. */
  readonly behind: WriteBehind | undefined;
  /** Set by a failed WRITE: the upload is no longer whole, so CLOSE does not commit it. */
  failed: boolean;
  bytes: number;
  readonly started: number;
}
interface FolderOpen {
  readonly kind: "folder";
  readonly folder: FolderReader;
  done: boolean;
}
type Open = (ReadOpen | UploadOpen | FolderOpen) & {
  /** Requests on this handle now running: CLOSE and FSTAT wait for them. */
  readonly running: Set<Promise<void>>;
};

type Job = () => Promise<void>;

/** One request's answer, sent in request order whatever order the work finishes in. */
interface Reply {
  status(code: number, message?: string): void;
  data(data: Buffer): void;
  handle(handle: Buffer): void;
  name(names: { filename: string; longname: string; attrs: object }[]): void;
  attrs(attrs: object): void;
}

/**
 * Requests that may run beside others: reads and writes at explicit offsets, the bulk of a
 * transfer. Every other request runs alone, after what came before it and before what comes
 * after, as OpenSSH's server runs them all: a CLOSE after its WRITEs, a REMOVE before the
 * OPEN that recreates the name.
 */
const CONCURRENT: ReadonlySet<string> = new Set(["READ", "WRITE"]);

/**
 * One SFTP session (version 3, as OpenSSH speaks it) over one SSH channel: each request is
 * checked against the account's permissions and carried out through its {@link Storage},
 * so SFTP clients meet the same sandbox, the same atomic commits and the same refusals as
 * BFTP clients (docs/sftp.md).
 *
 * Uploads: an OPEN for writing starts an upload that nobody sees; CLOSE commits it in one
 * atomic step when every WRITE succeeded and the bytes written cover the file with no hole,
 * and refuses otherwise (the old file, or none, stays). A session that ends first removes it.
 *
 * Bounded: at most `concurrency` requests run at once, `maxQueued` wait (more are refused
 * with FAILURE at once), and while that many wait, or the client leaves `maxPendingOutput`
 * bytes of answers unread, the channel's SSH window is not reopened, so the client cannot
 * send more (the flow control OpenSSH's server uses).
 */
export class SftpChannel {
  readonly #sftp: SFTPWrapper;
  readonly #account: Account;
  readonly #storage: Storage;
  readonly #log: Logger;
  readonly #peer: string;
  readonly #limits: SftpChannelLimits;
  readonly #socket: { cork(): void; uncork(): void } | undefined;
  #corked = false;
  readonly #handles = new Map<number, Open>();
  #nextHandle = 1;
  /** Read handles with a {@link ReadAhead}, at most {@link READ_AHEAD_HANDLES}. */
  #readAheads = 0;
  /** Upload handles with a {@link WriteBehind}, at most {@link WRITE_BEHIND_HANDLES}. */
  #writeBehinds = 0;
  readonly #queue: { readonly job: Job; readonly alone: boolean }[] = [];
  #running = 0;
  /** True while a request that runs alone is running. */
  #alone = false;
  /** Answers finished out of turn, by sequence number, and the next one to send. */
  readonly #outbox = new Map<number, () => void>();
  #nextSeq = 0;
  #sendSeq = 0;
  #closed = false;
  readonly #metrics: ServerMetrics;
  /** The window was left closed (push returned false): reopen it when the pressure is gone. */
  #held = false;
  #poll: NodeJS.Timeout | undefined;

  constructor(sftp: SFTPWrapper, options: SftpChannelOptions) {
    this.#sftp = sftp;
    this.#account = options.account;
    this.#storage = options.storage;
    this.#log = options.log;
    this.#metrics = options.metrics ?? NO_METRICS;
    this.#peer = options.peer;
    this.#limits = options.limits ?? SFTP_CHANNEL_LIMITS;
    this.#socket = options.socket;
    this.#listen();
    this.#holdWindowUnderPressure();
    sftp.on("close", () => void this.close());
    sftp.on("error", () => void this.close());
  }

  /** Ends the session's work: aborts uncommitted uploads, closes every handle. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    if (this.#poll !== undefined) clearInterval(this.#poll);
    const open = [...this.#handles.values()];
    this.#handles.clear();
    for (const handle of open) {
      await Promise.allSettled(handle.running);
      if (handle.kind === "upload") {
        await handle.file.abort().catch(() => undefined);
        this.#logTransfer("put", handle, "BFTP_ERR_CONNECTION_LOST");
      } else if (handle.kind === "read") {
        await handle.file.close();
      } else {
        await handle.folder.close();
      }
    }
  }

  #listen(): void {
    const sftp = this.#sftp;
    const on = (event: string, run: (reply: Reply, ...args: never[]) => Promise<void>): void => {
      const alone = !CONCURRENT.has(event);
      sftp.on(event, (reqid: number, ...args: never[]) => {
        const reply = this.#reply(reqid);
        this.#submit(reply, alone, () => run(reply, ...args));
      });
    };
    on("OPEN", (id, path: string, flags: number, attrs: Record<string, unknown>) =>
      this.#open(id, path, flags, attrs),
    );
    on("READ", (id, handle: Buffer, offset: number, length: number) =>
      this.#read(id, handle, offset, length),
    );
    on("WRITE", (id, handle: Buffer, offset: number, data: Buffer) =>
      this.#write(id, handle, offset, data),
    );
    on("FSTAT", (id, handle: Buffer) => this.#fstat(id, handle));
    on("FSETSTAT", (id, handle: Buffer, attrs: Record<string, unknown>) =>
      this.#fsetstat(id, handle, attrs),
    );
    on("CLOSE", (id, handle: Buffer) => this.#closeHandle(id, handle));
    on("OPENDIR", (id, path: string) => this.#opendir(id, path));
    on("READDIR", (id, handle: Buffer) => this.#readdir(id, handle));
    on("STAT", (id, path: string) => this.#stat(id, path, true));
    on("LSTAT", (id, path: string) => this.#stat(id, path, false));
    on("REALPATH", (id, path: string) => this.#realpath(id, path));
    on("READLINK", (id, path: string) => this.#readlink(id, path));
    on("SETSTAT", (id, path: string, attrs: Record<string, unknown>) =>
      this.#setstat(id, path, attrs),
    );
    on("MKDIR", (id, path: string) => this.#mkdir(id, path));
    on("RMDIR", (id, path: string) => this.#rmdir(id, path));
    on("REMOVE", (id, path: string) => this.#remove(id, path));
    on("RENAME", (id, from: string, to: string) => this.#rename(id, from, to));
    on("SYMLINK", () => this.#symlink());
  }

  /**
   * The answer to request `reply`: whatever order requests finish in, answers leave in the
   * order the requests came (OpenSSH's client assumes it: it truncates an upload at the end
   * of the writes acknowledged in order).
   */
  #reply(reqid: number): Reply {
    const seq = this.#nextSeq++;
    const sftp = this.#sftp;
    const send = (thunk: () => void): void => {
      if (this.#closed) return;
      this.#outbox.set(seq, thunk);
      if (this.#outbox.has(this.#sendSeq)) this.#cork();
      for (;;) {
        const next = this.#outbox.get(this.#sendSeq);
        if (next === undefined) break;
        this.#outbox.delete(this.#sendSeq);
        this.#sendSeq++;
        next();
      }
    };
    return {
      status: (code, message) => {
        send(() => {
          sftp.status(reqid, code, message);
        });
      },
      data: (data) => {
        send(() => {
          sftp.data(reqid, data);
        });
      },
      handle: (handle) => {
        send(() => {
          sftp.handle(reqid, handle);
        });
      },
      name: (names) => {
        send(() => {
          sftp.name(reqid, names as never);
        });
      },
      attrs: (attrs) => {
        send(() => {
          sftp.attrs(reqid, attrs as never);
        });
      },
    };
  }

  /**
   * Runs `job` in its turn (reads and writes beside each other, up to `concurrency`; any
   * other request alone); refuses it at once when too many wait. A job never throws: each
   * answers its request, with a status on failure.
   */
  #submit(reply: Reply, alone: boolean, job: Job): void {
    if (this.#closed) return;
    // A job that throws before its first await is caught the same way: every request gets
    // exactly one answer, or the answers after it would wait for it forever.
    const wrapped: Job = async () => {
      try {
        await job();
      } catch (err) {
        this.#fail(reply, err);
      }
    };
    if (this.#queue.length === 0 && this.#mayStart(alone)) {
      this.#start(wrapped, alone);
      return;
    }
    if (this.#queue.length >= this.#limits.maxQueued) {
      reply.status(
        STATUS_CODE.FAILURE,
        `BFTP_ERR_BUSY: more than ${this.#limits.maxQueued} requests outstanding; wait for answers`,
      );
      return;
    }
    this.#queue.push({ job: wrapped, alone });
  }

  #mayStart(alone: boolean): boolean {
    if (this.#alone) return false;
    if (alone) return this.#running === 0;
    return this.#running < this.#limits.concurrency;
  }

  #start(job: Job, alone: boolean): void {
    this.#running++;
    this.#alone = alone;
    void job().finally(() => {
      this.#running--;
      if (alone) this.#alone = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (!this.#closed && !this.#outputFull()) {
      const next = this.#queue[0];
      if (next === undefined || !this.#mayStart(next.alone)) break;
      this.#queue.shift();
      this.#start(next.job, next.alone);
    }
    this.#reopenWindow();
    // Answers leave only as the client's window opens, which no event of ours marks: while
    // requests wait on them, or the window is held, look again every 20 ms.
    const waiting = this.#queue.length > 0 && this.#outputFull();
    if (!this.#closed && (waiting || this.#held)) {
      this.#poll ??= setInterval(() => {
        this.#pump();
      }, 20).unref();
    } else if (this.#poll !== undefined) {
      clearInterval(this.#poll);
      this.#poll = undefined;
    }
  }

  /** Answer bytes the client's window has not taken yet (ssh2 keeps them in `_buffer`). */
  #outputFull(): boolean {
    const pending = (this.#sftp as unknown as { _buffer?: Buffer[] })._buffer;
    if (pending === undefined || pending.length === 0) return false;
    let bytes = 0;
    for (const b of pending) bytes += b.length;
    return bytes >= this.#limits.maxPendingOutput;
  }

  #pressured(): boolean {
    return this.#queue.length >= this.#limits.concurrency * 4 || this.#outputFull();
  }

  /**
   * ssh2 reopens a channel's window after each packet unless `push` returns false; then the
   * channel waits for us. So `push` returns false while this session is under pressure, and
   * {@link #reopenWindow} grants the window again once it is not.
   */
  #holdWindowUnderPressure(): void {
    const sftp = this.#sftp as unknown as {
      push(data: Buffer | null): unknown;
      incoming: { window: number };
      outgoing: { id: number; state: string };
      _protocol: { channelWindowAdjust(id: number, amount: number): void };
      _waitChanDrain?: boolean;
    };
    const push = sftp.push.bind(sftp);
    sftp.push = (data: Buffer | null): unknown => {
      push(data);
      if (data === null || this.#closed || !this.#pressured()) return true;
      this.#held = true;
      this.#pump(); // starts the poll that reopens the window once the pressure is gone
      return false;
    };
    this.#windowOwner = sftp;
    this.#pumpWhenDrained();
  }

  /**
   * When the client's window opens, ssh2 calls the channel's `_chunkcb` (its drainBuffer,
   * which sends the answers waiting): wrapped, so that requests held back by unsent answers
   * start at once instead of at the next 20 ms poll (which made downloads stall and run at
   * half speed in some runs).
   */
  #pumpWhenDrained(): void {
    let inner: (() => void) | undefined;
    const sftp = this.#sftp;
    const drained = (): void => {
      const run = inner;
      inner = undefined;
      run?.call(sftp);
      this.#pump();
    };
    Object.defineProperty(sftp, "_chunkcb", {
      configurable: true,
      get: () => (inner === undefined ? undefined : drained),
      set: (value: (() => void) | undefined) => {
        inner = value;
      },
    });
  }

  #windowOwner:
    | {
        incoming: { window: number };
        outgoing: { id: number; state: string };
        _protocol: { channelWindowAdjust(id: number, amount: number): void };
        _waitChanDrain?: boolean;
      }
    | undefined;

  #reopenWindow(): void {
    if (!this.#held || this.#pressured() || this.#closed) return;
    this.#held = false;
    const channel = this.#windowOwner;
    if (channel === undefined || channel.outgoing.state !== "open") return;
    channel._waitChanDrain = false;
    const amount = WINDOW - channel.incoming.window;
    if (amount <= 0) return;
    channel.incoming.window += amount;
    channel._protocol.channelWindowAdjust(channel.outgoing.id, amount);
  }

  /** Corks the socket until the end of this turn (once per turn). */
  #cork(): void {
    const socket = this.#socket;
    if (socket === undefined || this.#corked) return;
    this.#corked = true;
    socket.cork();
    process.nextTick(() => {
      this.#corked = false;
      socket.uncork();
    });
  }

  #fail(reply: Reply, err: unknown): void {
    if (this.#closed) return;
    const { code, message } = toStatus(err);
    this.#metrics.error("sftp", isBftpError(err) ? err.code : "BFTP_ERR_INTERNAL");
    if (!isBftpError(err) || err.code === "BFTP_ERR_INTERNAL") {
      this.#log.error("sftp-internal", { peer: this.#peer, error: String(err) });
    }
    reply.status(code, message);
  }

  #ok(reply: Reply): void {
    reply.status(STATUS_CODE.OK);
  }

  #need(...permissions: Permission[]): void {
    const missing = permissions.filter((p) => !this.#account.permissions.has(p));
    if (missing.length === 0) return;
    throw new BftpError(
      "BFTP_ERR_FORBIDDEN",
      `user ${JSON.stringify(this.#account.name)} lacks the ${missing.map((p) => `"${p}"`).join(" and ")} permission`,
      { details: { missing: missing.join(",") } },
    );
  }

  #newHandle(open: ReadOpen | UploadOpen | FolderOpen): Buffer {
    const id = this.#nextHandle++;
    this.#handles.set(id, Object.assign(open, { running: new Set<Promise<void>>() }));
    const handle = Buffer.alloc(4);
    handle.writeUInt32BE(id);
    return handle;
  }

  #handle(handle: Buffer): Open {
    const open = handle.length === 4 ? this.#handles.get(handle.readUInt32BE(0)) : undefined;
    if (open === undefined) throw new BftpError("BFTP_ERR_BAD_REQUEST", "no such handle");
    return open;
  }

  #roomForHandle(): void {
    if (this.#handles.size >= this.#limits.maxHandles) {
      throw new BftpError(
        "BFTP_ERR_BUSY",
        `Cannot open more than ${this.#limits.maxHandles} handles at once: close some`,
      );
    }
  }

  /** Runs `work` as one of `open`'s requests, which CLOSE and FSTAT wait for. */
  async #on(open: Open, work: () => Promise<void>): Promise<void> {
    const running = work();
    open.running.add(running);
    try {
      await running;
    } finally {
      open.running.delete(running);
    }
  }

  async #open(
    reply: Reply,
    path: string,
    flags: number,
    attrs: Record<string, unknown>,
  ): Promise<void> {
    this.#roomForHandle();
    const writing = (flags & (OPEN_MODE.WRITE | OPEN_MODE.APPEND)) !== 0;
    if (!writing) {
      this.#need("read");
      const file = await this.#storage.openRead("/", path);
      if (this.#closed) return file.close();
      // Chunked reads for the first few read handles (1 MiB each at most); others read directly.
      const ahead = this.#readAheads < READ_AHEAD_HANDLES ? new ReadAhead(file) : undefined;
      if (ahead !== undefined) this.#readAheads++;
      reply.handle(this.#newHandle({ kind: "read", file, ahead, bytes: 0, started: Date.now() }));
      return;
    }
    if ((flags & OPEN_MODE.READ) !== 0) {
      throw new BftpError(
        "BFTP_ERR_BAD_REQUEST",
        "Cannot open a file for reading and writing at once: bftp commits whole files (open it for one or the other)",
      );
    }
    this.#need("write");
    const existing = await this.#storage
      .stat("/", path, { follow: false })
      .catch((err: unknown) => {
        if (isBftpError(err) && err.code === "BFTP_ERR_NOT_FOUND") return undefined;
        throw err;
      });
    if (existing === undefined && (flags & OPEN_MODE.CREAT) === 0) {
      throw new BftpError(
        "BFTP_ERR_NOT_FOUND",
        `Cannot open ${JSON.stringify(path)}: no such file`,
      );
    }
    const exclusive = (flags & OPEN_MODE.EXCL) !== 0;
    // Replacing a file destroys its content: that needs "delete", as BFTP's PUT with overwrite.
    if (existing !== undefined && !exclusive) this.#need("delete");
    const keep = existing !== undefined && (flags & OPEN_MODE.TRUNC) === 0;
    const file = await this.#storage.openUpload("/", path, { overwrite: !exclusive, keep });
    if (this.#closed) return file.abort();
    if (typeof attrs["mode"] === "number") file.setMode(attrs["mode"]);
    const covered = new CoveredRanges();
    if (keep) covered.add(0, existing.size);
    const append = (flags & OPEN_MODE.APPEND) !== 0;
    // Gathered writes for the first few upload handles (512 KiB each at most).
    const behind = this.#writeBehinds < WRITE_BEHIND_HANDLES ? new WriteBehind(file) : undefined;
    if (behind !== undefined) this.#writeBehinds++;
    reply.handle(
      this.#newHandle({
        kind: "upload",
        file,
        append,
        covered,
        behind,
        failed: false,
        bytes: 0,
        started: Date.now(),
      }),
    );
  }

  async #read(reply: Reply, handle: Buffer, offset: number, length: number): Promise<void> {
    const open = this.#handle(handle);
    if (open.kind !== "read")
      throw new BftpError("BFTP_ERR_BAD_REQUEST", "not a handle open for reading");
    await this.#on(open, async () => {
      const wanted = Math.min(length, this.#limits.maxRead);
      let data: Buffer;
      if (open.ahead !== undefined) {
        data = wanted === 0 ? Buffer.alloc(0) : await open.ahead.read(offset, wanted);
      } else {
        const buffer = Buffer.allocUnsafe(wanted);
        const n = wanted === 0 ? 0 : await open.file.read(buffer, offset);
        data = buffer.subarray(0, n);
      }
      if (this.#closed) return;
      if (data.length === 0) {
        reply.status(STATUS_CODE.EOF);
        return;
      }
      open.bytes += data.length;
      reply.data(data);
    });
  }

  async #write(reply: Reply, handle: Buffer, offset: number, data: Buffer): Promise<void> {
    const open = this.#handle(handle);
    if (open.kind !== "upload")
      throw new BftpError("BFTP_ERR_BAD_REQUEST", "not a handle open for writing");
    await this.#on(open, async () => {
      if (open.failed) {
        throw new BftpError(
          "BFTP_ERR_TRANSFER_ABORTED",
          `Cannot write to ${JSON.stringify(open.file.path)}: an earlier write failed`,
        );
      }
      try {
        // Appends go to the end, whatever offset the request names (SFTP v3's APPEND).
        const at = open.append ? open.covered.end : offset;
        if (!open.covered.add(at, at + data.length)) {
          throw new BftpError(
            "BFTP_ERR_BAD_RANGE",
            `Cannot write to ${JSON.stringify(open.file.path)}: the writes are scattered over too many ranges`,
          );
        }
        if (open.behind !== undefined) await open.behind.write(data, at);
        else await open.file.write(data, at);
        open.bytes += data.length;
      } catch (err) {
        open.failed = true;
        throw err;
      }
      this.#ok(reply);
    });
  }

  /** Writes an upload's gathered bytes; a failure marks the upload failed, and is thrown. */
  async #drain(open: UploadOpen): Promise<void> {
    try {
      await open.behind?.drain();
    } catch (err) {
      open.failed = true;
      throw err;
    }
  }

  async #fstat(reply: Reply, handle: Buffer): Promise<void> {
    const open = this.#handle(handle);
    if (open.kind === "folder") throw new BftpError("BFTP_ERR_BAD_REQUEST", "not a file handle");
    await Promise.allSettled(open.running);
    if (open.kind === "upload") await this.#drain(open);
    const entry = await open.file.stat();
    if (!this.#closed) reply.attrs(toAttributes(entry));
  }

  async #fsetstat(reply: Reply, handle: Buffer, attrs: Record<string, unknown>): Promise<void> {
    const open = this.#handle(handle);
    if (open.kind !== "upload") {
      // Only an upload's own attributes can be set through its handle; others by path.
      this.#need("write");
      throw new BftpError(
        "BFTP_ERR_BAD_REQUEST",
        "Cannot set attributes through this handle: use SETSTAT",
      );
    }
    await Promise.allSettled(open.running);
    refuseOwnerChange(attrs);
    if (typeof attrs["size"] === "number") {
      await this.#drain(open);
      await open.file.truncate(attrs["size"]);
      open.covered.truncate(attrs["size"]);
    }
    if (typeof attrs["mode"] === "number") open.file.setMode(attrs["mode"]);
    const times = timesOf(attrs);
    if (times !== undefined) open.file.setTimes(times.atime, times.mtime);
    this.#ok(reply);
  }

  async #closeHandle(reply: Reply, handle: Buffer): Promise<void> {
    const open = this.#handle(handle);
    this.#handles.delete(handle.readUInt32BE(0));
    await Promise.allSettled(open.running);
    if (open.kind === "read") {
      if (open.ahead !== undefined) this.#readAheads--;
      await open.file.close();
      this.#logTransfer("get", open, "ok");
    } else if (open.kind === "folder") {
      await open.folder.close();
    } else {
      if (open.behind !== undefined) this.#writeBehinds--;
      await this.#drain(open).catch(() => undefined); // a failure marks it failed
      const hole = open.covered.firstHole();
      if (open.failed || hole !== undefined) {
        await open.file.abort();
        const why = open.failed ? "a write failed" : `no bytes were written at offset ${hole ?? 0}`;
        this.#logTransfer("put", open, "BFTP_ERR_SIZE_MISMATCH");
        throw new BftpError(
          "BFTP_ERR_SIZE_MISMATCH",
          `Cannot commit ${JSON.stringify(open.file.path)}: ${why}; the upload was dropped and the old file, if any, kept`,
        );
      }
      try {
        await open.file.commit();
      } catch (err) {
        this.#logTransfer("put", open, isBftpError(err) ? err.code : "error");
        throw err;
      }
      this.#logTransfer("put", open, "ok");
    }
    this.#ok(reply);
  }

  async #opendir(reply: Reply, path: string): Promise<void> {
    this.#need("read");
    this.#roomForHandle();
    const folder = await this.#storage.openFolder("/", path);
    if (this.#closed) return folder.close();
    reply.handle(this.#newHandle({ kind: "folder", folder, done: false }));
  }

  async #readdir(reply: Reply, handle: Buffer): Promise<void> {
    const open = this.#handle(handle);
    if (open.kind !== "folder") throw new BftpError("BFTP_ERR_BAD_REQUEST", "not a folder handle");
    await this.#on(open, async () => {
      const entries = open.done ? [] : await open.folder.next(NAMES_PER_READDIR);
      if (this.#closed) return;
      if (entries.length === 0) {
        open.done = true;
        reply.status(STATUS_CODE.EOF);
        return;
      }
      const now = Date.now();
      reply.name(
        entries.map((entry) => ({
          filename: entry.name,
          longname: longName(entry, this.#account.name, now),
          attrs: toAttributes(entry),
        })),
      );
    });
  }

  async #stat(reply: Reply, path: string, follow: boolean): Promise<void> {
    this.#need("read");
    const entry = await this.#storage.stat("/", path, { follow });
    if (!this.#closed) reply.attrs(toAttributes(entry));
  }

  #realpath(reply: Reply, path: string): Promise<void> {
    // Pure: the account's root is "/", and every relative path is taken from it.
    const virtual = this.#storage.normalize("/", path);
    reply.name([{ filename: virtual, longname: virtual, attrs: {} }]);
    return Promise.resolve();
  }

  async #readlink(reply: Reply, path: string): Promise<void> {
    this.#need("read");
    const target = await this.#storage.resolveLink("/", path);
    if (!this.#closed) {
      reply.name([{ filename: target, longname: target, attrs: {} }]);
    }
  }

  async #setstat(reply: Reply, path: string, attrs: Record<string, unknown>): Promise<void> {
    this.#need("write");
    refuseOwnerChange(attrs);
    if (typeof attrs["size"] === "number") {
      throw new BftpError(
        "BFTP_ERR_BAD_REQUEST",
        `Cannot change the size of ${JSON.stringify(path)} in place: bftp commits whole files (upload it again)`,
      );
    }
    if (typeof attrs["mode"] === "number") await this.#storage.setMode("/", path, attrs["mode"]);
    const times = timesOf(attrs);
    if (times !== undefined) await this.#storage.setTimes("/", path, times.atime, times.mtime);
    this.#ok(reply);
  }

  async #mkdir(reply: Reply, path: string): Promise<void> {
    this.#need("mkdir");
    await this.#storage.makeFolder("/", path);
    this.#ok(reply);
  }

  async #rmdir(reply: Reply, path: string): Promise<void> {
    this.#need("delete");
    await this.#storage.removeFolder("/", path);
    this.#ok(reply);
  }

  async #remove(reply: Reply, path: string): Promise<void> {
    this.#need("delete");
    await this.#storage.removeFile("/", path);
    this.#ok(reply);
  }

  async #rename(reply: Reply, from: string, to: string): Promise<void> {
    this.#need("delete");
    // SFTP version 3: a rename onto an existing name fails.
    await this.#storage.rename("/", from, to, { overwrite: false });
    this.#ok(reply);
  }

  #symlink(): Promise<void> {
    return Promise.reject(
      new BftpError(
        "BFTP_ERR_PERMISSION_DENIED",
        "Cannot create a symbolic link: bftp's clients never make links (a link could lead out of the root)",
      ),
    );
  }

  #logTransfer(direction: "get" | "put", open: ReadOpen | UploadOpen, result: string): void {
    logTransfer(this.#log, this.#metrics, {
      front: "sftp",
      direction,
      kind: "file",
      peer: this.#peer,
      user: this.#account.name,
      path: open.file.path,
      bytes: open.bytes,
      ms: Date.now() - open.started,
      result,
    });
  }
}

/** ssh2's channel window (its MAX_WINDOW): what {@link SftpChannel} grants when it reopens. */
const WINDOW = 2 * 1024 * 1024;

/** bftp never changes a file's owner: an SFTP client asking to is refused, not ignored. */
function refuseOwnerChange(attrs: Record<string, unknown>): void {
  if (attrs["uid"] !== undefined || attrs["gid"] !== undefined) {
    throw new BftpError("BFTP_ERR_PERMISSION_DENIED", "Cannot change a file's owner or group");
  }
}

/** The access and modification times a SETSTAT carries (seconds), if it carries them. */
function timesOf(attrs: Record<string, unknown>): { atime: number; mtime: number } | undefined {
  const { atime, mtime } = attrs as { atime?: unknown; mtime?: unknown };
  if (typeof mtime !== "number") return undefined;
  return { atime: typeof atime === "number" ? atime : mtime, mtime };
}
