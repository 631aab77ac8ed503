/**
 * `npm run bench`: the wire layer over a real loopback TCP socket, as ratios to a raw Node
 * socket pipe measured in the same run.
 *
 *  1. MB/s streaming a body through `StreamReader.streamExactly(n, sink)`, against
 *     `pipeline(socket, sink)` of the same bytes. Target: ratio >= 0.9.
 *  2. frames/s decoding 100-byte-payload hex-header frames with `readFrame` in a loop,
 *     against the raw pipe of the same bytes (raw bytes/s / 108 is the ceiling).
 *     Target: >= 500,000 frames/s.
 *
 * The sender is this script forked with `--role sender`, so the two ends do not share an
 * event loop; `--in-process` adds rows with both on one loop. Each metric gets one warm-up
 * pair, then `--runs` measured pairs, alternating which of raw and ours goes first so slow
 * drift on a shared machine hits both alike. Exits non-zero only on errors, never on a
 * missed target.
 *
 * @example
 * npm run bench                                   # 1 GiB body, 5 runs
 * node dist/perf/wire-bench.js --size 64MiB --runs 3 --json
 */
import { once } from "node:events";
import net from "node:net";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { parseBenchArgs, USAGE, type BenchConfig } from "./bench-config.js";
import { FRAME_BYTES, makeFrameBlock } from "./payloads.js";
import { receiveFrames, receiveRawPipe, receiveStreamExactly } from "./receivers.js";
import {
  describeConfig,
  formatTable,
  summarize,
  formatNotes,
  type MetricResult,
  type RunSample,
  type Target,
  type Variant,
} from "./report.js";
import { runSenderRole, SenderProcess, sendJob, type SendJob } from "./sender.js";

type Send = (job: SendJob) => Promise<void>;
type Receive = (socket: net.Socket) => Promise<void>;

/** A metric: what the sender sends, and the baseline and our receiver for those bytes. */
interface Metric {
  readonly name: "body" | "frames";
  readonly unit: MetricResult["unit"];
  readonly job: Omit<SendJob, "port">;
  /** Rate from the elapsed milliseconds of one run. */
  readonly rate: (ms: number) => number;
  readonly ours: { readonly label: string; readonly receive: Receive; readonly target: Target };
}

/** How long the forked sender may take to start and report ready. */
const SENDER_START_MS = 30_000;

const BODY_TARGET: Target = { kind: "ratio", atLeast: 0.9 };
const FRAMES_TARGET: Target = { kind: "rate", atLeast: 500_000 };

function metrics(config: BenchConfig): Metric[] {
  const { bodyBytes, frames, writeSize } = config;
  const { framesPerBlock } = makeFrameBlock(writeSize);
  return [
    {
      name: "body",
      unit: "MB/s",
      job: { kind: "body", bytes: bodyBytes, writeSize },
      rate: (ms) => bodyBytes / 1e6 / (ms / 1000),
      ours: {
        label: "body: streamExactly",
        receive: (socket) => receiveStreamExactly(socket, bodyBytes),
        target: BODY_TARGET,
      },
    },
    {
      name: "frames",
      unit: "frames/s",
      job: { kind: "frames", bytes: frames * FRAME_BYTES, writeSize },
      rate: (ms) => frames / (ms / 1000),
      ours: {
        label: "frames: readFrame loop",
        receive: (socket) => receiveFrames(socket, frames, framesPerBlock),
        target: FRAMES_TARGET,
      },
    },
  ];
}

/**
 * One transfer: the sender connects and writes, the receiver's clock runs from accept until
 * `receive` resolves. Then both ends must have closed before the next run starts. A watchdog
 * destroys the socket after `timeoutMs`, so a stuck run fails instead of hanging.
 */
