/**
 * `npm run bench:scale` (issue 15, item 5): the S3 backend beside the disk backend in the
 * same run, and 1, 2 and 3 nodes behind HAProxy, all on this machine over a real S3 store
 * (Ceph's RADOS Gateway, scripts/s3-gateway.sh; memstore OSD, so the gateway's data is in RAM
 * and no disk is measured; the disk backend serves /dev/shm for the same reason).
 *
 * Workloads, driven by the built CLI, interleaved disk / S3 each round, medians over the runs:
 * PUT and GET of one large file, put -r and get -r of many small files. Then the server's
 * peak RSS (VmHWM) while it streams one object of --rss-mib each way through S3. Then N
 * clients at once (PUT then GET of a file each) through HAProxy in front of 1, 2 and 3 nodes:
 * on one 2-core machine that shows overhead and correctness, not scaling.
 *
 *   node dist/perf/scale/scale-bench.js [--runs 3] [--size-mib 1024] [--files 1000]
 *     [--rss-mib 2048] [--clients 6] [--client-mib 64] [--quick]
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { median } from "../../src/bench/stats.js";
import { BftpClient } from "../../src/client/client.js";
import { startCluster } from "../../test/helpers/cluster.js";
import {
  emptyAndDeleteBucket,
  freshBucket,
  useGateway,
  s3Gateway,
  stopS3Gateway,
} from "../../test/helpers/s3-gateway.js";
import { spawnServe, type ServeProcess } from "../../test/helpers/spawn-serve.js";

const CLI = fileURLToPath(new URL("../../bundle/bftp.js", import.meta.url));
const MiB = 1024 * 1024;

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    "size-mib": { type: "string", default: "1024" },
    files: { type: "string", default: "1000" },
    "rss-mib": { type: "string", default: "2048" },
    clients: { type: "string", default: "6" },
    "client-mib": { type: "string", default: "64" },
    quick: { type: "boolean", default: false },
  },
});
const quick = values.quick;
const runs = quick ? 1 : Number(values.runs);
const sizeMiB = quick ? 32 : Number(values["size-mib"]);
const fileCount = quick ? 50 : Number(values.files);
const rssMiB = quick ? 64 : Number(values["rss-mib"]);
const clients = quick ? 2 : Number(values.clients);
const clientMiB = quick ? 8 : Number(values["client-mib"]);

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** Runs the CLI; resolves with its wall time in ms, rejects on a non-zero exit. */
async function cli(args: readonly string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`bftp ${args.join(" ")} exited ${code}: ${stderr}`);
  return performance.now() - started;
}

/** The peak resident set (VmHWM) of a process, in MB (10^6 bytes), and its current RSS. */
async function memoryOf(pid: number): Promise<{ peak: number; now: number }> {
  const status = await fs.readFile(`/proc/${pid}/status`, "utf8");
  const kb = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
  return { peak: (kb("VmHWM") * 1024) / 1e6, now: (kb("VmRSS") * 1024) / 1e6 };
}

/** A file's SHA-256, streamed (a 2 GiB file is more than one Buffer may hold). */
async function sha256File(file: string): Promise<string> {
  const digest = createHash("sha256");
  await pipeline(createReadStream(file, { highWaterMark: MiB }), digest);
  return digest.digest("hex");
}

