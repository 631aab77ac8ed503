/**
 * CRC-32 arithmetic beside `zlib.crc32`, for the tree phases (issue 12): their trailer's
 * checksum covers every record while each file carries its own, so without this every file
 * byte went through CRC-32 twice. {@link crc32Combine} joins two checksums of adjacent byte
 * runs as zlib's `crc32_combine` does (multiplication by x^(8·len) modulo the polynomial), and
 * {@link crc32Byte} adds one byte (a record's type) without a call into zlib.
 */

/** The reflected CRC-32 polynomial (IEEE 802.3), as zlib writes it. */
const POLY = 0xedb88320;

/** `a(x)·b(x)` modulo the polynomial, both reflected; `a` must not be 0. */
function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  let bb = b;
  for (;;) {
    if (a & m) {
      p ^= bb;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    bb = bb & 1 ? (bb >>> 1) ^ POLY : bb >>> 1;
  }
  return p >>> 0;
}

/** `x^(2^k)` modulo the polynomial, for k = 0..31. */
const X2N: number[] = [];
{
  let p = 0x40000000; // x^1
  X2N.push(p);
  for (let n = 1; n < 32; n++) {
    p = multModP(p, p);
    X2N.push(p);
  }
}

/** `x^(n·2^k)` modulo the polynomial. */
function x2nModP(n: number, k: number): number {
  let p = 0x80000000; // x^0
  let left = n;
  let bit = k;
  while (left > 0) {
    if (left % 2 === 1) p = multModP(X2N[bit & 31] as number, p);
    left = Math.floor(left / 2);
    bit++;
  }
  return p;
}

/** The operator for each run length met recently: most trees have few distinct sizes. */
const operators = new Map<number, number>();
const MAX_OPERATORS = 4096;

function operatorFor(len: number): number {
  let op = operators.get(len);
  if (op === undefined) {
    op = x2nModP(len, 3); // x^(8·len)
    if (operators.size >= MAX_OPERATORS) operators.clear();
    operators.set(len, op);
  }
  return op;
}

/**
 * The CRC-32 of A followed by B, from `crc1` = CRC-32 of A, `crc2` = CRC-32 of B and `len2`
 * = B's length in bytes (any safe integer): `zlib.crc32(Buffer.concat([a, b]))` without
 * reading a byte.
 *
 * @example
 * crc32Combine(zlib.crc32("1234"), zlib.crc32("56789"), 5); // === zlib.crc32("123456789")
 */
export function crc32Combine(crc1: number, crc2: number, len2: number): number {
  if (crc1 === 0) return crc2 >>> 0; // a product with 0 is 0: no multiplication needed
  return (multModP(operatorFor(len2), crc1) ^ crc2) >>> 0;
}

/** The byte-wise table of the reflected polynomial. */
const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  TABLE[n] = c;
}

/** `zlib.crc32(Buffer.of(byte), crc)`, computed here: one record type byte. */
export function crc32Byte(byte: number, crc: number): number {
  const c = ~crc;
  return ~((TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8)) >>> 0;
}
