import { HEX_SIZE_HEADER } from "../wire/size-header.js";

/**
 * `values` as data frames of JSON arrays (PROTOCOL.md §7: the have list, the path list, the
 * offer, the held list), each frame's header then its payload: at most `maxBytes` of JSON
 * (one value alone may make a frame longer) and `maxItems` values a frame. With `atLeastOne`,
 * no values still make one frame, `[]`.
 *
 * @example
 * Buffer.concat(jsonArrayFrames(["a.txt"], 65536, 100000)).toString(); // '00000009["a.txt"]'
 */
export function jsonArrayFrames(
  values: readonly unknown[],
  maxBytes: number,
  maxItems: number,
  atLeastOne = false,
): Buffer[] {
  const frames: Buffer[] = [];
  let batch: string[] = [];
  let bytes = 2;
  const flush = (): void => {
    const payload = Buffer.from(`[${batch.join(",")}]`);
    frames.push(HEX_SIZE_HEADER.encode(payload.length), payload);
    batch = [];
    bytes = 2;
  };
  for (const value of values) {
    const json = JSON.stringify(value);
    const size = Buffer.byteLength(json) + 1;
    if (batch.length > 0 && (bytes + size > maxBytes || batch.length >= maxItems)) flush();
    batch.push(json);
    bytes += size;
  }
  if (batch.length > 0 || (atLeastOne && frames.length === 0)) flush();
  return frames;
}
