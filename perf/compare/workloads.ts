/**
 * The workloads of issue 5, item 2, each run the same way against every server: the same
 * files, the same client-side clock (performance.now() in this process), the same byte
 * check. Each returns plain figures; a workload that fails returns its error instead, so
 * one broken server never hides the others' results.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { MemorySampler } from "./memory-sampler.js";
import { treeMemory } from "./process-tree.js";
import { verifyPatternFile } from "./pattern.js";
import type { RunningServer } from "./servers.js";
import { openSession, type PatternFile, type Session } from "./sessions.js";

/** Sizes and counts; `--quick` shrinks them. */
export interface WorkloadConfig {
  /** GET and PUT of one file (1 GiB). */
  readonly bigSize: number;
  /** One download watched for server RSS (2 GiB). */
  readonly hugeSize: number;
  readonly smallCount: number;
  readonly smallSize: number;
  readonly clients: number;
  readonly clientSize: number;
  readonly soakIterations: number;
  readonly soakSize: number;
  /** The tree workloads (issue 12): this many files of `treeSize` in one folder, each way. */
  readonly treeCount: number;
  readonly treeSize: number;
  /** Measured runs per throughput workload, after one warm-up. */
  readonly runs: number;
}

const MiB = 1 << 20;

/** The sizes: what `npm run bench:compare` runs by default. */
export const FULL_CONFIG: WorkloadConfig = {
  bigSize: 1024 * MiB,
  hugeSize: 2048 * MiB,
  smallCount: 1000,
  smallSize: 4096,
  clients: 100,
  clientSize: 10 * MiB,
  soakIterations: 1000,
  soakSize: MiB,
  treeCount: 10_000,
  treeSize: 4096,
  runs: 3,
};

/** `--quick`: a development run of a minute or two. */
export const QUICK_CONFIG: WorkloadConfig = {
  ...FULL_CONFIG,
  bigSize: 256 * MiB,
  hugeSize: 512 * MiB,
  clientSize: MiB,
  soakIterations: 200,
  treeCount: 500,
  runs: 1,
};

/** The files the bench creates in the served folder before any server starts. */
export function fixtureFiles(config: WorkloadConfig): {
  big: PatternFile;
  huge: PatternFile;
  ten: PatternFile;
  small: PatternFile[];
  tree: PatternFile[];
} {
  return {
    big: { path: "/big.bin", seed: 1, size: config.bigSize },
    huge: { path: "/huge.bin", seed: 2, size: config.hugeSize },
    ten: { path: "/clients.bin", seed: 3, size: config.clientSize },
    small: Array.from({ length: config.smallCount }, (_, i) => ({
      path: `/small/f${i}`,
      seed: 1000 + i * 7919, // each file different, so a mix-up fails the check
      size: config.smallSize,
    })),
    tree: Array.from({ length: config.treeCount }, (_, i) => ({
      path: `/tree/t${i}`,
      seed: 50_000 + i * 7907,
      size: config.treeSize,
    })),
  };
}

/** A throughput figure: every measured run and their median. */
export interface Rate {
  readonly median: number;
  readonly samples: readonly number[];
}

export interface ConcurrentResult {
  readonly aggregate: Rate;
  /** Clients that failed, summed over the runs. */
  readonly errors: number;
  readonly firstError?: string;
  /** Bytes received and verified, summed over the runs. */
  readonly verifiedBytes: number;
  readonly peakRss: number;
  readonly peakPss: number;
  readonly peakProcesses: number;
}

export interface HugeResult {
  readonly mbps: number;
  readonly baselineRss: number;
  readonly peakRss: number;
  readonly peakPss: number;
}

export interface SoakResult {
  readonly iterations: number;
  readonly seconds: number;
  readonly baselineRss: number;
  readonly finalRss: number;
  readonly peakRss: number;
  /** finalRss - baselineRss. */
  readonly growth: number;
  readonly pssGrowth: number;
}

