import net from "node:net";

/** What `bftp serve` is about to expose, for {@link missingSafeguards}. */
export interface Exposure {
  /** The address to listen on (`--host`). */
  readonly host: string;
  /** Whether connections are encrypted (`--tls`). */
  readonly tls: boolean;
  /** Whether the users file holds at least one account. */
  readonly accounts: boolean;
}

/**
 * True for an address only this machine can reach: `localhost`, 127.0.0.0/8, `::1` and the
 * IPv4-mapped form of 127.0.0.0/8. Any other name or address (`0.0.0.0`, `::`, a LAN address,
 * a host name that DNS may point anywhere) counts as exposed.
 */
export function isLoopbackHost(host: string): boolean {
  if (host === "localhost") return true;
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (net.isIPv4(bare)) return bare.startsWith("127.");
  if (!net.isIPv6(bare)) return false;
  const lower = bare.toLowerCase();
  if (lower === "::1" || lower === "0:0:0:0:0:0:0:1") return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  return mapped?.[1] !== undefined && mapped[1].startsWith("127.");
}

/** A safeguard that exposed listening lacks. */
export type MissingSafeguard = "accounts" | "tls";

/**
 * What listening as described lacks to be safe; empty when nothing. Beyond loopback, bftp
 * needs both accounts (or anyone who reaches the port may read and write) and TLS (or
 * passwords and files cross the network in clear).
 */
export function missingSafeguards(exposure: Exposure): MissingSafeguard[] {
  if (isLoopbackHost(exposure.host)) return [];
  return [
    ...(exposure.accounts ? [] : (["accounts"] as const)),
    ...(exposure.tls ? [] : (["tls"] as const)),
  ];
}