async function transfer(
  server: net.Server,
  job: SendJob,
  send: Send,
  receive: Receive,
  timeoutMs: number,
): Promise<{ ms: number; cpuMs: number }> {
  const watchdog = new AbortController();
  const timer = setTimeout(() => {
    watchdog.abort(new Error(`Cannot finish a transfer within ${timeoutMs} ms`));
  }, timeoutMs);
  const accepted = once(server, "connection", { signal: watchdog.signal }) as Promise<[net.Socket]>;
  const sent = send(job);
  sent.catch((err: unknown) => {
    watchdog.abort(err);
  });
  try {
    const [socket] = await accepted;
    socket.on("error", () => {}); // reported by `receive`; must not crash the bench
    const kill = (): void => {
      socket.destroy(watchdog.signal.reason as Error);
    };
    if (watchdog.signal.aborted) kill();
    watchdog.signal.addEventListener("abort", kill, { once: true });
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    await receive(socket);
    const ms = performance.now() - start;
    const cpu = process.cpuUsage(cpuStart);
    await sent;
    if (!socket.closed) await once(socket, "close");
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
  } catch (err) {
    throw watchdog.signal.aborted ? (watchdog.signal.reason as Error) : err;
  } finally {
    clearTimeout(timer);
  }
}

async function measure(
  server: net.Server,
  port: number,
  config: BenchConfig,
  variant: Variant,
  send: Send,
): Promise<MetricResult[]> {
  const results: MetricResult[] = [];
  for (const metric of metrics(config)) {
    if (config.only !== undefined && metric.name !== config.only) continue;
    const job = { ...metric.job, port };
    const raw: Receive = (socket) => receiveRawPipe(socket, job.bytes);
    const run = async (receive: Receive): Promise<RunSample> => {
      const { ms, cpuMs } = await transfer(server, job, send, receive, config.timeoutMs);
      return { rate: metric.rate(ms), cpuMs };
    };
    progress(`${variant} ${metric.name}: warm-up`);
    await run(raw);
    await run(metric.ours.receive);
    const rawRuns: RunSample[] = [];
    const ourRuns: RunSample[] = [];
    for (let r = 0; r < config.runs; r++) {
      progress(`${variant} ${metric.name}: run ${r + 1}/${config.runs}`);
      if (r % 2 === 0) {
        rawRuns.push(await run(raw));
        ourRuns.push(await run(metric.ours.receive));
      } else {
        ourRuns.push(await run(metric.ours.receive));
        rawRuns.push(await run(raw));
      }
    }
    const unit = metric.unit;
    const rawLabel = metric.name === "body" ? "body: raw pipe" : "frames: raw pipe ceiling";
    const base = { unit, variant };
    results.push(
      summarize({ ...base, id: `${metric.name}.raw`, label: rawLabel }, rawRuns, rawRuns, null),
    );
    results.push(
      summarize(
        { ...base, id: `${metric.name}.ours`, label: metric.ours.label },
        ourRuns,
        rawRuns,
        variant === "two-process" ? metric.ours.target : null,
      ),
    );
  }
  return results;
}

function progress(message: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${message}`);
}

function environment(): Record<string, string> {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: `${cpus.length} x ${cpus[0]?.model.trim() ?? "unknown"}`,
  };
}

async function bench(config: BenchConfig): Promise<void> {
  const env = environment();
  if (!config.json) console.log(`${describeConfig(config, env).join("\n")}\n`);
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  let sender: SenderProcess | undefined;
  try {
    sender = await SenderProcess.start(fileURLToPath(import.meta.url), SENDER_START_MS);
    const child = sender;
    const results = await measure(server, port, config, "two-process", (job) => child.send(job));
    if (config.inProcess)
      results.push(...(await measure(server, port, config, "in-process", sendJob)));
    progress("");
    if (config.json) console.log(JSON.stringify({ config, environment: env, results }, null, 2));
    else console.log(`${formatTable(results)}\n\n${formatNotes(results).join("\n")}`);
  } finally {
    sender?.stop();
    server.close();
  }
}

async function main(): Promise<void> {
  const parsed = parseBenchArgs(process.argv.slice(2));
  if (parsed === "help") {
    console.log(USAGE);
  } else if (parsed.role === "sender") {
    runSenderRole();
  } else {
    await bench(parsed.config);
  }
}

main().catch((err: unknown) => {
  progress("");
  console.error(`wire-bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
