import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/index.js";
import { isBftpError, RemoteError } from "../../src/errors.js";
import { encodeFrame } from "../../src/wire/index.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { startHostileServer, type HostileServer } from "../helpers/hostile-server.js";

// Issue 11 ("Also"): a reply the client cannot parse was BFTP_ERR_BAD_REQUEST (the code for a
// bad *request*), and an error reply without an error object was taken as a remote refusal
// that left the connection open. docs/errors.md promises BFTP_ERR_PROTOCOL, and the connection
// closed: after a reply it cannot read, the client cannot know where the next one begins.

/** Payloads that are not replies (PROTOCOL.md §4.1, §5.1). */
const BAD_REPLIES: readonly { readonly name: string; readonly payload: Buffer }[] = [
  { name: "not JSON", payload: Buffer.from("this is not json") },
  { name: "not UTF-8", payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) },
  { name: "truncated JSON", payload: Buffer.from('{"ok": true, "path": "/') },
  { name: "a JSON array", payload: Buffer.from('[{"ok": true}]') },
  { name: "a JSON string", payload: Buffer.from('"ok"') },
  { name: "JSON null", payload: Buffer.from("null") },
  { name: "a JSON number", payload: Buffer.from("200") },
  { name: "an object without ok", payload: Buffer.from('{"path": "/"}') },
  { name: "ok as a string", payload: Buffer.from('{"ok": "true", "path": "/"}') },
  { name: "ok as a number", payload: Buffer.from('{"ok": 1, "path": "/"}') },
  { name: "an error reply without error", payload: Buffer.from('{"ok": false}') },
  {
    name: "an error object without a code",
    payload: Buffer.from('{"ok": false, "error": {"status": 404, "message": "no"}}'),
  },
  {
    name: "an error code that is not a string",
    payload: Buffer.from('{"ok": false, "error": {"code": 404, "status": 404, "message": "no"}}'),
  },
  {
    name: "close that is not a boolean",
    payload: Buffer.from(
      '{"ok": false, "close": "yes", "error": {"code": "BFTP_ERR_NOT_FOUND", "status": 404, "message": "no"}}',
    ),
  },
  {
    name: "an ok reply of the wrong shape for PWD",
    payload: Buffer.from('{"ok": true, "path": 7}'),
  },
];

/** The frame whole, or one byte per write. */
function deliveries(payload: Buffer): { readonly how: string; readonly pieces: Buffer[] }[] {
  const frame = encodeFrame(payload);
  return [
    { how: "whole", pieces: [frame] },
    { how: "byte by byte", pieces: [...frame].map((b) => Buffer.from([b])) },
  ];
}

let server: HostileServer;
let pieces: Buffer[] = [];

before(async () => {
  server = await startHostileServer({ rawReply: (op) => (op === "PWD" ? pieces : undefined) });
});

after(async () => {
  await server.close();
});

for (const { name, payload } of BAD_REPLIES) {
  for (const delivery of deliveries(payload)) {
    test(`a reply that is ${name} (${delivery.how}) is BFTP_ERR_PROTOCOL and closes the connection`, async () => {
      pieces = delivery.pieces;
      const client = await BftpClient.connect({ host: "127.0.0.1", port: server.port });
      try {
        const closed = client.connection.socket.destroyed
          ? Promise.resolve()
          : once(client.connection.socket, "close");
        const err = await rejectsWithCode(client.pwd(), "BFTP_ERR_PROTOCOL");
        assert.ok(!(err instanceof RemoteError), "not the server's refusal");
        assert.ok(isBftpError(err));
        assert.notEqual(err.connectionUsable, true);
        await closed;
        // Every later call fails with the first reason, without sending anything.
        assert.equal(client.connection.failure, err);
        await rejectsWithCode(client.pwd(), "BFTP_ERR_PROTOCOL");
      } finally {
        await client.close();
      }
    });
  }
}

test("a well-formed error reply is still the server's refusal, and the connection goes on", async () => {
  pieces = deliveries(
    Buffer.from(
      JSON.stringify({
        ok: false,
        error: { code: "BFTP_ERR_NOT_FOUND", status: 404, message: "Cannot do that" },
      }),
    ),
  )[1]?.pieces as Buffer[];
  const client = await BftpClient.connect({ host: "127.0.0.1", port: server.port });
  try {
    const err = await rejectsWithCode(client.pwd(), "BFTP_ERR_NOT_FOUND");
    assert.ok(err instanceof RemoteError);
    assert.equal(err.connectionUsable, true);
    assert.equal(client.connection.failure, undefined);
    // The next exchange works: a STAT the hostile server answers normally.
    assert.equal((await client.stat("/a.txt")).type, "file");
  } finally {
    await client.close();
  }
});
