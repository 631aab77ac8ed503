import { existsSync } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";
import { BftpError } from "../errors.js";
import { fsError } from "./fs-error.js";

/** Names starting with this are the server's temporary files: never listed, refused as names. */
export const TEMP_PREFIX = ".bftp-";
/** Longest path a client may send, in UTF-8 bytes (PROTOCOL.md §6). */
export const MAX_PATH_BYTES = 4096;
/** Longest single name, in UTF-8 bytes (the common file-system limit). */
export const MAX_NAME_BYTES = 255;
/**
 * Longest real path the server acts on, in UTF-8 bytes: Linux's PATH_MAX (4096) counts the
 * terminating NUL. A virtual path within §6's limits whose real path (root joined with it) is
 * longer is refused with `BFTP_ERR_PATH_TOO_LONG` before anything is touched (issue 11).
 */
export const MAX_REAL_PATH_BYTES = 4095;

/** A path known to lie inside the root: what the client calls it, and where it is on disk. */
export interface ResolvedPath {
  /** Normalised virtual path, always starting with "/" ("/" for the root). */
  readonly virtual: string;
  /** Real path on disk, symbolic links resolved (except a last component kept as a link). */
  readonly real: string;
}

/** Linux's O_PATH: a descriptor for fstat and readlink that opens nothing for I/O (FIFOs, devices). */
export const O_PATH = 0o10000000;

/** Something inside the root, held by an open descriptor checked to lie inside. */
export interface OpenedInside {
  readonly handle: FileHandle;
  readonly virtual: string;
  /** Where the descriptor's file is on disk, as the kernel reports it. */
  readonly real: string;
  /** A path that reaches the file through the descriptor (`/proc/self/fd/N`). */
  readonly path: string;
}

/**
 * A name inside an open directory that was checked to lie inside the root. Acting on `path`
 * (`/proc/self/fd/N/name`) reaches the name through that directory wherever it is now, so a
 * directory swapped for a link after the check cannot redirect the act outside.
 */
