import fs from "node:fs/promises";
import path from "node:path";
import { BftpError } from "../errors.js";
import { fsError } from "./fs-error.js";

/** Names starting with this are the server's temporary files: never listed, refused as names. */
export const TEMP_PREFIX = ".bftp-";
/** Longest path a client may send, in UTF-8 bytes (PROTOCOL.md §6). */
export const MAX_PATH_BYTES = 4096;
/** Longest single name, in UTF-8 bytes (the common file-system limit). */
export const MAX_NAME_BYTES = 255;

/** A path known to lie inside the root: what the client calls it, and where it is on disk. */
export interface ResolvedPath {
  /** Normalised virtual path, always starting with "/" ("/" for the root). */
  readonly virtual: string;
  /** Real path on disk, symbolic links resolved (except a last component kept as a link). */
  readonly real: string;
}

/** Options for {@link Sandbox.resolve}. */
export interface ResolveOptions {
  /**
   * Follow a symbolic link in the last component (default true: GET, STAT, CD, LIST, HASH).
   * False for commands that act on the name itself (DELETE, RENAME, the PUT target): the
   * link is then resolved to its own location, and only its directory must be inside.
   */
  readonly followLast?: boolean;
}

// C0 controls, DEL, C1 controls (U+0080-U+009F: terminal escapes such as CSI), backslash, and
// lone surrogates (with the u flag a valid pair is one code point and does not match).
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\\\ud800-\udfff]/u;

/**
 * The one resolver every path argument of every command goes through (DESIGN.md, security
 * model): it refuses NUL, control characters and backslashes, normalises against the virtual
 * root refusing any climb above it, refuses reserved temporary names, resolves symbolic links,
 * and compares by path components, never by string prefix.
 *
 * A remote client cannot create symbolic links (no command does), so links inside the root
 * were planted by someone with local access; they are followed only while they stay inside.
 *
 * @example
 * const sandbox = await Sandbox.open("/srv/files");
 * const { real } = await sandbox.resolve("/docs", "../etc/passwd"); // inside, or throws
 */
export class Sandbox {
  /** The root's real path (symbolic links resolved), against which everything is compared. */
  readonly root: string;

  private constructor(root: string) {
    this.root = root;
  }

  /** Opens a sandbox on an existing directory. */
  static async open(root: string): Promise<Sandbox> {
    const real = await fs.realpath(root);
    const stat = await fs.stat(real);
    if (!stat.isDirectory()) {
      throw new BftpError(
        "BFTP_ERR_NOT_A_DIRECTORY",
        `Cannot serve ${JSON.stringify(root)}: not a directory`,
      );
    }
    return new Sandbox(real);
  }

  /**
   * The normalised virtual path of `input` relative to the working directory `cwd` (itself a
   * normalised virtual path). Pure: touches no file. Throws `BFTP_ERR_PATH_REFUSED`.
   */
  normalize(cwd: string, input: string): string {
    if (FORBIDDEN.test(input)) {
      throw refused(input, "it contains a control character, a backslash or invalid Unicode");
    }
    if (Buffer.byteLength(input) > MAX_PATH_BYTES) {
      throw refused(input, `it is longer than ${MAX_PATH_BYTES} bytes`);
    }
    const parts = input.startsWith("/") ? [] : cwd.split("/").filter((p) => p !== "");
    for (const name of input.split("/")) {
      if (name === "" || name === ".") continue;
      if (name === "..") {
        if (parts.pop() === undefined) throw refused(input, "it leads above the root");
        continue;
      }
      if (Buffer.byteLength(name) > MAX_NAME_BYTES)
        throw refused(input, `a name is longer than ${MAX_NAME_BYTES} bytes`);
      if (name.startsWith(TEMP_PREFIX)) throw refused(input, "it names a reserved temporary file");
      parts.push(name);
    }
    return `/${parts.join("/")}`;
  }

  /**
   * Normalises `input` and maps it to a real path that is inside the root once every symbolic
   * link is followed; the path need not exist (a PUT target, a MKDIR). Throws
   * `BFTP_ERR_PATH_REFUSED` for anything that leads outside, including through a dangling link.
   */
  async resolve(cwd: string, input: string, options: ResolveOptions = {}): Promise<ResolvedPath> {
    const virtual = this.normalize(cwd, input);
    const names = virtual.split("/").filter((p) => p !== "");
    const followLast = options.followLast ?? true;
    // Resolve the longest existing prefix; what is missing below it cannot contain links.
    const keepLast = !followLast && names.length > 0;
    const walked = keepLast ? names.slice(0, -1) : names;
    const real = await this.#resolveExisting(virtual, walked);
    const full = keepLast ? path.join(real, names.at(-1) as string) : real;
    return { virtual, real: full };
  }

  /** True when `real` (an absolute path) is the root or lies below it, by components. */
  contains(real: string): boolean {
    const rel = path.relative(this.root, real);
    return (
      rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel))
    );
  }

  /**
   * Confirms that an opened descriptor refers to a file inside the root, closing the race in
   * which a directory is swapped for a link between `resolve()` and `open()`. Linux only
   * (`/proc/self/fd`); elsewhere it trusts `resolve()`.
   */
  async verifyOpened(fd: number, virtual: string): Promise<void> {
    let target: string;
    try {
      target = await fs.readlink(`/proc/self/fd/${fd}`);
    } catch {
      return;
    }
    if (!this.contains(target)) throw refused(virtual, "it leads outside the root");
  }

  async #resolveExisting(virtual: string, names: readonly string[]): Promise<string> {
    for (let depth = names.length; depth >= 0; depth--) {
      const candidate = path.join(this.root, ...names.slice(0, depth));
      let real: string;
      try {
        real = await fs.realpath(candidate);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === "ENOENT") continue; // try the parent
        throw fsError(err, "resolve", virtual);
      }
      if (!this.contains(real)) throw refused(virtual, "it leads outside the root");
      if (depth < names.length) {
        // `names[depth]` does not resolve. If it exists at all, it is a dangling link: opening
        // it to create would create the link's target, wherever that is.
        const first = path.join(real, names[depth] as string);
        const isLink = await fs.lstat(first).then(
          (s) => s.isSymbolicLink(),
          () => false,
        );
        if (isLink) throw refused(virtual, "it goes through a symbolic link that leads nowhere");
      }
      return path.join(real, ...names.slice(depth));
    }
    throw new BftpError("BFTP_ERR_INTERNAL", "Cannot resolve a path: the served root has gone");
  }
}

function refused(input: string, why: string): BftpError {
  return new BftpError(
    "BFTP_ERR_PATH_REFUSED",
    `Cannot use path ${JSON.stringify(input)}: ${why}`,
    {
      details: { path: input },
    },
  );
}
