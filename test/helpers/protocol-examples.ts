import { HEX_SIZE_HEADER } from "../../src/wire/index.js";

/**
 * PROTOCOL.md's byte-level examples (§12): fenced blocks whose info string is
 * `bftp-example NAME`, one line per frame, `C:` for bytes the client sends and `S:` for bytes
 * the server sends. The notation is defined in PROTOCOL.md §12; this file parses it into bytes
 * and renders bytes back into it (for failure messages and for refreshing an example).
 */

/** Which side sends a line's bytes. */
export type Side = "C" | "S";

/** One line of an example. */
export type ExampleLine =
  | {
      readonly side: Side;
      readonly kind: "bytes";
      readonly bytes: Buffer;
      /** The line as written, without `C: ` / `S: `. */
      readonly text: string;
    }
  | { readonly side: Side; readonly kind: "close"; readonly text: string };

/** One example: its name, where it starts in the document, and its lines. */
export interface Example {
  readonly name: string;
  /** 1-based line number of the opening fence. */
  readonly line: number;
  readonly lines: readonly ExampleLine[];
}

const FENCE = /^```bftp-example ([a-z0-9-]+)\n([\s\S]*?)^```$/gm;
const REPEAT = /^<(\d+) bytes of ("(?:[^"\\]|\\.)*")>$/;
const CLOSE = "<close>";
/** A data payload this long or longer, all one byte, is written with the repeat notation. */
const REPEAT_FROM = 32;

/** Every `bftp-example` block of a Markdown document, parsed. Throws on a malformed line. */
export function parseExamples(markdown: string): Example[] {
  const examples: Example[] = [];
  for (const match of markdown.matchAll(FENCE)) {
    const name = match[1] ?? "";
    const line = markdown.slice(0, match.index).split("\n").length;
    const body = (match[2] ?? "").replace(/\n$/, "");
    const lines = body
      .split("\n")
      .map((text, i) => parseLine(text, `${name} (PROTOCOL.md line ${line + 1 + i})`));
    examples.push({ name, line, lines });
  }
  return examples;
}

/** One line: `C: ` or `S: `, then a frame, a raw JSON string, or `<close>`. */
export function parseLine(line: string, where: string): ExampleLine {
  const side = line.slice(0, 3) === "C: " ? "C" : line.slice(0, 3) === "S: " ? "S" : undefined;
  if (side === undefined) throw new Error(`${where}: a line must start with "C: " or "S: "`);
  const text = line.slice(3);
  if (text === CLOSE) return { side, kind: "close", text };
  if (text.startsWith('"')) {
    const raw = JSON.parse(text) as unknown;
    if (typeof raw !== "string") throw new Error(`${where}: raw bytes must be one JSON string`);
    return { side, kind: "bytes", bytes: Buffer.from(raw, "utf8"), text };
  }
  const header = /^[0-9a-f]{8}/.exec(text)?.[0];
  if (header === undefined)
    throw new Error(`${where}: expected 8 lowercase hex digits, a JSON string or <close>`);
  const payload = payloadBytes(text.slice(8), where);
  const announced = Number.parseInt(header, 16);
  if (announced !== payload.length) {
    throw new Error(
      `${where}: the header says ${announced} bytes (${header}) but the payload is ${payload.length} (${HEX_SIZE_HEADER.encode(payload.length).toString()})`,
    );
  }
  return { side, kind: "bytes", bytes: Buffer.concat([Buffer.from(header), payload]), text };
}

function payloadBytes(text: string, where: string): Buffer {
  const repeat = REPEAT.exec(text);
  if (repeat === null) return Buffer.from(text, "utf8");
  const count = Number(repeat[1]);
  const unit = Buffer.from(JSON.parse(repeat[2] ?? '""') as string, "utf8");
  if (unit.length === 0 || count % unit.length !== 0)
    throw new Error(`${where}: ${count} bytes cannot be made of whole ${JSON.stringify(unit)}`);
  return Buffer.alloc(count, unit);
}

/**
 * Renders bytes received from a peer in the example notation, one line per frame (without
 * the side prefix). Bytes that do not form a frame are shown as one raw JSON string.
 */
export function renderBytes(bytes: Buffer): string[] {
  const lines: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    const header = bytes.subarray(at, at + 8).toString("latin1");
    const size = /^[0-9a-f]{8}$/.test(header) ? Number.parseInt(header, 16) : -1;
    if (size < 0 || at + 8 + size > bytes.length) {
      lines.push(JSON.stringify(bytes.subarray(at).toString("utf8")));
      break;
    }
    lines.push(header + renderPayload(bytes.subarray(at + 8, at + 8 + size)));
    at += 8 + size;
  }
  return lines;
}

function renderPayload(payload: Buffer): string {
  const first = payload[0];
  if (
    first !== undefined &&
    payload.length >= REPEAT_FROM &&
    first >= 0x20 &&
    first < 0x7f &&
    payload.every((b) => b === first)
  ) {
    return `<${payload.length} bytes of ${JSON.stringify(String.fromCharCode(first))}>`;
  }
  const text = payload.toString("utf8");
  // Text that would not read back as the same bytes (bad UTF-8, line breaks, or something
  // that looks like notation) is shown as a raw string so the difference is still visible.
  const exact = Buffer.from(text, "utf8").equals(payload) && !/[\n\r]/.test(text);
  return exact && !text.startsWith("<") ? text : `<not text: ${JSON.stringify(text)}>`;
}
