/**
 * `npm run bench:transfer`: what a whole transfer costs, against `bftp serve` in its own
 * process on loopback. Measures, as medians over `--runs`:
 *
 *  1. GET of one page-cached file (`--size`, 1 GiB by default) into memory with each checksum
 *     algorithm, against the same machine's checksum speeds measured in the same run, so the
 *     share of the transfer the default check costs can be read off (PROTOCOL.md §9: the
 *     default must cost no more than about 15% of GET throughput);
 *  2. 1,000 files of 4 KiB fetched over one connection with `downloadMany` (pipelined),
 *     against the same files fetched one request at a time;
 *  3. the same GET (crc32) from a second `bftp serve --tls` on the same files, interleaved run
 *     by run with the clear-text GET, and the ratio of the two medians (issue 7).
 *
 * @example
 * npm run bench:transfer
 * node dist/bench/transfer-bench.js --size 256MiB --runs 3 --json
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import zlib from "node:zlib";
import { BftpClient } from "../src/client/client.js";
import { downloadMany } from "../src/client/tree.js";
import type { ChecksumAlg } from "../src/protocol/version.js";

const CLI = fileURLToPath(new URL("../src/cli/bftp.js", import.meta.url));
const SMALL_FILES = 1000;
const SMALL_SIZE = 4096;

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "1GiB" },
    runs: { type: "string", default: "3" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write(
    "Usage: node dist/bench/transfer-bench.js [--size 1GiB] [--runs 3] [--json]\n",
  );
  process.exit(0);
}
const size = parseSize(values.size);
const runs = Number(values.runs);
if (!Number.isSafeInteger(runs) || runs < 1) throw new Error("--runs must be a whole number >= 1");

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};
const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

/** Checksum speed on this machine, MB/s, over 256 MiB in 1 MiB chunks. */
function checksumSpeed(alg: ChecksumAlg): number {
  const block = Buffer.alloc(1 << 20, 0xa5);
  const start = performance.now();
  if (alg === "crc32") {
    let crc = 0;
    for (let i = 0; i < 256; i++) crc = zlib.crc32(block, crc);
  } else {
    const hash = createHash("sha256");
    for (let i = 0; i < 256; i++) hash.update(block);
    hash.digest();
  }
  return mbps(256 << 20, performance.now() - start);
}

/** A `bftp serve` child: its port and, with --tls, the fingerprint it printed. */
interface Serve {
  readonly child: ChildProcessByStdio<null, Readable, null>;
  readonly port: number;
  readonly fingerprint: string | undefined;
}

