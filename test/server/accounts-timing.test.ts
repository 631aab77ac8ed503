import assert from "node:assert/strict";
import { test } from "node:test";
import { assertError } from "../helpers/assert-reply.js";
import { startServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { testUser, usersFile } from "../helpers/test-users.js";

// Issue 7, acceptance: an unknown user costs the same as a wrong password. Measured over a
// real socket through LOGIN, with the failure delay at 0 (it would hide nothing: it is the
// same for both) and a moderate scrypt cost (N = 2^12, 4 MiB) so the hash dominates the round
// trip, as it does at the default cost. Medians of 200 samples each, interleaved so drift in
// the machine's load hits both alike; they must be within 10% of each other.

const SAMPLES = 200;
const WARM_UP = 10;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

test("LOGIN of an unknown user takes as long as a wrong password (medians within 10%)", async () => {
  const users = usersFile(
    await testUser("alice", "right password", { logN: 12 }),
    await testUser("bob", "another", { logN: 12 }),
  );
  const srv = await startServer(
    { loginDelayMs: 0, maxLoginFailures: 10_000 },
    { accounts: { users } },
  );
  const conn = await ProtocolConnection.open(srv.port);
  try {
    const attempt = async (user: string): Promise<number> => {
      const started = performance.now();
      const reply = await conn.request({ op: "LOGIN", user, password: "wrong password" });
      const elapsed = performance.now() - started;
      assertError(reply, "BFTP_ERR_LOGIN_FAILED");
      return elapsed;
    };
    for (let i = 0; i < WARM_UP; i++) {
      await attempt("alice");
      await attempt("nobody");
    }
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      // Alternate which goes first, so neither always follows the other.
      if (i % 2 === 0) {
        wrong.push(await attempt("alice"));
        unknown.push(await attempt(`nobody-${i}`));
      } else {
        unknown.push(await attempt(`nobody-${i}`));
        wrong.push(await attempt("alice"));
      }
    }
    const [w, u] = [median(wrong), median(unknown)];
    const ratio = u / w;
    console.log(
      `LOGIN timing over ${SAMPLES} samples each: wrong password median ${w.toFixed(2)} ms, unknown user median ${u.toFixed(2)} ms, ratio ${ratio.toFixed(3)}`,
    );
    assert.ok(ratio > 0.9 && ratio < 1.1, `unknown/wrong = ${ratio.toFixed(3)}`);
    // And both paid for a hash: far above a plain round trip on loopback.
    const noop: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      await conn.request({ op: "NOOP" });
      noop.push(performance.now() - started);
    }
    assert.ok(median(noop) * 3 < w, `NOOP ${median(noop)} ms vs LOGIN ${w} ms`);
  } finally {
    conn.close();
    await srv.stop();
  }
});
