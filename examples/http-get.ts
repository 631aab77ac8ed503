/**
 * http-get: the classic WWW client. Sends an HTTP/1.0 GET over a plain TCP socket and
 * saves the body. Run `node dist/examples/http-get.js --help`.
 */
import path from "node:path";
import { isBftpError, StreamReader, writeAll, type BftpError } from "../src/index.js";
import { parseCommandLine, parseSeconds, runMain } from "./command-line.js";
import { UsageError, type CommandInfo } from "./command-line.js";
import { connectTcp } from "./connect-tcp.js";
import { contentLength, HttpGetError, parseResponseHead } from "./http-response-head.js";
import { saveAtomically } from "./save-atomically.js";

const info: CommandInfo = {
  name: "http-get",
  help: `Usage: http-get [--timeout S] URL OUTFILE

Downloads URL into OUTFILE the way the classic WWW client does: open a TCP socket
to the web server, send "GET /path HTTP/1.0", and read the reply. The reply is a
head (status line and header fields, ending with a blank line) and then the body.
With HTTP/1.0 the server closes the connection after the body, so the end of the
connection marks the end of the body (the classic recv_to_file); when the server
sends Content-Length, exactly that many bytes are expected, and fewer is an error.

The status line is printed on stderr. The body is streamed to a temporary file
beside OUTFILE and renamed to OUTFILE only once complete, so a failed download
never leaves a partial OUTFILE. Exit status 1 on a refused connection, a status
other than 2xx, or a connection that ends early.

Only http:// URLs: https needs TLS, which this socket example does not speak.

Options:
  --timeout S      Give up after S seconds without progress (default 30)
  -h, --help       Show this help

Example:
  node dist/examples/http-get.js http://example.com/ index.html
`,
};

/** Largest response head accepted, as most servers limit request heads. */
const MAX_HEAD = 64 * 1024;

async function main(): Promise<void> {
  const { values, positionals } = parseCommandLine(
    { allowPositionals: true, options: { timeout: { type: "string" } } },
    info,
  );
  const [address, outfile, ...extra] = positionals;
  if (address === undefined || outfile === undefined || extra.length > 0) {
    throw new UsageError("Expected exactly two arguments: URL OUTFILE");
  }
  const url = parseHttpUrl(address);
  const timeout = parseSeconds(values.timeout, 30, "timeout");
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1"); // [::1] -> ::1
  const port = url.port === "" ? 80 : Number(url.port);

  const socket = await connectTcp(host, port, {
    timeout,
    hint: "Check the URL, and that the web server is running and accepts connections",
  });
  try {
    const reader = new StreamReader(socket);
    const request =
      `GET ${url.pathname}${url.search} HTTP/1.0\r\n` +
      `Host: ${url.host}\r\nUser-Agent: bftp-http-get\r\n` +
      `Accept-Encoding: identity\r\nConnection: close\r\n\r\n`;
    await writeAll(socket, request, { timeout });

    const head = parseResponseHead(
      await reader.readUntil("\r\n\r\n", { max: MAX_HEAD, timeout }).catch((err: unknown) => {
        throw explainHeadFailure(err);
      }),
    );
    process.stderr.write(`${head.statusLine}\n`);
    checkStatus(head.status, head.statusLine, head.headers.get("location")?.[0]);
    const coding = head.headers.get("transfer-encoding");
    if (coding !== undefined && coding.some((v) => v.toLowerCase() !== "identity")) {
      throw new HttpGetError("HTTP_ERR_UNSUPPORTED", "Cannot read a chunked body over HTTP/1.0");
    }

    const length = contentLength(head);
    const target = path.resolve(outfile);
    const bytes = await saveAtomically(target, async (file) => {
      if (length === undefined) {
        // The body ends when the server closes. It is streamed, never held in memory.
        return reader.streamToEnd(file, { max: Number.MAX_SAFE_INTEGER, timeout });
      }
      await reader.streamExactly(length, file, { timeout }).catch((err: unknown) => {
        throw explainShortBody(err, length);
      });
      return length;
    });
    process.stderr.write(`saved ${bytes} bytes to ${outfile}\n`);
  } finally {
    socket.destroy();
  }
}

/** The URL, if it is one this client can fetch; a {@link UsageError} otherwise. */
function parseHttpUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`Cannot use "${text}": not a URL (expected http://host/path)`);
  }
  if (url.protocol === "https:") {
    throw new UsageError(
      `Cannot fetch "${text}": https needs TLS, which this plain-socket example does not ` +
        "speak. Use an http:// URL, or a real client such as curl",
    );
  }
  if (url.protocol !== "http:") {
    throw new UsageError(`Cannot fetch "${text}": only http:// URLs are supported`);
  }
  return url;
}

function checkStatus(status: number, statusLine: string, location: string | undefined): void {
  if (status >= 200 && status < 300) return;
  let advice = "Check the URL";
  if (status >= 300 && status < 400 && location !== undefined) {
    advice = `The page moved to ${JSON.stringify(location)}: run http-get with that URL`;
  } else if (status >= 500) {
    advice = "The server failed; try again later";
  }
  throw new HttpGetError(
    "HTTP_ERR_STATUS",
    `Cannot download: the server answered ${JSON.stringify(statusLine)}. ${advice}`,
  );
}

function explainHeadFailure(err: unknown): unknown {
  if (!isBftpError(err)) return err;
  const why: Partial<Record<BftpError["code"], string>> = {
    BFTP_ERR_PEER_CLOSED: "the server closed the connection without answering",
    BFTP_ERR_UNEXPECTED_EOF: `the server closed the connection after ${err.details["received"]} bytes, before the end of the headers`,
    BFTP_ERR_MESSAGE_TOO_LONG: `the response headers are longer than ${MAX_HEAD} bytes`,
  };
  const reason = why[err.code];
  if (reason === undefined) return err;
  return new HttpGetError(err.code, `Cannot read the response: ${reason}. Is it a web server?`, {
    cause: err,
  });
}

function explainShortBody(err: unknown, length: number): unknown {
  if (!isBftpError(err, "BFTP_ERR_UNEXPECTED_EOF")) return err;
  const received = Number(err.details["received"]);
  return new HttpGetError(
    err.code,
    `Cannot download: the body ended after ${received} of the ${length} bytes its Content-Length announced`,
    { cause: err },
  );
}

runMain(info, main);
