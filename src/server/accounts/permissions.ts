import { BftpError } from "../../errors.js";
import type { Op, Request } from "../../protocol/requests.js";

/**
 * What an account may do (issue 7): `read` (GET, LIST, STAT, HASH, CD, PWD), `write` (PUT,
 * RESUME), `delete` (DELETE, RMDIR, RENAME, and replacing a file: PUT or RENAME with
 * `overwrite`), `mkdir` (MKDIR).
 */
export const PERMISSIONS = ["read", "write", "delete", "mkdir"] as const;

/** One permission. */
export type Permission = (typeof PERMISSIONS)[number];

/** The permissions a command needs, before its `overwrite` flag is considered. */
const NEEDS: Readonly<Record<Op, readonly Permission[]>> = {
  HELLO: [],
  LOGIN: [],
  NOOP: [],
  HELP: [],
  QUIT: [],
  ABORT: [],
  PWD: ["read"],
  CD: ["read"],
  STAT: ["read"],
  LIST: ["read"],
  GET: ["read"],
  GETTREE: ["read"],
  PUTTREE: ["write", "mkdir"],
  HASH: ["read"],
  PUT: ["write"],
  RESUME: ["write"],
  DELETE: ["delete"],
  RMDIR: ["delete"],
  RENAME: ["delete"],
  MKDIR: ["mkdir"],
};

/**
 * The permissions `request` needs. A PUT with `overwrite` also needs `delete`: it destroys the
 * old content, so an account with `write` alone is a drop box that can add files but never
 * replace or remove one.
 */
export function permissionsFor(request: Request): readonly Permission[] {
  const needs = NEEDS[request.op];
  if ((request.op === "PUT" || request.op === "PUTTREE") && request.overwrite === true)
    return [...needs, "delete"];
  return needs;
}

/** Throws `BFTP_ERR_FORBIDDEN` unless `granted` holds everything `request` needs. */
export function checkPermissions(
  request: Request,
  granted: ReadonlySet<Permission>,
  user: string,
): void {
  const missing = permissionsFor(request).filter((p) => !granted.has(p));
  if (missing.length === 0) return;
  throw new BftpError(
    "BFTP_ERR_FORBIDDEN",
    `Cannot run ${request.op}: user ${JSON.stringify(user)} lacks the ${missing.map((p) => `"${p}"`).join(" and ")} permission`,
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
