/**
 * `bftp serve` runs V8's garbage collector on its main thread (issue 12, item 1: the upload
 * path). A PUT's socket delivers 64 KiB at a time, each piece a fresh buffer, so the server
 * collects about 40 times per GiB; by default V8 hands parts of each collection (scavenging,
 * marking, sweeping, freeing array buffers) to its worker threads. On two cores, with the
 * client, the server's main thread and its file writes already busy, those hand-offs cost the
 * server about 0.4 s of CPU per GiB for a heap of a few megabytes, and a PUT's time with it
 * (docs/performance.md, "The collector on the server's main thread"). V8 reads these flags at
 * each collection, so setting them from inside the running process takes effect at once, with
 * no second process. `--single-threaded-gc` itself cannot be set that way (V8 aborts), nor
 * `--no-parallel-marking` (it aborts V8 even on the command line on Node 20): the flags below
 * are the rest of what `--single-threaded-gc` turns off.
 */
import v8 from "node:v8";
import { nodeFlagNames, type NodeFlagSources } from "./young-generation.js";

/** What `bftp serve` sets: each V8 flag that moves collection work to background threads, off. */
export const MAIN_THREAD_COLLECTOR_FLAGS = [
  "--no-parallel-scavenge",
  "--no-concurrent-marking",
  "--no-concurrent-sweeping",
  "--no-parallel-compaction",
  "--no-parallel-pointer-update",
  "--no-concurrent-array-buffer-sweeping",
] as const;

/** Flags (without `--` or `--no-`) by which a user chooses how V8 spreads its collections. */
const USER_CHOICES = new Set([
  "single-threaded-gc",
  "single-threaded",
  "parallel-scavenge",
  "concurrent-marking",
  "parallel-marking",
  "concurrent-sweeping",
  "parallel-compaction",
  "parallel-pointer-update",
  "concurrent-array-buffer-sweeping",
]);

/**
 * Whether the user chose how V8's collector uses threads, with one of its flags (either
 * polarity) on the `node` command line or in `NODE_OPTIONS` (V8 accepts `_` for `-`).
 *
 * @example
 * userChoseCollectorThreads({ execArgv: ["--single-threaded-gc"], nodeOptions: undefined }); // true
 */
export function userChoseCollectorThreads(sources: NodeFlagSources): boolean {
  return nodeFlagNames(sources).some((flag) => {
    const name = flag.slice(2);
    return USER_CHOICES.has(name.startsWith("no-") ? name.slice(3) : name);
  });
}

/**
 * Keeps V8's collections on the main thread, unless the user chose otherwise with V8's own
 * flags (then their choice stands). Returns whether it did. Call once, early in `bftp serve`;
 * it applies to the whole process.
 *
 * @example
 * collectOnMainThread({ execArgv: process.execArgv, nodeOptions: process.env["NODE_OPTIONS"] });
 */
export function collectOnMainThread(sources: NodeFlagSources): boolean {
  if (userChoseCollectorThreads(sources)) return false;
  v8.setFlagsFromString(MAIN_THREAD_COLLECTOR_FLAGS.join(" "));
  return true;
}
