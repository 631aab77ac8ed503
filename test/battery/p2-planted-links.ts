/**
 * P2 (issue 6): symbolic links planted in the root that lead out of it, of every kind (to a
 * file, to a directory, absolute, relative, dangling, mid-path, chained, a loop), used by
 * every command that takes a path, as the path itself and as a directory on the way. Every
 * case is refused with a coded error, except that DELETE, RENAME (either side) and PUT with
 * overwrite may act on the link itself, inside the root: then the link is what moved or went,
 * and its target is untouched. A link that stays inside is the control: it must work.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { ERROR_CODES } from "../../src/errors.js";
import type { BatterySize, Check, CheckResult } from "./check.js";
import {
  PATH_COMMANDS,
  emptyRoot,
  putContent,
  runBatch,
  startCanaryWorld,
  type CanaryWorld,
  type Item,
  type Outcome,
} from "./p1-probe.js";

/** One kind of planted link: its name in the root, its target, and paths that use it. */
interface LinkKind {
  readonly kind: string;
  readonly link: string;
  /** The target; OUTSIDE stands for the outside folder's real path. */
  readonly target: string;
  /** Paths beneath the link (it is a directory on the way). */
  readonly beneath: readonly string[];
}

const UNDER_DIR = ["secret.txt", "new.txt", "newdir/x"];

const KINDS: readonly LinkKind[] = [
  { kind: "file, absolute", link: "file-abs", target: "OUTSIDE/canary.txt", beneath: ["x"] },
  { kind: "file, relative", link: "file-rel", target: "../outside/canary.txt", beneath: ["x"] },
  { kind: "dir, absolute", link: "dir-abs", target: "OUTSIDE/dir", beneath: UNDER_DIR },
  { kind: "dir, relative", link: "dir-rel", target: "../outside/dir", beneath: UNDER_DIR },
  { kind: "dangling, absolute", link: "dang-abs", target: "OUTSIDE/ghost.txt", beneath: ["x"] },
  { kind: "dangling, relative", link: "dang-rel", target: "../outside/ghost2", beneath: ["x"] },
  { kind: "dangling, nowhere", link: "dang-none", target: "/nonexistent-bftp/x", beneath: ["x"] },
  { kind: "mid-path", link: "sub/deep-out", target: "../../outside", beneath: UNDER_DIR },
  { kind: "chained", link: "chain", target: "dir-abs", beneath: UNDER_DIR },
  { kind: "to the parent", link: "up", target: "..", beneath: ["outside/canary.txt", "new.txt"] },
  { kind: "to /", link: "slash", target: "/", beneath: ["etc/passwd", "tmp/bftp-p2-new.txt"] },
  { kind: "loop", link: "loop-a", target: "loop-b", beneath: ["x"] },
  { kind: "loop, other end", link: "loop-b", target: "loop-a", beneath: ["x"] },
  { kind: "loop, self", link: "self", target: "self", beneath: ["x"] },
];

/** Commands that may act on a link itself (never on its target). */
const ON_LINK = new Set(["DELETE", "RENAME from", "RENAME to", "PUT overwrite"]);
/** Commands that, through the inside link, must succeed (the control). */
const CONTROL = new Set(["STAT", "GET", "HASH"]);

/** One case: a path, which link it uses, and whether it is the link itself. */
interface Case {
  readonly path: string;
  readonly kind: LinkKind | undefined;
  readonly isLink: boolean;
}

/** The paths of one spelling: relative (""), absolute ("/"), or by a detour. */
function casesFor(prefix: string): Case[] {
  const cases: Case[] = [];
  for (const kind of KINDS) {
    // Beneath first: the link itself may be deleted or moved by its own case, which is last.
    for (const b of kind.beneath)
      cases.push({ path: `${prefix}${kind.link}/${b}`, kind, isLink: false });
    cases.push({ path: `${prefix}${kind.link}`, kind, isLink: true });
  }
  cases.push({ path: `${prefix}inside/file.txt`, kind: undefined, isLink: false });
  return cases;
}

/** A fresh root: `sub/`, every planted link, the inside link, and the RENAME sources. */
async function plant(world: CanaryWorld, count: number): Promise<void> {
  const { root, outside } = world.srv;
  await emptyRoot(root);
  await fs.mkdir(path.join(root, "sub", "inner"), { recursive: true });
  await fs.writeFile(path.join(root, "sub", "file.txt"), "inside");
  for (const k of KINDS) {
    await fs.symlink(k.target.replace("OUTSIDE", outside), path.join(root, k.link));
  }
  await fs.symlink("sub", path.join(root, "inside"));
  for (let i = 0; i < count; i++) {
    await fs.writeFile(path.join(root, `rename-source-${i}`), `source ${i}`);
  }
}

