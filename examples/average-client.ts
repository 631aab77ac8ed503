/**
 * average-client: asks average-server for the mean of some numbers.
 * Run `node dist/examples/average-client.js --help`.
 */
import { encodeFrame, StreamReader, writeAll } from "../src/index.js";
import { encodeAverageRequest, isErrorReply, MAX_REPLY } from "./average-protocol.js";
import { parseAverageReply } from "./average-protocol.js";
import { EXIT_FAILURE, parseCommandLine, parsePort, parseSeconds } from "./command-line.js";
import { runMain, UsageError, type CommandInfo } from "./command-line.js";
import { connectTcp } from "./connect-tcp.js";

const info: CommandInfo = {
  name: "average-client",
  help: `Usage: average-client [--port N] [--host ADDR] [--json] NUMBER...

Sends the numbers to average-server as one frame (8 hex digits of length, then a
JSON array) and prints the mean from the reply frame. An error reply is printed on
stderr as its code and message, and the exit status is 1.

Options:
  --port N         Server port (default 8888)
  --host ADDR      Server address (default 127.0.0.1)
  --json           Print the whole reply as JSON, e.g. {"mean":2,"count":3}
  --raw TEXT       Send TEXT as the payload instead of numbers, to see how the
                   server answers bad requests: --raw '[1,"two"]'
  --timeout S      Give up after S seconds without an answer (default 30)
  -h, --help       Show this help

Put "--" before negative numbers, or they look like options:
  node dist/examples/average-client.js --port 8888 1 2 3 4     # 2.5
  node dist/examples/average-client.js --port 8888 -- -1 -2    # -1.5
  node dist/examples/average-client.js --port 8888 --raw '[]'  # AVG_ERR_EMPTY
`,
};

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

async function main(): Promise<void> {
  const { values, positionals } = parseCommandLine(
    {
      allowPositionals: true,
      options: {
        port: { type: "string" },
        host: { type: "string", default: "127.0.0.1" },
        json: { type: "boolean", default: false },
        raw: { type: "string" },
        timeout: { type: "string" },
      },
    },
    info,
  );
  const port = parsePort(values.port, 8888);
  const timeout = parseSeconds(values.timeout, 30, "timeout");
  if (values.raw !== undefined && positionals.length > 0) {
    throw new UsageError("Give numbers or --raw, not both");
  }
  const request =
    values.raw === undefined
      ? encodeAverageRequest(positionals.map(toNumber))
      : encodeFrame(values.raw);

  const socket = await connectTcp(values.host, port, {
    timeout,
    hint: `Is the server running? Start it with: node dist/examples/average-server.js --port ${port}`,
  });
  try {
    const reader = new StreamReader(socket);
    await writeAll(socket, request, { timeout });
    const reply = parseAverageReply(await reader.readFrame({ maxSize: MAX_REPLY, timeout }));
    socket.end();
    if (values.json) process.stdout.write(`${JSON.stringify(reply)}\n`);
    if (isErrorReply(reply)) {
      process.stderr.write(`average-client: ${reply.error.code}: ${reply.error.message}\n`);
      process.exitCode = EXIT_FAILURE;
    } else if (!values.json) {
      process.stdout.write(`${reply.mean}\n`);
    }
  } finally {
    socket.destroy();
  }
}

function toNumber(text: string): number {
  const value = NUMBER.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value)) {
    throw new UsageError(`Cannot use "${text}": expected a finite decimal number such as 2.5`);
  }
  return value;
}

runMain(info, main);
