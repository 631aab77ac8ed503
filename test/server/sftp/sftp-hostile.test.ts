// Issue 14's acceptance: "The hostile SFTP tests pass: nothing outside the root is read,
// written, listed or linked; the server stays up." The path corpus of the BFTP battery
// through every SFTP request that takes a path, links planted and created pointing out,
// huge READ lengths, thousands of outstanding requests, and malformed packets.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import type { SFTPWrapper } from "ssh2";
import { snapshotTree } from "../../fixtures/tree-snapshot.js";
import { probeAtime, readWithoutAtime } from "../../helpers/canary.js";
import { PLANTED_LINKS, hostilePaths } from "../../helpers/hostile-paths.js";
import { RawSftp, T, packet, sftpString, statusOf, u32, u64 } from "../../helpers/raw-sftp.js";
import {
  STATUS,
  call,
  connectSftp,
  connectSsh,
  rawSubsystem,
  sftpStatus,
  startSftpServer,
  type SftpTestServer,
} from "../../helpers/sftp-server.js";

const MARKER = `bftp-canary-${randomUUID()}`;

let server: SftpTestServer;
let canary: string;
let canaryAtime = 0;
let atimeShowsReads = false;
let outsideBefore: string[] = [];

before(async () => {
  server = await startSftpServer();
  canary = path.join(server.outside, "canary.txt");
  await fs.writeFile(canary, `${MARKER}\n`);
  await fs.mkdir(path.join(server.outside, "dir"));
  await fs.writeFile(path.join(server.outside, "dir", "inner.txt"), MARKER);
  await fs.mkdir(path.join(server.root, "sub"));
  await fs.mkdir(path.join(server.root, "inside"));
  await fs.writeFile(path.join(server.root, "inside", "file.txt"), "inside");
  await fs.symlink(path.join(server.root, "inside"), path.join(server.root, "link-inside"));
  for (const [name, target] of Object.entries(PLANTED_LINKS)) {
    await fs.symlink(target.replace("OUTSIDE", server.outside), path.join(server.root, name));
  }
  atimeShowsReads = await probeAtime(server.outside);
  await fs.utimes(canary, new Date("2020-01-01"), new Date("2020-01-01"));
  canaryAtime = (await fs.stat(canary)).atimeMs;
  outsideBefore = await snapshotTree(path.dirname(server.root), server.root);
});

after(async () => {
  await server.stop();
});

/** Paths through the planted links, and one link that stays inside. */
const LINK_PATHS = [
  ...Object.keys(PLANTED_LINKS),
  "link-to-outside-dir/canary.txt",
  "link-to-outside-dir/new.txt",
  "link-to-outside-dir/dir",
  "relative-out/x",
  "dangling/x",
  "loop-a/x",
  "sub/deep-out/canary.txt",
  "sub/deep-out/new.txt",
  "link-inside/file.txt",
];
const CORPUS = [...new Set([...hostilePaths(), ...LINK_PATHS])];

/** One request's outcome: its value, or the SFTP status it failed with. */
type Outcome = { ok: true; value: unknown } | { ok: false; code: number; message: string };

async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    return { ok: false, ...sftpStatus(err) };
  }
}

