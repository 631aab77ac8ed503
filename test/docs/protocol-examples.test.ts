import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { after, before, test } from "node:test";
import zlib from "node:zlib";
import { startServer } from "../helpers/bftp-server.js";
import {
  parseExamples,
  parseLine,
  renderBytes,
  type Example,
  type ExampleLine,
} from "../helpers/protocol-examples.js";

// PROTOCOL.md's worked examples are what strangers implement from, so each is sent to a real
// server and its reply compared byte for byte (issue 11): an example cannot go stale. The set-up
// is the one §12 describes. BFTP_PRINT_EXAMPLES=1 prints what the server actually sent, in the
// example notation, so an example can be refreshed deliberately.
const spec = readFileSync(new URL("../../../PROTOCOL.md", import.meta.url), "utf8");
const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
  version: string;
};
const examples = parseExamples(spec);
const PRINT = process.env["BFTP_PRINT_EXAMPLES"] === "1";
/** How long one example may take, start to end. */
const EXAMPLE_DEADLINE_MS = 10_000;

/** The set-up of PROTOCOL.md §12: these files, all with this mtime. */
const MTIME = new Date(1763700000000);
async function setUp(root: string): Promise<void> {
  await fs.writeFile(path.join(root, "hello.txt"), "hello world");
  await fs.mkdir(path.join(root, "docs"));
  await fs.writeFile(path.join(root, "docs", "notes.txt"), "hello world");
  await fs.writeFile(path.join(root, "big.bin"), Buffer.alloc(2 * 1024 * 1024, "a"));
  for (const name of ["hello.txt", "docs/notes.txt", "big.bin", "docs"]) {
    await fs.utimes(path.join(root, name), MTIME, MTIME);
  }
}

/** Bytes received on a socket, with a wait for "at least n bytes, or the end". */
class Received {
  bytes = Buffer.alloc(0);
  ended = false;
  #wake: (() => void) | undefined;

  constructor(socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.bytes = Buffer.concat([this.bytes, chunk]); // bounded: examples are small
      this.#wake?.();
    });
    socket.on("close", () => {
      this.ended = true;
      this.#wake?.();
    });
  }

  /** Resolves once `n` bytes have arrived or the peer closed, or at `deadline`. */
  async waitFor(n: number, deadline: number): Promise<void> {
    while (this.bytes.length < n && !this.ended && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }
}

/** What the server sent for each run of `S:` lines, frame by frame, and whether it closed. */
interface Transcript {
  readonly runs: Buffer[][];
  /** Bytes after the last run (before the close). */
  readonly extra: Buffer;
  readonly closed: boolean;
}

/** Splits an example into alternating runs of client lines and server lines. */
function runsOf(lines: readonly ExampleLine[]): ExampleLine[][] {
  const runs: ExampleLine[][] = [];
  for (const line of lines) {
    const last = runs.at(-1);
    if (last?.[0]?.side === line.side) last.push(line);
    else runs.push([line]);
  }
  return runs;
}

function bytesOf(run: readonly ExampleLine[]): Buffer {
  return Buffer.concat(run.flatMap((l) => (l.kind === "bytes" ? [l.bytes] : [])));
}

/**
 * The next frame the server sent, starting at `at`: header and payload. Bytes that are no
 * frame header are returned whole, as they are; an incomplete frame at the end, as far as it got.
 */
async function nextFrame(received: Received, at: number, deadline: number): Promise<Buffer> {
  await received.waitFor(at + 8, deadline);
  const header = received.bytes.subarray(at, at + 8).toString("latin1");
  if (!/^[0-9a-f]{8}$/.test(header)) return received.bytes.subarray(at);
  const end = at + 8 + Number.parseInt(header, 16);
  await received.waitFor(end, deadline);
  return received.bytes.subarray(at, end);
}

/**
 * Plays the client's lines to a fresh server: each run of `C:` lines in one write, then
 * reads as many frames as the next run of `S:` lines shows. After its last lines the client
 * half-closes (unless the server is the one to close) and reads to the end, so anything the
 * server sends beyond the example is caught too.
 */
async function play(example: Example): Promise<Transcript> {
  const served = await startServer({}, { tls: false });
  try {
    await setUp(served.root);
    const socket = net.connect(served.port, "127.0.0.1");
    socket.setNoDelay(true);
    socket.on("error", () => {});
    await once(socket, "connect");
    const received = new Received(socket);
    const deadline = Date.now() + EXAMPLE_DEADLINE_MS;
    const runs: Buffer[][] = [];
    let consumed = 0;
    try {
      const all = runsOf(example.lines);
      const serverCloses = example.lines.some((l) => l.side === "S" && l.kind === "close");
      const lastClient = all.findLastIndex((run) => run[0]?.side === "C");
      for (const [i, run] of all.entries()) {
        if (run[0]?.side === "C") {
          socket.write(bytesOf(run));
          // Nothing more to send: half-close now, so the server closes once it has answered
          // everything, and a reply shorter than the example ends the wait at once.
          if (run.some((l) => l.kind === "close") || (i === lastClient && !serverCloses)) {
            socket.end();
          }
          continue;
        }
        const frames: Buffer[] = [];
        for (const line of run) {
          if (line.kind === "close" || consumed >= received.bytes.length) {
            if (line.kind === "close") continue;
            await received.waitFor(consumed + 1, deadline);
            if (consumed >= received.bytes.length) break; // the server sent nothing more
          }
          const frame = await nextFrame(received, consumed, deadline);
          frames.push(maskVersion(frame));
          consumed += frame.length;
        }
        runs.push(frames);
      }
      await received.waitFor(Number.POSITIVE_INFINITY, deadline);
      return { runs, extra: received.bytes.subarray(consumed), closed: received.ended };
    } finally {
      socket.destroy();
    }
  } finally {
    await served.stop();
  }
}

