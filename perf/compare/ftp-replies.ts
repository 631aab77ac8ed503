/**
 * Pure parsers for the control connection of an FTP server (RFC 959 §4.2, RFC 2428): bytes
 * in, complete replies out, the rest kept for the next chunk (basic-ftp's
 * parseControlResponse shape). Nothing here touches a socket.
 */

/** One complete reply: the three-digit code and its text (lines joined with "\n"). */
export interface FtpReply {
  readonly code: number;
  readonly text: string;
}

/** Longest control line accepted; a server sending more is broken or hostile. */
export const MAX_REPLY_LINE = 8192;
/** Most lines in one multi-line reply. */
export const MAX_REPLY_LINES = 1000;

/**
 * Splits `pending` (everything received and not yet parsed) into complete replies and the
 * bytes left over. A multi-line reply (`123-first` … `123 last`) counts only once its last line
 * has arrived. Throws if a line is longer than {@link MAX_REPLY_LINE} or a reply has more than
 * {@link MAX_REPLY_LINES} lines, so `pending` never grows without bound.
 *
 * @example
 * parseReplies(Buffer.from("220-hi\r\n220 ready\r\n331 "))
 * // → { replies: [{ code: 220, text: "hi\nready" }], rest: <Buffer "331 "> }
 */
export function parseReplies(pending: Buffer): { replies: FtpReply[]; rest: Buffer } {
  const replies: FtpReply[] = [];
  let start = 0; // first byte of the reply being parsed
  let lineStart = 0;
  let lines: string[] = [];
  let code = -1;
  for (;;) {
    const lf = pending.indexOf(0x0a, lineStart);
    if (lf < 0) {
      if (pending.length - lineStart > MAX_REPLY_LINE)
        throw new Error(`FTP reply line longer than ${MAX_REPLY_LINE} bytes`);
      return { replies, rest: pending.subarray(start) };
    }
    if (lf - lineStart > MAX_REPLY_LINE)
      throw new Error(`FTP reply line longer than ${MAX_REPLY_LINE} bytes`);
    const end = lf > lineStart && pending[lf - 1] === 0x0d ? lf - 1 : lf;
    const line = pending.toString("utf8", lineStart, end);
    lineStart = lf + 1;
    const head = /^(\d{3})([ -])/.exec(line);
    if (code < 0) {
      if (head === null) throw new Error(`Not an FTP reply line: ${JSON.stringify(line)}`);
      code = Number(head[1]);
      lines = [line.slice(4)];
      if (head[2] === "-") continue;
    } else {
      // Inside a multi-line reply only "CODE " ends it; other lines are text (RFC 959 §4.2).
      if (lines.length >= MAX_REPLY_LINES)
        throw new Error(`FTP reply longer than ${MAX_REPLY_LINES} lines`);
      const last = head !== null && Number(head[1]) === code && head[2] === " ";
      lines.push(last || head !== null ? line.slice(4) : line);
      if (!last) continue;
    }
    replies.push({ code, text: lines.join("\n") });
    code = -1;
    start = lineStart;
  }
}

/** The data port of a `229 Entering Extended Passive Mode (|||port|)` reply (RFC 2428 §3). */
export function parseEpsv(reply: FtpReply): number {
  const match = /\((.)\1\1(\d{1,5})\1\)/.exec(reply.text);
  const port = Number(match?.[2]);
  if (reply.code !== 229 || match === null || port < 1 || port > 65535)
    throw new Error(`Unexpected EPSV reply: ${reply.code} ${reply.text}`);
  return port;
}

/** Host and port of a `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)` reply (RFC 959 §4.1.2). */
export function parsePasv(reply: FtpReply): { host: string; port: number } {
  const match = /(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})/.exec(reply.text);
  if (reply.code !== 227 || match === null)
    throw new Error(`Unexpected PASV reply: ${reply.code} ${reply.text}`);
  const n = match.slice(1).map(Number);
  const port = (n[4] ?? 0) * 256 + (n[5] ?? 0);
  if (n.some((x) => x > 255) || port < 1)
    throw new Error(`Unexpected PASV reply: ${reply.code} ${reply.text}`);
  return { host: n.slice(0, 4).join("."), port };
}
