/**
 * `bftp bench` (issue 5, item 1): upload test files of chosen sizes into a folder of their
 * own, download each `iterations` times with `concurrency` clients at once, verify every byte
 * of every download, measure throughput, client CPU and (for a local server) the server's
 * memory, and remove what was uploaded. Numbers go to an observer; drawing is the CLI's.
 */
import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import type { BftpClient } from "../client/client.js";
import type { Progress } from "../client/progress.js";
import { BftpError, isBftpError } from "../errors.js";
import {
  SMALL_FILE_MAX,
  type BenchFailure,
  type BenchReport,
  type IterationResult,
  type SizeResult,
} from "./bench-report.js";
import { RssSampler } from "./rss-sampler.js";
import { finishReport } from "./finish-report.js";
import { locateServer } from "./server-rss.js";
import { sizeLabel } from "./sizes.js";
import { summarize } from "./stats.js";
import { VerifyingSink, testData } from "./test-data.js";

/** What to measure, and against which server. */
export interface BenchOptions {
  readonly host: string;
  readonly port: number;
  /** File sizes in bytes, ascending. */
  readonly sizes: readonly number[];
  readonly iterations: number;
  /** Clients downloading the same file at once in each iteration. */
  readonly concurrency: number;
  /** Chooses the test bytes: the same seed uploads the same files. */
  readonly seed: number;
  /** The remote folder in which the bench makes its own folder (default `/`). */
  readonly parent?: string;
  /** Leave the uploaded files and their folder on the server. */
  readonly keep?: boolean;
  /** Measure this process (and its children) instead of looking for the listener. */
  readonly serverPid?: number;
  /** Aborting stops the run at once (open transfers are cut) and still cleans up. */
  readonly signal?: AbortSignal;
  readonly observer?: BenchObserver;
}

/** Numbers as the run goes, for a progress display. Labels name a transfer uniquely. */
export interface BenchObserver {
  /** Before the first transfer: how many transfers and bytes the run will move. */
  readonly plan?: (transfers: number, bytes: number) => void;
  readonly begin?: (label: string, total: number) => void;
  readonly progress?: (p: Progress) => void;
  readonly done?: (label: string, size: number) => void;
  readonly sizeDone?: (result: SizeResult) => void;
  /** Something the user should know that does not fail the run (cleanup left files). */
  readonly warn?: (message: string) => void;
}

/**
 * Opens `n` connected clients, runs `body`, and closes them whatever happens. The CLI passes
 * its own (same connect errors, login, timeouts as every command).
 */
export type OpenClients = <T>(n: number, body: (clients: BftpClient[]) => Promise<T>) => Promise<T>;

/**
 * Runs a bench. Resolves with the report, whose `ok` is false when a download failed or did
 * not verify (`error.code` BFTP_ERR_VERIFY_FAILED when bytes differed); rejects when the run
 * could not go on (connection lost, interrupted), after cleaning up.
 *
 * @example
 * const report = await runBench({ host, port, sizes: [0, 1, 4096], iterations: 5, concurrency: 1, seed: 1 }, open);
 */
