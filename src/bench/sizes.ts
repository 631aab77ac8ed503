/**
 * File sizes for `bftp bench --sizes`: a comma-separated list such as `0,1,4KiB,1MiB,100MiB`.
 * Units are powers of 1024 (`K`, `KiB`, `k`, `M`, `MiB`, `G`, `GiB`; a trailing `B` is
 * allowed); fractions are allowed where the result is a whole number of bytes (`1.5MiB`).
 */

/** The sizes `bftp bench` tries when none are given: empty, 1 byte, then up to 100 MiB. */
export const DEFAULT_SIZES: readonly number[] = [
  0,
  1,
  1024,
  64 * 1024,
  1024 ** 2,
  16 * 1024 ** 2,
  100 * 1024 ** 2,
];

/** The largest size one entry may name: 16 GiB (bench files are streamed, never held). */
export const MAX_BENCH_SIZE = 16 * 1024 ** 3;

/** Most sizes in one list. */
export const MAX_SIZES = 32;

const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  k: 1024,
  ki: 1024,
  m: 1024 ** 2,
  mi: 1024 ** 2,
  g: 1024 ** 3,
  gi: 1024 ** 3,
};

/**
 * Parses one size (`4KiB` → 4096), or returns an explanation of what is wrong with it.
 *
 * @example parseSize("1.5MiB") // 1572864
 */
export function parseSize(text: string): number | string {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]i?)?b?$/i.exec(text.trim());
  if (match === null)
    return `cannot read ${JSON.stringify(text)} as a size (examples: 0, 1, 4KiB, 100MiB)`;
  const unit = UNITS[(match[2] ?? "").toLowerCase()] ?? Number.NaN;
  const n = Number(match[1]) * unit;
  if (!Number.isSafeInteger(n)) return `${JSON.stringify(text)} is not a whole number of bytes`;
  if (n > MAX_BENCH_SIZE) return `${JSON.stringify(text)} is larger than 16 GiB`;
  return n;
}

/**
 * Parses a list of sizes: ascending, without duplicates. Throws a RangeError that says which
 * entry is wrong (the CLI turns it into a usage error).
 */
export function parseSizeList(text: string): number[] {
  const parts = text.split(",");
  if (parts.length > MAX_SIZES) throw new RangeError(`at most ${MAX_SIZES} sizes`);
  const sizes = new Set<number>();
  for (const part of parts) {
    const size = parseSize(part);
    if (typeof size === "string") throw new RangeError(size);
    sizes.add(size);
  }
  return [...sizes].sort((a, b) => a - b);
}

/**
 * A size as people write it, exact when it is a whole number of a unit: `0 B`, `1 B`,
 * `4 KiB`, `100 MiB`, `1.5 MiB`, otherwise bytes (`1000 B`).
 */
export function sizeLabel(n: number): string {
  for (const [unit, factor] of [
    ["GiB", 1024 ** 3],
    ["MiB", 1024 ** 2],
    ["KiB", 1024],
  ] as const) {
    if (n >= factor && (n * 10) % factor === 0) return `${n / factor} ${unit}`;
  }
  return `${n} B`;
}
