/**
 * A time in milliseconds as the seconds `utimes` takes, such that the file's time reads back
 * as exactly those milliseconds (issue 11, item 9). libuv turns seconds into a timespec and
 * truncates it to whole microseconds, so `ms / 1000` (1700000000.123 is stored as
 * 1700000000.122999906 in a double) lost a millisecond; aiming half a microsecond above the
 * millisecond survives the double's rounding (under 0.5 µs until the year 2242). Both ends
 * use it: the server's uploads and the client's downloads keep modification times this way.
 */
export function exactSeconds(ms: number): number {
  const seconds = Math.floor(ms / 1000);
  return seconds + ((ms - seconds * 1000) * 1000 + 0.5) / 1e6;
}
