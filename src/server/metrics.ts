import http from "node:http";
import { once } from "node:events";
import type net from "node:net";
import type { Logger } from "./logger.js";

/** The server's two front ends, as metrics label them. */
export type FrontEnd = "bftp" | "sftp";

/** One finished transfer: a file (GET, PUT, an SFTP handle) or a tree stream. */
export interface TransferRecord {
  readonly front: FrontEnd;
  readonly direction: "get" | "put";
  readonly bytes: number;
  readonly ms: number;
  /** "ok", or the error code it ended with. */
  readonly result: string;
}

/**
 * What the server counts for operators (issue 15, item 4). The server calls these at
 * connection, login, error and transfer boundaries, never per chunk; {@link NO_METRICS} is
 * used when `--metrics` is not given, so counting costs nothing then.
 */
export interface ServerMetrics {
  /** A connection was accepted; call the result when it closes. */
  connection(front: FrontEnd): () => void;
  /** A session logged in (an account, or anonymous). */
  session(front: FrontEnd): void;
  /** An error was answered with `code`. */
  error(front: FrontEnd, code: string): void;
  transfer(record: TransferRecord): void;
}

/** Counts nothing. */
export const NO_METRICS: ServerMetrics = {
  connection: () => () => undefined,
  session: () => undefined,
  error: () => undefined,
  transfer: () => undefined,
};

/** A Prometheus endpoint and the metrics it serves. */
export interface MetricsEndpoint {
  readonly metrics: ServerMetrics;
  address(): net.AddressInfo;
  close(): Promise<void>;
}

/**
 * Starts an HTTP listener on `host:port` (0: a free port) that serves the server's metrics at
 * `GET /metrics` in Prometheus' text format (prom-client, loaded only here, with a registry of
 * its own), and 404 elsewhere. Besides bftp's own metrics it serves prom-client's process
 * metrics (CPU, resident memory, open descriptors, event-loop lag).
 */
export async function startMetrics(
  host: string,
  port: number,
  log: Logger,
): Promise<MetricsEndpoint> {
  const prom = await import("prom-client");
  const registry = new prom.Registry();
  prom.collectDefaultMetrics({ register: registry, prefix: "bftp_" });
  const connections = new prom.Counter({
    name: "bftp_connections_total",
    help: "Connections accepted, by front end",
    labelNames: ["front"],
    registers: [registry],
  });
  const open = new prom.Gauge({
    name: "bftp_connections_open",
    help: "Connections open now, by front end",
    labelNames: ["front"],
    registers: [registry],
  });
  const sessions = new prom.Counter({
    name: "bftp_sessions_total",
    help: "Sessions logged in (an account or anonymous), by front end",
    labelNames: ["front"],
    registers: [registry],
  });
  const errors = new prom.Counter({
    name: "bftp_errors_total",
    help: "Errors answered, by front end and stable code (docs/errors.md)",
    labelNames: ["front", "code"],
    registers: [registry],
  });
  const transfers = new prom.Counter({
    name: "bftp_transfers_total",
    help: "Transfers finished, by front end, direction (get: to clients, put: from them) and outcome",
    labelNames: ["front", "direction", "outcome"],
    registers: [registry],
  });
  const bytes = new prom.Counter({
    name: "bftp_transfer_bytes_total",
    help: "Bytes of file data moved by finished transfers, by front end and direction",
    labelNames: ["front", "direction"],
    registers: [registry],
  });
  const durations = new prom.Histogram({
    name: "bftp_transfer_duration_seconds",
    help: "How long transfers took, by front end and direction",
    labelNames: ["front", "direction"],
    buckets: [0.005, 0.025, 0.1, 0.5, 1, 2.5, 10, 30, 120, 600],
    registers: [registry],
  });
  const metrics: ServerMetrics = {
    connection: (front) => {
      connections.inc({ front });
      open.inc({ front });
      let closed = false;
      return () => {
        if (closed) return;
        closed = true;
        open.dec({ front });
      };
    },
    session: (front) => {
      sessions.inc({ front });
    },
    error: (front, code) => {
      errors.inc({ front, code });
    },
    transfer: (record) => {
      const { front, direction } = record;
      transfers.inc({ front, direction, outcome: record.result === "ok" ? "ok" : "error" });
      bytes.inc({ front, direction }, record.bytes);
      durations.observe({ front, direction }, record.ms / 1000);
    },
  };
  const server = http.createServer((req, res) => {
    const url = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" || url !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: try GET /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { "content-type": registry.contentType }).end(text);
      },
      (err: unknown) => {
        log.error("metrics-failed", { error: err instanceof Error ? err.message : String(err) });
        res.writeHead(500).end();
      },
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.listen({ host, port });
  await once(server, "listening");
  return {
    metrics,
    address: () => server.address() as net.AddressInfo,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close").catch(() => undefined);
    },
  };
}
