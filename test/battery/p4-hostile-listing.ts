/**
 * P4 (issue 6): a malicious server's listing (`../`, absolute names, backslashes, CR/LF, NUL,
 * terminal escapes; see p4-names.ts) fed to the client library's downloadTree and to the CLI's
 * `bftp get -r` (spawned; at full size also with --json, and `bftp ls`). Passing: nothing is
 * written outside the target (the folders around it and the absolute victims unchanged),
 * everything written inside has a safe name and is a plain file or folder, only safe paths
 * were requested, and no raw control character is printed (or passed to a warning callback).
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { BftpClient } from "../../src/client/client.js";
import { downloadTree } from "../../src/client/tree.js";
import { walkTree } from "../fixtures/tree-snapshot.js";
import { startHostileServer, type HostileServer } from "../helpers/hostile-server.js";
import { runCli } from "../helpers/run-cli.js";
import type { BatterySize, Check, CheckResult } from "./check.js";
import {
  absoluteVictims,
  hostileListing,
  hostileNames,
  isSafeName,
  rawControls,
} from "./p4-names.js";

/** Longest a client may take over the hostile tree (it is small: seconds at most). */
const DEADLINE_MS = 30_000;

/** A run's world: the hostile server, and a base folder holding canaries and the targets. */
interface World {
  readonly hostile: HostileServer;
  readonly base: string;
  readonly id: string;
}

/**
 * Everything under the base but the target: names and types, and for files their size, mtime
 * and inode (a folder's own mtime moves when the target is created in it: not a write).
 */
async function outsideOf(world: World, target: string): Promise<string[]> {
  return (await walkTree(world.base, target)).map((e) =>
    e.type === "file" ? `${e.rel} file ${e.size} ${e.mtimeMs} ${e.ino}` : `${e.rel} ${e.type}`,
  );
}

/** What one client run did, judged. */
interface Judged {
  readonly written: number;
  readonly failures: string[];
}

/**
 * Judges a run into `target`: the base folder outside the target unchanged, the absolute
 * victims absent, only safe names and plain files inside, only safe paths requested.
 */
async function judgeRun(
  world: World,
  target: string,
  before: readonly string[],
  since: number,
): Promise<Judged> {
  const failures: string[] = [];
  const after = await outsideOf(world, target);
  const changed = [
    ...after.filter((e) => !before.includes(e)),
    ...before.filter((e) => !after.includes(e)),
  ];
  if (changed.length > 0) failures.push(`outside the target changed: ${JSON.stringify(changed)}`);
  for (const victim of absoluteVictims(world.id)) {
    if (
      await fs.lstat(victim).then(
        () => true,
        () => false,
      )
    )
      failures.push(`${victim} was written`);
  }
  const inside = await walkTree(target).catch(() => []);
  for (const e of inside) {
    if (!path.basename(e.rel).split(path.sep).every(isSafeName))
      failures.push(`unsafe name written: ${JSON.stringify(e.rel)}`);
    if (e.type !== "file" && e.type !== "dir") failures.push(`a ${e.type} written: ${e.rel}`);
  }
  if (!inside.some((e) => e.rel === "ok.txt")) failures.push("the safe ok.txt was not saved");
  for (const r of world.hostile.requests.slice(since)) {
    if (r.op !== "GET" && r.op !== "LIST") continue;
    const parts = (r.path ?? "/").split("/").filter((p) => p !== "");
    if (!parts.every(isSafeName)) failures.push(`requested ${JSON.stringify(r)}`);
  }
  return { written: inside.filter((e) => e.type === "file").length, failures };
}

/** A fresh work folder in the base, with a canary beside the target-to-be. */
async function workFolder(world: World, name: string): Promise<string> {
  const work = path.join(world.base, name);
  await fs.mkdir(work);
  await fs.writeFile(path.join(work, "canary"), "untouched");
  return work;
}

