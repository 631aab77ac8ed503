/**
 * Turns a run's results into the printed report: the figures per server, the ratios of bftp
 * to each peer, to the straight-line baseline and to the raw pipe, and the issue's targets marked met or not met with the
 * figure. Pure: results in, text out.
 */
import type { CompareResults, Outcome, ServerResults } from "./results.js";
import type { ServerName } from "./servers.js";

const MB = 1e6;

/** "1 GiB", "4 KiB", "10 MiB", "1.5 MiB". */
export function formatSize(bytes: number): string {
  for (const [unit, n] of [
    ["GiB", 2 ** 30],
    ["MiB", 2 ** 20],
    ["KiB", 1024],
  ] as const) {
    if (bytes >= n) {
      const v = bytes / n;
      return `${Number.isInteger(v) ? v : v.toFixed(1)} ${unit}`;
    }
  }
  return `${bytes} B`;
}

/** A cell: a figure, or why there is none. */
type Cell = number | { readonly missing: string };

interface Row {
  readonly label: string;
  /** Rates compare as bftp / other (higher is better); memory and counts do not. */
  readonly ratio: boolean;
  readonly digits: number;
  readonly cell: (s: ServerResults) => Cell;
  readonly raw?: (r: CompareResults) => Cell;
  /** The straight-line baseline's figure (perf/baseline), for the workloads it has. */
  readonly baseline?: (r: CompareResults) => Cell;
}

function pick<T>(s: ServerResults, outcome: Outcome<T> | undefined, f: (v: T) => number): Cell {
  if (s.notRun !== undefined) return { missing: "not run" };
  if (outcome === undefined) return { missing: "-" };
  return outcome.ok ? f(outcome.value) : { missing: "failed" };
}

function rawCell(results: CompareResults, direction: "get" | "put"): Cell {
  const outcome = results.raw?.[direction];
  if (outcome === undefined) return { missing: "-" };
  return outcome.ok ? outcome.value.median : { missing: "failed" };
}

function baselineCell(
  results: CompareResults,
  workload: "get" | "put" | "tree-get" | "tree-put",
): Cell {
  const outcome = results.baseline?.[workload];
  if (outcome === undefined) return { missing: "-" };
  return outcome.ok ? outcome.value.median : { missing: "failed" };
}

