/**
 * Turns a run's results into the printed report: the figures per server, the ratios of bftp
 * to each peer and to the raw pipe, and the issue's targets marked met or not met with the
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
    },
    {
      workload: "put",
      label: `PUT ${formatSize(c.bigSize)}, MB/s`,
      ratio: true,
      digits: 0,
      cell: (s) => pick(s, s.put, (v) => v.median),
      raw: (r) => rawCell(r, "put"),
    },
    {
      workload: "small",
      label: `${c.smallCount} x ${formatSize(c.smallSize)}, files/s`,
      ratio: true,
      digits: 0,
      cell: (s) => pick(s, s.small, (v) => v.median),
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
    ["figure", ...names, "raw pipe"],
    list.map((row) => [
      row.label,
      ...results.servers.map((s) => show(row.cell(s), row.digits)),
      row.raw ? show(row.raw(results), row.digits) : "",
    ]),
  );
  const bftp = bftpOf(results);
  if (bftp === undefined) return figures;
  const peers = peersOf(results);
  const ratios = table(
    ["bftp / other (> 1: bftp faster)", ...peers.map((p) => `/ ${p.name}`), "/ raw pipe"],
    list
      .filter((row) => row.ratio)
      .map((row) => [
        row.label.replace(/, .*$/, ""),
        ...peers.map((p) => show(ratio(row.cell(bftp), row.cell(p)), 2)),
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

/** The issue's targets, judged on this run's figures. */
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
  const vsRaw = (label: string, min: number): void => {
    const r = row(label);
    if (!r?.raw) return;
    const x = ratio(r.cell(bftp), r.raw(results));
    const v = value(x);
    judge(
      `${r.label.replace(/, .*$/, "")} >= ${min} x raw pipe`,
      typeof v === "string" ? v : v >= min,
      typeof v === "number" ? v.toFixed(2) : v,
    );
  };
  const ahead = (label: string, names: readonly ServerName[]): void => {
    const r = row(label);
    if (!r) return;
    for (const name of names) {
      const p = peer(name);
      if (p === undefined) continue;
      const x = value(ratio(r.cell(bftp), r.cell(p)));
      judge(
        `${r.label.replace(/, .*$/, "")} ahead of ${name}`,
        typeof x === "string" ? `${name} ${x}` : x > 1,
        `bftp / ${name} = ${typeof x === "number" ? x.toFixed(2) : x}`,
      );
    }
  };
  const peerNames = peersOf(results).map((p) => p.name);
  if (results.workloads.includes("get")) {
    vsRaw(`GET ${formatSize(c.bigSize)}`, 0.8);
    ahead(`GET ${formatSize(c.bigSize)}`, peerNames);
  }
  if (results.workloads.includes("put")) {
    vsRaw(`PUT ${formatSize(c.bigSize)}`, 0.6);
    ahead(`PUT ${formatSize(c.bigSize)}`, ["vsftpd"]);
  }
  if (results.workloads.includes("small") && bftp.small !== undefined) {
    const rate = value(pick(bftp, bftp.small, (v) => v.median));
    const label = `${c.smallCount} x ${formatSize(c.smallSize)}`;
    judge(
      `${label} >= 20,000 files/s`,
      typeof rate === "string" ? rate : rate >= 20_000,
      `${typeof rate === "number" ? rate.toFixed(0) : rate} files/s`,
    );
    const best = Math.max(
      0,
      ...peersOf(results)
        .map((p) => value(pick(p, p.small, (v) => v.median)))
        .filter((v): v is number => typeof v === "number"),
    );
    if (typeof rate === "number")
      judge(
        `${label} >= 5 x fastest peer`,
        best > 0 ? rate / best >= 5 : "no peer measured",
        `${(rate / best).toFixed(2)} x (fastest peer ${best.toFixed(0)} files/s)`,
      );
  }
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
      ahead(label, peerNames);
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
    for (const key of ["get", "put", "small", "clients", "huge", "soak", "curlGet"] as const) {
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
  return out;
}

/** The whole printed report. */
export function formatReport(results: CompareResults): string {
  const c = results.config;
  const m = results.machine;
  const head = [
    `bftp side by side: ${results.servers.map((s) => s.name).join(", ")} and a raw Node TCP pipe, all on 127.0.0.1`,
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
    "targets (issue 5):",
    ...targets,
    ...(problems.length > 0 ? ["", "not run or failed:", ...problems] : []),
    "",
    `total ${results.seconds.toFixed(0)} s`,
    "",
  ].join("\n");
}
