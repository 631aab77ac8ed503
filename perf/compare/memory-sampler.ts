/**
 * Watches a server's memory during a workload from a process of its own. Sampling from the
 * bench's own event loop does not work: with 100 clients receiving, a timer there fires
 * rarely, and the short-lived session processes of a forking server are missed.
 */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { treeMemory, type TreeMemory } from "./process-tree.js";

/** What a {@link MemorySampler} saw. */
export interface MemoryPeak {
  readonly peakRss: number;
  readonly peakPss: number;
  readonly peakProcesses: number;
  readonly samples: number;
  /** The last reading, taken when asked to stop. */
  readonly last: TreeMemory;
}

type FromSampler = { readonly type: "ready" } | ({ readonly type: "peak" } & MemoryPeak);

const DEADLINE_MS = 10_000;

/**
 * The sampler process's body: samples `root`'s tree every `intervalMs` until the parent says
 * "stop", then replies with the peaks and exits (or exits when the parent goes).
 */
export function runSamplerRole(root: number, intervalMs: number): void {
  let peakRss = 0;
  let peakPss = 0;
  let peakProcesses = 0;
  let samples = 0;
  const sample = (): TreeMemory => {
    const m = treeMemory(root);
    samples++;
    peakRss = Math.max(peakRss, m.rss);
    peakPss = Math.max(peakPss, m.pss);
    peakProcesses = Math.max(peakProcesses, m.processes);
    return m;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  process.on("message", () => {
    clearInterval(timer);
    const last = sample();
    const reply: FromSampler = { type: "peak", peakRss, peakPss, peakProcesses, samples, last };
    process.send?.(reply, () => process.exit(0));
  });
  process.on("disconnect", () => process.exit(0));
  process.send?.({ type: "ready" } satisfies FromSampler);
}

/**
 * @example
 * const sampler = await MemorySampler.start(server.pid, 50);
 * await workload();
 * const { peakRss } = await sampler.stop();
 */
export class MemorySampler {
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  /** Forks the sampler and resolves once it has taken its first reading. */
  static async start(root: number, intervalMs = 50): Promise<MemorySampler> {
    const script = fileURLToPath(new URL("./sampler-main.js", import.meta.url));
    const child = fork(script, [String(root), String(intervalMs)], {
      execArgv: [],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    try {
      await once(child, "message", { signal: AbortSignal.timeout(DEADLINE_MS) });
    } catch (err) {
      child.kill();
      throw new Error("Cannot start the memory sampler", { cause: err });
    }
    return new MemorySampler(child);
  }

  /** Takes one last reading, ends the sampler, and resolves with the peaks. */
  async stop(): Promise<MemoryPeak> {
    const reply = once(this.#child, "message", { signal: AbortSignal.timeout(DEADLINE_MS) });
    this.#child.send("stop");
    try {
      const [message] = (await reply) as [FromSampler];
      if (message.type !== "peak") throw new Error("The memory sampler answered out of turn");
      const { type: _type, ...peak } = message;
      return peak;
    } finally {
      if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill();
    }
  }
}
