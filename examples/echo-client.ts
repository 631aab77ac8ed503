/**
 * echo-client: sends a message to echo-server and prints what comes back.
 * Run `node dist/examples/echo-client.js --help`.
 */
import { pipeline } from "node:stream/promises";
import { StreamReader, writeAll } from "../src/index.js";
import { parseCommandLine, parsePort, parseSeconds, runMain } from "./command-line.js";
import type { CommandInfo } from "./command-line.js";
import { connectTcp } from "./connect-tcp.js";

const info: CommandInfo = {
  name: "echo-client",
  help: `Usage: echo-client [--port N] [--host ADDR] [--message TEXT]

Connects to echo-server, sends the message (or everything on stdin), half-closes the
connection to say "that is all", then prints every byte the server sends back until
the server closes. The reply can arrive in any number of pieces; the client does not
care, it reads until the end of the connection (the classic recv_to_file).

Options:
  --port N            Server port (default 2525)
  --host ADDR         Server address (default 127.0.0.1)
  --message TEXT      What to send; without it, stdin is sent
  --timeout S         Give up after S seconds without progress (default 30).
                      A sequential server answers only when it is your turn.
  -h, --help          Show this help

Examples:
  node dist/examples/echo-client.js --port 2525 --message hello
  printf 'line 1\\nline 2\\n' | node dist/examples/echo-client.js --port 2525
`,
};

async function main(): Promise<void> {
  const { values } = parseCommandLine(
    {
      options: {
        port: { type: "string" },
        host: { type: "string", default: "127.0.0.1" },
        message: { type: "string" },
        timeout: { type: "string" },
      },
    },
    info,
  );
  const port = parsePort(values.port, 2525);
  const timeout = parseSeconds(values.timeout, 30, "timeout");
  const socket = await connectTcp(values.host, port, {
    timeout,
    hint: `Is the server running? Start it with: node dist/examples/echo-server.js --port ${port}`,
  });
  try {
    const reader = new StreamReader(socket);
    // Read and send at once: a client that sent everything before reading would deadlock
    // on a large input, both sides waiting for the other to drain its buffers.
    const receiving = reader.streamToEnd(process.stdout, {
      max: Number.MAX_SAFE_INTEGER, // streamed to stdout, never buffered, so no memory bound needed
      end: false,
      timeout,
    });
    const sending = (async (): Promise<void> => {
      if (values.message === undefined) {
        await pipeline(process.stdin, socket); // ends the socket: the half-close
      } else {
        await writeAll(socket, values.message, { timeout });
        socket.end();
      }
    })();
    await Promise.all([sending, receiving]);
  } finally {
    socket.destroy();
    if (values.message === undefined) process.stdin.destroy();
  }
}

runMain(info, main);
