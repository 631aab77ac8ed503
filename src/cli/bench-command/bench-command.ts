import { stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import type { BftpClient } from "../../client/client.js";
import type { Location } from "../../client/location.js";
import { escapeControls } from "../../client/safe-name.js";
import { SMALL_FILE_MAX, type BenchReport } from "../../bench/bench-report.js";
import { runBench, type BenchObserver, type OpenClients } from "../../bench/run-bench.js";
import { rssOf } from "../../bench/server-rss.js";
import { DEFAULT_SIZES, parseSizeList, sizeLabel } from "../../bench/sizes.js";
import { BftpError } from "../../errors.js";
import {
  EXIT,
  EXIT_HELP,
  addCommonOptions,
  location,
  runAction,
  say,
  sayJson,
  usageError,
  warn,
  withClient,
  type CommonFlags,
} from "../common.js";
import { integer } from "../options.js";
import { ProgressDisplay } from "../progress-display.js";
import { renderHtmlReport } from "./html-report.js";
import { rate, renderText } from "./summary-table.js";

/** Flags of `bftp bench`. */
export interface BenchFlags extends CommonFlags {
  readonly sizes: readonly number[];
  readonly iterations: number;
  readonly concurrency: number;
  readonly seed?: number;
  readonly report?: string;
  readonly serverPid?: number;
  readonly keep?: boolean;
}

/** Exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it). */
const EXIT_INTERRUPTED = 130;

/**
 * `bftp bench bftp://HOST[:PORT][/FOLDER]`: the operator's quality check of a server
 * (issue 5): throughput, uniformity, files/s, client CPU and server memory, every byte verified.
 */
export function benchCommand(): Command {
  return addCommonOptions(
    new Command("bench")
      .description(
        "Check a server: upload test files, download them many times, verify every byte, report speed and memory",
      )
      .argument(
        "<server>",
        "the server, bftp://[user@]host[:port]; a /FOLDER receives the bench's own folder",
      )
      .addOption(
        new Option("--sizes <list>", "file sizes, comma-separated, units K/KiB, M/MiB, G/GiB")
          .argParser(sizes)
          .default(
            DEFAULT_SIZES,
            DEFAULT_SIZES.map((s) => sizeLabel(s).replace(" ", "")).join(","),
          ),
      )
      .option("--iterations <n>", "downloads of each size per client", integer(1, 10_000), 20)
      .option("--concurrency <n>", "clients downloading the same file at once", integer(1, 64), 1)
      .option(
        "--seed <n>",
        "chooses the test bytes (default: random, printed in the report)",
        integer(0, 2 ** 32 - 1),
      )
      .option("--report <file.html>", "also write a self-contained HTML report with charts")
      .option(
        "--server-pid <pid>",
        "measure the memory of this process (default: the local listener)",
        integer(1),
      )
      .option("--keep", "leave the uploaded files on the server (default: remove them)"),
  )
    .addHelpText(
      "after",
      `
Examples:
  bftp bench bftp://127.0.0.1                          the default spread, 20 iterations
  bftp bench --sizes 0,1,4KiB,1MiB --iterations 50 bftp://files.local:9921
  bftp bench --concurrency 4 --report bench.html bftp://127.0.0.1
  bftp bench --json --sizes 1MiB bftp://127.0.0.1 | jq '.results[0].mbps.median'

What it does: makes a folder /bftp-bench-RANDOM (inside FOLDER if the location names one),
uploads one file per size, then for each size runs --iterations rounds in which every one of
the --concurrency clients downloads the file at the same time. Every downloaded byte is
compared with the byte uploaded (the test bytes are a pseudo-random stream from --seed,
generated again as the download arrives) and then discarded: nothing is written to the local
disk. At the end, and on a failure or Ctrl-C, the files and the folder are removed (not with
--keep).

Per size it reports MB/s (10^6 bytes/s over each round's wall time, all clients together):
min, median, p95 (nearest rank) and max over the rounds, the coefficient of variation (CV =
standard deviation / mean: lower is more uniform), files/s for sizes up to ${sizeLabel(SMALL_FILE_MAX)},
the client's CPU seconds (user + system) per GiB verified, and the errors. When the server runs on this
machine (Linux), its memory is sampled every 100 ms: the resident set (VmRSS) of the process
that listens on the port plus its children (a --workers server's workers), at the start,
peak and end of each size; --server-pid names the process instead. Otherwise the report says
"not measured".

A download whose bytes differ, or that fails its transfer check, fails the run with
BFTP_ERR_VERIFY_FAILED (exit 1) after the other rounds finish. Ctrl-C stops at once, removes
the files and exits with 130.
${EXIT_HELP}`,
    )
    .action(async (server: string, flags: BenchFlags) => {
      await runAction(flags, () => bench(server, flags));
    });
}

/** --sizes: a list of sizes with units (commander parser). */
function sizes(value: string): number[] {
  try {
    return parseSizeList(value);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
}

async function bench(serverArg: string, flags: BenchFlags): Promise<number> {
  const where = location(serverArg, flags);
  if (flags.report !== undefined) await checkReportFolder(flags.report);
  if (flags.serverPid !== undefined && rssOf(flags.serverPid) === undefined) {
    throw usageError(
      `Cannot measure process ${flags.serverPid}: no such process, or its memory is not readable here`,
    );
  }
  const seed = flags.seed ?? Math.floor(Math.random() * 2 ** 32);
  const display = await ProgressDisplay.for(flags);
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    display.log("bftp: interrupted; removing the bench files (Ctrl-C again to quit at once)");
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  let report: BenchReport;
  try {
    report = await runBench(
      {
        host: where.host,
        port: where.port,
        parent: where.path,
        sizes: flags.sizes,
        iterations: flags.iterations,
        concurrency: flags.concurrency,
        seed,
        keep: flags.keep === true,
        ...(flags.serverPid === undefined ? {} : { serverPid: flags.serverPid }),
        signal: controller.signal,
        observer: observer(flags, display),
      },
      openClients(where, flags),
    );
  } catch (err) {
    if (controller.signal.aborted) {
      display.stop();
      process.stderr.write("bftp: interrupted (BFTP_ERR_ABORTED)\n");
      return EXIT_INTERRUPTED;
    }
    throw err;
  } finally {
    display.stop();
    process.off("SIGINT", onSigint);
  }
  if (flags.report !== undefined) await writeReport(flags.report, report);
  sayJson(flags, report);
  for (const line of renderText(report)) say(flags, line);
  if (report.ok) return EXIT.ok;
  if (flags.json !== true) {
    // Messages may carry the server's words: escaped like every other line on the terminal.
    for (const f of report.failures.slice(0, 5)) {
      process.stderr.write(`bftp: ${escapeControls(f.message)} (${f.code})\n`);
    }
    const error = report.error ?? { code: "BFTP_ERR_INTERNAL", message: "the run failed" };
    process.stderr.write(`bftp: ${escapeControls(error.message)} (${error.code})\n`);
  }
  return EXIT.failed;
}

/** Progress for people: a total line, a bar for each large transfer, a line per finished size. */
function observer(flags: BenchFlags, display: ProgressDisplay): BenchObserver {
  if (!display.drawing) {
    return {
      warn: (message) => {
        warn(flags, message);
      },
    };
  }
  return {
    plan: (transfers, bytes) => {
      display.expect(transfers, bytes);
    },
    begin: (label, total) => {
      if (total > SMALL_FILE_MAX) display.begin(label, total);
    },
    progress: display.onProgress,
    done: (label, size) => {
      display.done(label, size);
    },
    sizeDone: (r) => {
      const mbps = r.mbps === null ? "" : `, median ${rate(r.mbps.median)} MB/s`;
      const files = r.filesPerSecond === null ? "" : `, ${rate(r.filesPerSecond.median)} files/s`;
      display.log(`${r.label}: ${r.downloads - r.errors}/${r.downloads} verified${mbps}${files}`);
    },
    warn: (message) => {
      display.log(`bftp: warning: ${escapeControls(message)}`);
    },
  };
}

/** `n` clients connected as every command connects (withClient: errors, login, timeouts). */
function openClients(where: Location, flags: CommonFlags): OpenClients {
  return <T>(n: number, body: (clients: BftpClient[]) => Promise<T>): Promise<T> => {
    const more = (open: BftpClient[]): Promise<T> =>
      open.length === n
        ? body(open)
        : withClient(where, flags, (client) => more([...open, client]));
    return more([]);
  };
}

/** Fails before the run (usage error) when the report could not be written where asked. */
async function checkReportFolder(file: string): Promise<void> {
  const folder = path.dirname(path.resolve(file));
  const stats = await stat(folder).catch(() => undefined);
  if (stats?.isDirectory() !== true) {
    throw usageError(
      `Cannot write the report ${JSON.stringify(file)}: no such folder ${JSON.stringify(folder)}`,
    );
  }
}

async function writeReport(file: string, report: BenchReport): Promise<void> {
  try {
    await writeFile(file, renderHtmlReport(report));
  } catch (err) {
    throw new BftpError("BFTP_ERR_LOCAL_FILE", `Cannot write the report ${JSON.stringify(file)}`, {
      cause: err,
    });
  }
}
