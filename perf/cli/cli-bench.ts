/**
 * `npm run bench:cli` (issue 12, item 6): the table of the issue, measured from outside. The
 * built CLI moves files file to file in a scratch folder (on /dev/shm), against the project's
 * straight-line baseline (perf/baseline) doing the same job in the same run, the two sides
 * interleaved, medians of N runs after one warm-up each. Start-up of node counts on both sides.
 * With `--ceilings DIR`, the shared reference programs run as a third side, which checks that
 * our baseline is as fast as theirs.
 *
 * One server per workload and side (`bftp serve --port 0 --temp-dir ...`, the baseline's
 * `serve`/`sink`), stopped by PID when the workload ends; the scratch folder is removed at the
 * end, also on Ctrl-C. Progress goes to stderr, the table to stdout.
 *
 * @example
 * npm run bench:cli                                   # the issue's sizes, 5 runs: a few minutes
 * npm run bench:cli -- --quick --workloads get,version
 * node dist/perf/cli/cli-bench.js --ceilings ../shared/ceilings --json cli.json
 */
import { randomFillSync } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../compare/servers.js";
import {
  CLI_BENCH_USAGE,
  parseCliBenchArgs,
  UsageError,
  type CliBenchOptions,
  type CliWorkload,
} from "./cli-bench-options.js";
import { formatCliReport, type WorkloadSamples } from "./cli-bench-report.js";
import { startListener, stopListener, timeNode, type Listener } from "./processes.js";

const CLI = path.join(REPO_ROOT, "dist", "bundle", "bftp.js");
const FILE_BASELINE = path.join(REPO_ROOT, "dist", "perf", "baseline", "file-baseline.js");
const TREE_BASELINE = path.join(REPO_ROOT, "dist", "perf", "baseline", "tree-baseline.js");
/** Deadline for one timed command: far above any sane run, so a hang ends the bench. */
const RUN_DEADLINE_MS = 300_000;
const MiB = 1 << 20;

