import { once } from "node:events";
import path from "node:path";
import type { Command } from "commander";
import type { TlsOptions, UnknownHost } from "../client/host-trust.js";
import { KNOWN_HOSTS_FILE } from "../client/known-hosts.js";
import { configDir } from "../config-dir.js";

/** The flags that decide how a `bftps://` server is trusted. */
export interface HostTrustFlags {
  /** Trust a server seen for the first time without asking (never a changed one). */
  readonly acceptNew?: boolean | undefined;
  /** Where known_hosts lives (default $XDG_CONFIG_HOME/bftp or ~/.config/bftp). */
  readonly configDir?: string | undefined;
  /** No notes on stderr. */
  readonly quiet?: boolean | undefined;
  readonly json?: boolean | undefined;
}

/** Adds --accept-new and --config-dir (every client command, and the shell). */
export function addHostTrustOptions(command: Command): Command {
  return command
    .option(
      "--accept-new",
      "bftps://: trust a server seen for the first time and pin its certificate, without asking (a changed certificate is still refused)",
    )
    .option(
      "--config-dir <dir>",
      "where known_hosts lives (default $XDG_CONFIG_HOME/bftp or ~/.config/bftp)",
    );
}

/** How long the first-contact question waits for an answer. */
const PROMPT_DEADLINE_MS = 5 * 60_000;

/**
 * The TLS options of a client command, like ssh's StrictHostKeyChecking=ask: known_hosts in
 * the configuration folder; a server not in it is trusted with --accept-new (and a note on
 * stderr), else after a yes at the terminal, else (no terminal: a script) refused with
 * BFTP_ERR_HOST_UNKNOWN. A changed certificate is refused by the library in every case.
 */
export function hostTrustOptions(flags: HostTrustFlags): TlsOptions {
  const knownHosts = path.join(configDir(flags.configDir), KNOWN_HOSTS_FILE);
  const stdin: { isTTY?: boolean } = process.stdin; // undefined on a pipe, whatever the types say
  if (flags.acceptNew === true) {
    return {
      knownHosts,
      onUnknownHost: (host) => {
        if (flags.quiet !== true && flags.json !== true) {
          process.stderr.write(
            `bftp: trusting ${host.host} on first use: certificate ${host.fingerprint}, added to ${host.knownHosts}\n`,
          );
        }
        return true;
      },
    };
  }
  if (stdin.isTTY === true) return { knownHosts, onUnknownHost: askAtTerminal };
  return { knownHosts };
}

/** Asks on the terminal, as ssh does; only "yes" or "y" trusts. */
async function askAtTerminal(host: UnknownHost): Promise<boolean> {
  process.stderr.write(
    [
      `The server ${host.host} is not known: no certificate is pinned for it in ${host.knownHosts}.`,
      `Its certificate's fingerprint is`,
      `  ${host.fingerprint}`,
      `Compare it with the one "bftp serve --tls" printed on the server (or ask its operator).`,
      "",
    ].join("\n"),
  );
  // Loaded only when a person is asked (a few ms of every command's start-up otherwise).
  const readline = await import("node:readline/promises");
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  rl.on("SIGINT", () => {
    rl.close(); // Ctrl-C answers no
  });
  try {
    const answer = await Promise.race([
      rl.question("Trust it and remember it? (yes/no) ", {
        signal: AbortSignal.timeout(PROMPT_DEADLINE_MS),
      }),
      once(rl, "close").then(() => ""), // Ctrl-D
    ]);
    return /^(y|yes)$/i.test(answer.trim());
  } catch {
    return false; // no answer in time, or Ctrl-D
  } finally {
    rl.close();
  }
}
