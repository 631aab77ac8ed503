import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import zlib from "node:zlib";
import { encodeFrame, writeAll } from "../../src/wire/index.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { splits } from "../helpers/feed.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";

// PROTOCOL.md §8.13's list form on the wire: the request and its path list read the same
// whole, byte by byte and cut at every point; each path comes back under its index; hostile
// paths (out of the root, `..`, control characters, reserved names, links) are one `S`
// record each with their error and the server goes on; a malformed list is refused, read to
// its end, with the connection in step.

/** Files of one folder, two of them over the 1 MiB a batch reads (streamed on their own). */
const BIG_AND_SMALL: [string, number][] = [
  ["s1", 10],
  ["b1", 1024 * 1024 + 7],
  ["t2", 20],
  ["c2", 1536 * 1024],
  ["u3", 30],
];

let srv: TestServer;
let conn: ProtocolConnection;

before(async () => {
  srv = await startServer();
  await fs.mkdir(path.join(srv.root, "l/sub"), { recursive: true });
  await fs.writeFile(path.join(srv.root, "l/a.txt"), "alpha");
  await fs.writeFile(path.join(srv.root, "l/sub/b.txt"), "bee");
  await fs.writeFile(path.join(srv.outside, "secret.txt"), "outside");
  await fs.symlink(path.join(srv.outside, "secret.txt"), path.join(srv.root, "l/out.txt"));
  await fs.symlink("a.txt", path.join(srv.root, "l/in.txt"));
  await fs.mkdir(path.join(srv.root, "m"));
  for (const [name, size] of BIG_AND_SMALL)
    await fs.writeFile(path.join(srv.root, "m", name), name[0]?.repeat(size) ?? "");
  await fs.mkdir(path.join(srv.root, "m/d"));
  await fs.writeFile(path.join(srv.root, "m/d/z"), "z");
  execFileSync("mkfifo", [path.join(srv.root, "m/fifo")]);
  conn = await ProtocolConnection.open(srv.port);
});

after(async () => {
  conn.close();
  await srv.stop();
});

/** A tree phase's frames as [type, JSON body or the bytes as text]. */
function records(frames: readonly Buffer[]): [string, unknown][] {
  return frames.map((f) => {
    const type = String.fromCharCode(f[0] as number);
    const body = f.subarray(1).toString("utf8");
    return [type, type === "D" ? body : JSON.parse(body)];
  });
}

/** The request and its list phase (one frame per array, terminator, trailer) as bytes. */
function listRequest(fields: object, arrays: readonly unknown[]): Buffer {
  const payloads = arrays.map((a) => Buffer.from(typeof a === "string" ? a : JSON.stringify(a)));
  const trailer = {
    ok: true,
    checksum: {
      alg: "crc32",
      value: zlib.crc32(Buffer.concat(payloads)).toString(16).padStart(8, "0"),
    },
  };
  return Buffer.concat([
    encodeFrame(JSON.stringify({ op: "GETTREE", path: "/", list: true, ...fields })),
    ...payloads.map((p) => encodeFrame(p)),
    Buffer.from("00000000"),
    encodeFrame(JSON.stringify(trailer)),
  ]);
}

/** Sends `bytes` in `pieces`, one write each, and reads the reply and the phase. */
async function exchange(pieces: readonly Buffer[]): Promise<[string, unknown][]> {
  for (const piece of pieces) await writeAll(conn.socket, piece);
  assertOk(await conn.reply());
  const { frames, trailer } = await conn.readData();
  assertOk(trailer);
  return records(frames);
}

/** What the S records said, by index. */
function skips(got: readonly [string, unknown][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [type, body] of got) {
    if (type !== "S") continue;
    const {
      path: p,
      type: kind,
      error,
    } = body as {
      path: string;
      type: string;
      error?: { code: string };
    };
    out[p] = error?.code ?? kind;
  }
  return out;
}

