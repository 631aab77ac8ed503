import { InvalidArgumentError } from "commander";

/** A commander parser for a whole number within [min, max]. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/** A commander parser for seconds (fractions allowed), returned as milliseconds. */
export function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError("expected a number of seconds greater than 0");
  }
  return Math.round(n * 1000);
}

/** A commander parser for seconds that may be 0 (fractions allowed), returned as milliseconds. */
export function secondsOrZero(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n)) {
    throw new InvalidArgumentError("expected a number of seconds, 0 or more");
  }
  return Math.round(n * 1000);
}

/** A commander parser for a byte size: 4096, 64k, 1m (powers of 1024). */
export function bytes(min: number, max: number): (value: string) => number {
  return (value) => {
    const match = /^(\d+)([kKmMgG]i?[bB]?)?$/.exec(value);
    const unit = (match?.[2] ?? "").charAt(0).toLowerCase();
    const n =
      Number(match?.[1]) *
      (unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : 1);
    if (match === null || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `expected a size from ${min} to ${max} bytes (suffixes k, m, g)`,
      );
    }
    return n;
  };
}