const started = performance.now();
function log(message: string): void {
  const s = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[cli-bench ${s} s] ${message}\n`);
}

/** The scratch folder's layout. */
interface Scratch {
  readonly dir: string;
  /** What bftp serves: big.bin, tree/, up/ (uploads). */
  readonly root: string;
  readonly temp: string;
  readonly config: string;
  /** Where downloads and the baseline's uploads land. */
  readonly out: string;
}

function makeScratch(options: CliBenchOptions): Scratch {
  const dir = fs.mkdtempSync(path.join(options.scratch, "bftp-cli-bench-"));
  const s = {
    dir,
    root: path.join(dir, "root"),
    temp: path.join(dir, "temp"),
    config: path.join(dir, "config"),
    out: path.join(dir, "out"),
  };
  for (const d of [s.root, s.temp, s.config, s.out, path.join(s.root, "up")]) fs.mkdirSync(d);
  return s;
}

/** Random bytes, so nothing along the way can take a shortcut on a pattern. */
function writeRandomFile(file: string, size: number): void {
  const fd = fs.openSync(file, "w");
  try {
    const block = Buffer.allocUnsafe(Math.min(MiB, size));
    for (let at = 0; at < size; at += block.length) {
      randomFillSync(block);
      fs.writeSync(fd, block, 0, Math.min(block.length, size - at));
    }
  } finally {
    fs.closeSync(fd);
  }
}

function writeTree(dir: string, files: number, size: number): void {
  fs.mkdirSync(dir);
  const digits = String(files - 1).length;
  for (let i = 0; i < files; i++)
    fs.writeFileSync(
      path.join(dir, `f${String(i).padStart(digits, "0")}`),
      randomFillSync(Buffer.allocUnsafe(size)),
    );
}

/** Regular files under `dir`, recursively, temporary names excluded. */
function countFiles(dir: string): number {
  let n = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) n += countFiles(path.join(dir, entry.name));
    else if (entry.isFile() && !entry.name.endsWith(".part") && !entry.name.endsWith(".bftp-part"))
      n++;
  }
  return n;
}

function expectSize(file: string, size: number): void {
  const actual = fs.statSync(file).size;
  if (actual !== size) throw new Error(`${file}: ${actual} bytes, expected ${size}`);
}

function expectFiles(dir: string, files: number): void {
  const actual = countFiles(dir);
  if (actual !== files) throw new Error(`${dir}: ${actual} files, expected ${files}`);
}

/** One side of a workload: its server (if any), the command to time, and the check after. */
interface Side {
  readonly name: "bftp" | "baseline" | "shared";
  /** Arguments of `node` for the server, or undefined when there is none. */
  readonly server?: readonly string[];
  readonly command: (port: number) => readonly string[];
  /** Checks the result and removes it, outside the timed part. */
  readonly after: () => void;
}

function bftpServer(s: Scratch): string[] {
  return [
    CLI,
    "serve",
    s.root,
    "--port",
    "0",
    "--temp-dir",
    s.temp,
    "--config-dir",
    s.config,
    "--quiet",
  ];
}

/** The sides of each workload: bftp, our baseline, and (with --ceilings) the shared one. */
function sidesOf(workload: CliWorkload, s: Scratch, o: CliBenchOptions): Side[] {
  const big = path.join(s.root, "big.bin");
  const tree = path.join(s.root, "tree");
  const url = (port: number, p: string): string => `bftp://127.0.0.1:${port}${p}`;
  const sharedGet = o.ceilings === undefined ? undefined : path.join(o.ceilings, "ceiling-get.cjs");
  const sharedTree =
    o.ceilings === undefined ? undefined : path.join(o.ceilings, "ceiling-tree.cjs");
  const rm = (p: string): void => {
    fs.rmSync(p, { recursive: true, force: true });
  };
  const file =
    (p: string): (() => void) =>
    () => {
      expectSize(p, o.size);
      rm(p);
    };
  const folder =
    (p: string): (() => void) =>
    () => {
      expectFiles(p, o.files);
      rm(p);
    };
  const got = path.join(s.out, "got.bin");
  const gotTree = path.join(s.out, "got-tree");
  const putTree = path.join(s.out, "put-tree");
  switch (workload) {
    case "get": {
      const sides: Side[] = [
        {
          name: "bftp",
          server: bftpServer(s),
          command: (port) => [CLI, "get", "-q", url(port, "/big.bin"), got],
          after: file(got),
        },
        {
          name: "baseline",
          server: [FILE_BASELINE, "serve", big],
          command: (port) => [FILE_BASELINE, "fetch", String(port), got],
          after: file(got),
        },
      ];
      if (sharedGet !== undefined)
        sides.push({
          name: "shared",
          server: [sharedGet, "serve", big],
          command: (port) => [sharedGet, "fetch", String(port), got],
          after: file(got),
        });
      return sides;
    }
    case "put": {
      const up = path.join(s.root, "up", "put.bin");
      const sides: Side[] = [
        {
          name: "bftp",
          server: bftpServer(s),
          command: (port) => [CLI, "put", "-q", big, url(port, "/up/put.bin")],
          after: file(up),
        },
        {
          name: "baseline",
          server: [FILE_BASELINE, "sink"],
          command: (port) => [FILE_BASELINE, "send", String(port), big, got],
          after: file(got),
        },
      ];
      if (sharedGet !== undefined)
        sides.push({
          name: "shared",
          server: [sharedGet, "sink"],
          command: (port) => [sharedGet, "send", String(port), big, got],
          after: file(got),
        });
      return sides;
    }
    case "get-r": {
      const sides: Side[] = [
        {
          name: "bftp",
          server: bftpServer(s),
          command: (port) => [CLI, "get", "-r", "-q", url(port, "/tree"), gotTree],
          after: folder(gotTree),
        },
        {
          name: "baseline",
          server: [TREE_BASELINE, "serve", tree],
          command: (port) => [TREE_BASELINE, "fetch", String(port), gotTree],
          after: folder(gotTree),
        },
      ];
      if (sharedTree !== undefined)
        sides.push({
          name: "shared",
          server: [sharedTree, "serve", tree],
          command: (port) => [sharedTree, "fetch", String(port), gotTree],
          after: folder(gotTree),
        });
      return sides;
    }
    case "put-r": {
      const up = path.join(s.root, "up", "put-tree");
      const sides: Side[] = [
        {
          name: "bftp",
          server: bftpServer(s),
          command: (port) => [CLI, "put", "-r", "-q", tree, url(port, "/up/put-tree")],
          after: folder(up),
        },
        {
          name: "baseline",
          server: [TREE_BASELINE, "sink", putTree],
          command: (port) => [TREE_BASELINE, "send", String(port), tree],
          after: folder(putTree),
        },
      ];
      if (sharedTree !== undefined)
        sides.push({
          name: "shared",
          server: [sharedTree, "sink", putTree],
          command: (port) => [sharedTree, "send", String(port), tree],
          after: folder(putTree),
        });
      return sides;
    }
    case "version":
      return [
        { name: "bftp", command: () => [CLI, "--version"], after: () => {} },
        { name: "baseline", command: () => ["-e", "0"], after: () => {} },
      ];
  }
}

