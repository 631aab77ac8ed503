import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { testUser, usersFile } from "../../helpers/test-users.js";
import {
  OPEN_MODE,
  STATUS,
  call,
  connectSftp,
  rejectsWithStatus,
  startSftpServer,
  type SftpTestClient,
  type SftpTestServer,
} from "../../helpers/sftp-server.js";
import type { OpenMode } from "ssh2";
import { setTimeout as sleep } from "node:timers/promises";

let server: SftpTestServer;

/** Run again against an object store by s3-sftp.test.ts (BFTP_TEST_BACKEND=s3). */
const onS3 = process.env["BFTP_TEST_BACKEND"] === "s3";
let c: SftpTestClient;

before(async () => {
  server = await startSftpServer();
  c = await connectSftp(server.port, server.hostKey);
});
after(async () => {
  await c.end();
  await server.stop();
});

const sha = (data: Buffer): string => createHash("sha256").update(data).digest("hex");

/** Writes `data` through an open handle in `piece`-sized WRITEs, all in flight at once. */
async function writeAll(handle: Buffer, data: Buffer, piece = 32 * 1024): Promise<void> {
  const writes: Promise<void>[] = [];
  for (let at = 0; at < data.length; at += piece) {
    const part = data.subarray(at, Math.min(at + piece, data.length));
    writes.push(
      call((cb) => {
        c.sftp.write(handle, part, 0, part.length, at, cb);
      }),
    );
  }
  await Promise.all(writes);
}

async function upload(name: string, data: Buffer, flags: OpenMode = "w"): Promise<void> {
  const handle = await call<Buffer>((cb) => {
    c.sftp.open(name, flags, cb);
  });
  await writeAll(handle, data);
  await call((cb) => {
    c.sftp.close(handle, cb);
  });
}

async function download(name: string): Promise<Buffer> {
  const handle = await call<Buffer>((cb) => {
    c.sftp.open(name, "r", cb);
  });
  const parts: Buffer[] = [];
  for (let at = 0; ;) {
    const buf = Buffer.alloc(64 * 1024);
    const n = await call<number>((cb) => {
      c.sftp.read(handle, buf, 0, buf.length, at, (err, bytes) => {
        cb(err, bytes);
      });
    });
    if (n === 0) break;
    parts.push(buf.subarray(0, n));
    at += n;
  }
  await call((cb) => {
    c.sftp.close(handle, cb);
  });
  return Buffer.concat(parts);
}

test("a file goes up and comes back byte for byte, with 64 writes in flight", async () => {
  const data = randomBytes(5 * 1024 * 1024 + 123);
  await upload("/big.bin", data);
  assert.equal(sha(await server.files.read("big.bin")), sha(data));
  assert.equal(sha(await download("/big.bin")), sha(data));
  const stats = await call<{ size: number }>((cb) => {
    c.sftp.stat("/big.bin", cb);
  });
  assert.equal(stats.size, data.length);
});

test("an upload is invisible until CLOSE, and a dropped session leaves the old file", async () => {
  await server.files.write("keep.txt", "old content");
  const other = await connectSftp(server.port, server.hostKey);
  const handle = await call<Buffer>((cb) => {
    other.sftp.open("/keep.txt", "w", cb);
  });
  const part = Buffer.alloc(100_000, 7);
  await call((cb) => {
    other.sftp.write(handle, part, 0, part.length, 0, cb);
  });
  // Written, not closed: the name still shows the old file, and no new name appeared.
  assert.equal(await server.files.text("keep.txt"), "old content");
  const fresh = await call<Buffer>((cb) => {
    other.sftp.open("/new-never.txt", "w", cb);
  });
  await call((cb) => {
    other.sftp.write(fresh, part, 0, part.length, 0, cb);
  });
  assert.equal(await server.files.exists("new-never.txt"), false);
  other.client.destroy(); // the connection drops with both uploads open
  // The server notices the drop and removes both uploads (10 s deadline).
  for (let i = 0; (await server.files.staged()).length > 0; i++) {
    assert.ok(i < 1000, "the dropped uploads were not removed within 10 s");
    await sleep(10);
  }
  assert.equal(await server.files.text("keep.txt"), "old content");
  assert.equal(await server.files.exists("new-never.txt"), false);
});

