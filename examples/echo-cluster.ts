/**
 * The processes mode of echo-server: the classic multiprocessing server in Node terms.
 * A primary process forks worker processes with `node:cluster`; all of them serve the same
 * port. Each worker is a whole event-loop server, so the workers add what one process
 * cannot give: parallelism, several CPU cores busy at once (the point that
 * threads under a global lock give concurrency, and processes give parallelism).
 */
import cluster, { type Worker } from "node:cluster";
import net from "node:net";
import { echoConnection } from "./echo-connection.js";
import { announceListening, listen, type ListenAddress } from "./server-lifecycle.js";
import { stopOnSignals, trackConnections } from "./server-lifecycle.js";

/** Options for {@link runEchoPrimary}. */
export interface EchoPrimaryOptions {
  /** How many worker processes to fork. */
  readonly workers: number;
  /** Where progress lines go (stderr in the examples). */
  readonly log: (line: string) => void;
}

/** How long the primary waits for workers to exit after forwarding a signal. */
const STOP_GRACE_MS = 5000;

/**
 * Runs in the primary: forks the workers (which run this same program, with the same
 * arguments), prints `listening on HOST:PORT` once the first worker listens, logs each
 * worker that joins, and forwards SIGINT/SIGTERM to the workers, exiting 0 once they have
 * all exited. A worker that dies on its own is logged; the primary exits 1 when none is left.
 *
 * With `--port 0` every worker gets the same port: in a cluster the primary owns the
 * listening socket and workers share it.
 */
export function runEchoPrimary(options: EchoPrimaryOptions): void {
  // Round-robin: the primary accepts and hands connections to workers in turn, so load is
  // spread on every platform instead of left to the kernel's wake-up order.
  cluster.schedulingPolicy = cluster.SCHED_RR;
  let announced = false;
  let listening = 0;
  let stopping = false;

  // Our own record: cluster.workers may still list a worker whose process has exited.
  const live = new Set<Worker>();
  const alive = (): Worker[] => [...live];

  cluster.on("listening", (worker, address) => {
    listening++;
    options.log(`worker ${worker.process.pid} listening (${listening} of ${options.workers})`);
    if (!announced) {
      announced = true;
      announceListening(address);
    }
  });

  cluster.on("exit", (worker, code, signal) => {
    live.delete(worker);
    if (stopping) {
      if (alive().length === 0) process.exit(); // 0, or 1 if the workers failed to start
      return;
    }
    options.log(`worker ${worker.process.pid} exited on its own (${describeExit(code, signal)})`);
    if (!announced || alive().length === 0) {
      // A worker that fails before listening (port in use...) would fail again: give up.
      stopping = true;
      for (const w of alive()) w.process.kill("SIGTERM");
      process.exitCode = 1;
    }
  });

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    const workers = alive();
    if (workers.length === 0) process.exit();
    for (const worker of workers) worker.process.kill(signal);
    setTimeout(() => {
      for (const worker of alive()) worker.process.kill("SIGKILL");
    }, STOP_GRACE_MS).unref();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);

  for (let i = 0; i < options.workers; i++) live.add(cluster.fork());
}

/** "code 1" or "SIGKILL"; node:cluster passes null for whichever did not apply. */
function describeExit(code: number | null, signal: string | null): string {
  return signal === null || signal === "" ? `code ${code ?? "?"}` : signal;
}

/** Options for {@link runEchoWorker}. */
export interface EchoWorkerOptions {
  readonly address: ListenAddress;
  readonly idleTimeout: number;
  readonly log: (line: string) => void;
}

/**
 * Runs in each worker: an event-loop echo server whose log lines start with
 * `worker PID`, so one can see which process served which client.
 */
export async function runEchoWorker(options: EchoWorkerOptions): Promise<void> {
  const prefix = `worker ${process.pid} `;
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    void echoConnection(socket, { idleTimeout: options.idleTimeout, log: options.log, prefix });
  });
  stopOnSignals(server, trackConnections(server));
  try {
    await listen(server, options.address);
  } catch (err) {
    // The IPC channel to the primary would keep this process alive: let go of it, so the
    // worker exits and the primary learns that it failed.
    cluster.worker?.disconnect();
    throw err;
  }
}
