import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { jsonOf, runCli, type CliResult } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";
import { crc32 } from "../helpers/protocol-connection.js";

// Issue 11, item 2, as a user meets it: two `bftp put` of different files to one remote path
// at the same time (resumable, as put uploads by default). Without --overwrite exactly one
// exits 0 and the other exits 1 with BFTP_ERR_EXISTS; with it both exit 0. Each time the
// remote file is exactly one client's bytes, and a client told "uploaded" reports the
// checksum of its own bytes. test/server/issue-11-concurrent-uploads.test.ts runs 50 rounds
// of each with the client library; CLI processes take ~0.3 s to start, so 5 rounds here.

const ROUNDS = 5;

let base: string;
let served: string;
let work: string;
let serve: ServeProcess;
let url: string;
const local: [Buffer, Buffer] = [
  randomBytes(3 * 1024 * 1024 + 1),
  randomBytes(2 * 1024 * 1024 + 3),
];

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-put-race-")));
  served = path.join(base, "served");
  work = path.join(base, "work");
  await fs.mkdir(served);
  await fs.mkdir(work);
  serve = await spawnServe(served, ["--temp-dir", path.join(base, "temp")]);
  url = `bftp://127.0.0.1:${serve.port}`;
  await fs.writeFile(path.join(work, "one.bin"), local[0]);
  await fs.writeFile(path.join(work, "two.bin"), local[1]);
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

/** Both clients at once; resolves with their results, in order. */
function race(remote: string, extra: readonly string[]): Promise<CliResult[]> {
  return Promise.all(
    ["one.bin", "two.bin"].map((name) =>
      runCli(["put", "--json", ...extra, name, `${url}${remote}`], {
        cwd: work,
        timeout: 30_000,
      }),
    ),
  );
}

/** The checksum a successful `put --json` reports for its one file. */
function reported(result: CliResult): string {
  const [file] = jsonOf(result)["files"] as { checksum: { value: string } }[];
  return file?.checksum.value ?? "";
}

test(`${ROUNDS} rounds of two puts to one new path: one exits 0, the other 1 with BFTP_ERR_EXISTS`, async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const remote = `/new-${round}.bin`;
    const results = await race(remote, []);
    const codes = results.map((r) => r.code);
    const winner = codes.indexOf(0);
    assert.ok(
      winner >= 0 && codes.lastIndexOf(0) === winner,
      `round ${round}: exits ${codes.join(", ")}`,
    );
    const loser = results[1 - winner] as CliResult;
    assert.equal(loser.code, 1, `round ${round}: ${loser.stdout}${loser.stderr}`);
    assert.equal((jsonOf(loser)["error"] as { code: string }).code, "BFTP_ERR_EXISTS");
    const mine = local[winner] as Buffer;
    assert.equal(reported(results[winner] as CliResult), crc32(mine), `round ${round}`);
    const stored = await fs.readFile(path.join(served, remote));
    assert.ok(stored.equals(mine), `round ${round}: the file is the winner's bytes`);
  }
});

test(`${ROUNDS} rounds of two puts --overwrite to one path: both exit 0, the file is one of them`, async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const results = await race("/over.bin", ["--overwrite"]);
    for (const [i, result] of results.entries()) {
      assert.equal(result.code, 0, `round ${round}, client ${i}: ${result.stdout}${result.stderr}`);
      assert.equal(reported(result), crc32(local[i] as Buffer), `round ${round}, client ${i}`);
    }
    const stored = await fs.readFile(path.join(served, "over.bin"));
    assert.ok(
      local.some((l) => stored.equals(l)),
      `round ${round}: the file is exactly one client's bytes (${stored.length} bytes)`,
    );
  }
  const names = await fs.readdir(served);
  assert.deepEqual(
    names.filter((n) => n.startsWith(".")),
    [],
    "nothing but the uploaded files in the served folder",
  );
});
