import { BftpError } from "../errors.js";

/**
 * A fixed-width ASCII size header: the classic `send_size` (8 hex digits) and the
 * classic string helpers (8 decimal digits). The header states the payload length;
 * the payload follows it directly.
 *
 * @example
 * HEX_SIZE_HEADER.encode(20);                            // <Buffer "00000014">
 * HEX_SIZE_HEADER.parse(Buffer.from("00000014"), 0);     // 20
 */
export interface SizeHeader {
  /** Human name, used in error messages. */
  readonly name: string;
  /** Header width in bytes (always 8 here). */
  readonly width: number;
  /** The numeric base of the digits. */
  readonly radix: 10 | 16;
  /** The largest length the header can express. */
  readonly maxLength: number;
  /** The header bytes for `length`; throws `BFTP_ERR_FRAME_TOO_LARGE` past `maxLength`. */
  encode(length: number): Buffer;
  /**
   * The length stated by the `width` bytes at `offset`, which the caller guarantees exist.
   * Throws `BFTP_ERR_BAD_FRAME_HEADER` unless every byte is a digit of the base.
   */
  parse(bytes: Uint8Array, offset: number): number;
}

const WIDTH = 8;

/** Value of an ASCII digit in base 16 (or 10), or -1. A table keeps the hot path branch-free. */
function digitTable(radix: 10 | 16): Int8Array {
  const table = new Int8Array(256).fill(-1);
  for (let d = 0; d < 10; d++) table[0x30 + d] = d;
  if (radix === 16) {
    for (let d = 0; d < 6; d++) {
      table[0x41 + d] = 10 + d; // A-F: accepted, though encoders emit lowercase
      table[0x61 + d] = 10 + d; // a-f
    }
  }
  return table;
}

function makeHeader(name: string, radix: 10 | 16): SizeHeader {
  const digits = digitTable(radix);
  const maxLength = radix ** WIDTH - 1;
  return {
    name,
    width: WIDTH,
    radix,
    maxLength,
    encode(length: number): Buffer {
      if (!Number.isSafeInteger(length) || length < 0) {
        throw new BftpError("BFTP_ERR_INVALID_ARGUMENT", `Cannot encode length "${length}"`);
      }
      if (length > maxLength) {
        throw new BftpError(
          "BFTP_ERR_FRAME_TOO_LARGE",
          `Cannot encode a ${name} for ${length} bytes: the most it can state is ${maxLength}`,
          { details: { size: length, max: maxLength } },
        );
      }
      return Buffer.from(length.toString(radix).padStart(WIDTH, "0"), "latin1");
    },
    parse(bytes: Uint8Array, offset: number): number {
      let value = 0;
      for (let i = 0; i < WIDTH; i++) {
        const d = digits[bytes[offset + i] ?? 0] ?? -1;
        if (d < 0) {
          const shown = JSON.stringify(
            Buffer.from(bytes.subarray(offset, offset + WIDTH)).toString("latin1"),
          );
          throw new BftpError(
            "BFTP_ERR_BAD_FRAME_HEADER",
            `Cannot read a ${name} from ${shown}: expected ${WIDTH} base-${radix} digits`,
            { details: { header: shown } },
          );
        }
        value = value * radix + d;
      }
      return value;
    },
  };
}

/** The classic `send_size` header: 8 lowercase hex digits, lengths up to 4 GiB - 1. */
export const HEX_SIZE_HEADER: SizeHeader = makeHeader("hex size header", 16);

/** The classic string header: 8 decimal digits, lengths up to 99,999,999. */
export const DECIMAL_SIZE_HEADER: SizeHeader = makeHeader("decimal size header", 10);
