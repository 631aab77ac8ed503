import { treeRss } from "./server-rss.js";

/** One reading: milliseconds since the sampler started, and bytes resident. */
export interface RssSample {
  readonly t: number;
  readonly bytes: number;
}

/** Most samples kept; past it every other one is dropped and the interval doubles. */
const MAX_SAMPLES = 2000;

/**
 * Samples the resident memory of some processes and their children (see {@link treeRss}) every
 * `intervalMs` while a bench runs, so the report can draw memory over time. Memory stays
 * bounded however long the run: the series is thinned to at most 2,000 samples.
 *
 * @example
 * const sampler = new RssSampler([serverPid]);
 * sampler.start(); ...; sampler.stop();
 */
export class RssSampler {
  readonly #pids: readonly number[];
  readonly #origin: number;
  #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #samples: RssSample[] = [];
  #processes = 0;

  constructor(pids: readonly number[], options: { intervalMs?: number; origin?: number } = {}) {
    this.#pids = pids;
    this.#intervalMs = options.intervalMs ?? 100;
    this.#origin = options.origin ?? performance.now();
  }

  /** The processes at the root of what is measured. */
  get pids(): readonly number[] {
    return this.#pids;
  }

  /** The most processes one sample summed (the root processes and their children). */
  get processes(): number {
    return this.#processes;
  }

  /** The interval now in force, ms (doubles each time the series is thinned). */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Every sample so far, oldest first. */
  get samples(): readonly RssSample[] {
    return this.#samples;
  }

  /** Takes a sample now and keeps it; undefined when every measured process is gone. */
  sample(): number | undefined {
    let bytes = 0;
    let processes = 0;
    for (const pid of this.#pids) {
      const tree = treeRss(pid);
      if (tree === undefined) continue;
      bytes += tree.bytes;
      processes += tree.processes;
    }
    if (processes === 0) return undefined;
    this.#processes = Math.max(this.#processes, processes);
    this.#samples.push({ t: performance.now() - this.#origin, bytes });
    if (this.#samples.length > MAX_SAMPLES) this.#thin();
    return bytes;
  }

  /** Starts sampling on the interval (a first sample at once). */
  start(): void {
    this.sample();
    this.#schedule();
  }

  /** Stops sampling, after a last sample. Safe to call twice. */
  stop(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.sample();
  }

  /** The largest sample taken from `fromMs` to `toMs` (sampler time), if any was. */
  peakBetween(fromMs: number, toMs: number): number | undefined {
    let peak: number | undefined;
    for (const s of this.#samples) {
      if (s.t >= fromMs && s.t <= toMs && (peak === undefined || s.bytes > peak)) peak = s.bytes;
    }
    return peak;
  }

  /** Milliseconds since the sampler's origin. */
  now(): number {
    return performance.now() - this.#origin;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.sample();
      this.#schedule();
    }, this.#intervalMs);
    this.#timer.unref();
  }

  #thin(): void {
    // Keep the larger of each pair, so a peak is never thinned away.
    const kept: RssSample[] = [];
    for (let i = 0; i < this.#samples.length; i += 2) {
      const a = this.#samples[i];
      const b = this.#samples[i + 1];
      if (a !== undefined) kept.push(b !== undefined && b.bytes > a.bytes ? b : a);
    }
    this.#samples = kept;
    this.#intervalMs *= 2;
  }
}
