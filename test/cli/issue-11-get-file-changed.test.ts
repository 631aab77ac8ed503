// Issue 11, item 1, through the CLI: `bftp get` of a file rewritten, truncated or appended
// while it is sent exited 0 and printed "saved" over a torn file. Now it exits 1 with
// BFTP_ERR_FILE_CHANGED, no file is saved under its own name, the partial stays, and
// `bftp get -c` afterwards ends with exactly the file as it is then. The server runs in this
// process so the change can be made from inside its read path, mid-way, every round.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { partialPath } from "../../src/client/partial-name.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { hookFileReads } from "../helpers/file-read-hook.js";
import { runCli } from "../helpers/run-cli.js";

const MiB = 1024 * 1024;
const SIZE = 8 * MiB;

let srv: TestServer;
let reads: Awaited<ReturnType<typeof hookFileReads>>;

before(async () => {
  srv = await startServer({}, { tls: false });
  reads = await hookFileReads(path.join(srv.outside, "probe"));
});

after(async () => {
  reads.restore();
  await srv.stop();
});

const CHANGES: readonly { kind: string; make: (file: string) => void }[] = [
  {
    kind: "rewritten",
    make: (file) => {
      fs.writeFileSync(file, randomBytes(SIZE));
    },
  },
  {
    kind: "truncated",
    make: (file) => {
      fs.truncateSync(file, SIZE / 4);
    },
  },
  {
    kind: "appended",
    make: (file) => {
      fs.appendFileSync(file, randomBytes(1000));
    },
  },
];

test("bftp get of a file changed mid-way exits 1 with FILE_CHANGED and saves nothing; -c then gets it whole", async () => {
  const file = path.join(srv.root, "moving.bin");
  const url = `bftp://127.0.0.1:${srv.port}/moving.bin`;
  for (const [round, change] of CHANGES.entries()) {
    const work = path.join(srv.outside, `work-${round}`);
    await fsp.mkdir(work);
    await fsp.writeFile(file, randomBytes(SIZE));
    reads.arm(
      () => {
        change.make(file);
      },
      (round + 2) * MiB,
    );
    const failed = await runCli(["get", url], { cwd: work });
    assert.ok(reads.fired(), change.kind);
    assert.equal(failed.code, 1, `${change.kind}: ${failed.stderr}`);
    assert.match(failed.stderr, /\(BFTP_ERR_FILE_CHANGED\)\n$/);
    assert.equal(failed.stdout, "");
    await assert.rejects(
      fsp.access(path.join(work, "moving.bin")),
      `${change.kind}: nothing saved`,
    );
    const part = partialPath(path.join(work, "moving.bin"));
    assert.ok((await fsp.stat(part)).size > 0, `${change.kind}: the partial is kept`);
    const resumed = await runCli(["get", "-c", url], { cwd: work });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.ok((await fsp.readFile(path.join(work, "moving.bin"))).equals(await fsp.readFile(file)));
    assert.deepEqual(await fsp.readdir(work), ["moving.bin"]);
  }
});