/** What the harness needs from its caller: where the served folder is, how to report. */
export interface WorkloadContext {
  readonly root: string;
  /** A scratch folder outside the served root, for downloads written to disk. */
  readonly work: string;
  readonly config: WorkloadConfig;
  readonly log: (message: string) => void;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
export const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

/**
 * Where uploads go: a world-writable folder inside a root that is not, because vsftpd refuses
 * to chroot anonymous users into a root they can write to.
 */
export const UPLOADS = "/up";

/** Runs `once` one warm-up time, then `runs` measured times; `once` returns a rate. */
export async function measured(
  ctx: WorkloadContext,
  label: string,
  once: (run: number) => Promise<number>,
): Promise<Rate> {
  await once(-1);
  const samples: number[] = [];
  for (let r = 0; r < ctx.config.runs; r++) {
    samples.push(await once(r));
    ctx.log(`${label} run ${r + 1}/${ctx.config.runs}: ${samples[r]?.toFixed(0) ?? ""}`);
  }
  return { median: median(samples), samples };
}

async function withSession<T>(server: RunningServer, body: (s: Session) => Promise<T>): Promise<T> {
  const session = await openSession(server);
  try {
    return await body(session);
  } finally {
    await session.close();
  }
}

/** GET of the big file into the check, MB/s. */
export function getBig(server: RunningServer, ctx: WorkloadContext): Promise<Rate> {
  const { big } = fixtureFiles(ctx.config);
  return withSession(server, (session) =>
    measured(ctx, `${server.name} GET`, async () => {
      const start = performance.now();
      await session.get(big);
      return mbps(big.size, performance.now() - start);
    }),
  );
}

/** PUT of the big file from memory, MB/s; each upload then read back from disk and checked. */
export function putBig(server: RunningServer, ctx: WorkloadContext): Promise<Rate> {
  const size = ctx.config.bigSize;
  return withSession(server, (session) =>
    measured(ctx, `${server.name} PUT`, async (run) => {
      const file = { path: `${UPLOADS}/put-${server.name}-${run + 1}.bin`, seed: 5 + run, size };
      const local = path.join(ctx.root, file.path);
      const start = performance.now();
      await session.put(file);
      const rate = mbps(size, performance.now() - start);
      await verifyPatternFile(local, file.seed, size);
      await fs.rm(local);
      return rate;
    }),
  );
}

/** The small files over one connection, files/s. */
export function smallFiles(server: RunningServer, ctx: WorkloadContext): Promise<Rate> {
  const { small } = fixtureFiles(ctx.config);
  return withSession(server, (session) =>
    measured(ctx, `${server.name} ${small.length} small files`, async () => {
      const start = performance.now();
      const check = await session.getMany(small);
      const rate = small.length / ((performance.now() - start) / 1000);
      check(); // the bench's own check of every byte, after the clock (sessions.ts)
      return rate;
    }),
  );
}

/**
 * Deadline for each of the many clients' greeting, replies and data stalls. When a server's
 * accept queue overflows (vsftpd listens with a backlog of 32), Linux drops the handshake's
 * last ACK and the client thinks it is connected; as FTP servers speak first, such a client
 * waits for a greeting that may never come. It counts as an error after this long.
 */
const CLIENT_TIMEOUT_MS = 20_000;

/** Many clients at once, each on its own connection fetching the same file. */
export async function concurrentClients(
  server: RunningServer,
  ctx: WorkloadContext,
): Promise<ConcurrentResult> {
  const { ten } = fixtureFiles(ctx.config);
  const { clients } = ctx.config;
  let errors = 0;
  let firstError: string | undefined;
  let verifiedBytes = 0;
  let peak = { peakRss: 0, peakPss: 0, peakProcesses: 0 };
  const one = async (): Promise<void> => {
    const session = await openSession(server, CLIENT_TIMEOUT_MS);
    try {
      await session.get(ten);
    } finally {
      await session.close();
    }
  };
  const aggregate = await measured(ctx, `${server.name} ${clients} clients`, async (run) => {
    const sampler = await MemorySampler.start(server.process.pid, 50);
    const start = performance.now();
    const outcomes = await Promise.allSettled(Array.from({ length: clients }, one));
    const ms = performance.now() - start;
    const memory = await sampler.stop();
    const ok = outcomes.filter((o) => o.status === "fulfilled").length;
    if (run >= 0) {
      errors += clients - ok;
      verifiedBytes += ok * ten.size;
      const failed = outcomes.find((o) => o.status === "rejected");
      if (failed)
        firstError ??=
          failed.reason instanceof Error ? failed.reason.message : String(failed.reason);
      peak = {
        peakRss: Math.max(peak.peakRss, memory.peakRss),
        peakPss: Math.max(peak.peakPss, memory.peakPss),
        peakProcesses: Math.max(peak.peakProcesses, memory.peakProcesses),
      };
    }
    return mbps(ok * ten.size, ms);
  });
  return {
    aggregate,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    verifiedBytes,
    ...peak,
  };
}

/** One client downloads the huge file; the server's memory is watched throughout. */
export async function hugeDownload(
  server: RunningServer,
  ctx: WorkloadContext,
): Promise<HugeResult> {
  const { huge } = fixtureFiles(ctx.config);
  return withSession(server, async (session) => {
    const baseline = treeMemory(server.process.pid);
    const sampler = await MemorySampler.start(server.process.pid, 25);
    const start = performance.now();
    await session.get(huge);
    const ms = performance.now() - start;
    const memory = await sampler.stop();
    const result = {
      mbps: mbps(huge.size, ms),
      baselineRss: baseline.rss,
      peakRss: memory.peakRss,
      peakPss: memory.peakPss,
    };
    ctx.log(
      `${server.name} GET ${(huge.size / MiB).toFixed(0)} MiB: ${result.mbps.toFixed(0)} MB/s, server peak RSS ${(result.peakRss / MiB).toFixed(1)} MiB`,
    );
    return result;
  });
}

/** Round trips (PUT then GET back, checked) on one connection; the server's RSS growth. */
export async function soak(server: RunningServer, ctx: WorkloadContext): Promise<SoakResult> {
  const { soakIterations: iterations, soakSize: size } = ctx.config;
  const warmUp = 10;
  return withSession(server, async (session) => {
    const roundTrip = async (i: number): Promise<void> => {
      // A new name each time: pure-ftpd does not let anonymous users overwrite.
      const file = {
        path: `${UPLOADS}/soak-${server.name}-${i}.bin`,
        seed: 100 + (i % 1000),
        size,
      };
      await session.put(file);
      await session.get(file);
      await fs.rm(path.join(ctx.root, file.path));
    };
    for (let i = 0; i < warmUp; i++) await roundTrip(-1 - i);
    const baseline = treeMemory(server.process.pid);
    const sampler = await MemorySampler.start(server.process.pid, 100);
    const start = performance.now();
    for (let i = 0; i < iterations; i++) {
      await roundTrip(i);
      if ((i + 1) % Math.max(1, Math.floor(iterations / 4)) === 0)
        ctx.log(`${server.name} soak ${i + 1}/${iterations}`);
    }
    const seconds = (performance.now() - start) / 1000;
    const memory = await sampler.stop();
    const final = memory.last;
    return {
      iterations,
      seconds,
      baselineRss: baseline.rss,
      finalRss: final.rss,
      peakRss: memory.peakRss,
      growth: final.rss - baseline.rss,
      pssGrowth: final.pss - baseline.pss,
    };
  });
}
