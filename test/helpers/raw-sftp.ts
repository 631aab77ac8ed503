import type { ClientChannel } from "ssh2";

/** SFTP version 3 packet types (draft-ietf-secsh-filexfer-02 §3). */
export const T = {
  INIT: 1,
  VERSION: 2,
  OPEN: 3,
  CLOSE: 4,
  READ: 5,
  WRITE: 6,
  STAT: 17,
  STATUS: 101,
  HANDLE: 102,
  DATA: 103,
  NAME: 104,
  ATTRS: 105,
} as const;

/** One answer as it came off the channel. */
export interface RawPacket {
  readonly type: number;
  /** The request id (0 for VERSION). */
  readonly id: number;
  /** What follows the id. */
  readonly body: Buffer;
}

/** An SFTP string: uint32 length and the bytes. */
export function sftpString(value: string | Buffer): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value) : value;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** A packet: uint32 length, type, and `parts`. */
export function packet(type: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from([type]), ...parts]);
  return Buffer.concat([u32(body.length), body]);
}

/**
 * A hand-driven SFTP session over a raw `sftp` subsystem channel: packets written as given
 * (well formed or not), answers parsed as they arrive.
 */
export class RawSftp {
  readonly #channel: ClientChannel;
  #pending = Buffer.alloc(0);
  readonly #answers: RawPacket[] = [];
  #waiter: (() => void) | undefined;
  #closed = false;

  constructor(channel: ClientChannel) {
    this.#channel = channel;
    channel.on("data", (chunk: Buffer) => {
      this.#pending = Buffer.concat([this.#pending, chunk]);
      while (this.#pending.length >= 4) {
        const len = this.#pending.readUInt32BE(0);
        if (this.#pending.length < 4 + len) break;
        const type = this.#pending[4] ?? 0;
        const id = type === T.VERSION ? 0 : this.#pending.readUInt32BE(5);
        const body = this.#pending.subarray(type === T.VERSION ? 5 : 9, 4 + len);
        this.#answers.push({ type, id, body: Buffer.from(body) });
        this.#pending = this.#pending.subarray(4 + len);
      }
      this.#wake();
    });
    channel.on("close", () => {
      this.#closed = true;
      this.#wake();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(bytes: Buffer): void {
    this.#channel.write(bytes);
  }

  pause(): void {
    this.#channel.pause();
  }

  resume(): void {
    this.#channel.resume();
  }

  /** Sends INIT (version 3) and waits for VERSION. */
  async init(): Promise<void> {
    this.write(packet(T.INIT, u32(3)));
    const [version] = await this.take(1);
    if (version?.type !== T.VERSION) throw new Error("no VERSION answer");
  }

  /** The next `n` answers (20 s deadline); fewer if the channel closes first. */
  async take(n: number, timeoutMs = 20_000): Promise<RawPacket[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.#answers.length < n && !this.#closed) {
      if (Date.now() > deadline)
        throw new Error(`only ${this.#answers.length} of ${n} answers in time`);
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
        setTimeout(resolve, 100).unref();
      });
    }
    return this.#answers.splice(0, n);
  }

  /** Resolves when the channel has closed (10 s deadline). */
  async untilClosed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#closed) {
      if (Date.now() > deadline) throw new Error("the channel did not close");
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
        setTimeout(resolve, 100).unref();
      });
    }
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }
}

/** A STATUS answer's code and message. */
export function statusOf(p: RawPacket): { code: number; message: string } {
  const code = p.body.readUInt32BE(0);
  const len = p.body.readUInt32BE(4);
  return { code, message: p.body.subarray(8, 8 + len).toString("utf8") };
}
