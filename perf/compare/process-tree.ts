/**
 * Memory of a server and every process it forked (vsftpd and pure-ftpd fork per session),
 * read from /proc (Linux only). RSS is summed over the tree, as the issue asks; PSS is summed
 * too, because RSS counts a shared library once per process and so overstates a forking
 * server, while PSS splits shared pages between the processes that share them.
 *
 * Reads are synchronous on purpose: one reading is a few milliseconds, and it runs in the
 * sampler's own process (memory-sampler.ts), where blocking harms nobody.
 */
import fs from "node:fs";

/** One reading of a process tree. */
export interface TreeMemory {
  /** Sum of VmRSS over the tree, bytes. */
  readonly rss: number;
  /** Sum of Pss over the tree, bytes (0 where smaps_rollup cannot be read). */
  readonly pss: number;
  /** Processes in the tree, the root included. */
  readonly processes: number;
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, "latin1");
  } catch {
    return ""; // the process exited meanwhile
  }
}

/** `root` and every process descending from it. */
export function treePids(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readOrEmpty(`/proc/${name}/stat`);
    if (stat === "") continue;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses; skip past the last ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const list = children.get(ppid);
    if (list) list.push(Number(name));
    else children.set(ppid, [Number(name)]);
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

/** Reads the memory of `root`'s tree now. */
export function treeMemory(root: number): TreeMemory {
  let rss = 0;
  let pss = 0;
  let processes = 0;
  for (const pid of treePids(root)) {
    const status = readOrEmpty(`/proc/${pid}/status`);
    if (status === "") continue;
    rss += kbField(status, "VmRSS");
    pss += kbField(readOrEmpty(`/proc/${pid}/smaps_rollup`), "Pss");
    processes++;
  }
  return { rss, pss, processes };
}