export interface Anchor {
  readonly virtual: string;
  /**
   * The last component; "" for the root, whose `path` is then the directory itself (a
   * `/proc/self/fd` link that lstat reports as a link): commands refuse the root by its
   * virtual path before acting on a name.
   */
  readonly name: string;
  /** The directory that holds `name`, open. */
  readonly dir: FileHandle;
  /** Its real path, as the kernel reports it. */
  readonly realDir: string;
  /** `name` reached through the open directory. */
  readonly path: string;
  /** A sibling of `name` in the same directory, reached the same way. */
  sibling(name: string): string;
  close(): Promise<void>;
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
 * The one resolver every path argument of every command goes through (docs/security.md, the
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
  /** Whether `/proc/self/fd` exists (Linux): descriptor checks and anchored paths need it. */
  readonly #procFd: boolean;

  private constructor(root: string) {
    this.root = root;
    this.#procFd = existsSync("/proc/self/fd");
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
    return normalizeVirtual(cwd, input);
  }

  /**
   * Normalises `input` and maps it to a real path that is inside the root once every symbolic
   * link is followed; the path need not exist (a PUT target, a MKDIR). Throws
   * `BFTP_ERR_PATH_REFUSED` for anything that leads outside, including through a dangling link.
   */
  async resolve(cwd: string, input: string, options: ResolveOptions = {}): Promise<ResolvedPath> {
    const virtual = this.normalize(cwd, input);
    const names = virtual.split("/").filter((p) => p !== "");
    this.#checkRealLength(virtual, names);
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
   * which a directory is swapped for a link between `resolve()` and `open()`; resolves with
   * the file's real path. Linux only (`/proc/self/fd`); elsewhere it trusts `resolve()`.
   */
  async verifyOpened(fd: number, virtual: string, fallback = ""): Promise<string> {
    if (!this.#procFd) return fallback;
    // The kernel cannot name a directory deeper than PATH_MAX (ENAMETOOLONG): a coded refusal.
    const target = await fs.readlink(`/proc/self/fd/${fd}`).catch((err: unknown) => {
      throw fsError(err, "open", virtual);
    });
    if (!this.contains(target)) throw refused(virtual, "it leads outside the root");
    return target;
  }

  /**
   * Resolves `input` (following links that stay inside), opens it with `flags`, and checks the
   * descriptor: for commands that act on what a path names (GET, HASH, STAT, CD, LIST).
   */
  async openInside(cwd: string, input: string, flags: number): Promise<OpenedInside> {
    const { virtual, real } = await this.resolve(cwd, input);
    return this.#openVerified(real, flags, virtual);
  }

  /**
   * Resolves `input` without following its last component and opens the directory that holds
   * it, checked: for commands that act on a name (DELETE, RMDIR, MKDIR, RENAME, PUT).
   */
  async anchor(cwd: string, input: string): Promise<Anchor> {
    const { virtual, real } = await this.resolve(cwd, input, { followLast: false });
    const name = virtual === "/" ? "" : path.basename(real);
    const dirReal = virtual === "/" ? real : path.dirname(real);
    const dir = await this.#openVerified(
      dirReal,
      fs.constants.O_RDONLY | fs.constants.O_DIRECTORY,
      virtual,
    );
    const at = (child: string): string => (child === "" ? dir.path : `${dir.path}/${child}`);
    return {
      virtual,
      name,
      dir: dir.handle,
      realDir: dir.real,
      path: at(name),
      sibling: at,
      close: () => dir.handle.close(),
    };
  }

  /**
   * `mkdir -p` one component at a time, each directory opened and checked before the next is
   * made inside it, so no swap can steer the creation outside. Resolves with the virtual path.
   *
   * What can be checked first is (the real path's length, issue 11 item 8), so a path too
   * deep for the file system creates nothing. If it fails midway all the same (a link inside
   * the root that leads deeper, a full disk), the directories this call created are removed,
   * deepest first, through their checked, still open parents; directories that existed, or
   * that another request made meanwhile, are left alone. It holds one descriptor per level
   * it creates until it is done (at most 2,048: the path limit allows no more levels).
   */
  async makeDirectories(cwd: string, input: string): Promise<string> {
    const virtual = this.normalize(cwd, input);
    const names = virtual.split("/").filter((p) => p !== "");
    this.#checkRealLength(virtual, names);
    const { O_RDONLY, O_DIRECTORY } = fs.constants;
    // The open chain: [0] is the deepest directory that existed before, then each one made.
    let chain = [await this.#openVerified(this.root, O_RDONLY | O_DIRECTORY, virtual)];
    const made: { readonly parent: OpenedInside; readonly name: string }[] = [];
    try {
      for (const [i, name] of names.entries()) {
        const current = chain.at(-1) as OpenedInside;
        const child = `${current.path}/${name}`;
        const created = await fs.mkdir(child, { mode: 0o755 }).then(
          () => true,
          (err: unknown) => {
            if ((err as { code?: unknown }).code !== "EEXIST")
              throw fsError(err, "create directory", virtual);
            return false;
          },
        );
        if (created) made.push({ parent: current, name });
        const next = await this.#openVerified(child, O_RDONLY | O_DIRECTORY, virtual).catch(
          (err: unknown) => {
            // A file where the last directory should be: it exists, as plain MKDIR would say.
            const last = i === names.length - 1;
            throw last && err instanceof BftpError && err.code === "BFTP_ERR_NOT_A_DIRECTORY"
              ? new BftpError(
                  "BFTP_ERR_EXISTS",
                  `Cannot create directory ${JSON.stringify(virtual)}: a file has that name`,
                )
              : err;
          },
        );
        if (made.length === 0) {
          // Nothing made yet: nothing to undo, so the parent need not stay open.
          await current.handle.close();
          chain = [next];
        } else {
          chain.push(next);
        }
      }
    } catch (err) {
      await undoDirectories(made);
      throw err;
    } finally {
      for (const dir of chain) await dir.handle.close();
    }
    return virtual;
  }

  /**
   * Refuses a virtual path whose real path, the root joined with it, is longer than the
   * system can name (PROTOCOL.md §6): `BFTP_ERR_PATH_TOO_LONG`, before anything is touched.
   */
  #checkRealLength(virtual: string, names: readonly string[]): void {
    const real = path.join(this.root, ...names);
    if (Buffer.byteLength(real) > MAX_REAL_PATH_BYTES) {
      throw new BftpError(
        "BFTP_ERR_PATH_TOO_LONG",
        `Cannot use path ${JSON.stringify(virtual)}: on the server's disk it would be longer than ${MAX_REAL_PATH_BYTES} bytes`,
        { details: { path: virtual, max: MAX_REAL_PATH_BYTES } },
      );
    }
  }

  async #openVerified(real: string, flags: number, virtual: string): Promise<OpenedInside> {
    let handle: FileHandle;
    try {
      handle = await fs.open(real, flags);
    } catch (err) {
      throw fsError(err, "open", virtual);
    }
    try {
      const verified = await this.verifyOpened(handle.fd, virtual, real);
      return {
        handle,
        virtual,
        real: verified,
        path: this.#procFd ? `/proc/self/fd/${handle.fd}` : real,
      };
    } catch (err) {
      await handle.close();
      throw err;
    }
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

/**
 * The normalised virtual path of `input` relative to the working directory `cwd` (itself a
 * normalised virtual path), by PROTOCOL.md §6's rules. Pure: touches no file. Throws
 * `BFTP_ERR_PATH_REFUSED`.
 */
export function normalizeVirtual(cwd: string, input: string): string {
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
    const why = nameRefusal(name);
    if (why !== undefined) throw refused(input, why);
    parts.push(name);
  }
  const virtual = `/${parts.join("/")}`;
  // The cap holds for the result too: CD then MKDIR, repeated, must not grow a tree deeper
  // than the file system can name (issue 6, P1 finding).
  if (Buffer.byteLength(virtual) > MAX_PATH_BYTES) {
    throw refused(input, `with the working directory it is longer than ${MAX_PATH_BYTES} bytes`);
  }
  return virtual;
}

/** Why one name of a path (not "", "." or "..") is refused, or undefined. */
function nameRefusal(name: string): string | undefined {
  if (Buffer.byteLength(name) > MAX_NAME_BYTES)
    return `a name is longer than ${MAX_NAME_BYTES} bytes`;
  if (name.startsWith(TEMP_PREFIX)) return "it names a reserved temporary file";
  return undefined;
}

/**
 * What {@link normalizeVirtual} gives for `input` when the part of it before `nameAt` is
 * known to normalise to the folder `dir` and the rest is one plain name: `dir/name`, without
 * splitting the path again (a GETTREE list names a thousand files of one folder). Undefined
 * for anything the rules would refuse or treat otherwise: the caller then asks
 * `normalizeVirtual`, which says why.
 */
export function virtualChild(dir: string, input: string, nameAt: number): string | undefined {
  const name = input.slice(nameAt);
  if (name === "" || name === "." || name === ".." || name.includes("/")) return undefined;
  if (FORBIDDEN.test(name) || nameRefusal(name) !== undefined) return undefined;
  if (Buffer.byteLength(input) > MAX_PATH_BYTES) return undefined;
  const virtual = dir === "/" ? `/${name}` : `${dir}/${name}`;
  return Buffer.byteLength(virtual) > MAX_PATH_BYTES ? undefined : virtual;
}

/**
 * Removes directories a failed `mkdir -p` made, deepest first, each through its open parent.
 * One that is no longer empty (someone put something in it meanwhile) stops the undoing:
 * its parents cannot be empty either.
 */
async function undoDirectories(
  made: readonly { readonly parent: OpenedInside; readonly name: string }[],
): Promise<void> {
  for (let i = made.length - 1; i >= 0; i--) {
    const { parent, name } = made[i] as (typeof made)[number];
    try {
      await fs.rmdir(`${parent.path}/${name}`);
    } catch {
      return;
    }
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
