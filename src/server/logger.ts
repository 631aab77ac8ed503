import { createRequire } from "node:module";

/** Facts attached to a log event. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** Where the server reports connections, transfers and faults: one line per event. */
export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** `json`: one JSON object per line (for collectors); `text`: for people. */
  readonly format: "json" | "text";
  /** Where lines go; standard error by default. */
  readonly write?: (line: string) => void;
  /** Drop `info` events. */
  readonly quiet?: boolean;
}

/**
 * A line logger: structured JSON lines when not on a terminal, readable text when on one.
 * Values are JSON-escaped in both forms, so a client-chosen name cannot forge a log line
 * or inject terminal escapes.
 *
 * @example
 * const log = createLogger({ format: process.stderr.isTTY ? "text" : "json" });
 * log.info("connection", { peer: "127.0.0.1:50312" });
 */
export function createLogger(options: LoggerOptions): Logger {
  if (options.format === "json") return jsonLogger(options);
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (level: string, event: string, fields: LogFields = {}): void => {
    const time = new Date().toISOString();
    const pairs = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(
        ([k, v]) =>
          `${k}=${typeof v === "string" && /^[\w./:@+-]*$/.test(v) ? v : JSON.stringify(v)}`,
      );
    write([time, `[${process.pid}]`, level.padEnd(5), event, ...pairs].join(" "));
  };
  return {
    info: (event, fields) => {
      if (!options.quiet) emit("info", event, fields);
    },
    warn: (event, fields) => {
      emit("warn", event, fields);
    },
    error: (event, fields) => {
      emit("error", event, fields);
    },
  };
}

/**
 * JSON lines through pino (issue 15: a well-kept logger): `{"level":"info","time":ISO,
 * "pid":N, ...fields, "event":NAME}`, written synchronously to standard error (or `write`), so
 * a line is never lost or interleaved when the process exits. Loaded only for this format.
 */
function jsonLogger(options: LoggerOptions): Logger {
  const pino = createRequire(import.meta.url)("pino") as typeof import("pino");
  const { write } = options;
  const destination =
    write === undefined
      ? pino.destination({ fd: 2, sync: true })
      : {
          write: (line: string) => {
            write(line.endsWith("\n") ? line.slice(0, -1) : line);
          },
        };
  const logger = pino.pino(
    {
      level: options.quiet === true ? "warn" : "info",
      base: { pid: process.pid },
      messageKey: "event",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return {
    info: (event, fields) => {
      logger.info(fields ?? {}, event);
    },
    warn: (event, fields) => {
      logger.warn(fields ?? {}, event);
    },
    error: (event, fields) => {
      logger.error(fields ?? {}, event);
    },
  };
}

/** A logger that drops everything (tests, embedding). */
export const SILENT_LOGGER: Logger = { info: () => {}, warn: () => {}, error: () => {} };
