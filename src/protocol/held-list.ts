import { jsonArrayFrames } from "./json-array-frames.js";
import { array } from "./shape.js";
import { recordPath } from "./tree-records.js";

/** Bytes of JSON one held-list frame carries at most (PROTOCOL.md §8.14). */
export const HELD_FRAME_BYTES = 64 * 1024;

/** Paths one held-list frame carries at most (§8.14, as the have list's entries, §8.13). */
export const HELD_FRAME_PATHS = 100_000;

/**
 * One data frame of PUTTREE's held phase (§8.14): a JSON array of record paths (§7.4), the
 * files of the client's offer that the server already holds complete. An empty array is
 * allowed: the server sends one per batch of the offer it has checked, so the client's stall
 * deadline measures the server's progress, not the count of files held.
 */
export const heldFrame = array(recordPath, HELD_FRAME_PATHS);

/**
 * `paths` as held-list data frames (header and payload each): JSON arrays of at most
 * {@link HELD_FRAME_BYTES} bytes (one path alone may make a frame longer, up to about 8 KiB)
 * and {@link HELD_FRAME_PATHS} paths; always at least one frame, `[]` when there are none.
 *
 * @example
 * Buffer.concat(heldFrames(["a.txt"])).toString(); // '00000009["a.txt"]'
 */
export function heldFrames(paths: readonly string[]): Buffer[] {
  return jsonArrayFrames(paths, HELD_FRAME_BYTES, HELD_FRAME_PATHS, true);
}
