import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  DECIMAL_SIZE_HEADER,
  HEX_SIZE_HEADER,
  StreamReader,
  encodeDelimited,
  encodeFixedRecord,
  encodeFrame,
} from "../../src/wire/index.js";
import { cutAt, readableFrom } from "../helpers/feed.js";
import { socketPair } from "../helpers/socket-pair.js";

/** One message of any framing the wire layer offers, with how to read it back. */
type Message =
  | { kind: "hex"; payload: Uint8Array }
  | { kind: "decimal"; payload: Uint8Array }
  | { kind: "line"; payload: Uint8Array }
  | { kind: "record"; payload: Uint8Array };

const noNewline = fc.uint8Array({ maxLength: 64 }).map((b) => b.filter((x) => x !== 0x0a));
// A fixed record is padded with zeros, which the reader strips: so no payload may end in
// one. Every trailing zero goes: stripping only the last turned [7, 0, 0] into [7, 0], which
// failed now and then (seed -2111403329).
const noTrailingZero = fc.uint8Array({ maxLength: 16 }).map((b) => {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return b.subarray(0, end);
});
const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ kind: fc.constant("hex" as const), payload: fc.uint8Array({ maxLength: 200 }) }),
  fc.record({ kind: fc.constant("decimal" as const), payload: fc.uint8Array({ maxLength: 200 }) }),
  fc.record({ kind: fc.constant("line" as const), payload: noNewline }),
  fc.record({ kind: fc.constant("record" as const), payload: noTrailingZero }),
);

function encode(m: Message): Buffer {
  switch (m.kind) {
    case "hex":
      return encodeFrame(m.payload);
    case "decimal":
      return encodeFrame(m.payload, { header: DECIMAL_SIZE_HEADER });
    case "line":
      return encodeDelimited(m.payload);
    case "record":
      return encodeFixedRecord(m.payload, 16);
  }
}

function read(reader: StreamReader, m: Message): Promise<Buffer> {
  switch (m.kind) {
    case "hex":
      return reader.readFrame({ maxSize: 200, header: HEX_SIZE_HEADER });
    case "decimal":
      return reader.readFrame({ maxSize: 200, header: DECIMAL_SIZE_HEADER });
    case "line":
      return reader.readUntil("\n", { max: 64 });
    case "record":
      return reader.readFixedRecord(16, { pad: 0 });
  }
}

test("property: any mix of framings round-trips through StreamReader at random cuts", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(message, { maxLength: 10 }),
      fc.array(fc.nat(2500), { maxLength: 20 }),
      async (messages, cuts) => {
        const wire = Buffer.concat(messages.map(encode));
        const reader = new StreamReader(readableFrom(cutAt(wire, cuts)));
        for (const m of messages) assert.deepEqual(await read(reader, m), Buffer.from(m.payload));
        assert.equal(reader.buffered, 0);
      },
    ),
    { numRuns: 300 },
  );
});

test("property: the same mix round-trips over a real loopback socket", async () => {
  const { client, server, close } = await socketPair();
  client.setNoDelay(true);
  try {
    const reader = new StreamReader(server);
    await fc.assert(
      fc.asyncProperty(fc.array(message, { maxLength: 10 }), async (messages) => {
        for (const m of messages) client.write(encode(m)); // one send each; they may coalesce
        for (const m of messages) assert.deepEqual(await read(reader, m), Buffer.from(m.payload));
      }),
      { numRuns: 100 },
    );
  } finally {
    await close();
  }
});
