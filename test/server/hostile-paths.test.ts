// Acceptance (issue 3): "A path corpus of at least 100 hostile inputs run through every
// command that takes a path: each is refused with a coded error or resolves inside the
// root, and a canary file outside the root is never read, written or listed."
//
// Every input of hostilePaths(), plus paths through planted links and a directory swapped
// for a link, goes through CD, STAT, LIST, GET, HASH, RESUME, MKDIR, RMDIR, PUT (with and
// without overwrite, data phase included), RENAME as `from` and as `to`, and DELETE, from
// the working directories "/" and "/sub", pipelined on one connection per batch.
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { ERROR_CODES } from "../../src/errors.js";
import { snapshotTree, walkTree } from "../fixtures/tree-snapshot.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { PLANTED_LINKS, hostilePaths } from "../helpers/hostile-paths.js";
import { ProtocolConnection, type Body } from "../helpers/protocol-connection.js";
import { probeAtime, readWithoutAtime } from "../helpers/canary.js";

const MARKER = `bftp-canary-${randomUUID()}`;
const CANARY_CONTENT = `${MARKER}\nthis file lies outside the served root\n`;
const CANARY_SHA256 = createHash("sha256").update(CANARY_CONTENT).digest("hex");

/** Paths through the planted links, the swapped directory, and one link that stays inside. */
const LINK_PATHS = [
  ...Object.keys(PLANTED_LINKS),
  "link-to-outside-dir/canary.txt",
  "link-to-outside-dir/new.txt",
  "link-to-outside-dir/newdir/x",
  "/sub/../link-to-outside-dir/canary.txt",
  "relative-out/x",
  "dangling/x",
  "loop-a/x",
  "sub/deep-out/canary.txt",
  "sub/deep-out/new.txt",
  "/sub/deep-out",
  "swap",
  "swap/canary.txt",
  "swap/new.txt",
  "swap/newdir/x",
  "link-inside/file.txt", // inside: must work
];
const CORPUS = [...new Set([...hostilePaths(), ...LINK_PATHS])];

/** One request of a batch; PUT carries its data phase. */
interface Item {
  readonly request: Record<string, unknown>;
  readonly data?: Buffer;
  /** The corpus input this request tests, when it tests one. */
  readonly input?: string;
  /** For the HASH behind a PUT: the bytes the PUT sent, to find them where it put them. */
  readonly uploaded?: Buffer;
}

/** A reply as it came off the wire, with its data phase when it had one. */
interface Outcome {
  readonly item: Item;
  readonly reply: Body;
  readonly data?: Buffer;
  readonly trailer?: Body;
}

/** A command under test: the requests it sends for one input. */
interface Variant {
  readonly name: string;
  readonly build: (input: string, i: number, cwd: string) => Item[];
  /** An input that must succeed from "/" (a control: the command is really being run). */
  readonly control?: string;
}

const VARIANTS: readonly Variant[] = [
  {
    name: "CD",
    build: (input, _i, cwd) => [
      { request: { op: "CD", path: input }, input },
      { request: { op: "LIST", path: "." } },
      { request: { op: "CD", path: cwd } },
    ],
    control: "a/..",
  },
  ...[
    ["STAT", "a/.."],
    ["LIST", "a/.."],
    ["GET", "link-inside/file.txt"],
    ["HASH", "link-inside/file.txt"],
    ["RESUME"],
    ["RMDIR"],
    ["DELETE", "link-inside/file.txt"],
  ].map(([op, control]) => ({
    name: op ?? "",
    build: (input: string): Item[] => [{ request: { op, path: input }, input }],
    ...(control === undefined ? {} : { control }),
  })),
  {
    name: "MKDIR",
    build: (input) => [{ request: { op: "MKDIR", path: input }, input }],
    control: "...",
  },
  {
    name: "MKDIR parents",
    build: (input) => [{ request: { op: "MKDIR", path: input, parents: true }, input }],
    control: "/etc/passwd",
  },
  ...[false, true].map((overwrite) => ({
    name: overwrite ? "PUT overwrite" : "PUT",
    build: (input: string, i: number): Item[] => [
      { request: { op: "PUT", path: input, overwrite }, data: putContent(i), input },
      { request: { op: "HASH", path: input }, input, uploaded: putContent(i) },
    ],
    control: "%2e%2e%2f%2e%2e%2fetc", // a literal name
  })),
  {
    name: "RENAME from",
    build: (input, i) => [{ request: { op: "RENAME", from: input, to: `/renamed-${i}` }, input }],
    control: "link-to-outside-file", // the link itself moves, inside the root
  },
  {
    name: "RENAME to",
    build: (input, i) => [
      { request: { op: "RENAME", from: `/rename-source-${i}`, to: input, overwrite: true }, input },
    ],
    control: "link-to-outside-dir", // replaces the link itself, inside the root
  },
];

function putContent(i: number): Buffer {
  return Buffer.from(`uploaded by hostile input ${i}\n`);
}

