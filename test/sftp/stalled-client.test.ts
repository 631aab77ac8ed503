// Issue 14, item 5: "a client that stops reading; window exhaustion": a client that asks for
// far more than it reads must not make the server hold it. `bftp serve --sftp` runs as its
// own process, so its memory is its own (/proc/PID/status); the client asks for 200 MiB in
// 800 READs of 255 KiB and reads nothing. The server stops at the client's SSH window and
// its own cap of unsent answers, and stops reading requests, so its memory stays flat; when
// the client reads again, every answer arrives, in order.
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, test } from "node:test";
import { loadOrCreateHostKey } from "../../src/server/sftp/host-key.js";
import { sftpEndpoint } from "../helpers/openssh.js";
import { RawSftp, T, packet, sftpString, u32, u64 } from "../helpers/raw-sftp.js";
import { connectSsh, rawSubsystem } from "../helpers/sftp-server.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

let base: string;
let serve: ServeProcess;
let port: number;
let config: string;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-stalled-")));
  config = path.join(base, "config");
  const served = path.join(base, "served");
  await fs.mkdir(served);
  // Sparse: 256 MiB of zeros that take no disk.
  const handle = await fs.open(path.join(served, "big.bin"), "w");
  await handle.truncate(256 * 1024 * 1024);
  await handle.close();
  serve = await spawnServe(served, ["--config-dir", config, "--sftp-port", "0"]);
  port = (await sftpEndpoint(serve, config, base)).port;
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

async function rssOf(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+) kB/mu.exec(status)?.[1];
  return Number(kb) * 1024;
}

test("a client that asks for 200 MiB and reads nothing costs the server little memory", async () => {
  const pid = serve.child.pid ?? 0;
  const hostKey = await loadOrCreateHostKey(config);
  const client = await connectSsh(port, hostKey);
  try {
    const raw = new RawSftp(await rawSubsystem(client));
    await raw.init();
    raw.write(packet(T.OPEN, u32(1), sftpString("/big.bin"), u32(1), u32(0)));
    const [opened] = await raw.take(1);
    assert.equal(opened?.type, T.HANDLE);
    const handle = opened.body.subarray(4, 4 + opened.body.readUInt32BE(0));
    const before = await rssOf(pid);
    raw.pause(); // from here the client reads nothing: its window closes, answers pile up
    const reads = 800;
    const piece = 255 * 1024;
    const packets: Buffer[] = [];
    for (let i = 0; i < reads; i++) {
      packets.push(packet(T.READ, u32(2 + i), sftpString(handle), u64(i * piece), u32(piece)));
    }
    raw.write(Buffer.concat(packets));
    // Watch the server for 3 s while it could only grow: the largest it gets is what counts.
    let peak = before;
    for (let i = 0; i < 30; i++) {
      await sleep(100);
      peak = Math.max(peak, await rssOf(pid));
    }
    const grew = peak - before;
    assert.ok(grew < 64 * 1024 * 1024, `the server grew by ${Math.round(grew / 1048576)} MiB`);
    raw.resume();
    const answers = await raw.take(reads, 120_000);
    assert.equal(answers.length, reads);
    for (const [i, a] of answers.entries()) {
      assert.equal(a.id, 2 + i);
      assert.equal(a.type, T.DATA);
      assert.equal(a.body.readUInt32BE(0), piece);
    }
  } finally {
    client.end();
  }
});
