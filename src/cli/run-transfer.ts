import type { BftpClient } from "../client/client.js";
import type { Location } from "../client/location.js";
import { withClient, type CommonFlags } from "./common.js";
import { ProgressDisplay } from "./progress-display.js";
import { finishTransfer, type TransferReport } from "./transfer-report.js";

/** What a get or put body reports; {@link runTransfer} adds the time it took. */
export type TransferBody = (
  client: BftpClient,
  display: ProgressDisplay,
) => Promise<Omit<TransferReport, "ms">>;

/**
 * The server an operation works on, and how it gets a connection there: the command line
 * opens one per command ({@link commandEndpoint}); the shell lends its own, already logged in
 * and in its working folder (shell/shell-endpoint.ts). The operations themselves (get, put,
 * ls, rm, …) are the same code for both (issue 13, item 9).
 */
export interface Endpoint {
  /** The server (its `path` is unused: each operation names its own paths). */
  readonly where: Location;
  /** Runs `body` on a connection to the server. */
  readonly use: <T>(body: (client: BftpClient) => Promise<T>) => Promise<T>;
}

/** A new connection per command, closed after it: what every `bftp` client command uses. */
export function commandEndpoint(where: Location, flags: CommonFlags): Endpoint {
  return { where, use: (body) => withClient(where, flags, body) };
}

/**
 * Runs a `get` or `put` on a connection to `endpoint`: a progress display for the flags,
 * always stopped (so a failure never leaves bars on the terminal), then the result printed by
 * {@link finishTransfer}, timed from before connecting. Resolves with the exit code; a
 * failure rejects, for runAction (common.ts) or the shell to report.
 *
 * @example
 * return runTransfer(commandEndpoint(where, flags), flags, (client, display) => getFile(client, display));
 */
export async function runTransfer(
  endpoint: Endpoint,
  flags: CommonFlags,
  body: TransferBody,
): Promise<number> {
  const display = await ProgressDisplay.for(flags);
  const started = performance.now();
  let report: Omit<TransferReport, "ms">;
  try {
    report = await endpoint.use((client) => body(client, display));
  } finally {
    display.stop();
  }
  return finishTransfer({ ...report, ms: performance.now() - started }, flags);
}
