/**
 * `npm run bench:compare` (issue 5, item 2): bftp side by side with vsftpd, pure-ftpd and
 * pyftpdlib on loopback, and a raw Node TCP pipe, all measured in one run with the same
 * client-side clock and byte check, printed as figures, ratios and the targets.
 *
 * Installs the peers first (perf/compare/install-peers.sh; needs root), starts every server
 * as its own child process serving one scratch folder, runs each workload against each server
 * in turn, stops what it started (by PID) and removes the scratch folder. A peer that is
 * missing or fails is reported as "not run" with the reason. Progress goes to stderr, the
 * report to stdout. Exits non-zero only on errors of the bench itself, never on a missed target.
 *
 * @example
 * npm run bench:compare                      # the full run, 5-10 minutes
 * npm run bench:compare -- --quick           # smaller sizes, one run: 2-3 minutes
 * node dist/perf/compare/compare-bench.js --servers bftp,vsftpd --workloads get,small --json out.json
 */
import { spawnSync } from "node:child_process";
import { statfsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { baselineRate, type BaselineWorkload } from "./baseline-runs.js";
import { writePatternFile } from "./pattern.js";
import { RawPeer, runRawPeerRole } from "./raw-pipe.js";
import { formatReport } from "./report-table.js";
import {
  WORKLOAD_NAMES,
  type CompareResults,
  type Outcome,
  type ServerResults,
  type WorkloadName,
} from "./results.js";
import {
  REPO_ROOT,
  SERVER_NAMES,
  startServer,
  stopServer,
  type RunningServer,
  type ServerName,
} from "./servers.js";
import { treeGet, treePut } from "./tree-workloads.js";
import {
  concurrentClients,
  FULL_CONFIG,
  QUICK_CONFIG,
  fixtureFiles,
  getBig,
  hugeDownload,
  mbps,
  median,
  putBig,
  smallFiles,
  soak,
  type Rate,
  type WorkloadConfig,
  type WorkloadContext,
  UPLOADS,
} from "./workloads.js";

const MiB = 1 << 20;
const FULL = FULL_CONFIG;

const USAGE = `Usage: npm run bench:compare -- [options]

bftp against vsftpd, pure-ftpd and pyftpdlib on 127.0.0.1, a raw Node TCP pipe, and the
project's straight-line baseline (perf/baseline) file to file.

Options:
  --quick               smaller files, one measured run (2-3 minutes)
  --runs N              measured runs per throughput workload (default 3; --quick 1)
  --servers LIST        comma-separated, from ${SERVER_NAMES.join(",")} (default all)
  --workloads LIST      comma-separated, from ${WORKLOAD_NAMES.join(",")} (default all)
  --bftp-workers N      bftp serve --workers N (default 1)
  --json FILE           also write every raw figure to FILE
  --scratch DIR         where to put the served files (default /dev/shm when it has room)
  --no-install          do not run perf/compare/install-peers.sh
  --no-curl             skip the client check (curl GET from each FTP server)
  -h, --help            this text

Workloads: get / put: one ${FULL.bigSize / MiB / 1024} GiB file each way, MB/s; small: ${FULL.smallCount} files of
${FULL.smallSize / 1024} KiB on one connection, files/s; tree-get / tree-put: ${FULL.treeCount} files of
${FULL.treeSize / 1024} KiB each way on one connection, file to file, files/s; clients: ${FULL.clients} clients at once fetching ${FULL.clientSize / MiB} MiB
each, MB/s, errors, server peak RSS; huge: one ${FULL.hugeSize / MiB / 1024} GiB download, server RSS; soak:
${FULL.soakIterations} round trips of ${FULL.soakSize / MiB} MiB on one connection, server RSS growth.
`;

/** A mistake in the command line: said with the usage hint, exit code 2 (docs/cli.md). */
class UsageError extends Error {}

function listOption<T extends string>(
  text: string | undefined,
  all: readonly T[],
  what: string,
): T[] {
  if (text === undefined) return [...all];
  const picked = text.split(",").map((s) => s.trim());
  for (const p of picked)
    if (!(all as readonly string[]).includes(p))
      throw new UsageError(`--${what}: unknown "${p}" (choose from ${all.join(", ")})`);
  return all.filter((a) => picked.includes(a));
}

function positive(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`--${what}: expected a whole number >= 1, got "${text}"`);
  return n;
}

const started = performance.now();
function log(message: string): void {
  process.stderr.write(
    `[compare ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`,
  );
}

/** Scratch on tmpfs when it has room: the machine writes to disk at 300-470 MB/s. */
function chooseScratch(wanted: string | undefined, needBytes: number): string {
  if (wanted !== undefined) return wanted;
  try {
    const s = statfsSync("/dev/shm");
    if (s.bavail * s.bsize > needBytes * 1.5) return "/dev/shm";
  } catch {
    // no /dev/shm
  }
  return os.tmpdir();
}

