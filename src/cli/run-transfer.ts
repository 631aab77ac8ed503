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
 * Runs a `bftp get` or `bftp put` on a connection to `where`: a progress display for the
 * flags, always stopped (so a failure never leaves bars on the terminal), then the result
 * printed by {@link finishTransfer}, timed from before connecting. Resolves with the exit
 * code; a failure rejects, for runAction (common.ts) to report.
 *
 * @example
 * return runTransfer(where, flags, (client, display) => getFile(client, display));
 */
export async function runTransfer(
  where: Location,
  flags: CommonFlags,
  body: TransferBody,
): Promise<number> {
  const display = await ProgressDisplay.for(flags);
  const started = performance.now();
  let report: Omit<TransferReport, "ms">;
  try {
    report = await withClient(where, flags, (client) => body(client, display));
  } finally {
    display.stop();
  }
  return finishTransfer({ ...report, ms: performance.now() - started }, flags);
}