test("CLOSE refuses an upload with a hole, and keeps the old file", async () => {
  await server.files.write("holes.txt", "before");
  const handle = await call<Buffer>((cb) => {
    c.sftp.open("/holes.txt", "w", cb);
  });
  const part = Buffer.alloc(1000, 1);
  await call((cb) => {
    c.sftp.write(handle, part, 0, part.length, 0, cb);
  });
  await call((cb) => {
    c.sftp.write(handle, part, 0, part.length, 5000, cb);
  }); // 1000-5000 never written
  await rejectsWithStatus(
    call((cb) => {
      c.sftp.close(handle, cb);
    }),
    STATUS.FAILURE,
    "BFTP_ERR_SIZE_MISMATCH",
  );
  assert.equal(await server.files.text("holes.txt"), "before");
  assert.deepEqual(await server.files.staged(), []);
});

test("writes may arrive out of order: the file is whole when they cover it", async () => {
  const data = randomBytes(10_000);
  const handle = await call<Buffer>((cb) => {
    c.sftp.open("/shuffled.bin", "w", cb);
  });
  for (const at of [6000, 0, 8000, 2000, 4000]) {
    const part = data.subarray(at, at + 2000);
    await call((cb) => {
      c.sftp.write(handle, part, 0, part.length, at, cb);
    });
  }
  await call((cb) => {
    c.sftp.close(handle, cb);
  });
  assert.equal(sha(await server.files.read("shuffled.bin")), sha(data));
});

test(
  "open without TRUNC rewrites part of a file; APPEND adds at the end",
  {
    skip:
      onS3 && "an object store replaces whole objects (BFTP_ERR_NOT_SUPPORTED; docs/scale-out.md)",
  },
  async () => {
    await server.files.write("part.txt", "0123456789");
    const handle = await call<Buffer>((cb) => {
      c.sftp.open("/part.txt", OPEN_MODE.WRITE, cb);
    });
    await call((cb) => {
      c.sftp.write(handle, Buffer.from("ab"), 0, 2, 3, cb);
    });
    await call((cb) => {
      c.sftp.close(handle, cb);
    });
    assert.equal(await server.files.text("part.txt"), "012ab56789");
    const appending = await call<Buffer>((cb) => {
      c.sftp.open("/part.txt", "a", cb);
    });
    await call((cb) => {
      c.sftp.write(appending, Buffer.from("XY"), 0, 2, 0, cb);
    });
    await call((cb) => {
      c.sftp.close(appending, cb);
    });
    assert.equal(await server.files.text("part.txt"), "012ab56789XY");
  },
);

test("EXCL refuses an existing name; RENAME refuses an existing target", async () => {
  await server.files.write("there.txt", "x");
  await rejectsWithStatus(
    call<Buffer>((cb) => {
      c.sftp.open("/there.txt", "wx", cb);
    }),
    STATUS.FAILURE,
    "BFTP_ERR_EXISTS",
  );
  await server.files.write("from.txt", "y");
  await rejectsWithStatus(
    call((cb) => {
      c.sftp.rename("/from.txt", "/there.txt", cb);
    }),
    STATUS.FAILURE,
    "BFTP_ERR_EXISTS",
  );
  await call((cb) => {
    c.sftp.rename("/from.txt", "/moved.txt", cb);
  });
  assert.equal(await server.files.text("moved.txt"), "y");
  assert.equal(await server.files.text("there.txt"), "x");
});

test("SETSTAT sets a file's times (scp -p, rclone); FSETSTAT before CLOSE applies at commit", async () => {
  await server.files.write("t.txt", "t");
  const mtime = 1_577_934_245; // 2020-01-02
  await call((cb) => {
    c.sftp.utimes("/t.txt", mtime, mtime, cb);
  });
  assert.equal(await server.files.mtime("t.txt"), mtime * 1000);
  const handle = await call<Buffer>((cb) => {
    c.sftp.open("/u.txt", "w", cb);
  });
  await call((cb) => {
    c.sftp.write(handle, Buffer.from("u"), 0, 1, 0, cb);
  });
  await call((cb) => {
    c.sftp.futimes(handle, mtime, mtime + 60, cb);
  });
  await call((cb) => {
    c.sftp.close(handle, cb);
  });
  assert.equal(await server.files.mtime("u.txt"), (mtime + 60) * 1000);
  const attrs = await call<{ mtime: number }>((cb) => {
    c.sftp.stat("/u.txt", cb);
  });
  assert.equal(attrs.mtime, mtime + 60);
  // No owner changes: refused, not ignored.
  await rejectsWithStatus(
    call((cb) => {
      c.sftp.chown("/t.txt", 0, 0, cb);
    }),
    STATUS.PERMISSION_DENIED,
    "BFTP_ERR_PERMISSION_DENIED",
  );
});