let srv: TestServer;
let canary: string;
let canaryStats: { mtimeMs: number; atimeMs: number; ino: number; size: number };
let atimeShowsReads = false;

before(async () => {
  srv = await startServer();
  canary = path.join(srv.outside, "canary.txt");
  await fs.writeFile(canary, CANARY_CONTENT);
  await fs.mkdir(path.join(srv.outside, "dir"));
  await fs.writeFile(path.join(srv.outside, "dir", "secret.txt"), MARKER);
  // An atime older than the mtime: under relatime (or strictatime) any read moves it.
  await fs.utimes(canary, new Date("2020-01-01"), new Date());
  atimeShowsReads = await probeAtime(srv.outside);
  canaryStats = await fs.stat(canary);
});

after(async () => {
  await srv.stop();
});

/** A fresh root: a subfolder, the planted links, a directory swapped for a link, sources. */
async function resetRoot(count: number): Promise<void> {
  const { root, outside } = srv;
  for (const name of await fs.readdir(root)) {
    await fs.rm(path.join(root, name), { recursive: true, force: true });
  }
  await fs.mkdir(path.join(root, "sub", "inner"), { recursive: true });
  await fs.writeFile(path.join(root, "sub", "file.txt"), "inside");
  for (const [name, target] of Object.entries(PLANTED_LINKS)) {
    await fs.symlink(target.replace("OUTSIDE", outside), path.join(root, name));
  }
  await fs.symlink("sub", path.join(root, "link-inside"));
  // The swap: a real directory, then replaced by a link to the canary's folder.
  await fs.mkdir(path.join(root, "swap"));
  await fs.writeFile(path.join(root, "swap", "canary.txt"), "inside");
  await fs.rm(path.join(root, "swap"), { recursive: true });
  await fs.symlink(outside, path.join(root, "swap"));
  for (let i = 0; i < count; i++) {
    await fs.writeFile(path.join(root, `rename-source-${i}`), `source ${i}`);
  }
}

/** Sends every item pipelined while reading the replies, so neither side can block. */
async function runBatch(items: readonly Item[]): Promise<Outcome[]> {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    const write = (async () => {
      for (const item of items) {
        await conn.send(item.request);
        if (item.data !== undefined) await conn.sendData(item.data);
      }
    })();
    const outcomes: Outcome[] = [];
    for (const item of items) {
      const reply = await conn.reply();
      assert.notEqual(reply["close"], true, `fatal reply to ${JSON.stringify(item.request)}`);
      const op = item.request["op"];
      if (reply.ok && (op === "GET" || op === "LIST")) {
        const { data, trailer } = await conn.readData();
        outcomes.push({ item, reply, data, trailer });
      } else {
        outcomes.push({ item, reply });
      }
    }
    await write;
    return outcomes;
  } finally {
    conn.close();
  }
}

/** What PROTOCOL.md §6 says must be refused, judged from the input alone. */
function specRefuses(cwd: string, input: string): boolean {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(input) || Buffer.byteLength(input) > 4096) return true;
  const parts = input.startsWith("/") ? [] : cwd.split("/").filter(Boolean);
  for (const name of input.split("/")) {
    if (name === "" || name === ".") continue;
    if (name === "..") {
      if (parts.pop() === undefined) return true;
      continue;
    }
    if (Buffer.byteLength(name) > 255 || name.startsWith(".bftp-")) return true;
    parts.push(name);
  }
  return false;
}

/** The real path of a virtual path the server reported, checked to lie inside the root. */
async function assertInside(virtual: unknown, what: string): Promise<void> {
  assert.equal(typeof virtual, "string", what);
  const full = path.join(srv.root, virtual as string);
  const real = await fs
    .realpath(path.dirname(full))
    .then((dir) => path.join(dir, path.basename(full)));
  const rel = path.relative(srv.root, real);
  const out = rel === ".." || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
  assert.ok(!out, `${what}: ${real}`);
}

/**
 * Checks one outcome: a coded refusal, or success whose effect lies inside the root. A HASH
 * behind a successful PUT must find the uploaded bytes under the same name: they are in the
 * virtual tree, and (the outside being unchanged) therefore inside the root.
 */