/** Runs one workload: every side once to warm up, then `runs` rounds, interleaved. */
async function runWorkload(
  workload: CliWorkload,
  s: Scratch,
  o: CliBenchOptions,
  servers: Listener[],
): Promise<WorkloadSamples> {
  const amount = workload === "get" || workload === "put" ? o.size : o.files;
  const sides = sidesOf(workload, s, o);
  const ports = new Map<string, number>();
  for (const side of sides) {
    if (side.server === undefined) continue;
    const listener = await startListener(side.server);
    servers.push(listener);
    ports.set(side.name, listener.port);
  }
  const samples = new Map<string, number[]>(sides.map((side) => [side.name, []]));
  for (let round = -1; round < o.runs; round++) {
    // Alternate the order, so neither side always runs right after the other.
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const run = await timeNode(side.command(ports.get(side.name) ?? 0), RUN_DEADLINE_MS);
      side.after();
      if (round >= 0) samples.get(side.name)?.push(run.seconds);
    }
    if (round >= 0)
      log(
        `${workload} run ${round + 1}/${o.runs}: ${sides.map((side) => `${side.name} ${(samples.get(side.name)?.[round] ?? 0).toFixed(3)} s`).join(", ")}`,
      );
  }
  const side = (name: string): { seconds: number[] } => ({ seconds: samples.get(name) ?? [] });
  return {
    workload,
    amount,
    bftp: side("bftp"),
    baseline: side("baseline"),
    ...(samples.has("shared") ? { shared: side("shared") } : {}),
  };
}

async function main(): Promise<void> {
  const options = parseCliBenchArgs(process.argv.slice(2));
  if (options.help) {
    process.stdout.write(CLI_BENCH_USAGE);
    return;
  }
  for (const file of [CLI, FILE_BASELINE, TREE_BASELINE])
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npm run build`);
  const scratch = makeScratch(options);
  const servers: Listener[] = [];
  const cleanUp = async (): Promise<void> => {
    await Promise.all(servers.splice(0).map((l) => stopListener(l)));
    fs.rmSync(scratch.dir, { recursive: true, force: true });
  };
  const onSignal = (): void => {
    log("interrupted: stopping the servers this run started");
    void cleanUp().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const w = options.workloads;
    if (w.includes("get") || w.includes("put")) {
      log(`writing ${(options.size / MiB).toFixed(0)} MiB of random bytes into ${scratch.root}`);
      writeRandomFile(path.join(scratch.root, "big.bin"), options.size);
    }
    if (w.includes("get-r") || w.includes("put-r")) {
      log(`writing ${options.files} files of ${options.fileSize} bytes`);
      writeTree(path.join(scratch.root, "tree"), options.files, options.fileSize);
    }
    const results: WorkloadSamples[] = [];
    for (const workload of w) {
      log(`${workload}: ${options.runs} runs per side, interleaved, after one warm-up`);
      try {
        results.push(await runWorkload(workload, scratch, options, servers));
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        log(`${workload} failed: ${message}`);
        const none = { seconds: [] };
        results.push({ workload, amount: 0, bftp: none, baseline: none, error: message });
      } finally {
        await Promise.all(servers.splice(0).map((l) => stopListener(l)));
      }
    }
    process.stdout.write(formatCliReport(results, options.fileSize, options.runs));
    if (options.json !== undefined) {
      const report = {
        startedAt: new Date(Date.now() - (performance.now() - started)).toISOString(),
        node: process.version,
        options,
        results,
      };
      fs.writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
      log(`samples written to ${options.json}`);
    }
  } finally {
    await cleanUp();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`bench:cli: ${err.message} (see --help)\n`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(
    `bench:cli failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