function fsType(dir: string): string {
  const r = spawnSync("stat", ["-f", "-c", "%T", dir], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "unknown";
}

async function outcome<T>(what: string, run: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`${what} failed: ${message}`);
    return { ok: false, error: message };
  }
}

function installPeers(): void {
  const script = path.join(REPO_ROOT, "perf", "compare", "install-peers.sh");
  log("installing the peers if missing (perf/compare/install-peers.sh)");
  const r = spawnSync("bash", [script], { stdio: ["ignore", process.stderr, process.stderr] });
  if (r.status !== 0)
    log(`install-peers.sh failed (exit ${r.status ?? "signal"}): peers missing will be "not run"`);
}

/** GET of the big file with curl to /dev/null: is our FTP client the bottleneck? */
function curlGet(server: RunningServer, file: string): number {
  const r = spawnSync(
    "curl",
    [
      "-s",
      "-S",
      "--max-time",
      "120",
      "-o",
      "/dev/null",
      "-w",
      "%{size_download} %{speed_download}",
      `ftp://127.0.0.1:${server.port}${file}`,
    ],
    { encoding: "utf8" },
  );
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`curl exited ${r.status ?? "?"}: ${r.stderr.trim()}`);
  const [, speed] = r.stdout.trim().split(" ").map(Number);
  return (speed ?? 0) / 1e6;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: "string" },
      quick: { type: "boolean", default: false },
      runs: { type: "string" },
      servers: { type: "string" },
      workloads: { type: "string" },
      "bftp-workers": { type: "string", default: "1" },
      json: { type: "string" },
      scratch: { type: "string" },
      "no-install": { type: "boolean", default: false },
      "no-curl": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.role === "raw-peer") {
    runRawPeerRole();
    return;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const base = values.quick ? QUICK_CONFIG : FULL_CONFIG;
  const config: WorkloadConfig = {
    ...base,
    runs: values.runs === undefined ? base.runs : positive(values.runs, "runs"),
  };
  const serverNames = listOption(values.servers, SERVER_NAMES, "servers");
  const workloads = listOption(values.workloads, WORKLOAD_NAMES, "workloads");
  const bftpWorkers = positive(values["bftp-workers"], "bftp-workers");
  if (!values["no-install"] && serverNames.some((n) => n !== "bftp")) installPeers();

  const fixtures = fixtureFiles(config);
  const need =
    config.bigSize * 2 +
    config.hugeSize +
    config.clientSize +
    config.smallCount * config.smallSize +
    config.treeCount * config.treeSize * 3;
  const scratchParent = chooseScratch(values.scratch, need);
  const scratch = await fs.mkdtemp(path.join(scratchParent, "bftp-compare-"));
  const root = path.join(scratch, "root");
  const work = path.join(scratch, "work");
  const running: RunningServer[] = [];
  let rawPeer: RawPeer | undefined;
  const cleanUp = async (): Promise<void> => {
    rawPeer?.stop();
    await Promise.all(running.map((s) => stopServer(s)));
    await fs.rm(scratch, { recursive: true, force: true });
  };
  const onSignal = (): void => {
    log("interrupted: stopping the servers this run started");
    void cleanUp().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    // The FTP servers chroot anonymous users into root and act as user `ftp`: the path must
    // be traversable by it, root must not be writable by it (vsftpd refuses), uploads must.
    await fs.chmod(scratch, 0o755);
    await fs.mkdir(root, { mode: 0o755 });
    await fs.mkdir(path.join(root, UPLOADS), { mode: 0o777 });
    await fs.chmod(path.join(root, UPLOADS), 0o777);
    await fs.mkdir(work, { mode: 0o755 });
    log(`writing the files into ${root} (${fsType(scratch)})`);
    const big = [fixtures.big, fixtures.ten];
    if (workloads.includes("huge")) big.push(fixtures.huge);
    for (const f of big) await writePatternFile(path.join(root, f.path), f.seed, f.size);
    await fs.mkdir(path.join(root, "small"), { mode: 0o755 });
    for (const f of fixtures.small) await writePatternFile(path.join(root, f.path), f.seed, f.size);
    if (workloads.includes("tree-get") || workloads.includes("tree-put")) {
      await fs.mkdir(path.join(root, "tree"), { mode: 0o755 });
      for (const f of fixtures.tree)
        await writePatternFile(path.join(root, f.path), f.seed, f.size);
    }

    const results: ServerResults[] = [];
    const byName = new Map<ServerName, ServerResults>();
    /** Starts a server (fresh for each workload) and keeps it in `running` until stopped. */
    const start = async (name: ServerName): Promise<RunningServer> => {
      const server = await startServer(name, { root, work, bftpWorkers });
      running.push(server);
      log(`${name} listening on 127.0.0.1:${server.port} (pid ${server.process.pid})`);
      return server;
    };
    const stop = async (server: RunningServer): Promise<void> => {
      await stopServer(server);
      running.splice(running.indexOf(server), 1);
    };
    // First, which servers start at all; those that do not are "not run" with the reason.
    for (const name of serverNames) {
      log(`checking that ${name} starts`);
      try {
        const server = await start(name);
        byName.set(name, { name, description: server.description });
        await stop(server);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        log(`${name} not run: ${why}`);
        byName.set(name, { name, notRun: why });
      }
    }
    const record = (name: ServerName, fields: Partial<ServerResults>): void => {
      byName.set(name, { ...(byName.get(name) ?? { name }), ...fields });
    };

    const ctx: WorkloadContext = { root, work, config, log };
    let raw: CompareResults["raw"];
    if (workloads.includes("get") || workloads.includes("put")) {
      const script = fileURLToPath(import.meta.url);
      const peer = await RawPeer.start(script);
      rawPeer = peer;
      const rawRate = async (
        label: string,
        run: () => Promise<number>,
      ): Promise<Outcome<{ median: number; samples: number[] }>> =>
        outcome(`raw pipe ${label}`, async () => {
          await run(); // warm-up
          const samples: number[] = [];
          for (let r = 0; r < config.runs; r++) {
            samples.push(mbps(config.bigSize, await run()));
            log(`raw pipe ${label} run ${r + 1}/${config.runs}: ${samples[r]?.toFixed(0) ?? ""}`);
          }
          return { median: median(samples), samples };
        });
      raw = {
        get: await rawRate("GET", () => peer.get(fixtures.big.seed, config.bigSize)),
        put: await rawRate("PUT", () => peer.put(fixtures.big.seed, config.bigSize)),
      };
      peer.stop();
      rawPeer = undefined;
    }

    // Workload by workload, every server in turn: drift on a shared machine hits all alike.
    const steps: Record<WorkloadName, (s: RunningServer) => Promise<unknown>> = {
      get: (s) => getBig(s, ctx),
      put: (s) => putBig(s, ctx),
      small: (s) => smallFiles(s, ctx),
      "tree-get": (s) => treeGet(s, ctx),
      "tree-put": (s) => treePut(s, ctx),
      clients: (s) => concurrentClients(s, ctx),
      huge: (s) => hugeDownload(s, ctx),
      soak: (s) => soak(s, ctx),
    };
    // Each server is started afresh for each workload, so what one workload left in its
    // memory does not count against the next.
    const baseline: Partial<Record<BaselineWorkload, Outcome<Rate>>> = {};
    const hasBaseline = (w: WorkloadName): w is BaselineWorkload =>
      w === "get" || w === "put" || w === "tree-get" || w === "tree-put";
    for (const workload of workloads) {
      if (hasBaseline(workload)) {
        log(`baseline: ${workload}`);
        baseline[workload] = await outcome(`baseline ${workload}`, () =>
          baselineRate(workload, ctx),
        );
      }
      for (const name of serverNames) {
        if (byName.get(name)?.notRun !== undefined) continue;
        log(`${name}: ${workload}`);
        const result = await outcome(`${name} ${workload}`, async () => {
          const server = await start(name);
          try {
            const value = await steps[workload](server);
            if (workload === "get" && server.protocol === "ftp" && !values["no-curl"]) {
              log(`${name}: curl GET (client check)`);
              record(name, {
                curlGet: await outcome(`${name} curl`, () =>
                  Promise.resolve(curlGet(server, fixtures.big.path)),
                ),
              });
            }
            return value;
          } finally {
            await stop(server);
          }
        });
        record(name, { [workload]: result });
      }
    }
    for (const name of serverNames) results.push(byName.get(name) ?? { name, notRun: "unknown" });

    const cpus = os.cpus();
    const report: CompareResults = {
      startedAt: new Date(Date.now() - (performance.now() - started)).toISOString(),
      machine: {
        cpu: cpus[0]?.model ?? "unknown",
        cores: cpus.length,
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        kernel: os.release(),
        node: process.version,
        scratch: scratchParent,
        scratchFs: fsType(scratch),
      },
      config,
      workloads,
      ...(raw === undefined ? {} : { raw }),
      ...(Object.keys(baseline).length === 0 ? {} : { baseline }),
      servers: results,
      seconds: (performance.now() - started) / 1000,
    };
    process.stdout.write(formatReport(report));
    if (values.json !== undefined) {
      await fs.writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
      log(`raw figures written to ${values.json}`);
    }
  } finally {
    log("stopping the servers and removing the scratch folder");
    await cleanUp();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

main().catch((err: unknown) => {
  const usage =
    err instanceof UsageError ||
    (err as { code?: unknown }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION";
  if (usage) {
    process.stderr.write(`bench:compare: ${(err as Error).message} (see --help)\n`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(
    `bench:compare failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