test("folders: MKDIR, READDIR in pages of 100 with reserved names hidden, RMDIR, REMOVE", async () => {
  await call((cb) => {
    c.sftp.mkdir("/many", cb);
  });
  for (let i = 0; i < 250; i++) await server.files.write(`many/f${i}`, "");
  if (!onS3) await fs.writeFile(path.join(server.root, "many", ".bftp-hidden"), "");
  const names = await call<{ filename: string; longname: string }[]>((cb) => {
    c.sftp.readdir("/many", cb);
  });
  assert.equal(names.length, 250);
  assert.ok(names.every((n) => n.filename.startsWith("f") && n.longname.startsWith("-rw")));
  await rejectsWithStatus(
    call((cb) => {
      c.sftp.rmdir("/many", cb);
    }),
    STATUS.FAILURE,
    "BFTP_ERR_NOT_EMPTY",
  );
  await call((cb) => {
    c.sftp.unlink("/many/f0", cb);
  });
  await rejectsWithStatus(
    call((cb) => {
      c.sftp.unlink("/many/f0", cb);
    }),
    STATUS.NO_SUCH_FILE,
    "BFTP_ERR_NOT_FOUND",
  );
  await call((cb) => {
    c.sftp.mkdir("/empty", cb);
  });
  await call((cb) => {
    c.sftp.rmdir("/empty", cb);
  });
  assert.equal(await server.files.exists("empty"), false);
});

test("REALPATH answers virtual paths: the account's root is /", async () => {
  const [dot] = await call<string[]>((cb) => {
    c.sftp.realpath(".", (err, p) => {
      cb(err, [p]);
    });
  });
  assert.equal(dot, "/");
  const [deep] = await call<string[]>((cb) => {
    c.sftp.realpath("a/b/../c", (err, p) => {
      cb(err, [p]);
    });
  });
  assert.equal(deep, "/a/c");
});

test("accounts: a read-only account cannot write; write without delete cannot replace", async () => {
  const users = usersFile(
    await testUser("reader", "pw-reader", { permissions: ["read"] }),
    await testUser("dropbox", "pw-drop", { permissions: ["write"] }),
  );
  const s = await startSftpServer({ accounts: { users }, limits: { loginDelayMs: 10 } });
  try {
    await s.files.write("exists.txt", "old");
    const reader = await connectSftp(s.port, s.hostKey, {
      username: "reader",
      password: "pw-reader",
    });
    await rejectsWithStatus(
      call<Buffer>((cb) => {
        reader.sftp.open("/new.txt", "w", cb);
      }),
      STATUS.PERMISSION_DENIED,
      "BFTP_ERR_FORBIDDEN",
    );
    await rejectsWithStatus(
      call((cb) => {
        reader.sftp.unlink("/exists.txt", cb);
      }),
      STATUS.PERMISSION_DENIED,
      "BFTP_ERR_FORBIDDEN",
    );
    await reader.end();
    const drop = await connectSftp(s.port, s.hostKey, { username: "dropbox", password: "pw-drop" });
    const handle = await call<Buffer>((cb) => {
      drop.sftp.open("/new.txt", "w", cb);
    });
    await call((cb) => {
      drop.sftp.write(handle, Buffer.from("n"), 0, 1, 0, cb);
    });
    await call((cb) => {
      drop.sftp.close(handle, cb);
    });
    assert.equal(await s.files.text("new.txt"), "n");
    await rejectsWithStatus(
      call<Buffer>((cb) => {
        drop.sftp.open("/exists.txt", "w", cb);
      }),
      STATUS.PERMISSION_DENIED,
      "BFTP_ERR_FORBIDDEN",
    );
    assert.equal(await s.files.text("exists.txt"), "old");
    await drop.end();
  } finally {
    await s.stop();
  }
});

test("a wrong password is refused after the login delay, like an unknown name", async () => {
  const users = usersFile(await testUser("alice", "right"));
  const delay = 300;
  const s = await startSftpServer({ accounts: { users }, limits: { loginDelayMs: delay } });
  try {
    for (const [username, password] of [
      ["alice", "wrong"],
      ["nobody", "whatever"],
    ] as const) {
      const started = Date.now();
      await assert.rejects(connectSftp(s.port, s.hostKey, { username, password }), {
        level: "client-authentication",
      });
      assert.ok(Date.now() - started >= delay, `${username}: refused before the delay`);
    }
    const ok = await connectSftp(s.port, s.hostKey, { username: "alice", password: "right" });
    await ok.end();
  } finally {
    await s.stop();
  }
});
