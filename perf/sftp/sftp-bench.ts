/**
 * `npm run bench:sftp` (issue 14, item 6): the same files served by OpenSSH's own sshd with
 * sftp-server (Debian's openssh-server, on a loopback port with a throwaway configuration)
 * and by `bftp serve --sftp`, moved by the same OpenSSH `sftp` client in the same run: 1 GiB
 * each way and 1,000 files of 4 KiB up and down, in interleaved rounds, with medians and the
 * ratio bftp / OpenSSH per workload. Files live in /dev/shm, so the disk is not measured.
 *
 * Both servers are reached with the same cipher (aes128-gcm@openssh.com, which both do with
 * AES-NI; chacha20-poly1305 is OpenSSH's default and ssh2's is slower in JavaScript when its
 * native binding is not built) and the client's defaults otherwise (32 KiB requests, 64 in
 * flight). Needs root (sshd), openssh-server and openssh-client.
 *
 *   node dist/perf/sftp/sftp-bench.js [--runs 3] [--size-mib 1024] [--files 1000] [--quick]
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { median } from "../../src/bench/stats.js";

const CLI = fileURLToPath(new URL("../../bundle/bftp.js", import.meta.url));
const CIPHER = "aes128-gcm@openssh.com";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    "size-mib": { type: "string", default: "1024" },
    files: { type: "string", default: "1000" },
    quick: { type: "boolean", default: false },
  },
});
const quick = values.quick;
const runs = quick ? 1 : Number(values.runs);
const sizeMiB = quick ? 16 : Number(values["size-mib"]);
const fileCount = quick ? 50 : Number(values.files);

interface Server {
  readonly name: string;
  readonly port: number;
  /** Where the client's remote paths are (sshd: an absolute folder; bftp: its root). */
  readonly remoteDir: string;
  readonly user: string;
  readonly stop: () => Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForLine(
  child: ChildProcess,
  stream: "stdout" | "stderr",
  pattern: RegExp,
): Promise<string> {
  let seen = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no ${pattern} within 15 s: ${seen}`));
    }, 15_000);
    child[stream]?.on("data", (chunk: Buffer) => {
      seen += chunk.toString("utf8");
      const match = pattern.exec(seen);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1] ?? match[0]);
      }
    });
    child.once("exit", (code) => {
      reject(new Error(`exited with ${code}: ${seen}`));
    });
  });
}

async function startSshd(work: string, served: string): Promise<Server> {
  const dir = path.join(work, "sshd");
  await fs.mkdir(dir, { recursive: true });
  spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "host")]);
  await fs.copyFile(path.join(work, "client.pub"), path.join(dir, "authorized_keys"));
  await fs.chmod(path.join(dir, "authorized_keys"), 0o600);
  const port = await freePort();
  const config = path.join(dir, "sshd_config");
  await fs.writeFile(
    config,
    [
      `ListenAddress 127.0.0.1:${port}`,
      `HostKey ${path.join(dir, "host")}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "PidFile none",
      "Subsystem sftp /usr/lib/openssh/sftp-server",
      "",
    ].join("\n"),
  );
  await fs.mkdir("/run/sshd", { recursive: true });
  const child = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", config], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  await waitForLine(child, "stderr", /Server listening on 127\.0\.0\.1 port \d+/u);
  const pub = (await fs.readFile(path.join(dir, "host.pub"), "utf8")).trim();
  await fs.appendFile(path.join(work, "known_hosts"), `[127.0.0.1]:${port} ${pub}\n`);
  return {
    name: "OpenSSH sftp-server",
    port,
    remoteDir: served,
    user: "root",
    stop: () => stopChild(child),
  };
}

