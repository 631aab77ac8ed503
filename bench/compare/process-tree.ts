/**
 * Memory of a server and every process it forked (vsftpd and pure-ftpd fork per session),
 * read from /proc (Linux only). RSS is summed over the tree, as the issue asks; PSS is summed
 * too, because RSS counts a shared library once per process and so overstates a forking
 * server, while PSS splits shared pages between the processes that share them.
 */
import fs from "node:fs/promises";

/** One reading of a process tree. */
export interface TreeMemory {
  /** Sum of VmRSS over the tree, bytes. */
  readonly rss: number;
  /** Sum of Pss over the tree, bytes (0 where smaps_rollup cannot be read). */
  readonly pss: number;
  /** Processes in the tree, the root included. */
  readonly processes: number;
}

/** The parent PID of every process now visible in /proc. */
async function parentsByPid(): Promise<Map<number, number>> {
  const parents = new Map<number, number>();
  for (const name of await fs.readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await fs.readFile(`/proc/${name}/stat`, "latin1");
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses; skip past the last ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(Number(name), ppid);
    } catch {
      // exited between readdir and readFile
    }
  }
  return parents;
}

/** `root` and every process descending from it. */
export async function treePids(root: number): Promise<number[]> {
  const parents = await parentsByPid();
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0 && out.length < 100_000) {
    const pid = stack.pop() as number;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** A `kB` field of a /proc status-like file, in bytes; 0 when absent. */
export function kbField(text: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  return match ? Number(match[1]) * 1024 : 0;
}

/** Reads the memory of `root`'s tree now; `withPss` adds PSS (costlier: the kernel walks pages). */
export async function treeMemory(root: number, withPss = true): Promise<TreeMemory> {
  const pids = await treePids(root);
  let rss = 0;
  let pss = 0;
  let processes = 0;
  await Promise.all(
    pids.map(async (pid) => {
      try {
        // Read first, add after: `rss += await x` reads rss before the await and so loses
        // what the other processes added meanwhile.
        const status = await fs.readFile(`/proc/${pid}/status`, "latin1");
        const smaps = withPss ? await fs.readFile(`/proc/${pid}/smaps_rollup`, "latin1") : "";
        rss += kbField(status, "VmRSS");
        pss += kbField(smaps, "Pss");
        processes++;
      } catch {
        // the process exited meanwhile: it holds no memory now
      }
    }),
  );
  return { rss, pss, processes };
}

/** What a {@link MemorySampler} saw. */
export interface MemoryPeak {
  readonly peakRss: number;
  readonly peakPss: number;
  readonly peakProcesses: number;
  readonly samples: number;
  readonly last: TreeMemory | undefined;
}

/**
 * Samples a tree every `intervalMs` until stopped, keeping the peaks. One sample at a time:
 * a slow read delays the next one instead of piling up.
 *
 * @example
 * const sampler = MemorySampler.start(server.pid, 50);
 * await workload();
 * const { peakRss } = await sampler.stop();
 */
export class MemorySampler {
  readonly #root: number;
  #peakRss = 0;
  #peakPss = 0;
  #peakProcesses = 0;
  #samples = 0;
  #last: TreeMemory | undefined;
  #stopped = false;
  #running: Promise<void>;

  private constructor(root: number, intervalMs: number) {
    this.#root = root;
    this.#running = this.#loop(intervalMs);
  }

  static start(root: number, intervalMs = 50): MemorySampler {
    return new MemorySampler(root, intervalMs);
  }

  /** Takes one last sample, stops, and resolves with the peaks. */
  async stop(): Promise<MemoryPeak> {
    this.#stopped = true;
    await this.#running;
    await this.#sample();
    return {
      peakRss: this.#peakRss,
      peakPss: this.#peakPss,
      peakProcesses: this.#peakProcesses,
      samples: this.#samples,
      last: this.#last,
    };
  }

  async #loop(intervalMs: number): Promise<void> {
    while (!this.#stopped) {
      await this.#sample();
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  async #sample(): Promise<void> {
    const m = await treeMemory(this.#root);
    this.#samples++;
    this.#last = m;
    this.#peakRss = Math.max(this.#peakRss, m.rss);
    this.#peakPss = Math.max(this.#peakPss, m.pss);
    this.#peakProcesses = Math.max(this.#peakProcesses, m.processes);
  }
}
