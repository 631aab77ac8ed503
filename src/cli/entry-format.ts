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

/** How a listing is printed: `ls -l` lines (sizes for people with `human`), or names only. */
export interface ListingStyle {
  readonly long: boolean;
  readonly human: boolean;
}

/**
 * A listing in `style`: {@link formatListing}'s lines, with sizes as `ls -h` prints them
 * when `human`; or, not long, each name with `/` after a folder and `@` after a link, as
 * `ls -F`. The one formatter behind `bftp ls` and the shell's `ls` (issue 13, item 9).
 *
 * @example
 * formatEntries([{ name: "a", type: "dir", size: 0, mtime: 0 }], { long: false, human: false }); // ["a/"]
 */
export function formatEntries(
  entries: readonly Entry[],
  style: ListingStyle,
  width?: number,
): string[] {
  if (!style.long) return entries.map((e) => `${escapeControls(e.name)}${MARK[e.type]}`);
  if (!style.human) return formatListing(entries, width);
  return entries.map(
    (e) =>
      `${TYPE_CHAR[e.type]} ${humanSize(e.size).padStart(5)} ${formatDate(e.mtime)} ${escapeControls(e.name)}`,
  );
}

const MARK: Readonly<Record<Entry["type"], string>> = {
  file: "",
  dir: "/",
  symlink: "@",
  other: "",
};

/** A size as `ls -h` prints it: 512, 4.0K, 12M, 1.5G (powers of 1024). */
export function humanSize(n: number): string {
  const units = ["", "K", "M", "G", "T", "P"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return String(n);
  return `${value < 10 ? (Math.ceil(value * 10) / 10).toFixed(1) : String(Math.ceil(value))}${units[unit] ?? ""}`;
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