async function startBftp(work: string, served: string): Promise<Server> {
  const config = path.join(work, "bftp-config");
  const child = spawn(
    process.execPath,
    [
      CLI,
      "serve",
      served,
      "--port",
      "0",
      "--sftp-port",
      "0",
      "--config-dir",
      config,
      "--quiet",
      "--log-format",
      "json",
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  const port = Number(await waitForLine(child, "stdout", /sftp listening on 127\.0\.0\.1:(\d+)/u));
  const pub = (await fs.readFile(path.join(config, "ssh_host_ed25519_key.pub"), "utf8")).trim();
  await fs.appendFile(path.join(work, "known_hosts"), `[127.0.0.1]:${port} ${pub}\n`);
  return {
    name: "bftp serve --sftp",
    port,
    remoteDir: "/",
    user: "root",
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

/** Runs `sftp -b` with `lines` against `server`; resolves with the seconds it took. */
async function sftpRun(work: string, server: Server, lines: readonly string[]): Promise<number> {
  const batch = path.join(work, "batch");
  await fs.writeFile(batch, `${lines.join("\n")}\n`);
  const started = performance.now();
  const run = spawnSync(
    "sftp",
    [
      "-F",
      "/dev/null",
      "-o",
      `UserKnownHostsFile=${path.join(work, "known_hosts")}`,
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "IdentityAgent=none",
      "-i",
      path.join(work, "client"),
      "-c",
      CIPHER,
      "-b",
      batch,
      "-P",
      String(server.port),
      `${server.user}@127.0.0.1`,
    ],
    { cwd: work, encoding: "utf8", timeout: 600_000 },
  );
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`${server.name}: sftp failed: ${run.stderr}`);
  return seconds;
}

const work = await fs.mkdtemp("/dev/shm/bftp-sftp-bench-");
const servedSsh = path.join(work, "served-sshd");
const servedBftp = path.join(work, "served-bftp");
await fs.mkdir(servedSsh);
await fs.mkdir(servedBftp);
spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(work, "client")]);
const big = path.join(work, "big.bin");
{
  const handle = await fs.open(big, "w");
  const block = randomBytes(1 << 20);
  for (let i = 0; i < sizeMiB; i++) await handle.write(block);
  await handle.close();
}
const small = path.join(work, "small");
await fs.mkdir(small);
for (let i = 0; i < fileCount; i++)
  await fs.writeFile(path.join(small, `f${i}.bin`), randomBytes(4096));

const servers = [await startSshd(work, servedSsh), await startBftp(work, servedBftp)];
const workloads = {
  "PUT 1 GiB (MB/s)": {
    lines: (s: Server) => [`put big.bin ${s.remoteDir}/big.bin`],
    amount: (sizeMiB * 1048576) / 1e6,
  },
  "GET 1 GiB (MB/s)": {
    lines: (s: Server) => [`get ${s.remoteDir}/big.bin back.bin`],
    amount: (sizeMiB * 1048576) / 1e6,
  },
  [`put -r ${fileCount} × 4 KiB (files/s)`]: {
    lines: (s: Server) => [
      `-rm ${s.remoteDir}/small/*`,
      `-rmdir ${s.remoteDir}/small`,
      `put -r small ${s.remoteDir}/small`,
    ],
    amount: fileCount,
  },
  [`get -r ${fileCount} × 4 KiB (files/s)`]: {
    lines: (s: Server) => [`get -r ${s.remoteDir}/small small-back`],
    amount: fileCount,
  },
};
const results = new Map<string, Map<string, number[]>>();
try {
  for (let round = 0; round < runs; round++) {
    for (const [name, workload] of Object.entries(workloads)) {
      // Alternate which server goes first, round by round.
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const server of order) {
        await fs.rm(path.join(work, "small-back"), { recursive: true, force: true });
        await fs.rm(path.join(work, "back.bin"), { force: true });
        const seconds = await sftpRun(work, server, workload.lines(server));
        const rate = workload.amount / seconds;
        const byServer = results.get(name) ?? new Map<string, number[]>();
        byServer.set(server.name, [...(byServer.get(server.name) ?? []), rate]);
        results.set(name, byServer);
        process.stderr.write(`round ${round + 1} ${name} ${server.name}: ${rate.toFixed(0)}\n`);
      }
    }
  }
} finally {
  for (const server of servers) await server.stop();
  await fs.rm(work, { recursive: true, force: true });
}

console.log(
  `\nbench:sftp, ${runs} interleaved round(s), medians; cipher ${CIPHER}; files in /dev/shm\n`,
);
console.log(
  "| workload | OpenSSH sftp-server | bftp serve --sftp | bftp / OpenSSH (median of the rounds' ratios) |",
);
console.log("| --- | --- | --- | --- |");
for (const [name, byServer] of results) {
  const ssh = byServer.get(servers[0]?.name ?? "") ?? [];
  const bftp = byServer.get(servers[1]?.name ?? "") ?? [];
  // Each round's two sides ran back to back: their ratio is the figure noise moves least.
  const ratios = bftp.map((b, i) => b / (ssh[i] ?? Number.NaN));
  console.log(
    `| ${name} | ${median(ssh).toFixed(0)} | ${median(bftp).toFixed(0)} | ${median(ratios).toFixed(2)} |`,
  );
}
