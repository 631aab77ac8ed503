/**
 * A test client for average-server: sends request frames, reads and parses reply frames,
 * every read within the deadline.
 */
import { encodeFrame } from "../../src/index.js";
import {
  MAX_REPLY,
  parseAverageReply,
  type AverageReply,
} from "../../examples/average-protocol.js";
import { DEADLINE_MS } from "./examples-spawn.js";
import { send, type TestClient } from "./examples-socket.js";

/** Reads one reply frame. */
export async function readReply(client: TestClient): Promise<AverageReply> {
  return parseAverageReply(
    await client.reader.readFrame({ maxSize: MAX_REPLY, timeout: DEADLINE_MS }),
  );
}

/** Sends `payload` as one frame and reads the reply. */
export async function ask(client: TestClient, payload: Uint8Array | string): Promise<AverageReply> {
  await send(client.socket, encodeFrame(payload));
  return readReply(client);
}

/** The error code of a reply, or "none" for a mean. */
export function codeOf(reply: AverageReply): string {
  return "error" in reply ? reply.error.code : "none";
}