function rows(results: CompareResults): Row[] {
  const c = results.config;
  const all: (Row & { readonly workload: string })[] = [
    {
      workload: "get",
      label: `GET ${formatSize(c.bigSize)}, MB/s`,
      ratio: true,
      digits: 0,
      cell: (s) => pick(s, s.get, (v) => v.median),
      raw: (r) => rawCell(r, "get"),
      baseline: (r) => baselineCell(r, "get"),
    },
    {
      workload: "put",
      label: `PUT ${formatSize(c.bigSize)}, MB/s`,
      ratio: true,
      digits: 0,
      cell: (s) => pick(s, s.put, (v) => v.median),
      raw: (r) => rawCell(r, "put"),
      baseline: (r) => baselineCell(r, "put"),
    },
    {
      workload: "small",
      label: `${c.smallCount} x ${formatSize(c.smallSize)}, files/s`,
      ratio: true,
      digits: 0,
      cell: (s) => pick(s, s.small, (v) => v.median),
    },
    {
      workload: "tree-get",
      label: `tree GET ${c.treeCount} x ${formatSize(c.treeSize)}, files/s`,
      ratio: true,
      digits: 0,
      cell: (s) => pick(s, s["tree-get"], (v) => v.median),
      baseline: (r) => baselineCell(r, "tree-get"),
    },
    {
      workload: "tree-put",
      label: `tree PUT ${c.treeCount} x ${formatSize(c.treeSize)}, files/s`,
      ratio: true,
      digits: 0,
      cell: (s) => pick(s, s["tree-put"], (v) => v.median),
      baseline: (r) => baselineCell(r, "tree-put"),
    },
    {
      workload: "clients",
      label: `${c.clients} clients x ${formatSize(c.clientSize)}, MB/s`,
      ratio: true,
      digits: 0,
      cell: (s) => pick(s, s.clients, (v) => v.aggregate.median),
    },
    {
      workload: "clients",
      label: "  errors",
      ratio: false,
      digits: 0,
      cell: (s) => pick(s, s.clients, (v) => v.errors),
    },
    {
      workload: "clients",
      label: "  server peak RSS, MB",
      ratio: false,
      digits: 1,
      cell: (s) => pick(s, s.clients, (v) => v.peakRss / MB),
    },
    {
      workload: "clients",
      label: "  server peak PSS, MB",
      ratio: false,
      digits: 1,
      cell: (s) => pick(s, s.clients, (v) => v.peakPss / MB),
    },
    {
      workload: "huge",
      label: `GET ${formatSize(c.hugeSize)}, MB/s`,
      ratio: true,
      digits: 0,
      cell: (s) => pick(s, s.huge, (v) => v.mbps),
    },
    {
      workload: "huge",
      label: "  server peak RSS, MB",
      ratio: false,
      digits: 1,
      cell: (s) => pick(s, s.huge, (v) => v.peakRss / MB),
    },
    {
      workload: "huge",
      label: "  server peak PSS, MB",
      ratio: false,
      digits: 1,
      cell: (s) => pick(s, s.huge, (v) => v.peakPss / MB),
    },
    {
      workload: "soak",
      label: `soak ${c.soakIterations} x ${formatSize(c.soakSize)}: RSS growth, MB`,
      ratio: false,
      digits: 1,
      cell: (s) => pick(s, s.soak, (v) => v.growth / MB),
    },
    {
      workload: "soak",
      label: "  seconds",
      ratio: false,
      digits: 1,
      cell: (s) => pick(s, s.soak, (v) => v.seconds),
    },
    {
      workload: "curl",
      label: `curl GET ${formatSize(c.bigSize)}, MB/s`,
      ratio: false,
      digits: 0,
      cell: (s) => (s.name === "bftp" ? { missing: "n/a" } : pick(s, s.curlGet, (v) => v)),
    },
  ];
  const wanted = new Set<string>([...results.workloads]);
  if (results.servers.some((s) => s.curlGet !== undefined)) wanted.add("curl");
  return all.filter((r) => wanted.has(r.workload));
}

const show = (cell: Cell, digits: number): string =>
  typeof cell === "number" ? cell.toFixed(digits) : cell.missing;

function table(header: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...body.map(line)].join("\n");
}

const bftpOf = (results: CompareResults): ServerResults | undefined =>
  results.servers.find((s) => s.name === "bftp");
const peersOf = (results: CompareResults): ServerResults[] =>
  results.servers.filter((s) => s.name !== "bftp");

/** bftp / other, or why not. */
function ratio(ours: Cell, theirs: Cell): Cell {
  if (typeof ours !== "number") return ours;
  if (typeof theirs !== "number") return theirs;
  return theirs > 0 ? ours / theirs : { missing: "-" };
}

/** The figures table and the ratio table. */
export function formatTables(results: CompareResults): string {
  const list = rows(results);
  const names = results.servers.map((s) => s.name);
  const figures = table(
    ["figure", ...names, "baseline", "raw pipe"],
    list.map((row) => [
      row.label,
      ...results.servers.map((s) => show(row.cell(s), row.digits)),
      row.baseline ? show(row.baseline(results), row.digits) : "",
      row.raw ? show(row.raw(results), row.digits) : "",
    ]),
  );
  const bftp = bftpOf(results);
  if (bftp === undefined) return figures;
  const peers = peersOf(results);
  const ratios = table(
    [
      "bftp / other (> 1: bftp faster)",
      ...peers.map((p) => `/ ${p.name}`),
      "/ baseline",
      "/ raw pipe",
    ],
    list
      .filter((row) => row.ratio)
      .map((row) => [
        row.label.replace(/, .*$/, ""),
        ...peers.map((p) => show(ratio(row.cell(bftp), row.cell(p)), 2)),
        row.baseline ? show(ratio(row.cell(bftp), row.baseline(results)), 2) : "",
        row.raw ? show(ratio(row.cell(bftp), row.raw(results)), 2) : "",
      ]),
  );
  return `${figures}\n\n${ratios}`;
}