/** The library: downloadTree into work/OUT, warnings collected. */
async function libraryRun(world: World): Promise<string> {
  const work = await workFolder(world, "lib");
  const target = path.join(work, "OUT");
  const before = await outsideOf(world, target);
  const since = world.hostile.requests.length;
  const warnings: string[] = [];
  const client = await BftpClient.connect(`bftp://127.0.0.1:${world.hostile.port}`);
  let summary: string;
  let failures: string[];
  try {
    // A listing that made the client recurse for ever must fail the check, not hang it.
    const timer = setTimeout(() => void client.close(), DEADLINE_MS);
    const result = await downloadTree(client, "/", target, {
      onWarning: (m) => warnings.push(m),
    }).finally(() => {
      clearTimeout(timer);
    });
    const judged = await judgeRun(world, target, before, since);
    failures = judged.failures;
    const controls = warnings.reduce((n, w) => n + rawControls(w), 0);
    if (controls > 0) failures.push(`${controls} raw control characters in warnings`);
    summary =
      `library wrote ${judged.written} inside, skipped ${result.skipped}, ` +
      `failed ${result.failed.length}, ${warnings.length} warnings with ${controls} raw controls`;
  } finally {
    await client.close();
  }
  if (failures.length > 0) throw new Error(`library: ${failures.join("; ")}`);
  return summary;
}

/** The CLI, spawned in a fresh work folder with `args` (the target is OUT). */
async function cliRun(world: World, name: string, args: readonly string[]): Promise<string> {
  const work = await workFolder(world, name);
  const target = path.join(work, "OUT");
  const before = await outsideOf(world, target);
  const since = world.hostile.requests.length;
  const result = await runCli(args, { cwd: work, timeout: DEADLINE_MS });
  const failures: string[] = [];
  if (result.code === null) failures.push(`killed by ${result.signal ?? "?"}`);
  const controls = rawControls(result.raw);
  if (controls > 0) failures.push(`${controls} raw control characters printed`);
  if (/\n\s+at /.test(result.stderr)) failures.push("a stack trace was printed");
  let written = "";
  if (args[0] === "get") {
    const judged = await judgeRun(world, target, before, since);
    failures.push(...judged.failures);
    written = ` wrote ${judged.written} inside,`;
  }
  if (failures.length > 0) {
    // Say what the CLI said, so a failure under load can be told from a real one.
    const said = JSON.stringify(result.stderr.slice(-300));
    throw new Error(
      `bftp ${args.join(" ")}: ${failures.join("; ")} (exit ${result.code ?? "?"}, stderr ${said})`,
    );
  }
  return `bftp ${args.filter((a) => a.startsWith("-") || /^[a-z]+$/.test(a)).join(" ")} exit ${result.code ?? "?"},${written} ${result.raw.length} bytes printed, 0 raw controls`;
}

async function run(size: BatterySize): Promise<CheckResult> {
  const started = Date.now();
  const id = randomUUID();
  const hostile = await startHostileServer({ listing: hostileListing(id) });
  const base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-p4-")));
  await fs.writeFile(path.join(base, "canary"), "untouched");
  const world: World = { hostile, base, id };
  const url = `bftp://127.0.0.1:${hostile.port}/`;
  const parts: string[] = [];
  const failures: string[] = [];
  const attempt = async (step: () => Promise<string>): Promise<void> => {
    try {
      parts.push(await step());
    } catch (err) {
      failures.push(err instanceof Error ? err.message : String(err));
    }
  };
  try {
    await attempt(() => libraryRun(world));
    await attempt(() => cliRun(world, "cli", ["get", "-r", url, "OUT"]));
    if (size === "full") {
      await attempt(() => cliRun(world, "cli-json", ["get", "-r", "--json", url, "OUT"]));
      await attempt(() => cliRun(world, "cli-ls", ["ls", url]));
    }
  } finally {
    await hostile.close();
    await fs.rm(base, { recursive: true, force: true });
  }
  const names = hostileNames(id);
  const unsafe = names.filter((e) => !isSafeName(e.name)).length;
  const figure =
    `${names.length + 2} names per listing (${unsafe} unsafe), at depths 0-2: ${parts.join("; ")}` +
    `${failures.length === 0 ? "; nothing outside the target" : `; FAILED: ${failures.join(" | ").slice(0, 600)}`}; ` +
    `${((Date.now() - started) / 1000).toFixed(1)} s`;
  return { pass: failures.length === 0, figure };
}

/** P4: a malicious server's listing against downloadTree and `bftp get -r`. */
export const P4_HOSTILE_LISTING: Check = {
  id: "P4",
  title: "malicious listing vs downloadTree and get -r",
  run,
};
