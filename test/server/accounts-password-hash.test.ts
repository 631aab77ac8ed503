import assert from "node:assert/strict";
import { test } from "node:test";
import { HashGate } from "../../src/server/accounts/hash-gate.js";
import {
  DEFAULT_SCRYPT,
  MAX_SCRYPT_MEMORY,
  hashPassword,
  passwordHashSchema,
  scryptMemory,
  verifyPassword,
} from "../../src/server/accounts/password-hash.js";
import { rejectsWithCode } from "../helpers/assert-code.js";

// Issue 7, item 1: scrypt hashes with their parameters and a random salt, memory per hash
// bounded, and a cap on hash computations at once.

const CHEAP = { logN: 10, r: 8, p: 1 };

test("a hash verifies its password and no other, and stores its parameters and salt", async () => {
  const stored = await hashPassword("correct horse", CHEAP);
  assert.equal(stored.alg, "scrypt");
  assert.deepEqual([stored.logN, stored.r, stored.p], [10, 8, 1]);
  assert.equal(Buffer.from(stored.salt, "base64").length, 16);
  assert.equal(Buffer.from(stored.hash, "base64").length, 32);
  assert.equal(await verifyPassword("correct horse", stored), true);
  assert.equal(await verifyPassword("correct horsf", stored), false);
  assert.equal(await verifyPassword("", stored), false);
  assert.ok(passwordHashSchema.safeParse(stored).success);
});

test("the same password hashes differently each time (random salt)", async () => {
  const a = await hashPassword("same", CHEAP);
  const b = await hashPassword("same", CHEAP);
  assert.notEqual(a.salt, b.salt);
  assert.notEqual(a.hash, b.hash);
});

test("the default costs 32 MiB and 128·r·(N+p+2) is within the cap", async () => {
  assert.deepEqual(DEFAULT_SCRYPT, { logN: 15, r: 8, p: 1 });
  assert.ok(scryptMemory(DEFAULT_SCRYPT) > 32 * 1024 * 1024);
  assert.ok(scryptMemory(DEFAULT_SCRYPT) <= MAX_SCRYPT_MEMORY);
  const stored = await hashPassword("default cost"); // maxmem is exactly what it needs
  assert.equal(await verifyPassword("default cost", stored), true);
});

test("parameters that need more memory than the cap are refused, in a file and when hashing", async () => {
  const greedy = { logN: 17, r: 8, p: 1 }; // 128 MiB
  await rejectsWithCode(hashPassword("x", greedy), "BFTP_ERR_INVALID_ARGUMENT");
  const stored = { ...(await hashPassword("x", CHEAP)), ...greedy };
  assert.equal(passwordHashSchema.safeParse(stored).success, false);
  assert.equal(passwordHashSchema.safeParse({ ...stored, logN: 30 }).success, false);
});

test("the gate runs at most `concurrency` tasks at once and queues the rest in order", async () => {
  const gate = new HashGate({ concurrency: 2, queue: 10, waitMs: 5000 });
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  const task = (i: number) => async () => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setTimeout(resolve, 20));
    running--;
    order.push(i);
    return i;
  };
  const results = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => gate.run(task(i))));
  assert.deepEqual(results, [0, 1, 2, 3, 4, 5]);
  assert.equal(peak, 2);
  assert.equal(gate.running, 0);
  assert.equal(gate.waiting, 0);
});

test("beyond the queue, or past the wait, the gate refuses with BFTP_ERR_BUSY", async () => {
  const gate = new HashGate({ concurrency: 1, queue: 1, waitMs: 100 });
  let release: () => void = () => {};
  const held = gate.run(() => new Promise<void>((resolve) => (release = resolve)));
  const queued = gate.run(() => Promise.resolve("queued"));
  await rejectsWithCode(
    gate.run(() => Promise.resolve("over")),
    "BFTP_ERR_BUSY",
  );
  await rejectsWithCode(queued, "BFTP_ERR_BUSY"); // waited 100 ms for a turn
  release();
  await held;
  assert.equal(await gate.run(() => Promise.resolve("after")), "after");
  assert.equal(gate.running, 0);
});

test("a task that fails frees its turn", async () => {
  const gate = new HashGate({ concurrency: 1, queue: 1, waitMs: 1000 });
  await assert.rejects(gate.run(() => Promise.reject(new Error("boom"))));
  assert.equal(await gate.run(() => Promise.resolve(1)), 1);
});
