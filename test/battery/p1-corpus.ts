/**
 * P1's path corpus: the hostile paths of the server tests (test/helpers/hostile-paths.ts),
 * extended with more `..` placements, Unicode look-alikes of the dot and the slash, long
 * components on both sides of the limits, mixed separators and a control character at every
 * position of a traversal.
 */
import { hostilePaths } from "../helpers/hostile-paths.js";

const TARGETS = ["etc/passwd", "outside/canary.txt", "outside/dir/secret.txt", ""];

/** Characters that look like a dot: fullwidth, one-dot leader, small and ideographic stops. */
const DOTS = ["\uff0e", "\u2024", "\ufe52", "\u3002", "\u00b7", "\u0701", "\u2e31"];
/** Characters that look like a slash or backslash, and the real backslash. */
const SLASHES = ["\u2215", "\u2044", "\uff0f", "\u29f8", "\uff3c", "\ufe68", "\\"];

/** Every input of the full corpus, hostile and distinct (at least 300). */
export function pathCorpus(): string[] {
  const corpus = new Set<string>(hostilePaths());
  // `..` placed after real names, between them, at the end, in runs, with `.` and `//`.
  for (const target of TARGETS) {
    for (const prefix of ["a/b/../../..", "sub/../..", "./sub/./../../", "sub/inner/../../../"]) {
      corpus.add(`${prefix}/${target}`);
    }
    corpus.add(`${target}/../../..`);
    corpus.add(`sub//..//..//${target}`);
    corpus.add(`/sub/inner/../../../../${target}`);
    corpus.add(`.././${target}`);
  }
  for (const tail of ["..", "../", "../.", "..//", "/..", "/../."]) {
    corpus.add(`sub/inner/../..${tail.startsWith("/") ? tail : `/${tail}`}`);
    corpus.add(`sub${tail.startsWith("/") ? tail : `/${tail}`}/..`);
  }
  // Dot look-alikes as `..`, alone and mixed with a real dot, through real and fake slashes.
  for (const dot of DOTS) {
    corpus.add(`${dot}${dot}/${dot}${dot}/etc/passwd`);
    corpus.add(`.${dot}/../etc`);
    corpus.add(`${dot}./..`);
    corpus.add(`..${dot}/x`);
    corpus.add(`.\u0338.${dot}`); // a combining mark between the dots
    for (const slash of SLASHES) corpus.add(`..${slash}..${slash}etc${slash}passwd`);
    corpus.add(`${dot}${dot}${SLASHES[0] ?? ""}${dot}${dot}`);
  }
  // Mixed and encoded separators.
  for (const p of [
    "..\\/..\\/etc",
    "../\\../etc",
    ".\\./etc",
    "a/b\\..\\..\\..",
    "..%5c..%5cetc",
    "..%255c..%255cetc",
    "..%c1%9c..%c1%9cetc",
    "..;/..;/etc",
    "..?/..?/etc",
    "..//..//..//etc",
    "/./../etc",
    "\\\\?\\C:\\Windows",
    "file:///etc/passwd",
    "~/../../etc/passwd",
    "~root/.ssh",
  ])
    corpus.add(p);
  // Long components and paths on both sides of the 255-byte and 4096-byte limits.
  const emoji = "\u{1f600}"; // 4 bytes of UTF-8
  for (const name of [
    "a".repeat(254),
    "a".repeat(255),
    "a".repeat(256),
    emoji.repeat(63),
    emoji.repeat(64),
    `${emoji.repeat(63)}abc`,
    `${emoji.repeat(63)}abcd`,
    `${"é".repeat(127)}a`,
    `${"é".repeat(127)}ab`,
  ]) {
    corpus.add(name);
    corpus.add(`sub/${name}`);
    corpus.add(`${name}/../../etc`);
  }
  // 4096 and 4097 bytes that resolve to a short path (a deep real one could not be removed).
  const detour = `${"d".repeat(250)}/../`; // 254 bytes
  for (const extra of [0, 1]) {
    const body = detour.repeat(16); // 4064 bytes
    corpus.add(`${body}${"x".repeat(4096 - body.length + extra)}`);
    corpus.add(`${"../".repeat(1365)}${"e".repeat(1 + extra)}`);
  }
  corpus.add(`${"a/".repeat(1000)}${"../".repeat(1001)}etc`);
  corpus.add(`${"a/".repeat(1000)}${"../".repeat(1000)}inside`);
  // A control character at every position of a short traversal.
  const base = "../etc";
  for (const c of ["\0", "\n", "\x1b", "\u009b", "\u2028"]) {
    for (let at = 0; at <= base.length; at++) corpus.add(base.slice(0, at) + c + base.slice(at));
  }
  // Reserved names reached by a detour, and invalid Unicode after a traversal.
  for (const p of [
    "sub/../.bftp-part-1",
    "./.bftp-resume-x",
    ".BFTP-upper",
    "sub/.bftp-",
    "../\ud800",
    "\udc00/../x",
    "a\ud83d",
  ])
    corpus.add(p);
  return [...corpus];
}

/** The per-push subset: every `step`th input, so each family is sampled. */
export function pushCorpus(step = 6): string[] {
  return pathCorpus().filter((_p, i) => i % step === 0);
}