/** One target of the issue and how this run did against it. */
export interface TargetLine {
  readonly status: "met" | "not met" | "not run";
  readonly text: string;
}

/**
 * The targets of issue 12 ("Acceptance", the bench:compare line), and the tree target of its
 * CLI line measured here through the library (no start-up), judged on this run's figures;
 * issue 5's memory bounds for the huge download and the soak still hold and are kept.
 */
export function judgeTargets(results: CompareResults): TargetLine[] {
  const bftp = bftpOf(results);
  if (bftp === undefined) return [{ status: "not run", text: "bftp was not measured" }];
  const lines: TargetLine[] = [];
  const c = results.config;
  const peer = (name: ServerName): ServerResults | undefined =>
    results.servers.find((s) => s.name === name);
  const judge = (text: string, ok: boolean | string, figure: string): void => {
    if (typeof ok === "string") lines.push({ status: "not run", text: `${text}: ${ok}` });
    else lines.push({ status: ok ? "met" : "not met", text: `${text}: ${figure}` });
  };
  const value = (cell: Cell): number | string => (typeof cell === "number" ? cell : cell.missing);
  const all = rows(results);
  const row = (label: string): Row | undefined => all.find((r) => r.label.startsWith(label));
  const short = (r: Row): string => r.label.replace(/, .*$/, "");
  /** bftp / `name` against `min`; "ahead of" when min is 1 (strictly more). */
  const versus = (label: string, name: ServerName, min: number): void => {
    const r = row(label);
    const p = peer(name);
    if (!r || p === undefined) return;
    const x = value(ratio(r.cell(bftp), r.cell(p)));
    judge(
      min === 1 ? `${short(r)} ahead of ${name}` : `${short(r)} >= ${min} x ${name}`,
      typeof x === "string" ? `${name} ${x}` : min === 1 ? x > 1 : x >= min,
      `bftp / ${name} = ${typeof x === "number" ? x.toFixed(2) : x}`,
    );
  };
  const vsBaseline = (label: string, min: number): void => {
    const r = row(label);
    if (!r?.baseline) return;
    const x = value(ratio(r.cell(bftp), r.baseline(results)));
    judge(
      `${short(r)} >= ${min} x baseline`,
      typeof x === "string" ? x : x >= min,
      `bftp / baseline = ${typeof x === "number" ? x.toFixed(2) : x}`,
    );
  };
  const bigTargets = (label: string): void => {
    versus(label, "vsftpd", 1);
    versus(label, "pure-ftpd", 1);
    versus(label, "pyftpdlib", 0.9);
  };
  if (results.workloads.includes("get")) bigTargets(`GET ${formatSize(c.bigSize)}`);
  if (results.workloads.includes("put")) bigTargets(`PUT ${formatSize(c.bigSize)}`);
  if (results.workloads.includes("small") && bftp.small !== undefined) {
    const rate = value(pick(bftp, bftp.small, (v) => v.median));
    const label = `${c.smallCount} x ${formatSize(c.smallSize)}`;
    const best = Math.max(
      0,
      ...peersOf(results)
        .map((p) => value(pick(p, p.small, (v) => v.median)))
        .filter((v): v is number => typeof v === "number"),
    );
    judge(
      `${label} >= 5 x fastest peer`,
      typeof rate === "string" ? rate : best > 0 ? rate / best >= 5 : "no peer measured",
      `${typeof rate === "number" ? (rate / best).toFixed(2) : rate} x (fastest peer ${best.toFixed(0)} files/s)`,
    );
  }
  if (results.workloads.includes("tree-get")) vsBaseline("tree GET", 0.75);
  if (results.workloads.includes("tree-put")) vsBaseline("tree PUT", 0.75);
  if (results.workloads.includes("clients") && bftp.clients !== undefined) {
    const label = `${c.clients} clients x ${formatSize(c.clientSize)}`;
    const o = bftp.clients;
    if (!o.ok) judge(label, `failed: ${o.error}`, "");
    else {
      const v = o.value;
      const expected = c.clients * c.clientSize * c.runs;
      judge(
        `${label}: zero errors, every byte verified`,
        v.errors === 0 && v.verifiedBytes === expected,
        `${v.errors} errors, ${v.verifiedBytes} of ${expected} bytes verified`,
      );
      versus(label, "vsftpd", 1);
      versus(label, "pure-ftpd", 1);
      versus(label, "pyftpdlib", 0.8);
      judge(
        `${label}: server peak RSS < 100 MB`,
        v.peakRss < 100 * MB,
        `${(v.peakRss / MB).toFixed(1)} MB`,
      );
    }
  }
  if (results.workloads.includes("huge") && bftp.huge !== undefined) {
    const peak = value(pick(bftp, bftp.huge, (v) => v.peakRss / MB));
    judge(
      `GET ${formatSize(c.hugeSize)}: server RSS < 100 MB throughout`,
      typeof peak === "string" ? peak : peak < 100,
      `peak ${typeof peak === "number" ? peak.toFixed(1) : peak} MB`,
    );
  }
  if (results.workloads.includes("soak") && bftp.soak !== undefined) {
    const growth = value(pick(bftp, bftp.soak, (v) => v.growth / MB));
    judge(
      `soak ${c.soakIterations} x ${formatSize(c.soakSize)}: RSS growth < 20 MB`,
      typeof growth === "string" ? growth : growth < 20,
      `${typeof growth === "number" ? growth.toFixed(1) : growth} MB`,
    );
  }
  return lines;
}

