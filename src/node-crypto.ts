/**
 * `node:crypto`, loaded on its first use. A static import costs every command about 5 ms of
 * start-up (node compiles some sixteen modules of its own for it), while `bftp get` and
 * `bftp put` with the default CRC-32 never hash: only SHA-256 checksums and resumes, TLS
 * fingerprints and random temporary names need it (issue 12, item 4).
 */
import { createRequire } from "node:module";

const load = createRequire(import.meta.url);
let loaded: typeof import("node:crypto") | undefined;

/**
 * The `node:crypto` module, loaded the first time this is called.
 *
 * @example
 * const hash = nodeCrypto().createHash("sha256");
 */
export function nodeCrypto(): typeof import("node:crypto") {
  loaded ??= load("node:crypto") as typeof import("node:crypto");
  return loaded;
}
