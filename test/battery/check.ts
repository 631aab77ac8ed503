/**
 * The reliability and security battery (issue 6): each check runs at two sizes, "push" (a
 * subset inside the normal test command, seconds) and "full" (`npm run stress`, the sizes the
 * issue names), and ends as one line: its id, pass or fail, and its figure.
 */

/** How big a run is. */
export type BatterySize = "push" | "full";

/** What a check found. */
export interface CheckResult {
  readonly pass: boolean;
  /** The measured figure, e.g. "5000 connections, max close 212 ms, RSS +4.1 MB". */
  readonly figure: string;
}

/** One check of the battery. */
export interface Check {
  /** The id: F1, P2, D3, L1, S5, ... */
  readonly id: string;
  /** What it checks, in a few words. */
  readonly title: string;
  run(size: BatterySize): Promise<CheckResult>;
}

/** The one line a check prints: `F1 pass 100000 inputs, seed 42, 0 uncaught`. */
export function formatLine(check: Check, result: CheckResult): string {
  return `${check.id.padEnd(3)} ${result.pass ? "pass" : "FAIL"} ${check.title}: ${result.figure}`;
}

/** Resident set size after a forced GC, in MB (run node with --expose-gc for the GC). */
export function rssAfterGc(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss / 1e6;
}

/** Open file descriptors of this process (Linux: /proc/self/fd). */
export async function openDescriptors(): Promise<number> {
  const { readdir } = await import("node:fs/promises");
  return (await readdir("/proc/self/fd")).length;
}
