import fsCallback from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";

/** A change to make from inside a read: runs once, just before the read it was armed for. */
export type ReadHook = () => void;

/**
 * Hooks `FileHandle.prototype.read` and the callback `fs.read` in this process (the
 * in-process server's file reads: a tree's through the first, a GET's through the second),
 * so a test can change a file at an exact point of a GET, whatever the socket buffers hold
 * (issue 11): `arm(hook, from)` runs `hook` synchronously before the first read at a
 * position of at least `from`, then disarms. `restore()` puts the original back.
 */
export async function hookFileReads(scratch: string): Promise<{
  arm: (hook: ReadHook, from: number) => void;
  fired: () => boolean;
  restore: () => void;
}> {
  await fs.writeFile(scratch, "");
  const probe = await fs.open(scratch, "r");
  const proto = Object.getPrototypeOf(probe) as { read: FileHandle["read"] };
  await probe.close();
  const original = proto.read;
  const originalCallback = fsCallback.read;
  let armed: { hook: ReadHook; from: number } | undefined;
  let fired = false;
  const before = (position: unknown): void => {
    if (armed !== undefined && typeof position === "number" && position >= armed.from) {
      const { hook } = armed;
      armed = undefined;
      fired = true;
      hook();
    }
  };
  proto.read = function (this: FileHandle, ...args: unknown[]) {
    before(args[3]);
    return (original as (...a: unknown[]) => ReturnType<FileHandle["read"]>).apply(this, args);
  };
  // fs.read(fd, buffer, offset, length, position, callback): the form a GET uses.
  (fsCallback as { read: unknown }).read = (...args: unknown[]): void => {
    before(args[4]);
    (originalCallback as (...a: unknown[]) => void)(...args);
  };
  return {
    arm: (hook, from) => {
      armed = { hook, from };
      fired = false;
    },
    fired: () => fired,
    restore: () => {
      proto.read = original;
      (fsCallback as { read: unknown }).read = originalCallback;
    },
  };
}