const work = await fs.mkdtemp("/dev/shm/bftp-scale-");
// The gateway's memstore OSD holds every object in RAM: room for the large ones measured here.
process.env["MEMSTORE_BYTES"] ??= String(12 * 1024 ** 3);
const gateway = await s3Gateway();
const s3 = useGateway(gateway);
const bucket = await freshBucket(s3, "scale");
const servers: ServeProcess[] = [];
try {
  say(
    `bench:scale — S3 gateway ${gateway.endpoint} (Ceph RGW, memstore), disk backend in /dev/shm`,
  );
  const big = path.join(work, "big.bin");
  await fs.writeFile(big, randomBytes(16 * MiB));
  for (let i = 1; i < sizeMiB / 16; i++) await fs.appendFile(big, randomBytes(16 * MiB));
  const tree = path.join(work, "tree");
  await fs.mkdir(tree);
  for (let i = 0; i < fileCount; i++)
    await fs.writeFile(path.join(tree, `f${i}.bin`), randomBytes(4096));

  const disk = await spawnServe(path.join(work, "served"), ["--quiet"]);
  const objects = await spawnServe(`s3://${bucket}/files`, [
    "--s3-endpoint",
    gateway.endpoint,
    "--quiet",
  ]);
  servers.push(disk, objects);
  const backends = [
    { name: "disk", url: `bftp://127.0.0.1:${disk.port}` },
    { name: "s3", url: `bftp://127.0.0.1:${objects.port}` },
  ];
  const times = new Map<string, number[]>();
  const record = (key: string, ms: number): void => {
    times.set(key, [...(times.get(key) ?? []), ms]);
  };
  for (let round = 0; round < runs; round++) {
    const order = round % 2 === 0 ? backends : [...backends].reverse();
    for (const b of order) {
      const out = path.join(work, `out-${b.name}`);
      await fs.rm(out, { recursive: true, force: true });
      record(`${b.name} put`, await cli(["put", "--overwrite", big, `${b.url}/big.bin`]));
      record(`${b.name} get`, await cli(["get", `${b.url}/big.bin`, `${out}.bin`]));
      await fs.rm(`${out}.bin`, { force: true });
      await cli(["rm", "-r", `${b.url}/tree`]).catch(() => 0);
      record(`${b.name} put -r`, await cli(["put", "-r", tree, `${b.url}/tree`]));
      record(`${b.name} get -r`, await cli(["get", "-r", `${b.url}/tree`, out]));
      await cli(["rm", `${b.url}/big.bin`]);
    }
    say(`  round ${round + 1} of ${runs} done`);
  }
  const bytes = sizeMiB * MiB;
  say(`\n| workload | disk | S3 (Ceph RGW) | S3 / disk |`);
  say(`| --- | --- | --- | --- |`);
  for (const op of ["put", "get"]) {
    const d = bytes / 1e6 / (median(times.get(`disk ${op}`) ?? []) / 1000);
    const o = bytes / 1e6 / (median(times.get(`s3 ${op}`) ?? []) / 1000);
    say(
      `| ${op.toUpperCase()} ${sizeMiB} MiB (MB/s) | ${d.toFixed(0)} | ${o.toFixed(0)} | ${(o / d).toFixed(2)} |`,
    );
  }
  for (const op of ["put -r", "get -r"]) {
    const d = fileCount / (median(times.get(`disk ${op}`) ?? []) / 1000);
    const o = fileCount / (median(times.get(`s3 ${op}`) ?? []) / 1000);
    say(
      `| ${op} ${fileCount} × 4 KiB (files/s) | ${d.toFixed(0)} | ${o.toFixed(0)} | ${(o / d).toFixed(2)} |`,
    );
  }

  // Memory: a fresh S3 server for each direction streams one object of rssMiB.
  const huge = path.join(work, "huge.bin");
  await fs.rename(big, huge);
  for (let i = sizeMiB; i < rssMiB; i += 16) await fs.appendFile(huge, randomBytes(16 * MiB));
  await fs.truncate(huge, rssMiB * MiB);
  const back = path.join(work, "huge-back.bin");
  const peaks: string[] = [];
  for (const direction of ["PUT", "GET"] as const) {
    const server = await spawnServe(`s3://${bucket}/files`, [
      "--s3-endpoint",
      gateway.endpoint,
      "--quiet",
    ]);
    const pid = server.child.pid ?? 0;
    const idle = await memoryOf(pid);
    const url = `bftp://127.0.0.1:${server.port}/huge.bin`;
    const ms = await (direction === "PUT" ? cli(["put", huge, url]) : cli(["get", url, back]));
    const { peak } = await memoryOf(pid);
    await server.stop();
    const rate = (rssMiB * MiB) / 1e6 / (ms / 1000);
    peaks.push(
      `${direction}: ${idle.now.toFixed(0)} MB idle, peak ${peak.toFixed(0)} MB (${rate.toFixed(0)} MB/s)`,
    );
  }
  const same = (await sha256File(huge)) === (await sha256File(back));
  say(
    `\nserver RSS streaming one ${rssMiB} MiB object through S3 (a fresh server each way): ${peaks.join("; ")}; bytes back ${same ? "identical" : "DIFFERENT"}`,
  );
  await fs.rm(huge, { force: true });
  await fs.rm(back, { force: true });
  await cli(["rm", `bftp://127.0.0.1:${objects.port}/huge.bin`]);
  for (const s of servers) await s.stop();
  servers.length = 0;

  // Nodes behind HAProxy: `clients` at once, each PUT then GET of its own file.
  const one = path.join(work, "client.bin");
  await fs.writeFile(one, randomBytes(clientMiB * MiB));
  say(
    `\n| nodes behind HAProxy | ${clients} clients × (PUT + GET ${clientMiB} MiB), aggregate MB/s | errors |`,
  );
  say(`| --- | --- | --- |`);
  for (const count of [1, 2, 3]) {
    const cluster = await startCluster(count);
    try {
      const rates: number[] = [];
      let errors = 0;
      for (let round = 0; round < runs; round++) {
        const started = performance.now();
        const results = await Promise.allSettled(
          Array.from({ length: clients }, async (_, i) => {
            const client = await BftpClient.connect({ host: "127.0.0.1", port: cluster.port });
            try {
              await client.upload(one, `/c${i}.bin`, { overwrite: true });
              await client.download(`/c${i}.bin`, path.join(work, `c${i}.back`), {
                overwrite: true,
              });
            } finally {
              await client.close();
            }
          }),
        );
        errors += results.filter((r) => r.status === "rejected").length;
        const seconds = (performance.now() - started) / 1000;
        rates.push((2 * clients * clientMiB * MiB) / 1e6 / seconds);
      }
      say(`| ${count} | ${median(rates).toFixed(0)} | ${errors} |`);
    } finally {
      await cluster.stop();
    }
  }
} finally {
  for (const s of servers) await s.stop();
  await emptyAndDeleteBucket(s3, bucket).catch(() => undefined);
  s3.destroy();
  await stopS3Gateway();
  await fs.rm(work, { recursive: true, force: true });
}
