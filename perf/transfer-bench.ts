/**
 * `npm run bench:transfer`: what whole transfers cost against `bftp serve` in its own process
 * on loopback, as ratios to a raw Node TCP pipe of the same bytes measured in the same run
 * (issue 5, "Make it fast"). Each measured round runs, back to back:
 *
 *  1. the raw pipe: a forked sender process writes `--size` bytes in 1 MiB writes (waiting
 *     for `'drain'`), this process receives them into a discarding Writable;
 *  2. GET of a page-cached `--size` file (the served root is on tmpfs when /dev/shm exists),
 *     received into memory and discarded, checked (CRC-32, the default);
 *  3. PUT of `--size` bytes from memory (one 1 MiB block repeated), committed by the server
 *     (its fsync is cheap on tmpfs: this measures the protocol, not a disk);
 *  4. 1,000 files of 4 KiB over one connection, pipelined 64 at a time as `downloadMany`
 *     does, each received into memory (not written to local files);
 *  5. the same GET from a second `bftp serve --tls` on the same files (TLS 1.3, the client
 *     pinning the printed fingerprint), reported as a ratio to the clear-text GET (issue 7).
 *
 * The order of raw pipe and transfers alternates between rounds, so drift on a shared
 * machine hits both alike. It prints medians, the ratio median(ours) / median(raw), the
 * paired ratio (median over rounds of ours / raw in that round), the client's CPU seconds
 * per GiB, and the server's peak RSS. `--quick` (or BFTP_BENCH_QUICK=1) runs 256 MiB x 3
 * rounds, well under a minute; the default is 1 GiB x 5 rounds.
 *
 * @example
 * npm run bench:transfer
 * node dist/perf/transfer-bench.js --quick
 * node dist/perf/transfer-bench.js --size 512MiB --runs 3 --sha256 --json
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { BftpClient } from "../src/client/client.js";
import { downloadMany } from "../src/client/tree.js";
import { inWindow } from "../src/client/window.js";
import { parseSize } from "./bench-config.js";
import { makeBodyBlock } from "./payloads.js";
import { CountingSink, receiveRawPipe } from "./receivers.js";
import { median } from "./report.js";
import { runSenderRole, SenderProcess } from "./sender.js";

const CLI = fileURLToPath(new URL("../src/cli/bftp.js", import.meta.url));
const SMALL_FILES = 1000;
const SMALL_SIZE = 4096;
const WRITE_SIZE = 1 << 20;
const GIB = 2 ** 30;

const USAGE = `Usage: node dist/perf/transfer-bench.js [options]

  --quick          256 MiB, 3 rounds: under a minute (same as BFTP_BENCH_QUICK=1)
  --size BYTES     bytes per GET, PUT and raw pipe run (default 1GiB)
  --runs N         measured rounds after one warm-up (default 5)
  --sha256         also GET with SHA-256 each round
  --files          also fetch the small files to local files with downloadMany each round
  --json           print the results as JSON
  --help           print this text`;

/** One measured round: rates, and CPU seconds per GiB (or per 1,000 files) of each end. */
interface Round {
  raw: number;
  rawCpu: Cpu;
  get: number;
  getCpu: Cpu;
  getSha256?: number;
  getTls: number;
  put: number;
  putCpu: Cpu;
  smallMemory: number;
  smallCpu: Cpu;
  smallFiles?: number;
}

/** CPU seconds (user + system) the two ends used. */
interface Cpu {
  readonly client: number;
  readonly server: number;
}

interface Setup {
  readonly size: number;
  readonly runs: number;
  readonly sha256: boolean;
  readonly files: boolean;
  readonly json: boolean;
}

const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

/** CPU seconds (user + system) a process has used so far, from /proc (NaN elsewhere). */
function processCpu(pid: number | undefined): number {
  try {
    const fields =
      readFileSync(`/proc/${pid ?? 0}/stat`, "utf8")
        .split(") ")[1]
        ?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
  } catch {
    return Number.NaN;
  }
}

/** Starts a CPU meter on this process and `peer`; the result is per `per` units of work. */
function cpuMeter(peer: number | undefined): (per: number) => Cpu {
  const mine = process.cpuUsage();
  const theirs = processCpu(peer);
  return (per) => {
    const used = process.cpuUsage(mine);
    return {
      client: (used.user + used.system) / 1e6 / per,
      server: (processCpu(peer) - theirs) / per,
    };
  };
}

