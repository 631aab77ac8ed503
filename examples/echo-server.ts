/**
 * echo-server: the classic echo server in three designs, to compare how many clients each
 * can serve. Run `node dist/examples/echo-server.js --help`.
 */
import cluster from "node:cluster";
import net, { type Server } from "node:net";
import { parseCommandLine, parseInteger, parsePort, parseSeconds } from "./command-line.js";
import { runMain, UsageError, type CommandInfo } from "./command-line.js";
import { runEchoPrimary, runEchoWorker } from "./echo-cluster.js";
import { echoConnection } from "./echo-connection.js";
import { createSequentialServer } from "./sequential-server.js";
import { announceListening, listen, stopOnSignals, trackConnections } from "./server-lifecycle.js";

const MODES = ["sequential", "event-loop", "processes"] as const;
type Mode = (typeof MODES)[number];

const info: CommandInfo = {
  name: "echo-server",
  help: `Usage: echo-server [--port N] [--host ADDR] [--mode MODE] [--workers N]

Sends every byte each client sends straight back, until the client half-closes; then
closes its side. The same server in the three classic designs:

  --mode sequential   One client at a time, like the classic first server:
                      accept(), serve until the client closes, accept() the next.
                      A second client's connection is accepted by TCP (the kernel
                      backlog) but waits, unanswered, until the first one closes.
  --mode event-loop   Many clients in one process: Node's event loop is the
                      classic select() pattern. Concurrency, on one CPU core.
                      (default)
  --mode processes    Several worker processes (node:cluster) share the port, like
                      the classic multiprocessing server: parallelism, one core
                      per worker. Logs "worker PID serving connection from ..."
                      so you can see which process served whom.

Options:
  --port N            TCP port to listen on; 0 picks a free one (default 2525)
  --host ADDR         Address to listen on (default 127.0.0.1)
  --mode MODE         sequential | event-loop | processes (default event-loop)
  --workers N         Worker processes in processes mode (default 2)
  --max-waiting N     Clients that may wait in sequential mode; more are closed
                      at once, as a full backlog would refuse them (default 16)
  --idle-timeout S    Close a connection idle for S seconds (default 60)
  -h, --help          Show this help

The first line of stdout is "listening on HOST:PORT"; progress goes to stderr.
Try it with two terminals running echo-client, or:
  node dist/examples/echo-server.js --mode sequential --port 2525
  node dist/examples/echo-client.js --port 2525 --message hello
`,
};

async function main(): Promise<void> {
  const { values } = parseCommandLine(
    {
      options: {
        port: { type: "string" },
        host: { type: "string", default: "127.0.0.1" },
        mode: { type: "string", default: "event-loop" },
        workers: { type: "string" },
        "max-waiting": { type: "string" },
        "idle-timeout": { type: "string" },
      },
    },
    info,
  );
  const mode = values.mode as Mode;
  if (!MODES.includes(mode)) {
    throw new UsageError(`Cannot use --mode "${values.mode}": expected ${MODES.join(", ")}`);
  }
  if (values.workers !== undefined && mode !== "processes") {
    throw new UsageError("Option --workers applies only to --mode processes");
  }
  if (values["max-waiting"] !== undefined && mode !== "sequential") {
    throw new UsageError("Option --max-waiting applies only to --mode sequential");
  }
  const address = { host: values.host, port: parsePort(values.port, 2525) };
  const workers = parseInteger(values.workers, 2, { name: "workers", min: 1, max: 64 });
  const maxWaiting = parseInteger(values["max-waiting"], 16, {
    name: "max-waiting",
    min: 0,
    max: 10_000,
  });
  const idleTimeout = parseSeconds(values["idle-timeout"], 60, "idle-timeout");
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };

  if (mode === "processes") {
    if (cluster.isPrimary) runEchoPrimary({ workers, log });
    else await runEchoWorker({ address, idleTimeout, log });
    return;
  }
  const serve = (socket: net.Socket): Promise<void> => echoConnection(socket, { idleTimeout, log });
  const server: Server =
    mode === "sequential"
      ? createSequentialServer(serve, { maxWaiting, log })
      : net.createServer({ allowHalfOpen: true }, (socket) => void serve(socket));
  stopOnSignals(server, trackConnections(server));
  announceListening(await listen(server, address));
}

runMain(info, main);
