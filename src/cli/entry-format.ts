import type { Entry } from "../client/reply-shapes.js";
import { escapeControls } from "../client/safe-name.js";

const TYPE_CHAR: Readonly<Record<Entry["type"], string>> = {
  file: "-",
  dir: "d",
  symlink: "l",
  other: "?",
};

/**
 * Lines like `ls -l`: `TYPE SIZE DATE NAME`, sizes right-aligned to `width` digits (by
 * default the widest of these entries), names escaped.
 *
 * @example
 * formatListing([{ name: "a.txt", type: "file", size: 5, mtime: 0 }]);
 * // ["- 5 1970-01-01 00:00 a.txt"] (in UTC)
 */
export function formatListing(entries: readonly Entry[], width = sizeWidth(entries)): string[] {
  return entries.map(
    (e) =>
      `${TYPE_CHAR[e.type]} ${String(e.size).padStart(width)} ${formatDate(e.mtime)} ${escapeControls(e.name)}`,
  );
}

/**
 * Digits of the largest size among `entries` (at least 1). A loop, not `Math.max(...sizes)`:
 * spreading a hundred thousand arguments overflows the stack.
 */
export function sizeWidth(entries: readonly Entry[]): number {
  let width = 1;
  for (const e of entries) width = Math.max(width, String(e.size).length);
  return width;
}

/** `YYYY-MM-DD HH:MM` in local time. */
export function formatDate(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "????-??-?? ??:??";
  const two = (n: number): string => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}
