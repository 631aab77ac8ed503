/**
 * P1 (issue 6): the path corpus × every command that takes a path (both RENAME paths), from
 * the working directories "/" and "/sub". Each case must be refused with a coded error, or
 * succeed with its effect inside the root; the canary outside is never read, written or
 * listed, and nothing outside the root changes.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { ERROR_CODES } from "../../src/errors.js";
import { walkTree } from "../fixtures/tree-snapshot.js";
import type { BatterySize, Check, CheckResult } from "./check.js";
import { pathCorpus, pushCorpus } from "./p1-corpus.js";
import {
  PATH_COMMANDS,
  emptyRoot,
  isInside,
  realOf,
  runBatch,
  startCanaryWorld,
  type CanaryWorld,
  type Item,
  type Outcome,
} from "./p1-probe.js";

/** What PROTOCOL.md §6 says must be refused, judged from the input alone. */
export function specRefuses(cwd: string, input: string): boolean {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\\\ud800-\udfff]/u.test(input)) return true;
  if (Buffer.byteLength(input) > 4096) return true;
  const parts = input.startsWith("/") ? [] : cwd.split("/").filter(Boolean);
  for (const name of input.split("/")) {
    if (name === "" || name === ".") continue;
    if (name === "..") {
      if (parts.pop() === undefined) return true;
      continue;
    }
    if (Buffer.byteLength(name) > 255 || name.startsWith(".bftp-")) return true;
    parts.push(name);
  }
  return false;
}

/** A fresh root: a subfolder with a file, and one RENAME source per input. */
async function resetRoot(root: string, count: number): Promise<void> {
  await emptyRoot(root);
  await fs.mkdir(path.join(root, "sub", "inner"), { recursive: true });
  await fs.writeFile(path.join(root, "sub", "file.txt"), "inside");
  for (let i = 0; i < count; i++) {
    await fs.writeFile(path.join(root, `rename-source-${i}`), `source ${i}`);
  }
}

/** Counts of one run. */
interface Tally {
  cases: number;
  refused: number;
  bySandbox: number;
  inside: number;
  failures: string[];
}

/** Judges one outcome: a coded refusal, or a success whose effect lies inside the root. */
async function judge(world: CanaryWorld, outcome: Outcome, cwd: string, t: Tally): Promise<void> {
  const { item, reply, wire } = outcome;
  const what = `${JSON.stringify(item.request).slice(0, 160)} from ${cwd} -> ${JSON.stringify(reply).slice(0, 200)}`;
  const fail = (why: string): void => {
    t.failures.push(`${why}: ${what}`);
  };
  if (wire.includes(world.marker)) fail("the canary's marker was sent");
  if (wire.includes("root:x:0:0:")) fail("the real /etc/passwd was sent");
  if (wire.includes(path.dirname(world.srv.root))) fail("a real server path was sent");
  if (reply["close"] === true) fail("a fatal reply");
  const input = item.input;
  if (input !== undefined) t.cases++;
  if (!reply.ok) {
    const code = reply.error?.code ?? "";
    if (!Object.hasOwn(ERROR_CODES, code) || code === "BFTP_ERR_INTERNAL") fail("uncoded");
    if (input === undefined) return;
    t.refused++;
    if (code === "BFTP_ERR_PATH_REFUSED") t.bySandbox++;
    else if (specRefuses(cwd, input)) fail("refused, but not as BFTP_ERR_PATH_REFUSED");
    return;
  }
  if (input !== undefined) {
    t.inside++;
    if (specRefuses(cwd, input)) fail("accepted a path PROTOCOL.md §6 refuses");
  }
  const op = item.request["op"];
  if (op === "LIST" && /"(canary\.txt|secret\.txt)"/.test(wire.toString("utf8")))
    fail("LIST showed a file from outside");
  if (op === "HASH" && reply["value"] === world.canarySha256) fail("HASH of the canary");
  const virtual = reply["path"];
  if (
    typeof virtual === "string" &&
    !isInside(world.srv.root, await realOf(world.srv.root, virtual))
  )
    fail("the reply names a place outside the root");
}

/** The requests of one command for the whole corpus, from `cwd`. */
function batchOf(command: (typeof PATH_COMMANDS)[number], corpus: readonly string[], cwd: string) {
  const items: Item[] = [{ request: { op: "CD", path: cwd } }];
  corpus.forEach((input, i) => {
    items.push(command.build(input, i));
    // A CD that succeeds moves the session: list where it went, then come back.
    if (command.name === "CD") {
      items.push({ request: { op: "LIST", path: "." } }, { request: { op: "CD", path: cwd } });
    }
  });
  return items;
}

async function run(size: BatterySize): Promise<CheckResult> {
  const started = Date.now();
  const corpus = size === "full" ? pathCorpus() : pushCorpus();
  const cwds = size === "full" ? ["/", "/sub"] : ["/"];
  const world = await startCanaryWorld();
  const tally: Tally = { cases: 0, refused: 0, bySandbox: 0, inside: 0, failures: [] };
  let canary: string | undefined;
  try {
    for (const command of PATH_COMMANDS) {
      for (const cwd of cwds) {
        await resetRoot(world.srv.root, corpus.length);
        const outcomes = await runBatch(world.srv.port, batchOf(command, corpus, cwd));
        for (const outcome of outcomes) await judge(world, outcome, cwd, tally);
        const temps = (await walkTree(world.srv.root)).filter((e) => e.rel.includes(".bftp-"));
        if (temps.length > 0) tally.failures.push(`${command.name}: temporary files left`);
        canary ??= await world.untouched();
      }
    }
  } finally {
    await world.stop();
  }
  const expected = corpus.length * PATH_COMMANDS.length * cwds.length;
  if (tally.cases !== expected) tally.failures.push(`ran ${tally.cases} of ${expected} cases`);
  const enough = size === "push" || corpus.length >= 300;
  const pass = tally.failures.length === 0 && canary === undefined && enough;
  const figure =
    `${corpus.length} inputs × ${PATH_COMMANDS.length} commands × ${cwds.length} cwd = ` +
    `${tally.cases} cases, ${tally.refused} refused (${tally.bySandbox} PATH_REFUSED), ` +
    `${tally.inside} inside; canary ${canary ?? "untouched"}` +
    `${world.atimeWatched ? "" : " (atime not watched: noatime)"}; ` +
    `${tally.failures.length} failures${tally.failures[0] === undefined ? "" : ` (first: ${tally.failures[0]})`}; ` +
    `${((Date.now() - started) / 1000).toFixed(1)} s`;
  return { pass, figure };
}

/** P1: every hostile path through every command that takes one. */
export const P1_PATH_CORPUS: Check = {
  id: "P1",
  title: "path corpus × every path command",
  run,
};
