/**
 * The few DER encodings (ITU-T X.690) a self-signed X.509 certificate needs: enough to build
 * one, not a general ASN.1 library. Each function returns one complete TLV (tag, length,
 * value). Node parses and checks the result (`crypto.X509Certificate`), as does
 * `openssl x509 -text` in the tests.
 */

/** One DER element: `tag`, then the definite length, then `value`. */
export function derElement(tag: number, value: Uint8Array): Buffer {
  const n = value.length;
  let length: number[];
  if (n < 0x80) {
    length = [n];
  } else {
    // Long form: 0x80 | count of length bytes, then the length big-endian.
    const bytes: number[] = [];
    for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
    length = [0x80 | bytes.length, ...bytes];
  }
  return Buffer.concat([Buffer.from([tag, ...length]), value]);
}

/** SEQUENCE of the given elements. */
export function derSequence(...elements: readonly Uint8Array[]): Buffer {
  return derElement(0x30, Buffer.concat(elements));
}

/** SET of one element (a Name's RelativeDistinguishedName). */
export function derSet(...elements: readonly Uint8Array[]): Buffer {
  return derElement(0x31, Buffer.concat(elements));
}

/**
 * INTEGER from its big-endian two's-complement bytes; the caller gives a minimal positive
 * form (no leading 0x00 unless the next byte's high bit is set).
 */
export function derInteger(bytes: Uint8Array): Buffer {
  return derElement(0x02, bytes);
}

/** INTEGER of a small non-negative number (a version). */
export function derSmallInteger(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 127) throw new RangeError(`not a small integer: ${n}`);
  return derInteger(Uint8Array.of(n));
}

/** BOOLEAN. */
export function derBoolean(value: boolean): Buffer {
  return derElement(0x01, Uint8Array.of(value ? 0xff : 0x00));
}

/** OBJECT IDENTIFIER from its dotted form, e.g. `"2.5.4.3"`. */
export function derOid(dotted: string): Buffer {
  const arcs = dotted.split(".").map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const out = [first * 40 + second];
  for (const arc of rest) {
    // Base 128, most significant group first, every byte but the last with its high bit set.
    const groups = [arc % 128];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128))
      groups.unshift((value % 128) | 0x80);
    out.push(...groups);
  }
  return derElement(0x06, Uint8Array.from(out));
}

/** UTF8String. */
export function derUtf8String(text: string): Buffer {
  return derElement(0x0c, Buffer.from(text, "utf8"));
}

/** OCTET STRING. */
export function derOctetString(bytes: Uint8Array): Buffer {
  return derElement(0x04, bytes);
}

/** BIT STRING of whole bytes (no unused bits). */
export function derBitString(bytes: Uint8Array): Buffer {
  return derElement(0x03, Buffer.concat([Uint8Array.of(0), bytes]));
}

/** BIT STRING holding named bits (KeyUsage): bit 0 is the high bit of the first byte. */
export function derNamedBits(bits: readonly number[]): Buffer {
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
  // DER drops trailing zero bits and counts them as unused.
  const unused = 7 - (highest & 7);
  return derElement(0x03, Buffer.concat([Uint8Array.of(unused), bytes]));
}

/**
 * A certificate Time (RFC 5280 §4.1.2.5): UTCTime up to 2049, GeneralizedTime from 2050,
 * both to the second in UTC.
 */
export function derTime(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-11-21T08:40:00.000Z
  const digits = iso.slice(0, 19).replace(/[-:T]/g, ""); // 20261121084000
  const year = date.getUTCFullYear();
  return year < 2050
    ? derElement(0x17, Buffer.from(`${digits.slice(2)}Z`, "ascii"))
    : derElement(0x18, Buffer.from(`${digits}Z`, "ascii"));
}

/** A context-specific constructed tag, `[n] EXPLICIT`, around one element. */
export function derExplicit(n: number, element: Uint8Array): Buffer {
  return derElement(0xa0 | n, element);
}
