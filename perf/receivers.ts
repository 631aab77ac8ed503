import type { Socket } from "node:net";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { StreamReader } from "../src/wire/index.js";
import { FRAME_PAYLOAD, expectedFrameByte } from "./payloads.js";

/** A Writable that discards what it is given and counts the bytes. */
export class CountingSink extends Writable {
  /** Bytes written so far. */
  count = 0;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.count += chunk.length;
    callback();
  }
}

/**
 * The baseline: plain `pipeline(socket, sink)` into a discarding Writable, the fastest
 * idiomatic way Node moves socket bytes into a stream. Resolves at the peer's end of stream.
 */
export async function receiveRawPipe(socket: Socket, expected: number): Promise<void> {
  const sink = new CountingSink();
  await pipeline(socket, sink);
  check(sink.count === expected, `the raw pipe received ${sink.count} of ${expected} bytes`);
}

/** Ours for a body: `StreamReader.streamExactly(n, sink)` into the same discarding Writable. */
export async function receiveStreamExactly(socket: Socket, expected: number): Promise<void> {
  const reader = new StreamReader(socket);
  const sink = new CountingSink();
  await reader.streamExactly(expected, sink);
  check(sink.count === expected, `streamExactly delivered ${sink.count} of ${expected} bytes`);
}

/**
 * Ours for frames: `await reader.readFrame({ maxSize })` in a loop, checking each payload's
 * length and one byte of it, so a decoder that lost step could not pass.
 */
export async function receiveFrames(
  socket: Socket,
  frames: number,
  framesPerBlock: number,
): Promise<void> {
  const reader = new StreamReader(socket);
  const options = { maxSize: 1024 };
  for (let g = 0; g < frames; g++) {
    const payload = await reader.readFrame(options);
    if (payload.length !== FRAME_PAYLOAD || payload[0] !== expectedFrameByte(g, framesPerBlock)) {
      check(false, `frame ${g} is out of step (${payload.length} bytes, first ${payload[0]})`);
    }
  }
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`Cannot trust this run: ${what}`);
}
