/**
 * The memory of a `bftp serve` on this machine, for `bftp bench` (issue 5): which process
 * listens on the port (Linux: /proc/net/tcp{,6} gives the socket's inode, /proc/PID/fd links
 * name the process that holds it), and its resident set size (VmRSS in /proc/PID/status)
 * summed with its child processes' (the workers of `bftp serve --workers N`), sampled on an
 * interval. Elsewhere, or for a remote server, nothing is measured and the report says so.
 */
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import net from "node:net";
import os from "node:os";

/** True when `host` names this machine: a loopback name or address, or one of its interfaces. */
export function isLocalHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost" || bare.endsWith(".localhost")) return true;
  if (net.isIPv4(bare)) {
    if (bare.startsWith("127.")) return true;
  } else if (net.isIPv6(bare)) {
    if (bare === "::1" || /^::ffff:127\./.test(bare)) return true;
  } else {
    return bare === os.hostname().toLowerCase();
  }
  return Object.values(os.networkInterfaces()).some((list) =>
    (list ?? []).some((a) => a.address.toLowerCase() === bare),
  );
}

/**
 * The PIDs of the processes holding a socket that listens on TCP `port` (any address), read
 * from /proc; empty when none is found or /proc cannot say (not Linux, another user's process).
 */
export function findListeningPids(port: number): number[] {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "latin1");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      const local = fields[1] ?? "";
      if (fields[3] !== "0A") continue; // TCP_LISTEN
      if (Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16) !== port) continue;
      const inode = fields[9];
      if (inode !== undefined && inode !== "0") inodes.add(`socket:[${inode}]`);
    }
  }
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const pid of listPids()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (inodes.has(target)) {
        pids.push(pid);
        break;
      }
    }
  }
  return pids;
}

function listPids(): number[] {
  try {
    return readdirSync("/proc")
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/** VmRSS of one process in bytes, or undefined when it is gone or unreadable. */
export function rssOf(pid: number): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "latin1");
  } catch {
    return undefined;
  }
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match === null ? undefined : Number(match[1]) * 1024;
}

/** The direct children of `pid` (every thread's list), from /proc. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return children;
  }
  for (const task of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, "latin1").trim();
      if (text !== "") children.push(...text.split(/\s+/).map(Number));
    } catch {
      // a thread that ended meanwhile
    }
  }
  return children;
}

/**
 * RSS of `pid` plus all its descendants, in bytes, and how many processes that sums; undefined
 * when `pid` itself is gone. Bounded: at most 256 processes are visited.
 */
export function treeRss(pid: number): { bytes: number; processes: number } | undefined {
  const own = rssOf(pid);
  if (own === undefined) return undefined;
  let bytes = own;
  let processes = 1;
  const queue = childrenOf(pid);
  const seen = new Set([pid]);
  while (queue.length > 0 && seen.size < 256) {
    const child = queue.shift() ?? 0;
    if (seen.has(child)) continue;
    seen.add(child);
    const rss = rssOf(child);
    if (rss === undefined) continue;
    bytes += rss;
    processes++;
    queue.push(...childrenOf(child));
  }
  return { bytes, processes };
}

/** Which server process(es) to measure and how they were found, or why none is measured. */
export type ServerLocation = { pids: number[]; source: string } | { reason: string };

/**
 * The server to measure for `host:port`: `serverPid` when given, else the local process that
 * listens on the port; a remote host, or a listener that cannot be found, says why not.
 */
export function locateServer(host: string, port: number, serverPid?: number): ServerLocation {
  if (serverPid !== undefined) {
    return rssOf(serverPid) === undefined
      ? { reason: `cannot read the memory of process ${serverPid}` }
      : { pids: [serverPid], source: "--server-pid" };
  }
  if (!isLocalHost(host)) return { reason: "the server is not on this machine" };
  const pids = findListeningPids(port);
  if (pids.length === 0) {
    return {
      reason: `no process of this user found listening on port ${port} (give --server-pid)`,
    };
  }
  return { pids, source: "listening socket" };
}