export async function runBench(options: BenchOptions, open: OpenClients): Promise<BenchReport> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const folder = posix.join(options.parent ?? "/", `bftp-bench-${randomBytes(6).toString("hex")}`);
  const where = locateServer(options.host, options.port, options.serverPid);
  const sampler = "pids" in where ? new RssSampler(where.pids, { origin: started }) : undefined;
  const run: Run = { options, folder, sampler, marks: [], failures: [], results: [] };
  // Set inside the callback below (an object, so the compiler does not narrow them away).
  const state: { server?: BenchReport["server"]; folderMade: boolean } = { folderMade: false };
  let fatal: unknown;
  let cleanup: BenchReport["cleanup"] = { removed: false };
  sampler?.start();
  try {
    await open(options.concurrency, async (clients) => {
      const first = clients[0];
      if (first === undefined) throw new RangeError("Cannot bench with no client");
      state.server = {
        host: options.host,
        port: options.port,
        software: first.server.server,
        protocol: first.server.version,
      };
      const cut = (): void => {
        const reason = new BftpError("BFTP_ERR_ABORTED", "Cannot go on: the bench was interrupted");
        for (const client of clients) client.connection.closeWithError(reason);
      };
      options.signal?.addEventListener("abort", cut, { once: true });
      try {
        checkAborted(options.signal);
        await first.mkdir(folder);
        state.folderMade = true;
        options.observer?.plan?.(
          options.sizes.length * (1 + options.iterations * options.concurrency),
          options.sizes.reduce((a, s) => a + s * (1 + options.iterations * options.concurrency), 0),
        );
        for (const size of options.sizes) {
          const result = await benchSize(run, clients, size);
          run.results.push(result);
          options.observer?.sizeDone?.(result);
        }
      } finally {
        options.signal?.removeEventListener("abort", cut);
      }
    });
  } catch (err) {
    fatal = err;
  } finally {
    sampler?.stop();
  }
  if (state.folderMade && options.keep !== true) {
    cleanup = await removeFolder(open, folder);
    if (!cleanup.removed) {
      options.observer?.warn?.(`Cannot remove ${folder} from the server: ${cleanup.error ?? ""}`);
    }
  }
  if (fatal !== undefined || state.server === undefined) throw fatal;
  return finishReport(run.results, run.failures, {
    parameters: {
      sizes: options.sizes,
      iterations: options.iterations,
      concurrency: options.concurrency,
      seed: options.seed,
      folder,
      keep: options.keep === true,
      smallFileMax: SMALL_FILE_MAX,
    },
    server: state.server,
    startedAt,
    ms: performance.now() - started,
    cleanup,
    where,
    sampler,
    marks: run.marks,
  });
}

/** The state of one run, shared by its steps. */
interface Run {
  readonly options: BenchOptions;
  readonly folder: string;
  readonly sampler: RssSampler | undefined;
  readonly marks: { t: number; label: string }[];
  readonly failures: BenchFailure[];
  readonly results: SizeResult[];
}

/** Uploads one size, downloads it `iterations` times on every client, and removes it. */
async function benchSize(
  run: Run,
  clients: readonly BftpClient[],
  size: number,
): Promise<SizeResult> {
  const { options, sampler } = run;
  const [first] = clients;
  if (first === undefined) throw new RangeError("Cannot bench with no client");
  const label = sizeLabel(size);
  const remote = `${run.folder}/${size}`;
  const uploadLabel = `upload ${label}`;
  checkAborted(options.signal);
  options.observer?.begin?.(uploadLabel, size);
  const uploadStart = performance.now();
  await first.upload(testData(options.seed, size), remote, relabel(options, uploadLabel));
  const uploadMs = performance.now() - uploadStart;
  options.observer?.done?.(uploadLabel, size);

  const rssStart = sampler?.sample();
  const phaseStart = sampler?.now() ?? 0;
  run.marks.push({ t: phaseStart, label });
  const cpuStart = process.cpuUsage();
  const iterations: IterationResult[] = [];
  let bytesVerified = 0;
  let errors = 0;
  for (let it = 1; it <= options.iterations; it++) {
    checkAborted(options.signal);
    const t0 = performance.now();
    const outcomes = await Promise.all(
      clients.map((client, i) =>
        downloadOnce(run, client, { remote, size, iteration: it, client: i + 1 }),
      ),
    );
    const ms = performance.now() - t0;
    const failed = outcomes.filter((o) => o !== undefined).length;
    for (const failure of outcomes) if (failure !== undefined) run.failures.push(failure);
    errors += failed;
    bytesVerified += (clients.length - failed) * size;
    const seconds = Math.max(ms, 0.001) / 1000;
    iterations.push({
      ms,
      mbps: size === 0 ? null : (clients.length * size) / 1e6 / seconds,
      filesPerSecond: clients.length / seconds,
      failed,
    });
  }
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const rssEnd = sampler?.sample();
  const peak = sampler?.peakBetween(phaseStart, sampler.now());
  if (options.keep !== true) await first.delete(remote);

  const clean = iterations.filter((i) => i.failed === 0);
  const rates = clean.flatMap((i) => (i.mbps === null ? [] : [i.mbps]));
  return {
    size,
    label,
    upload: {
      ms: uploadMs,
      mbps: size === 0 ? null : size / 1e6 / (Math.max(uploadMs, 0.001) / 1000),
    },
    iterations,
    mbps: rates.length === 0 ? null : summarize(rates),
    filesPerSecond:
      size > SMALL_FILE_MAX || clean.length === 0
        ? null
        : summarize(clean.map((i) => i.filesPerSecond)),
    downloads: options.iterations * clients.length,
    bytesVerified,
    errors,
    cpuSeconds,
    cpuSecondsPerGiB: bytesVerified === 0 ? null : cpuSeconds / (bytesVerified / 1024 ** 3),
    serverRss:
      rssStart === undefined || rssEnd === undefined
        ? null
        : { start: rssStart, peak: Math.max(peak ?? 0, rssStart, rssEnd), end: rssEnd },
  };
}

