/**
 * P4's malicious listing: every name of the CLI's hostile-server test (HOSTILE_NAMES) and
 * more: traversal through backslashes and look-alike slashes, absolute names under /tmp,
 * deep climbs, OSC and CSI escapes, BEL, TAB, DEL, NUL, lone CR and LF, C1 escapes, UNC and
 * drive names, empty names, a name too long for the local file system, and safe folders to
 * recurse into, so the same attacks arrive at depth.
 */
import { localName } from "../../src/client/safe-name.js";
import { HOSTILE_NAMES, type HostileEntry } from "../helpers/hostile-server.js";

/** Safe folders the listing offers; the client recurses into them. */
const SAFE_DIRS = ["nest", "\uff0e\uff0e"]; // the second is two fullwidth dots: a plain name

/** Files outside any target that a successful attack would create (absolute paths). */
export function absoluteVictims(id: string): string[] {
  return [`/tmp/bftp-p4-abs-${id}.txt`, `/tmp/bftp-p4-up-${id}.txt`, "/etc/evil"];
}

/** The hostile names, for a run identified by `id` (it makes the absolute ones unique). */
export function hostileNames(id: string): HostileEntry[] {
  const file = (name: string): HostileEntry => ({ name, type: "file" });
  const dir = (name: string): HostileEntry => ({ name, type: "dir" });
  return [
    ...HOSTILE_NAMES,
    file("..\\..\\evil-bs.txt"),
    file("nest/../../evil-slash.txt"),
    file(`/tmp/bftp-p4-abs-${id}.txt`),
    file(`${"../".repeat(12)}tmp/bftp-p4-up-${id}.txt`),
    file("\u001b]0;pwned\u0007title.txt"),
    file("\u001b[6n.txt"),
    file("bell\u0007.txt"),
    file("tab\t.txt"),
    file("del\u007f.txt"),
    file("nul\u0000.txt"),
    file("cr\r.txt"),
    file("lf\n.txt"),
    file("\u009d]0;c1-osc\u009c.txt"),
    file("C:\\evil.txt"),
    file("\\\\server\\share.txt"),
    file(""),
    file("/"),
    file("./x.txt"),
    file("a/b.txt"),
    file("..\u2215lookalike.txt"), // a division slash: one plain name, saved inside
    file(`${"x".repeat(300)}.txt`), // too long for the local file system
    file("safe-1.txt"),
    dir("../../escape-dir-2"),
    dir("/abs-dir"),
    dir("\\..\\"),
    dir("e\u001b[0mdir"),
    dir("sub\r\n"),
  ];
}

/** The listing for a path: the hostile names, plus the safe folders above depth 2. */
export function hostileListing(id: string): (path: string) => HostileEntry[] {
  const names = hostileNames(id);
  return (path) => {
    const depth = path.split("/").filter((p) => p !== "").length;
    return depth < 2
      ? [...names, ...SAFE_DIRS.map((name) => ({ name, type: "dir" as const }))]
      : names;
  };
}

/** Whether a name passes the client's own check (the names it may save). */
export function isSafeName(name: string): boolean {
  try {
    localName(name);
    return true;
  } catch {
    return false;
  }
}

/** Raw control characters in output: C0 but LF, DEL, and C1 once decoded. */
export function rawControls(output: Buffer | string): number {
  const text = typeof output === "string" ? output : output.toString("utf8");
  // eslint-disable-next-line no-control-regex
  return (text.match(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/gu) ?? []).length;
}
