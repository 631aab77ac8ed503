/**
 * Hostile path inputs for every command that takes a path (issue 3's acceptance: at least
 * 100). Each must be refused with a coded error or resolve inside the root. Shared by the
 * sandbox tests and the server's per-command tests.
 */
export function hostilePaths(): string[] {
  const corpus = new Set<string>();
  const targets = ["", "etc/passwd", "outside/canary.txt", "root/.ssh/id_rsa"];
  // ".." in every position, at several depths, absolute and relative, with "." and "//" noise.
  for (let depth = 1; depth <= 5; depth++) {
    const up = Array<string>(depth).fill("..").join("/");
    for (const target of targets) {
      corpus.add(`${up}/${target}`);
      corpus.add(`/${up}/${target}`);
      corpus.add(`a/${up}/${target}`);
      corpus.add(`./${up}//${target}`);
    }
  }
  for (const p of [
    "..",
    "../",
    "/..",
    "/../",
    "a/..",
    "a/../..",
    "a/b/../../..",
    "a/./../../b",
    "./..",
    "...",
    "....//",
    ".../...",
    "a/../../../../../../../../../../../../etc",
  ])
    corpus.add(p);
  // Real absolute paths: they name files inside the virtual tree, never the real ones.
  for (const p of [
    "/etc/passwd",
    "/etc/shadow",
    "/proc/self/environ",
    "/proc/self/root/etc/passwd",
    "/dev/zero",
    "/root/.ssh/id_rsa",
    "//etc//passwd",
    "/../etc/passwd",
  ])
    corpus.add(p);
  // Backslashes (Windows separators) anywhere.
  for (const p of [
    "..\\..\\etc\\passwd",
    "a\\b",
    "\\",
    "\\\\server\\share",
    "C:\\Windows\\win.ini",
    "a/..\\..",
    "/\\../etc",
  ])
    corpus.add(p);
  // NUL and control characters, C1 controls and terminal escapes.
  for (const c of ["\0", "\n", "\r", "\t", "\x1b", "\x7f", "\u0085", "\u009b", "\x01", "\x08"]) {
    corpus.add(`a${c}b`);
    corpus.add(`../etc/passwd${c}`);
  }
  corpus.add("\x1b[2J\x1b[31mred");
  corpus.add("safe.txt\0../../etc/passwd");
  // Percent- and otherwise-encoded dots and slashes: literal names, never decoded.
  for (const p of [
    "%2e%2e/%2e%2e/etc/passwd",
    "%2e%2e%2f%2e%2e%2fetc",
    "..%2f..%2fetc",
    "%252e%252e/etc",
    "..%c0%af..%c0%afetc",
    "\uff0e\uff0e/\uff0e\uff0e/etc",
    "\u2025/etc",
    "..\u2215..\u2215etc",
  ])
    corpus.add(p);
  // Overlong names and paths.
  corpus.add("a".repeat(256));
  corpus.add(`${"a".repeat(255)}/b`);
  corpus.add(`dir/${"é".repeat(128)}`); // 256 bytes of UTF-8 in 128 characters
  corpus.add("a/".repeat(2049));
  corpus.add("x".repeat(5000));
  // Reserved temporary names, and invalid Unicode.
  for (const p of [
    ".bftp-part-123",
    "a/.bftp-upload",
    ".bftp-",
    "/sub/.bftp-x/y",
    "a\ud800b",
    "\udfff",
  ])
    corpus.add(p);
  return [...corpus];
}

/** Names of symbolic links that the tests plant inside the root, and where each leads. */
export const PLANTED_LINKS: Readonly<Record<string, string>> = {
  "link-to-outside-file": "OUTSIDE/canary.txt", // absolute, to a file
  "link-to-outside-dir": "OUTSIDE", // absolute, to a directory
  "relative-out": "../outside/canary.txt", // relative
  dangling: "/nonexistent-bftp-test/x", // leads nowhere
  "loop-a": "loop-b", // a loop
  "loop-b": "loop-a",
  "sub/deep-out": "../../outside", // mid-path, from a subdirectory
};