function parseSetup(): Setup | "help" | "sender" {
  const { values } = parseArgs({
    options: {
      role: { type: "string" },
      quick: { type: "boolean", default: false },
      size: { type: "string" },
      runs: { type: "string" },
      sha256: { type: "boolean", default: false },
      files: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";
  if (values.role === "sender") return "sender";
  const quick = values.quick || process.env["BFTP_BENCH_QUICK"] === "1";
  const runs = Number(values.runs ?? (quick ? "3" : "5"));
  if (!Number.isSafeInteger(runs) || runs < 1)
    throw new Error("--runs must be a whole number >= 1");
  return {
    size: parseSize(values.size ?? (quick ? "256MiB" : "1GiB"), "--size"),
    runs,
    sha256: values.sha256,
    files: values.files,
    json: values.json,
  };
}

/** The raw baseline: the forked sender writes `size` bytes; we receive and discard them. */
async function rawPipe(
  listener: net.Server,
  sender: SenderProcess,
  size: number,
): Promise<{ rate: number; cpu: Cpu }> {
  const { port } = listener.address() as net.AddressInfo;
  const accepted = once(listener, "connection") as Promise<[net.Socket]>;
  const sent = sender.send({ port, kind: "body", bytes: size, writeSize: WRITE_SIZE });
  const [socket] = await accepted;
  const cpu = cpuMeter(sender.pid);
  const start = performance.now();
  await receiveRawPipe(socket, size);
  const ms = performance.now() - start;
  await sent;
  return { rate: mbps(size, ms), cpu: cpu(size / GIB) };
}

/** `size` bytes from memory: one 1 MiB block, repeated (the last piece a prefix of it). */
function memorySource(size: number): Readable {
  const block = makeBodyBlock(WRITE_SIZE).bytes;
  return Readable.from(
    (function* () {
      for (let left = size; left > 0; left -= block.length)
        yield left >= block.length ? block : block.subarray(0, left);
    })(),
    { objectMode: false },
  );
}

/** What a round works with: the client, the server's pid, the raw pipe's ends. */
interface Rig {
  readonly client: BftpClient;
  /** Connected to the TLS server. */
  readonly tlsClient: BftpClient;
  readonly serverPid: number | undefined;
  readonly listener: net.Server;
  readonly sender: SenderProcess;
}

async function round(rig: Rig, setup: Setup, index: number): Promise<Round> {
  const { size } = setup;
  const { client } = rig;
  const gib = size / GIB;
  const transfers = async (): Promise<Omit<Round, "raw" | "rawCpu">> => {
    let cpu = cpuMeter(rig.serverPid);
    let start = performance.now();
    const sink = new CountingSink();
    await client.download("/big.bin", sink);
    if (sink.count !== size) throw new Error(`GET delivered ${sink.count} of ${size} bytes`);
    const get = mbps(size, performance.now() - start);
    const getCpu = cpu(gib);
    start = performance.now();
    const overTls = new CountingSink();
    await rig.tlsClient.download("/big.bin", overTls);
    if (overTls.count !== size) throw new Error(`TLS GET delivered ${overTls.count} bytes`);
    const getTls = mbps(size, performance.now() - start);
    let getSha256: number | undefined;
    if (setup.sha256) {
      start = performance.now();
      await client.download("/big.bin", new CountingSink(), { checksum: "sha256" });
      getSha256 = mbps(size, performance.now() - start);
    }
    cpu = cpuMeter(rig.serverPid);
    start = performance.now();
    const put = await client.upload(memorySource(size), "/up.bin", { overwrite: true, size });
    if (put.size !== size) throw new Error(`PUT committed ${put.size} of ${size} bytes`);
    const putRate = mbps(size, performance.now() - start);
    const putCpu = cpu(gib);
    await client.delete("/up.bin");

    cpu = cpuMeter(rig.serverPid);
    start = performance.now();
    const outcomes = await inWindow(
      Array.from({ length: SMALL_FILES }, (_, i) => i),
      64,
      async (i) => {
        const into = new CountingSink();
        await client.download(`/small/f${i}`, into);
        if (into.count !== SMALL_SIZE) throw new Error(`small file ${i}: ${into.count} bytes`);
      },
    );
    const smallMemory = SMALL_FILES / ((performance.now() - start) / 1000);
    const smallCpu = cpu(1);
    const failed = outcomes.find((o) => o.status === "rejected");
    if (failed) throw new Error(`small files failed: ${String(failed.reason)}`);
    let smallFiles: number | undefined;
    if (setup.files) {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-bench-out-"));
      start = performance.now();
      const result = await downloadMany(
        client,
        Array.from({ length: SMALL_FILES }, (_, i) => ({
          remote: `/small/f${i}`,
          local: path.join(dir, `f${i}`),
        })),
      );
      smallFiles = SMALL_FILES / ((performance.now() - start) / 1000);
      await fs.rm(dir, { recursive: true, force: true });
      if (result.failed.length > 0)
        throw new Error(`downloadMany failed: ${result.failed[0]?.error.message ?? ""}`);
    }
    return {
      get,
      getCpu,
      getTls,
      put: putRate,
      putCpu,
      smallMemory,
      smallCpu,
      ...(getSha256 === undefined ? {} : { getSha256 }),
      ...(smallFiles === undefined ? {} : { smallFiles }),
    };
  };
  // Alternate which goes first, so slow drift on a shared machine hits both alike.
  if (index % 2 === 0) {
    const raw = await rawPipe(rig.listener, rig.sender, size);
    return { raw: raw.rate, rawCpu: raw.cpu, ...(await transfers()) };
  }
  const rest = await transfers();
  const raw = await rawPipe(rig.listener, rig.sender, size);
  return { raw: raw.rate, rawCpu: raw.cpu, ...rest };
}

/** Peak resident set of a process, in MB (Linux /proc; NaN elsewhere). */
function peakRssMb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid ?? 0}/status`, "utf8");
    const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
    return kb / 1024;
  } catch {
    return Number.NaN;
  }
}

/** A `bftp serve` child: its port and, with --tls, the fingerprint it printed. */
interface Serve {
  readonly server: ChildProcess;
  readonly port: number;
  readonly fingerprint: string | undefined;
}

/** Starts `bftp serve ROOT --port 0 ...args`; reads its start-up lines, up to "connect with:". */
async function startServer(root: string, args: readonly string[]): Promise<Serve> {
  const server = spawn(
    process.execPath,
    [CLI, "serve", root, "--port", "0", "-q", "--log-format", "json", ...args],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const stdout = server.stdout;
  let text = "";
  const signal = AbortSignal.timeout(30_000); // every wait has a deadline
  while (!text.includes("connect with:")) {
    const [chunk] = (await once(stdout, "data", { signal })) as [Buffer];
    text += chunk.toString();
  }
  const port = Number(/^listening on .*:(\d+)$/m.exec(text)?.[1]);
  if (!Number.isSafeInteger(port) || port <= 0)
    throw new Error(`Cannot read the server's port from ${text}`);
  const fingerprint = /^certificate fingerprint (SHA256:[0-9A-F:]+)/m.exec(text)?.[1];
  return { server, port, fingerprint };
}

async function bench(setup: Setup): Promise<void> {
  const base = existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir();
  const root = await fs.mkdtemp(path.join(base, "bftp-bench-"));
  const listener = net.createServer();
  listener.listen(0, "127.0.0.1");
  await once(listener, "listening");
  let sender: SenderProcess | undefined;
  let server: ChildProcess | undefined;
  let tlsServer: ChildProcess | undefined;
  // A configuration folder of its own: the operator's accounts do not apply, and the TLS
  // server's self-signed certificate is made there.
  const config = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-bench-config-"));
  try {
    const big = path.join(root, "big.bin");
    await fs.writeFile(big, Buffer.alloc(0));
    await fs.truncate(big, setup.size); // sparse: every read comes from memory
    await fs.mkdir(path.join(root, "small"));
    for (let i = 0; i < SMALL_FILES; i++)
      await fs.writeFile(path.join(root, "small", `f${i}`), Buffer.alloc(SMALL_SIZE, i % 251));
    sender = await SenderProcess.start(fileURLToPath(import.meta.url), 30_000);
    const started = await startServer(root, ["--config-dir", config]);
    server = started.server;
    const secure = await startServer(root, ["--config-dir", config, "--tls"]);
    tlsServer = secure.server;
    const client = await BftpClient.connect({ host: "127.0.0.1", port: started.port });
    const tlsClient = await BftpClient.connect(
      { host: "127.0.0.1", port: secure.port },
      { tls: { fingerprint: secure.fingerprint ?? "no fingerprint printed" } },
    );
    const rig: Rig = { client, tlsClient, serverPid: server.pid, listener, sender };
    progress("warm-up");
    await round(rig, { ...setup, files: false, sha256: false }, 0);
    const rounds: Round[] = [];
    for (let r = 0; r < setup.runs; r++) {
      progress(`round ${r + 1}/${setup.runs}`);
      rounds.push(await round(rig, setup, r));
    }
    progress("");
    await client.close();
    await tlsClient.close();
    report(setup, rounds, peakRssMb(server.pid), base);
  } finally {
    sender?.stop();
    for (const child of [server, tlsServer]) {
      if (child !== undefined && child.exitCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
    }
    await fs.rm(config, { recursive: true, force: true });
    listener.close();
    await fs.rm(root, { recursive: true, force: true });
  }
}

function report(setup: Setup, rounds: readonly Round[], serverRssMb: number, base: string): void {
  const med = (pick: (r: Round) => number | undefined): number =>
    median(rounds.map(pick).filter((x): x is number => x !== undefined));
  const raw = med((r) => r.raw);
  const rate = (pick: (r: Round) => number) => ({
    MBps: med(pick),
    ratio: med(pick) / raw,
    paired: median(rounds.map((r) => pick(r) / r.raw)),
    range: [Math.min(...rounds.map(pick)), Math.max(...rounds.map(pick))],
  });
  const cpu = (pick: (r: Round) => Cpu) => ({
    client: med((r) => pick(r).client),
    server: med((r) => pick(r).server),
  });
  const result = {
    size: setup.size,
    runs: setup.runs,
    root: base,
    raw: { ...rate((r) => r.raw), cpuSecPerGiB: cpu((r) => r.rawCpu) },
    get: { ...rate((r) => r.get), cpuSecPerGiB: cpu((r) => r.getCpu) },
    put: { ...rate((r) => r.put), cpuSecPerGiB: cpu((r) => r.putCpu) },
    getTls: {
      MBps: med((r) => r.getTls),
      ratioToGet: med((r) => r.getTls) / med((r) => r.get),
      paired: median(rounds.map((r) => r.getTls / r.get)),
    },
    ...(setup.sha256 ? { getSha256MBps: med((r) => r.getSha256) } : {}),
    smallFiles: {
      perSecondIntoMemory: med((r) => r.smallMemory),
      range: [
        Math.min(...rounds.map((r) => r.smallMemory)),
        Math.max(...rounds.map((r) => r.smallMemory)),
      ],
      cpuSecPer1000: cpu((r) => r.smallCpu),
      ...(setup.files ? { perSecondToFiles: med((r) => r.smallFiles) } : {}),
    },
    serverPeakRssMb: serverRssMb,
    rounds,
  };
  if (setup.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const f = (n: number): string => n.toFixed(0).padStart(6);
  const r2 = (n: number): string => n.toFixed(2);
  const range = (xs: readonly number[]): string => xs.map((x) => x.toFixed(0)).join("-");
  const cpuText = (c: Cpu): string => `CPU client ${r2(c.client)} + server ${r2(c.server)}`;
  const sizeText = setup.size >= GIB ? `${setup.size / GIB} GiB` : `${setup.size / 2 ** 20} MiB`;
  const row = (
    label: string,
    x: ReturnType<typeof rate> & { cpuSecPerGiB: Cpu },
    target: string,
  ): string =>
    `${label.padEnd(44)}${f(x.MBps)} MB/s  ratio ${r2(x.ratio)} (paired ${r2(x.paired)}${target})  ${cpuText(x.cpuSecPerGiB)} s/GiB  range ${range(x.range)}`;
  const lines = [
    `bftp transfer bench: bftp serve in its own process, loopback, root on ${base}; medians of ${setup.runs} rounds (+1 warm-up); MB = 10^6 bytes; ratio = median / median(raw pipe) of the same run`,
    row(`raw Node TCP pipe, 1 MiB writes, ${sizeText}`, result.raw, ""),
    row(`GET ${sizeText} into memory (discarded), crc32`, result.get, "; target 0.80"),
    row(`PUT ${sizeText} from memory, crc32`, result.put, "; target 0.60"),
  ];
  lines.push(
    `${`GET ${sizeText} over TLS 1.3, crc32`.padEnd(44)}${f(result.getTls.MBps)} MB/s  ratio to clear-text GET ${r2(result.getTls.ratioToGet)} (paired ${r2(result.getTls.paired)})`,
  );
  if (setup.sha256)
    lines.push(
      `${`GET ${sizeText} into memory, sha256`.padEnd(44)}${f(med((r) => r.getSha256))} MB/s`,
    );
  lines.push(
    `${`${SMALL_FILES} x ${SMALL_SIZE / 1024} KiB into memory, 1 connection`.padEnd(44)}${f(result.smallFiles.perSecondIntoMemory)} files/s (target 20000)  ${cpuText(result.smallFiles.cpuSecPer1000)} s per 1000 files  range ${range(result.smallFiles.range)}`,
  );
  if (setup.files)
    lines.push(
      `${`${SMALL_FILES} x ${SMALL_SIZE / 1024} KiB, downloadMany to local files`.padEnd(44)}${f(med((r) => r.smallFiles))} files/s`,
    );
  lines.push(`server peak RSS ${serverRssMb.toFixed(0)} MB (VmHWM, whole run)`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

function progress(message: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${message}`);
}

const setup = parseSetup();
if (setup === "help") process.stdout.write(`${USAGE}\n`);
else if (setup === "sender") runSenderRole();
else await bench(setup);
