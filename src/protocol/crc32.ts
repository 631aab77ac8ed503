/**
 * CRC-32 (IEEE 802.3, as zlib computes it) for every checksum bftp sends or checks. Node's
 * `zlib.crc32` runs zlib's table-driven loop, about 2.9 GiB/s on this project's machines;
 * `@node-rs/crc32` folds with the CPU's carry-less multiply (PCLMULQDQ) at about 8.4 GiB/s,
 * on the caller's buffer, with no copy. Both give the same values: the native one is used
 * only where its platform build loads and gives zlib's values for the checks below, and
 * zlib's otherwise. Every end of a transfer computes the same CRC-32 either way, so the
 * choice never shows on the wire. `node:zlib` is loaded only for that fallback: with the
 * native build it would be 3 ms of every command's start-up for nothing (issue 12, item 4).
 */
import { createRequire } from "node:module";

/** CRC-32 of `data`, continuing from `value` (0 to start). */
export type Crc32 = (data: Uint8Array, value?: number) => number;

const load = createRequire(import.meta.url);

/**
 * Check values, each zlib's: the standard "123456789", 4 KiB of 0xa5 continued from
 * 0x12345678 (`zlib.crc32(Buffer.alloc(4096, 0xa5), 0x12345678)`), and no bytes.
 */
function agreesWithZlib(candidate: Crc32): boolean {
  const check = Buffer.from("123456789");
  return (
    candidate(check) === 0xcbf43926 &&
    candidate(Buffer.alloc(4096, 0xa5), 0x12345678) === 0x93e9caa8 &&
    candidate(check.subarray(0, 0), 7) === 7
  );
}

/**
 * The native module. On Linux its platform build (`@node-rs/crc32-linux-x64-gnu`, an optional
 * dependency of `@node-rs/crc32`, resolved from there) is loaded directly: the package's own
 * loader first works out whether the C library is glibc or musl, which took 3 of the 5 ms of
 * loading it. Where that build does not load (musl, or no such package), the loader decides.
 */
function loadNative(): { crc32?: unknown } {
  if (process.platform === "linux") {
    try {
      const fromPackage = createRequire(load.resolve("@node-rs/crc32"));
      return fromPackage(`@node-rs/crc32-linux-${process.arch}-gnu`) as { crc32?: unknown };
    } catch {
      // not glibc, or no build for this machine: the package's loader below
    }
  }
  return load("@node-rs/crc32") as { crc32?: unknown };
}

function choose(): { crc32: Crc32; native: boolean } {
  if (process.env["BFTP_CRC32"] !== "zlib") {
    try {
      const mod = loadNative();
      // Called as it is, with no wrapper on the per-chunk path: it takes (bytes, start?).
      const native = mod.crc32 as Crc32 | undefined;
      if (typeof native === "function" && agreesWithZlib(native)) {
        return { crc32: native, native: true };
      }
    } catch {
      // no build for this platform, or it did not load: zlib's, below
    }
  }
  // zlib.crc32 of an empty array with no memory behind it (new Uint8Array(new ArrayBuffer(0)))
  // answers 0 whatever the starting value (zlib reads a null buffer as its "initial value"
  // request); a CRC continued over nothing is the value it started at.
  const zlib = load("node:zlib") as typeof import("node:zlib");
  return {
    crc32: (data, value = 0) => (data.length === 0 ? value : zlib.crc32(data, value)),
    native: false,
  };
}

const chosen = choose();

/**
 * CRC-32 of `data`, continuing from `value` (0 to start): the same value as
 * `zlib.crc32(data, value)`, except that no bytes always leave `value` as it was (zlib's
 * gives 0 for an empty array with no memory behind it).
 *
 * @example
 * crc32(Buffer.from("123456789")); // 0xcbf43926
 */
export const crc32: Crc32 = chosen.crc32;

/** True when {@link crc32} is the native PCLMULQDQ build, false when it is zlib's. */
export const crc32IsNative: boolean = chosen.native;