/** Every request that takes a path, for one input; bytes read come back to be checked. */
function requests(sftp: SFTPWrapper, input: string, i: number): Promise<Outcome>[] {
  const readAll = async (): Promise<string> => {
    const handle = await call<Buffer>((cb) => {
      sftp.open(input, "r", cb);
    });
    const buf = Buffer.alloc(4096);
    const n = await call<number>((cb) => {
      sftp.read(handle, buf, 0, buf.length, 0, (e, b) => {
        cb(e, b);
      });
    });
    await call((cb) => {
      sftp.close(handle, cb);
    });
    return buf.subarray(0, n).toString("utf8");
  };
  const writeOne = async (): Promise<void> => {
    const handle = await call<Buffer>((cb) => {
      sftp.open(input, "w", cb);
    });
    const data = Buffer.from(`written by hostile input ${i}\n`);
    await call((cb) => {
      sftp.write(handle, data, 0, data.length, 0, cb);
    });
    await call((cb) => {
      sftp.close(handle, cb);
    });
  };
  const list = async (): Promise<string> => {
    const names = await call<{ filename: string }[]>((cb) => {
      sftp.readdir(input, cb);
    });
    return names.map((n) => n.filename).join("\n");
  };
  return [
    outcome(
      call((cb) => {
        sftp.stat(input, cb);
      }),
    ),
    outcome(
      call((cb) => {
        sftp.lstat(input, cb);
      }),
    ),
    outcome(readAll()),
    outcome(writeOne()),
    outcome(list()),
    outcome(
      call((cb) => {
        sftp.mkdir(input, cb);
      }),
    ),
    outcome(
      call((cb) => {
        sftp.utimes(input, 1, 1, cb);
      }),
    ),
    outcome(
      call((cb) => {
        sftp.chmod(input, 0o777, cb);
      }),
    ),
    outcome(
      call((cb) => {
        sftp.readlink(input, cb);
      }),
    ),
    outcome(
      call((cb) => {
        sftp.realpath(input, cb);
      }),
    ),
    outcome(
      call((cb) => {
        sftp.rename(input, `/renamed-${i}`, cb);
      }),
    ),
    outcome(
      call((cb) => {
        sftp.rename(`/source-${i}`, input, cb);
      }),
    ),
    outcome(
      call((cb) => {
        sftp.unlink(input, cb);
      }),
    ),
    outcome(
      call((cb) => {
        sftp.rmdir(input, cb);
      }),
    ),
    outcome(
      call((cb) => {
        sftp.symlink(`${server.outside}/canary.txt`, input, cb);
      }),
    ),
    outcome(
      call((cb) => {
        sftp.symlink(input, `/made-link-${i}`, cb);
      }),
    ),
  ];
}

test("planted links that lead out: described as links, never followed", async () => {
  const c = await connectSftp(server.port, server.hostKey);
  try {
    const lstat = await call<{ mode: number }>((cb) => {
      c.sftp.lstat("/link-to-outside-file", cb);
    });
    assert.equal(lstat.mode & 0o170000, 0o120000, "LSTAT describes the link itself");
    for (const p of [
      "/link-to-outside-file",
      "/link-to-outside-dir",
      "/relative-out",
      "/sub/deep-out",
    ]) {
      const stat = await outcome(
        call((cb) => {
          c.sftp.stat(p, cb);
        }),
      );
      assert.equal(stat.ok ? 0 : stat.code, STATUS.PERMISSION_DENIED, `STAT ${p}`);
      const link = await outcome(
        call((cb) => {
          c.sftp.readlink(p, cb);
        }),
      );
      assert.equal(link.ok ? 0 : link.code, STATUS.PERMISSION_DENIED, `READLINK ${p}`);
    }
    const inside = await call<string>((cb) => {
      c.sftp.readlink("/link-inside", cb);
    });
    assert.equal(inside, "/inside");
  } finally {
    await c.end();
  }
});

test("the path corpus through every SFTP request: refused with a code, or inside the root", async () => {
  assert.ok(CORPUS.length >= 100);
  const c = await connectSftp(server.port, server.hostKey);
  let refusals = 0;
  try {
    for (let start = 0; start < CORPUS.length; start += 25) {
      const batch = CORPUS.slice(start, start + 25);
      for (const j of batch.keys()) {
        await fs.writeFile(path.join(server.root, `source-${start + j}`), "source");
      }
      const results = await Promise.all(
        batch.map((input, j) => Promise.all(requests(c.sftp, input, start + j))),
      );
      for (const [j, outcomes] of results.entries()) {
        for (const o of outcomes) {
          const where = `input ${JSON.stringify(batch[j])}`;
          if (!o.ok) {
            refusals++;
            // Every refusal names a stable code (or is the client's own check of a reply).
            assert.ok(o.code > 0, `${where}: status ${o.code}`);
            assert.match(
              o.message,
              /^(BFTP_ERR_[A-Z_]+: |No such file|Permission denied|Failure)/u,
              where,
            );
            continue;
          }
          const text = typeof o.value === "string" ? o.value : JSON.stringify(o.value ?? "");
          assert.ok(!text.includes(MARKER), `${where}: the canary's bytes came back`);
          assert.ok(!text.includes(server.outside), `${where}: a real path outside came back`);
        }
      }
    }
  } finally {
    await c.end();
  }
  assert.ok(refusals > CORPUS.length, "the corpus was refused somewhere");
  // Nothing outside changed, was added, or was read; no link was made anywhere.
  assert.deepEqual(await snapshotTree(path.dirname(server.root), server.root), outsideBefore);
  assert.equal(await readWithoutAtime(canary), `${MARKER}\n`);
  if (atimeShowsReads) assert.equal((await fs.stat(canary)).atimeMs, canaryAtime);
  const made = (await fs.readdir(server.root)).filter((n) => n.startsWith("made-link-"));
  assert.deepEqual(made, []);
});