async function checkOutcome(outcome: Outcome, cwd: string, previous?: Outcome): Promise<void> {
  const { item, reply, data } = outcome;
  const what = `${JSON.stringify(item.request)} from ${cwd} -> ${JSON.stringify(reply)}`;
  const wire = Buffer.concat([
    Buffer.from(JSON.stringify(reply)),
    data ?? Buffer.alloc(0),
    Buffer.from(JSON.stringify(outcome.trailer ?? {})),
  ]);
  assert.ok(!wire.includes(MARKER), `the canary's marker was sent: ${what}`);
  assert.ok(!wire.includes("root:x:0:0:"), `the real /etc/passwd was sent: ${what}`);
  assert.ok(!wire.includes(path.dirname(srv.root)), `a real server path was sent: ${what}`);
  if (item.uploaded !== undefined && previous?.reply.ok === true) {
    const sha256 = createHash("sha256").update(item.uploaded).digest("hex");
    assert.equal(reply["value"], sha256, `the upload is not where it was put: ${what}`);
  }
  if (!reply.ok) {
    const code = reply.error?.code ?? "";
    assert.ok(Object.hasOwn(ERROR_CODES, code) && code.startsWith("BFTP_ERR_"), what);
    assert.notEqual(code, "BFTP_ERR_INTERNAL", `an uncoded failure: ${what}`);
    if (item.input !== undefined && specRefuses(cwd, item.input)) {
      assert.equal(code, "BFTP_ERR_PATH_REFUSED", what);
    }
    return;
  }
  assert.ok(item.input === undefined || !specRefuses(cwd, item.input), `accepted: ${what}`);
  const op = item.request["op"];
  if (op === "LIST") {
    const names = (data ?? Buffer.from("[]")).toString("utf8");
    assert.ok(!names.includes('"canary.txt"'), `LIST showed the canary: ${what}`);
  }
  if (op === "STAT") {
    assert.notEqual((reply["entry"] as { name?: unknown }).name, "canary.txt", what);
  }
  if (op === "HASH" || op === "RESUME") {
    assert.notEqual(reply["value"] ?? reply["sha256"], CANARY_SHA256, what);
  }
  if (op === "CD" || op === "LIST" || op === "MKDIR" || op === "RENAME") {
    await assertInside(reply["path"], what);
  }
  if (op === "MKDIR") {
    // The reply says a directory now stands at that name: not a link to one elsewhere.
    const full = path.join(srv.root, reply["path"] as string);
    const real = path.join(await fs.realpath(path.dirname(full)), path.basename(full));
    assert.ok((await fs.lstat(real)).isDirectory(), `MKDIR left no directory: ${what}`);
  }
}

/** The canary and everything outside the root, exactly as they were. */
async function assertCanaryUntouched(outsideBefore: readonly string[], what: string) {
  const now = await fs.stat(canary);
  assert.equal(now.ino, canaryStats.ino, `canary replaced: ${what}`);
  assert.equal(now.mtimeMs, canaryStats.mtimeMs, `canary written: ${what}`);
  if (atimeShowsReads) assert.equal(now.atimeMs, canaryStats.atimeMs, `canary read: ${what}`);
  assert.equal(await readWithoutAtime(canary), CANARY_CONTENT, `canary rewritten: ${what}`);
  // The walk lstats only: it does not move the canary's atime.
  assert.deepEqual(await snapshotTree(path.dirname(srv.root), srv.root), outsideBefore, what);
}

test(`the corpus has at least 100 hostile inputs (${CORPUS.length})`, () => {
  assert.ok(hostilePaths().length >= 100);
  assert.ok(CORPUS.length > hostilePaths().length);
});

for (const variant of VARIANTS) {
  test(`${variant.name}: every hostile path is refused with a code or stays inside`, async () => {
    const outsideBefore = await snapshotTree(path.dirname(srv.root), srv.root);
    for (const cwd of ["/", "/sub"]) {
      await resetRoot(CORPUS.length);
      const items: Item[] = [{ request: { op: "CD", path: cwd } }];
      CORPUS.forEach((input, i) => items.push(...variant.build(input, i, cwd)));
      const outcomes = await runBatch(items);
      for (const [i, outcome] of outcomes.entries()) {
        await checkOutcome(outcome, cwd, outcomes[i - 1]);
      }
      const refused = outcomes.filter((o) => o.reply.error?.code === "BFTP_ERR_PATH_REFUSED");
      assert.ok(refused.length >= 100, `only ${refused.length} refused by the sandbox`);
      if (cwd === "/" && variant.control !== undefined) {
        const control = outcomes.find((o) => o.item.input === variant.control);
        assert.equal(control?.reply.ok, true, `control ${variant.control} failed`);
      }
      const inside = await walkTree(srv.root);
      assert.ok(!inside.some((e) => e.rel.includes(".bftp-")), "a temporary file was left");
      await assertCanaryUntouched(outsideBefore, `${variant.name} from ${cwd}`);
    }
  });
}

// Regression: MKDIR with `parents` on a planted link to a directory outside the root replied
// {"ok": true} (mkdir -p follows the last link, the sandbox did not), telling the client that
// the outside target exists and is a directory. It must be refused like any path that leads
// outside once links are followed (PROTOCOL.md §6).
test("regression: MKDIR parents on a link that leads outside is refused, not reported as made", async () => {
  await resetRoot(0);
  const outcomes = await runBatch(
    ["link-to-outside-dir", "sub/deep-out", "swap", "link-inside"].map((name) => ({
      request: { op: "MKDIR", path: name, parents: true },
    })),
  );
  assert.deepEqual(
    outcomes.map((o) => o.reply.error?.code ?? "ok"),
    ["BFTP_ERR_PATH_REFUSED", "BFTP_ERR_PATH_REFUSED", "BFTP_ERR_PATH_REFUSED", "ok"],
  );
});