const EXPECTED: [string, unknown][] = [
  ["H", { path: "0", size: 5 }],
  ["D", "alpha"],
  ["E", { ok: true }],
  ["F", { path: "1" }],
  ["H", { path: "1/b.txt", size: 3 }],
  ["D", "bee"],
  ["E", { ok: true }],
  ["H", { path: "2", size: 3 }],
  ["D", "bee"],
  ["E", { ok: true }],
];

/** Records with the fields that do not depend on the machine (mtime, checksum) dropped. */
function stable(got: readonly [string, unknown][]): [string, unknown][] {
  return got.map(([type, body]) => {
    if (type === "H") {
      const { path: p, size } = body as { path: string; size: number };
      return [type, { path: p, size }];
    }
    if (type === "E") return [type, { ok: (body as { ok: boolean }).ok }];
    return [type, body];
  });
}

test("the request and its list read the same whole, byte by byte and at every split", async () => {
  const bytes = listRequest({}, [
    [{ path: "l/a.txt" }, { path: "/l/sub" }],
    [{ path: "/l/sub/b.txt" }],
  ]);
  let runs = 0;
  for (const split of splits(bytes)) {
    assert.deepEqual(stable(await exchange(split.pieces)), EXPECTED, split.name);
    runs++;
  }
  assert.equal(runs, bytes.length + 1);
});

test("hostile paths are one S record each with their error; the others are sent", async () => {
  const hostile = [
    "/../secret.txt",
    "../../../etc/passwd",
    "/l/a\u0000.txt",
    "/l/\u001b[31m",
    "l\\..\\..\\x",
    "/l/.bftp-part",
    "/l/out.txt",
    "/l/in.txt",
    "/nowhere/x",
    "/l/missing",
    `/l/${"x".repeat(256)}`,
    "/l/a.txt", // beside the ones before it: its name alone is checked, and it is sent
  ];
  const got = await exchange([
    listRequest({}, [[{ path: "/l/a.txt" }, ...hostile.map((p) => ({ path: p }))]]),
  ]);
  assert.deepEqual(skips(got), {
    "1": "BFTP_ERR_PATH_REFUSED",
    "2": "BFTP_ERR_PATH_REFUSED",
    "3": "BFTP_ERR_PATH_REFUSED",
    "4": "BFTP_ERR_PATH_REFUSED",
    "5": "BFTP_ERR_PATH_REFUSED",
    "6": "BFTP_ERR_PATH_REFUSED",
    "7": "symlink",
    "8": "symlink",
    "9": "BFTP_ERR_NOT_FOUND",
    "10": "BFTP_ERR_NOT_FOUND",
    "11": "BFTP_ERR_PATH_REFUSED",
  });
  const heads = got.filter(([t]) => t === "H").map(([, b]) => (b as { path: string }).path);
  assert.deepEqual(heads, ["0", "12"]);
  assert.deepEqual(await conn.request({ op: "ABORT" }), { ok: true, aborted: false });
});

test("files over a batch's size keep their place among the small ones beside them", async () => {
  const got = await exchange([
    listRequest({}, [BIG_AND_SMALL.map(([name]) => ({ path: `/m/${name}` }))]),
  ]);
  const files: [string, number][] = [];
  let current: [string, number] | undefined;
  for (const [type, body] of got) {
    if (type === "H") files.push((current = [(body as { path: string }).path, 0]));
    else if (type === "D" && current !== undefined) {
      const text = body as string; // each file is its name's first letter, repeated
      assert.equal(text, (BIG_AND_SMALL[Number(current[0])]?.[0][0] ?? "").repeat(text.length));
      current[1] += text.length;
    } else assert.equal(type, "E");
  }
  assert.deepEqual(
    files,
    BIG_AND_SMALL.map(([, size], i) => [String(i), size]),
  );
});