/** Starts `bftp serve ROOT --port 0 ...args` and reads its start-up lines (up to "connect with:"). */
async function serve(root: string, args: readonly string[]): Promise<Serve> {
  const child = spawn(
    process.execPath,
    [CLI, "serve", root, "--port", "0", "-q", "--log-format", "json", ...args],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let text = "";
  const signal = AbortSignal.timeout(30_000); // every wait has a deadline
  const exited = once(child, "exit", { signal }).then(() => {
    throw new Error(`bftp serve exited before it was ready: ${text}`);
  });
  exited.catch(() => undefined); // raced below; its rejection must not go unhandled
  while (!text.includes("connect with:")) {
    const [chunk] = (await Promise.race([once(child.stdout, "data", { signal }), exited])) as [
      Buffer,
    ];
    text += chunk.toString("utf8");
  }
  child.stdout.resume();
  return {
    child,
    port: Number(/^listening on .*:(\d+)$/m.exec(text)?.[1]),
    fingerprint: /^certificate fingerprint (SHA256:[0-9A-F:]+)/m.exec(text)?.[1],
  };
}

async function stop(server: Serve): Promise<void> {
  if (server.child.exitCode !== null) return;
  server.child.kill("SIGTERM");
  await once(server.child, "exit");
}

async function main(): Promise<void> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-bench-"));
  const conf = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-bench-conf-"));
  const servers: Serve[] = [];
  try {
    const big = path.join(root, "big.bin");
    await fs.writeFile(big, Buffer.alloc(0));
    await fs.truncate(big, size); // sparse: reads come from memory, like a page-cached file
    await fs.mkdir(path.join(root, "small"));
    for (let i = 0; i < SMALL_FILES; i++)
      await fs.writeFile(path.join(root, "small", `f${i}`), Buffer.alloc(SMALL_SIZE, i % 251));
    const clear = await serve(root, []);
    servers.push(clear);
    const secure = await serve(root, ["--tls", "--config-dir", conf]);
    servers.push(secure);
    const port = clear.port;
    const client = await BftpClient.connect({ host: "127.0.0.1", port });
    const discard = (): Writable =>
      new Writable({
        write: (_c, _e, done) => {
          done();
        },
      });

    const tlsClient = await BftpClient.connect(
      { host: "127.0.0.1", port: secure.port },
      { tls: { fingerprint: secure.fingerprint ?? "no fingerprint printed" } },
    );
    const get: Record<ChecksumAlg, number[]> = { crc32: [], sha256: [] };
    const tlsGet: number[] = [];
    await client.download("/big.bin", discard()); // warm-up
    await tlsClient.download("/big.bin", discard());
    for (let r = 0; r < runs; r++) {
      for (const alg of ["crc32", "sha256"] as const) {
        const start = performance.now();
        await client.download("/big.bin", discard(), { checksum: alg });
        get[alg].push(mbps(size, performance.now() - start));
      }
      const start = performance.now();
      await tlsClient.download("/big.bin", discard(), { checksum: "crc32" });
      tlsGet.push(mbps(size, performance.now() - start));
    }
    await tlsClient.close();
    const speed = {
      crc32: median(Array.from({ length: runs }, () => checksumSpeed("crc32"))),
      sha256: median(Array.from({ length: runs }, () => checksumSpeed("sha256"))),
    };

    const out = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-bench-out-"));
    const batch: number[] = [];
    const sequential: number[] = [];
    for (let r = 0; r < runs; r++) {
      const dir = path.join(out, `b${r}`);
      await fs.mkdir(dir);
      let start = performance.now();
      const result = await downloadMany(
        client,
        Array.from({ length: SMALL_FILES }, (_, i) => ({
          remote: `/small/f${i}`,
          local: path.join(dir, `f${i}`),
        })),
      );
      if (result.failed.length > 0)
        throw new Error(`batch failed: ${result.failed[0]?.error.message ?? ""}`);
      batch.push(SMALL_FILES / ((performance.now() - start) / 1000));
      const one = path.join(out, `s${r}`);
      await fs.mkdir(one);
      start = performance.now();
      for (let i = 0; i < SMALL_FILES; i++)
        await client.download(`/small/f${i}`, path.join(one, `f${i}`));
      sequential.push(SMALL_FILES / ((performance.now() - start) / 1000));
    }
    await client.close();
    await fs.rm(out, { recursive: true, force: true });

    const result = {
      size,
      runs,
      getMBps: { crc32: median(get.crc32), sha256: median(get.sha256) },
      // Same file, same checksum, interleaved with the clear-text runs: what TLS costs.
      tlsGetMBps: median(tlsGet),
      tlsToClearGet: median(tlsGet) / median(get.crc32),
      checksumMBps: speed,
      // Each side computes the check once per byte; at GET's rate it takes rate/speed of the time.
      crc32ShareOfGet: median(get.crc32) / speed.crc32,
      sha256ShareOfGet: median(get.sha256) / speed.sha256,
      smallFiles: {
        files: SMALL_FILES,
        bytes: SMALL_SIZE,
        batchPerSecond: median(batch),
        sequentialPerSecond: median(sequential),
      },
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      const f = (n: number): string => n.toFixed(0).padStart(8);
      process.stdout.write(
        [
          `bftp transfer bench: bftp serve in its own process, loopback; medians of ${runs} runs; MB = 10^6 bytes`,
          `GET ${(size / 2 ** 30).toFixed(2)} GiB into memory   crc32 ${f(result.getMBps.crc32)} MB/s   sha256 ${f(result.getMBps.sha256)} MB/s`,
          `GET over TLS (crc32)          ${f(result.tlsGetMBps)} MB/s   ratio to clear-text GET ${result.tlsToClearGet.toFixed(2)}`,
          `checksum alone (one core)     crc32 ${f(speed.crc32)} MB/s   sha256 ${f(speed.sha256)} MB/s`,
          `share of GET time spent on the check: crc32 ${(result.crc32ShareOfGet * 100).toFixed(1)}%, sha256 ${(result.sha256ShareOfGet * 100).toFixed(1)}%`,
          `${SMALL_FILES} x ${SMALL_SIZE} B to files, one connection: batch (pipelined) ${f(result.smallFiles.batchPerSecond)} files/s   one at a time ${f(result.smallFiles.sequentialPerSecond)} files/s   (${(result.smallFiles.batchPerSecond / result.smallFiles.sequentialPerSecond).toFixed(2)}x)`,
        ].join("\n") + "\n",
      );
    }
  } finally {
    for (const server of servers) await stop(server);
    await fs.rm(root, { recursive: true, force: true });
    await fs.rm(conf, { recursive: true, force: true });
  }
}

function parseSize(text: string): number {
  const match = /^(\d+)(KiB|MiB|GiB)?$/.exec(text);
  if (match === null) throw new Error(`--size: expected e.g. 1GiB or 256MiB, got ${text}`);
  const unit =
    match[2] === "GiB" ? 2 ** 30 : match[2] === "MiB" ? 2 ** 20 : match[2] === "KiB" ? 1024 : 1;
  return Number(match[1]) * unit;
}

await main();