test("a READ asking for 4 GiB gets at most 255 KiB; the server stays up", async () => {
  await fs.writeFile(path.join(server.root, "large.bin"), Buffer.alloc(1024 * 1024, 1));
  const client = await connectSsh(server.port, server.hostKey);
  try {
    const raw = new RawSftp(await rawSubsystem(client));
    await raw.init();
    raw.write(packet(T.OPEN, u32(1), sftpString("/large.bin"), u32(1), u32(0)));
    const [handle] = await raw.take(1);
    assert.equal(handle?.type, T.HANDLE);
    const h = handle.body.subarray(4, 4 + handle.body.readUInt32BE(0));
    raw.write(packet(T.READ, u32(2), sftpString(h), u64(0), u32(0xffffffff)));
    const [data] = await raw.take(1);
    assert.equal(data?.type, T.DATA);
    const length = data.body.readUInt32BE(0);
    assert.ok(length > 0 && length <= 255 * 1024, `answered ${length} bytes`);
  } finally {
    client.end();
  }
});

test("20,000 requests sent at once are all answered, in order; the server stays up", async () => {
  const client = await connectSsh(server.port, server.hostKey);
  const count = 20_000;
  try {
    const raw = new RawSftp(await rawSubsystem(client));
    await raw.init();
    const packets: Buffer[] = [];
    for (let id = 1; id <= count; id++)
      packets.push(packet(T.STAT, u32(id), sftpString(`/n${id}`)));
    raw.write(Buffer.concat(packets));
    const answers = await raw.take(count, 120_000);
    assert.equal(answers.length, count);
    assert.deepEqual(
      answers.map((a) => a.id),
      Array.from({ length: count }, (_, i) => i + 1),
      "answers in request order",
    );
    for (const a of answers) {
      assert.equal(a.type, T.STATUS);
      const { code, message } = statusOf(a);
      // Missing, or refused while too many waited: either way a coded status.
      assert.ok([STATUS.NO_SUCH_FILE, STATUS.FAILURE].map(Number).includes(code), message);
      assert.match(message, /^BFTP_ERR_(NOT_FOUND|BUSY): /u);
    }
  } finally {
    client.end();
  }
  const after = await connectSftp(server.port, server.hostKey);
  await call((cb) => {
    after.sftp.stat("/", cb);
  });
  await after.end();
});

test("malformed packets close the channel; the server stays up", async () => {
  const cases: readonly [string, Buffer][] = [
    ["length 0", u32(0)],
    ["length over 256 KiB", Buffer.concat([u32(300 * 1024), Buffer.alloc(16)])],
    ["unknown type", packet(99, u32(1))],
    ["OPEN cut short", packet(T.OPEN, u32(1), u32(1000))],
    ["READ with no handle", packet(T.READ, u32(2))],
    ["a second INIT", packet(T.INIT, u32(3))],
  ];
  for (const [name, bytes] of cases) {
    const client = await connectSsh(server.port, server.hostKey);
    try {
      const raw = new RawSftp(await rawSubsystem(client));
      await raw.init();
      raw.write(bytes);
      await raw.untilClosed().catch((err: unknown) => {
        throw new Error(`${name}: ${String(err)}`);
      });
    } finally {
      client.end();
    }
  }
  const ok = await connectSftp(server.port, server.hostKey);
  await call((cb) => {
    ok.sftp.stat("/", cb);
  });
  await ok.end();
});

test("bytes that are not SSH end the connection at the handshake deadline; the server stays up", async () => {
  const net = await import("node:net");
  const strict = await startSftpServer({ limits: { handshakeTimeoutMs: 200 } });
  const socket = net.connect(strict.port, "127.0.0.1");
  await new Promise<void>((resolve) =>
    socket.once("connect", () => {
      resolve();
    }),
  );
  socket.on("error", () => undefined);
  socket.resume(); // read what the server sends, so its close reaches us
  socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(100));
  await new Promise<void>((resolve) =>
    socket.once("close", () => {
      resolve();
    }),
  );
  const ok = await connectSftp(strict.port, strict.hostKey);
  await call((cb) => {
    ok.sftp.stat("/", cb);
  });
  await ok.end();
  await strict.stop();
});
