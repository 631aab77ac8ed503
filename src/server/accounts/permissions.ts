import { BftpError } from "../../errors.js";

/**
 * What an account may do (issue 7): `read` (GET, LIST, STAT, HASH, CD, PWD), `write` (PUT,
 * RESUME), `delete` (DELETE, RMDIR, RENAME, and replacing a file: PUT or RENAME with
 * `overwrite`), `mkdir` (MKDIR).
 */
export const PERMISSIONS = ["read", "write", "delete", "mkdir"] as const;

/** One permission. */
export type Permission = (typeof PERMISSIONS)[number];

/**
 * Throws `BFTP_ERR_FORBIDDEN` unless `granted` holds every permission in `needed` (what the
 * command's descriptor says `op` needs; commands/command.ts).
 */
export function checkPermissions(
  op: string,
  needed: readonly Permission[],
  granted: ReadonlySet<Permission>,
  user: string,
): void {
  const missing = needed.filter((p) => !granted.has(p));
  if (missing.length === 0) return;
  throw new BftpError(
    "BFTP_ERR_FORBIDDEN",
    `Cannot run ${op}: user ${JSON.stringify(user)} lacks the ${missing.map((p) => `"${p}"`).join(" and ")} permission`,
    { details: { missing: missing.join(",") } },
  );
}

/** Parses "read,write" (a `bftp` flag) into permissions; throws `BFTP_ERR_INVALID_ARGUMENT`. */
export function parsePermissions(text: string): Permission[] {
  const names = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const known: readonly string[] = PERMISSIONS;
  const bad = names.find((n) => !known.includes(n));
  if (bad !== undefined) {
    throw new BftpError(
      "BFTP_ERR_INVALID_ARGUMENT",
      `Cannot use permission ${JSON.stringify(bad)}: expected some of ${PERMISSIONS.join(", ")}`,
    );
  }
  return PERMISSIONS.filter((p) => names.includes(p));
}
