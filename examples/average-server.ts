/**
 * average-server: the classic exercise, "a server that returns the average of a list of
 * numbers", over size-header frames. Run `node dist/examples/average-server.js --help`.
 */
import net from "node:net";
import { HEX_SIZE_HEADER } from "../src/index.js";
import { DEFAULT_MAX_DISCARD, DEFAULT_MAX_REQUEST } from "./average-protocol.js";
import { serveAverageConnection } from "./average-session.js";
import { parseBytes, parseCommandLine, parseInteger, parsePort } from "./command-line.js";
import { parseSeconds, runMain, UsageError, type CommandInfo } from "./command-line.js";
import { announceListening, listen, stopOnSignals, trackConnections } from "./server-lifecycle.js";

const info: CommandInfo = {
  name: "average-server",
  help: `Usage: average-server [--port N] [--host ADDR] [limits]

Answers requests for the mean of a list of numbers. A request is one frame: 8 hex
digits giving the payload's length in bytes, then the payload, a UTF-8 JSON array
of numbers. The reply is one frame holding {"mean": M, "count": N}, or
{"error": {"code": CODE, "message": TEXT}}. A client may send many requests on one
connection. Try it:

  node dist/examples/average-server.js --port 8888
  node dist/examples/average-client.js --port 8888 1 2 3 4       # prints 2.5
  printf '00000007[1,2,3]' | nc 127.0.0.1 8888                  # by hand

Bad requests get an error reply and the connection stays usable: malformed JSON
(AVG_ERR_BAD_JSON), not an array (AVG_ERR_NOT_AN_ARRAY), an element that is not a
number (AVG_ERR_NOT_A_NUMBER) or too large (AVG_ERR_NOT_FINITE), an empty array
(AVG_ERR_EMPTY), invalid UTF-8 (BFTP_ERR_BAD_UTF8). A frame larger than
--max-request is refused from its header alone: its payload is skipped as it
arrives, never stored, then the reply BFTP_ERR_FRAME_TOO_LARGE is sent and the next
request still works.

Only a frame larger than --max-discard, a header that is not 8 hex digits
(BFTP_ERR_BAD_FRAME_HEADER) or an idle client (BFTP_ERR_TIMEOUT) gets an error
reply and then the connection is closed: past those, the server cannot (or, for
gigabytes of payload, should not) find the start of the next request.

Options:
  --port N              TCP port; 0 picks a free one (default 8888)
  --host ADDR           Address to listen on (default 127.0.0.1)
  --max-request BYTES   Largest request payload (default 64KiB)
  --max-discard BYTES   Largest refused frame skipped to keep the connection
                        (default 16MiB)
  --idle-timeout S      Close a connection after S seconds waiting (default 60)
  --max-connections N   Clients served at once; more are closed (default 256)
  -h, --help            Show this help

Sizes accept KiB, MiB and GiB suffixes. The first line of stdout is
"listening on HOST:PORT"; one line per connection goes to stderr.
`,
};

async function main(): Promise<void> {
  const { values } = parseCommandLine(
    {
      options: {
        port: { type: "string" },
        host: { type: "string", default: "127.0.0.1" },
        "max-request": { type: "string" },
        "max-discard": { type: "string" },
        "idle-timeout": { type: "string" },
        "max-connections": { type: "string" },
      },
    },
    info,
  );
  const port = parsePort(values.port, 8888);
  const maxRequest = parseBytes(values["max-request"], DEFAULT_MAX_REQUEST, "max-request");
  const maxDiscard = parseBytes(values["max-discard"], DEFAULT_MAX_DISCARD, "max-discard");
  if (maxDiscard < maxRequest) {
    throw new UsageError("Option --max-discard must be at least --max-request");
  }
  if (maxRequest > HEX_SIZE_HEADER.maxLength) {
    throw new UsageError(`Option --max-request cannot exceed ${HEX_SIZE_HEADER.maxLength}`);
  }
  const idleTimeout = parseSeconds(values["idle-timeout"], 60, "idle-timeout");
  const maxConnections = parseInteger(values["max-connections"], 256, {
    name: "max-connections",
    min: 1,
    max: 100_000,
  });
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };

  // Node's event loop serves every connection in this one process: the classic select().
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    void serveAverageConnection(socket, { maxRequest, maxDiscard, idleTimeout, log });
  });
  server.maxConnections = maxConnections;
  stopOnSignals(server, trackConnections(server));
  announceListening(await listen(server, { host: values.host, port }));
}

runMain(info, main);