/** Why servers or workloads have no figures: one line each. */
export function formatProblems(results: CompareResults): string[] {
  const out: string[] = [];
  for (const s of results.servers) {
    if (s.notRun !== undefined) out.push(`${s.name}: not run: ${s.notRun}`);
    for (const key of [
      "get",
      "put",
      "small",
      "tree-get",
      "tree-put",
      "clients",
      "huge",
      "soak",
      "curlGet",
    ] as const) {
      const outcome: Outcome<unknown> | undefined = s[key];
      if (outcome?.ok === false) out.push(`${s.name} ${key}: failed: ${outcome.error}`);
    }
    const clients = s.clients;
    if (clients?.ok === true && clients.value.firstError !== undefined)
      out.push(`${s.name} clients: first error: ${clients.value.firstError}`);
  }
  if (results.raw) {
    if (!results.raw.get.ok) out.push(`raw pipe get: failed: ${results.raw.get.error}`);
    if (!results.raw.put.ok) out.push(`raw pipe put: failed: ${results.raw.put.error}`);
  }
  for (const key of ["get", "put", "tree-get", "tree-put"] as const) {
    const outcome = results.baseline?.[key];
    if (outcome?.ok === false) out.push(`baseline ${key}: failed: ${outcome.error}`);
  }
  return out;
}

/** The whole printed report. */
export function formatReport(results: CompareResults): string {
  const c = results.config;
  const m = results.machine;
  const head = [
    `bftp side by side: ${results.servers.map((s) => s.name).join(", ")}, a raw Node TCP pipe and the straight-line baseline, all on 127.0.0.1`,
    "baseline: perf/baseline, the project's own straight-line programs (the job of ../shared/ceilings), file to file: its server in its own process, its client in the bench's, so no start-up counts",
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}; files in ${m.scratch} (${m.scratchFs})`,
    `medians of ${c.runs} run(s) after one warm-up; MB = 10^6 bytes; downloads checked byte for byte in memory, then dropped; uploads sent from memory and checked on disk afterwards`,
    "server memory: RSS and PSS summed over the server and every process it forked (RSS counts shared pages once per process, PSS shares them out); each server is started afresh for each workload",
    ...results.servers
      .filter((s) => s.description !== undefined)
      .map((s) => `  ${s.name}: ${s.description ?? ""}`),
  ].join("\n");
  const targets = judgeTargets(results).map((t) => `  ${`[${t.status}]`.padEnd(10)} ${t.text}`);
  const problems = formatProblems(results).map((p) => `  ${p}`);
  return [
    head,
    "",
    formatTables(results),
    "",
    "targets (issue 12; memory bounds of issue 5):",
    ...targets,
    ...(problems.length > 0 ? ["", "not run or failed:", ...problems] : []),
    "",
    `total ${results.seconds.toFixed(0)} s`,
    "",
  ].join("\n");
}
