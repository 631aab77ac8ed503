/**
 * L1 (issue 6): N clients at once, each through the client library: HELLO, PUT 1 MiB, GET it
 * back, compare byte for byte, DELETE. Zero errors and zero mismatches; the latency of each
 * client's whole round (p50, p99) is the figure.
 */
import { randomBytes } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { BftpClient } from "../../src/client/client.js";
import type { BatterySize, Check, CheckResult } from "./check.js";
import { percentile, spawnServer, within } from "./load-helpers.js";

const FILE_BYTES = 1024 * 1024;

/** A Writable that keeps at most `cap` bytes and fails past it. */
function collector(cap: number): { sink: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  let total = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      total += chunk.length;
      if (total > cap) {
        done(new Error(`more than ${cap} bytes`));
        return;
      }
      chunks.push(chunk);
      done();
    },
  });
  return { sink, bytes: () => Buffer.concat(chunks, total) };
}

/** One client's round; resolves with "ok", "mismatch", or the error's code. */
async function round(port: number, content: Buffer, name: string): Promise<string> {
  const client = await BftpClient.connect({ host: "127.0.0.1", port }, { timeout: 30_000 });
  try {
    await client.upload(Readable.from([content]), name, { size: content.length });
    const { sink, bytes } = collector(content.length);
    await client.download(name, sink);
    const same = bytes().equals(content);
    await client.delete(name);
    return same ? "ok" : "mismatch";
  } finally {
    await client.close().catch(() => {});
  }
}

async function run(size: BatterySize): Promise<CheckResult> {
  const clients = size === "full" ? 300 : 20;
  const srv = await spawnServer(["--max-connections", "1024", "--max-per-ip", "1024"]);
  try {
    const base = randomBytes(FILE_BYTES);
    const latencies: number[] = [];
    const outcomes = new Map<string, number>();
    const started = Date.now();
    await within(
      Promise.all(
        Array.from({ length: clients }, async (_, i) => {
          // Each client's content differs from the others' (its index is stamped through it).
          const content = Buffer.from(base);
          for (let at = 0; at < content.length; at += 4096) content.writeUInt32BE(i, at);
          const t0 = Date.now();
          let outcome: string;
          try {
            outcome = await round(srv.port, content, `/l1-${i}.bin`);
          } catch (err) {
            outcome = (err as { code?: string }).code ?? String(err);
          }
          latencies.push(Date.now() - t0);
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        }),
      ),
      300_000,
      "the clients finishing",
    );
    const ms = Date.now() - started;
    const ok = outcomes.get("ok") ?? 0;
    const mismatches = outcomes.get("mismatch") ?? 0;
    const errors = clients - ok - mismatches;
    const other = [...outcomes].filter(([k]) => k !== "ok" && k !== "mismatch");
    return {
      pass: ok === clients,
      figure:
        `${clients} concurrent clients × (hello, PUT 1 MiB, GET, compare, DELETE) in ${ms} ms: ` +
        `${errors} errors, ${mismatches} mismatches; latency p50 ${percentile(latencies, 50)} ms, ` +
        `p99 ${percentile(latencies, 99)} ms` +
        (other.length === 0 ? "" : `; ${other.map(([k, n]) => `${n}× ${k}`).join(", ")}`),
    };
  } finally {
    await srv.stop();
  }
}

/** L1: concurrent clients round-trip 1 MiB each. */
export const L1: Check = { id: "L1", title: "concurrent clients", run };