/** Counts of one run. */
interface Tally {
  cases: number;
  refused: number;
  onLink: number;
  allowed: number;
  control: number;
  failures: string[];
}

/** After the batch: an ok on a link itself must have acted on the link, inside the root. */
async function actedOnLink(root: string, name: string, c: Case, i: number): Promise<boolean> {
  const at = path.join(root, c.kind?.link ?? "");
  const stats = await fs.lstat(at).catch(() => undefined);
  switch (name) {
    case "DELETE":
      return stats === undefined;
    case "RENAME from":
      return (await fs.lstat(path.join(root, `renamed-${i}`))).isSymbolicLink();
    case "RENAME to":
      return stats?.isFile() === true && (await fs.readFile(at, "utf8")) === `source ${i}`;
    default: // PUT overwrite
      return stats?.isFile() === true && (await fs.readFile(at)).equals(putContent(i));
  }
}

async function judge(
  world: CanaryWorld,
  command: string,
  outcome: Outcome,
  c: Case,
  i: number,
  t: Tally,
): Promise<void> {
  const { reply, wire } = outcome;
  const what = `${command} ${JSON.stringify(c.path)} (${c.kind?.kind ?? "inside"}) -> ${JSON.stringify(reply).slice(0, 160)}`;
  const fail = (why: string): void => {
    t.failures.push(`${why}: ${what}`);
  };
  t.cases++;
  if (wire.includes(world.marker)) fail("the canary's marker was sent");
  if (wire.includes("root:x:0:0:")) fail("the real /etc/passwd was sent");
  if (wire.includes(path.dirname(world.srv.root))) fail("a real server path was sent");
  if (c.kind === undefined) {
    if (CONTROL.has(command) && !reply.ok) fail("the inside link did not work");
    if (reply.ok) t.control++;
    return;
  }
  if (!reply.ok) {
    const code = reply.error?.code ?? "";
    if (!Object.hasOwn(ERROR_CODES, code) || code === "BFTP_ERR_INTERNAL") fail("uncoded");
    t.refused++;
    return;
  }
  if (!(c.isLink && ON_LINK.has(command))) {
    t.allowed++;
    fail("accepted");
  } else if (!(await actedOnLink(world.srv.root, command, c, i))) fail("not on the link itself");
  else t.onLink++;
}

async function run(size: BatterySize): Promise<CheckResult> {
  const started = Date.now();
  const spellings = size === "full" ? ["", "/", "sub/inner/../../"] : [""];
  const world = await startCanaryWorld();
  const tally: Tally = { cases: 0, refused: 0, onLink: 0, allowed: 0, control: 0, failures: [] };
  let canary: string | undefined;
  let paths = 0;
  try {
    for (const prefix of spellings) {
      const cases = casesFor(prefix);
      paths += cases.length;
      // One batch per command and spelling, on a fresh root: a case may consume its link.
      for (const command of PATH_COMMANDS) {
        await plant(world, cases.length);
        const items: Item[] = [];
        cases.forEach((c, i) => {
          items.push(command.build(c.path, i));
          if (command.name === "CD") items.push({ request: { op: "CD", path: "/" } });
        });
        const outcomes = await runBatch(world.srv.port, items);
        const tested = outcomes.filter((o) => o.item.input !== undefined);
        if (tested.length !== cases.length) tally.failures.push(`${command.name}: cut short`);
        for (const [i, outcome] of tested.entries()) {
          const c = cases[i];
          if (c !== undefined) await judge(world, command.name, outcome, c, i, tally);
        }
        canary ??= await world.untouched();
      }
    }
  } finally {
    await world.stop();
  }
  const linkCases = (paths - spellings.length) * PATH_COMMANDS.length;
  const pass = tally.failures.length === 0 && canary === undefined;
  const figure =
    `${KINDS.length} link kinds, ${paths} paths × ${PATH_COMMANDS.length} commands: ` +
    `${linkCases} cases through links, ${tally.refused} refused, ${tally.onLink} acted on the ` +
    `link itself (DELETE/RENAME/PUT overwrite), ${tally.allowed} let through; inside control ` +
    `${tally.control} ok; canary ${canary ?? "untouched"}; ` +
    `${tally.failures.length} failures${tally.failures[0] === undefined ? "" : ` (first: ${tally.failures[0]})`}; ` +
    `${((Date.now() - started) / 1000).toFixed(1)} s`;
  return { pass, figure };
}

/** P2: planted links that lead out of the root, every kind × every command. */
export const P2_PLANTED_LINKS: Check = {
  id: "P2",
  title: "planted symlinks out of the root",
  run,
};