/** Which download this is. */
interface DownloadJob {
  readonly remote: string;
  readonly size: number;
  readonly iteration: number;
  readonly client: number;
}

/**
 * Downloads once into a {@link VerifyingSink} (bytes are compared, then dropped: nothing is
 * written to disk). Resolves with the failure when the transfer failed but left the
 * connection usable, or the bytes differed; rejects when the connection cannot go on.
 */
async function downloadOnce(
  run: Run,
  client: BftpClient,
  job: DownloadJob,
): Promise<BenchFailure | undefined> {
  const { options } = run;
  const label = `${sizeLabel(job.size)} #${job.iteration}/${options.iterations}${options.concurrency > 1 ? ` c${job.client}` : ""}`;
  const sink = new VerifyingSink(options.seed, job.size);
  const where = { size: job.size, iteration: job.iteration, client: job.client };
  try {
    await client.download(job.remote, sink, relabel(options, label));
  } catch (err) {
    // A failure that left the connection usable is this download's; anything else ends the run.
    if (!isBftpError(err) || err.connectionUsable !== true) throw err;
    options.observer?.done?.(label, job.size);
    return { ...where, code: err.code, message: err.message };
  }
  options.observer?.done?.(label, job.size);
  const mismatch = sink.mismatch;
  if (mismatch === undefined) return undefined;
  const what =
    mismatch.received === mismatch.expected
      ? `byte ${mismatch.offset} differs from the byte uploaded`
      : `${mismatch.received} bytes arrived, ${mismatch.expected} were uploaded`;
  return {
    ...where,
    code: "BFTP_ERR_VERIFY_FAILED",
    message: `Cannot verify download ${label} of ${JSON.stringify(job.remote)}: ${what}`,
    offset: mismatch.offset,
  };
}

/** The onProgress option that reports under `label` (several clients fetch one path at once). */
function relabel(options: BenchOptions, label: string): { onProgress?: (p: Progress) => void } {
  const progress = options.observer?.progress;
  return progress === undefined
    ? {}
    : {
        onProgress: (p) => {
          progress({ ...p, name: label });
        },
      };
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) {
    throw new BftpError("BFTP_ERR_ABORTED", "Cannot go on: the bench was interrupted");
  }
}

/** Deletes every file in the bench's folder (whatever was committed), then the folder. */
async function removeFolder(open: OpenClients, folder: string): Promise<BenchReport["cleanup"]> {
  try {
    await open(1, async ([client]) => {
      if (client === undefined) return;
      for (const entry of await client.list(folder, { maxEntries: 1000 })) {
        if (entry.type === "file") await client.delete(`${folder}/${entry.name}`);
      }
      await client.rmdir(folder);
    });
    return { removed: true };
  } catch (err) {
    return { removed: false, error: err instanceof Error ? err.message : String(err) };
  }
}