/**
 * A file's version token (§8.7) depends on its inode and change time, which no set-up can fix:
 * §12.0 writes it as 16 `x`, and any 16 lowercase hex digits in a control frame's `version`
 * field stand for it. The length is unchanged, so the frame header still holds.
 */
function maskVersion(frame: Buffer): Buffer {
  if (frame[8] !== 0x7b) return frame; // not a control frame (its payload starts with "{")
  const text = frame.toString("utf8");
  const masked = text.replace(/"version":"[0-9a-f]{16}"/g, `"version":"${"x".repeat(16)}"`);
  return masked === text ? frame : Buffer.from(masked, "utf8");
}

/** The example as written, and the transcript as the server played it, in the notation. */
function render(example: Example, transcript: Transcript): { expected: string; actual: string } {
  const expected: string[] = [];
  const actual: string[] = [];
  const all = runsOf(example.lines);
  const lastServer = all.findLastIndex((run) => run[0]?.side === "S");
  let s = 0;
  for (const [i, run] of all.entries()) {
    for (const line of run) expected.push(`${line.side}: ${line.text}`);
    if (run[0]?.side === "C") {
      for (const line of run) actual.push(`C: ${line.text}`);
      continue;
    }
    for (const frame of transcript.runs[s] ?? []) {
      for (const text of renderBytes(frame)) actual.push(`S: ${text}`);
    }
    if (i === lastServer) {
      for (const text of renderBytes(transcript.extra)) actual.push(`S: ${text}`);
      if (transcript.closed && run.some((l) => l.kind === "close")) actual.push("S: <close>");
    }
    s++;
  }
  return { expected: expected.join("\n"), actual: actual.join("\n") };
}

test("PROTOCOL.md has the worked examples a newcomer needs", () => {
  const names = examples.map((e) => e.name);
  assert.equal(new Set(names).size, names.length, `example names repeat: ${names.join(", ")}`);
  for (const op of ["HELLO", "GET", "PUT", "LIST", "HASH", "RESUME", "ABORT"]) {
    assert.ok(
      examples.some((e) => e.lines.some((l) => l.side === "C" && l.text.includes(`"op":"${op}"`))),
      `no example sends ${op}`,
    );
  }
  // A server-side error trailer: an error object right after the server's terminator.
  assert.ok(
    examples.some((e) =>
      e.lines.some(
        (l, i) =>
          l.side === "S" && l.text.includes('"ok":false') && e.lines[i - 1]?.text === "00000000",
      ),
    ),
    "no example shows an error trailer from the server",
  );
});

test("every C:/S: line of PROTOCOL.md is inside a checked example", () => {
  const inBlocks = examples.reduce((n, e) => n + e.lines.length, 0);
  const everywhere = spec.split("\n").filter((l) => /^[CS]: /.test(l)).length;
  assert.equal(everywhere, inBlocks, "a C:/S: line outside a bftp-example block is never checked");
});

test("the notation: a wrong header, a bad line and a one-byte edit are all caught", () => {
  assert.throws(() => parseLine('S: 0000000c{"ok":true}', "x"), /header says 12/);
  assert.throws(() => parseLine("X: 00000000", "x"), /must start with/);
  const line = parseLine('C: 00000004<4 bytes of "ab">', "x");
  assert.ok(line.kind === "bytes" && line.bytes.toString() === "00000004abab");
  // The rendering reads back as the same bytes, so a refreshed example is exact.
  const frames = Buffer.from('0000000b{"ok":true}00000000' + "00000020" + "a".repeat(32));
  const rendered = renderBytes(frames).map((t) => parseLine(`S: ${t}`, "x"));
  assert.deepEqual(
    Buffer.concat(rendered.map((l) => (l.kind === "bytes" ? l.bytes : Buffer.alloc(0)))),
    frames,
  );
});

test("the checksums quoted in PROTOCOL.md are right", () => {
  assert.equal(zlib.crc32("123456789").toString(16), "cbf43926");
  assert.match(spec, /crc32\("123456789"\) = cbf43926/);
  assert.equal(zlib.crc32("hello world").toString(16).padStart(8, "0"), "0d4a1185");
});

test("the examples' server string is this build's version", () => {
  for (const e of examples) {
    for (const line of e.lines) {
      const version = /"server":"bftp\/([^"]+)"/.exec(line.text)?.[1];
      if (version !== undefined) assert.equal(version, pkg.version, `example ${e.name}`);
    }
  }
});

let printed: string[] = [];
before(() => {
  printed = [];
});
after(() => {
  // On stderr: the test runner turns stdout into escaped comments.
  if (PRINT) process.stderr.write(`${printed.join("\n\n")}\n`);
});

for (const example of examples) {
  test(`PROTOCOL.md example "${example.name}" (line ${example.line}) is what the server sends, byte for byte`, async () => {
    const transcript = await play(example);
    const { expected, actual } = render(example, transcript);
    if (PRINT) printed.push(`\`\`\`bftp-example ${example.name}\n${actual}\n\`\`\``);
    const where = `example "${example.name}" at PROTOCOL.md line ${example.line}`;
    assert.equal(actual, expected, `${where}: the server's bytes differ (actual, then expected)`);
    const runs = runsOf(example.lines).filter((r) => r[0]?.side === "S");
    runs.forEach((run, i) => {
      const sent = Buffer.concat(transcript.runs[i] ?? []);
      assert.ok(sent.equals(bytesOf(run)), `${where}: server run ${i + 1} differs`);
    });
    assert.equal(transcript.extra.length, 0, `${where}: the server sent more than the example`);
    assert.equal(transcript.closed, true, `${where}: the server did not close`);
  });
}