test("a thousand names of one folder, folders and FIFOs among them, each keep their place", async () => {
  // The worker looks at each name as it opens it (no listing first): a folder among the
  // files ends a batch and is sent in its place with what is in it, then the files go on; a
  // missing name and a FIFO are one S record each.
  const names = ["s1", "t2", "missing", "d", "fifo", "u3"];
  const list = Array.from({ length: 1_000 }, (_, i) => ({ path: `/m/${names[i % 6] ?? ""}` }));
  const got = await exchange([listRequest({}, [list])]);
  const heads = new Map<string, number>();
  const folders: string[] = [];
  const skipped = skips(got);
  for (const [type, body] of got)
    if (type === "H") {
      const head = body as { path: string; size: number };
      heads.set(head.path, head.size);
    } else if (type === "F") folders.push((body as { path: string }).path);
  const sizes = new Map(BIG_AND_SMALL);
  for (let i = 0; i < list.length; i++) {
    const name = names[i % 6] ?? "";
    const rel = String(i);
    if (name === "missing") assert.equal(skipped[rel], "BFTP_ERR_NOT_FOUND", `entry ${i}`);
    else if (name === "fifo") assert.equal(skipped[rel], "other", `entry ${i}`);
    else if (name === "d") {
      assert.ok(folders.includes(rel), `entry ${i}`);
      assert.equal(heads.get(`${rel}/z`), 1, `entry ${i}`);
    } else assert.equal(heads.get(rel), sizes.get(name), `entry ${i}`);
  }
  // Every record in list order: each entry's records come before the next entry's.
  const order = got
    .filter(([type]) => type !== "D" && type !== "E")
    .map(([, body]) => Number((body as { path: string }).path.split("/")[0]));
  assert.deepEqual(
    order,
    [...order].sort((a, b) => a - b),
  );
  assert.equal(folders.length, list.filter((entry) => entry.path === "/m/d").length);
  assert.equal(new Set(order).size, list.length); // every entry said something
});

test("an entry spelled with `.` or a trailing slash names its own folder for the next", async () => {
  const got = await exchange([
    listRequest({}, [
      [
        { path: "/l/sub/." },
        { path: "/l/sub/b.txt" },
        { path: "/l/sub/" },
        { path: "/l/sub/b.txt" },
      ],
    ]),
  ]);
  const heads = got.filter(([t]) => t === "H").map(([, b]) => (b as { path: string }).path);
  assert.deepEqual(heads, ["0/b.txt", "1", "2/b.txt", "3"]);
  assert.deepEqual(skips(got), {});
});

test("an entry with the client's copy is kept when it matches, sent when it does not", async () => {
  const stats = await fs.stat(path.join(srv.root, "l/a.txt"), { bigint: true });
  const mtime = Number(stats.mtimeNs / 1_000_000n);
  const got = await exchange([
    listRequest({}, [
      [
        { path: "/l/a.txt", size: 5, mtime },
        { path: "/l/a.txt", size: 5, mtime: mtime + 1 },
      ],
    ]),
  ]);
  assert.deepEqual(stable(got), [
    ["K", { path: "0" }],
    ["H", { path: "1", size: 5 }],
    ["D", "alpha"],
    ["E", { ok: true }],
  ]);
});

test("a malformed list is refused, read to its end: the connection stays in step", async () => {
  const bad: [object, unknown[]][] = [
    [{}, ["{not json"]],
    [{}, [[{ path: 5 }]]],
    [{}, [[{ path: "/l/a.txt", extra: 1 }]]],
    [{}, [{ path: "/l/a.txt" }]],
    [{ have: true }, [[{ path: "/l/a.txt" }]]],
    [{ path: 7 }, [[{ path: "/l/a.txt" }]]],
  ];
  for (const [fields, arrays] of bad) {
    await writeAll(conn.socket, listRequest(fields, arrays));
    assertError(await conn.reply(), "BFTP_ERR_BAD_REQUEST");
  }
  assert.deepEqual(await conn.request({ op: "ABORT" }), { ok: true, aborted: false });
});

test("more than 100,000 paths are refused once the list has been read", async () => {
  const many = Array.from({ length: 50_001 }, () => ({ path: "a" }));
  await writeAll(conn.socket, listRequest({}, [many, many]));
  assertError(await conn.reply(), "BFTP_ERR_BAD_REQUEST");
  assert.deepEqual(await conn.request({ op: "ABORT" }), { ok: true, aborted: false });
});
