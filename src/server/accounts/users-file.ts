import fs from "node:fs/promises";
import path from "node:path";
import * as z from "zod";
import { configDir, writePrivateFile } from "../../config-dir.js";
import { BftpError } from "../../errors.js";
import { passwordHashSchema, type PasswordHash } from "./password-hash.js";
import { PERMISSIONS, type Permission } from "./permissions.js";
import { MAX_KEYS_PER_USER, MAX_KEY_LINE, parseAuthorizedKey } from "./public-keys.js";
import { ANONYMOUS } from "../../protocol/version.js";

/** The users file's name inside the configuration folder. */
export const USERS_FILE_NAME = "users.json";

/** The format version this build reads and writes. */
export const USERS_FILE_VERSION = 1;

/** Largest users file read (about 20,000 accounts): it is read whole, so it is capped first. */
const MAX_USERS_FILE_BYTES = 8 * 1024 * 1024;

/** One account. */
export interface UserRecord {
  readonly name: string;
  /** The account's root: a virtual path inside the server's root ("/" is all of it). */
  readonly root: string;
  readonly permissions: readonly Permission[];
  readonly password: PasswordHash;
  /** Public keys that log in as this account: OpenSSH `authorized_keys` lines (issue 14). */
  readonly keys?: readonly string[] | undefined;
}

/** The users file: `{"version": 1, "users": [UserRecord, ...]}`. */
export interface UsersFile {
  readonly version: typeof USERS_FILE_VERSION;
  readonly users: readonly UserRecord[];
}

/**
 * Account names: letters, digits, `.`, `_`, `-`, 1 to 64 of them, not starting with `.` or
 * `-` (so a name is never a flag, a hidden file or a path). "anonymous" is reserved.
 */
export const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/u;

export { ANONYMOUS };

const userSchema = z.strictObject({
  name: z
    .string()
    .regex(USER_NAME)
    .refine((n) => n !== ANONYMOUS, "is reserved"),
  root: z.string().startsWith("/").max(4096),
  permissions: z.array(z.enum(PERMISSIONS)).max(PERMISSIONS.length),
  password: passwordHashSchema,
  keys: z
    .array(z.string().max(MAX_KEY_LINE))
    .max(MAX_KEYS_PER_USER)
    .superRefine((lines, ctx) => {
      for (const [i, line] of lines.entries()) {
        try {
          parseAuthorizedKey(line);
        } catch (err) {
          ctx.addIssue({ code: "custom", path: [i], message: (err as Error).message });
        }
      }
    })
    .optional(),
});

const fileSchema = z.strictObject({
  version: z.literal(USERS_FILE_VERSION),
  users: z.array(userSchema).superRefine((users, ctx) => {
    const seen = new Set<string>();
    for (const user of users) {
      if (seen.has(user.name)) ctx.addIssue({ code: "custom", message: `"${user.name}" twice` });
      seen.add(user.name);
    }
  }),
});

/** The users file inside `dir` (default: {@link configDir}). */
export function usersFilePath(dir: string = configDir()): string {
  return path.join(dir, USERS_FILE_NAME);
}

/** A file with no accounts: what a missing users file means. */
export const NO_USERS: UsersFile = { version: USERS_FILE_VERSION, users: [] };

/**
 * Reads and validates the users file; a missing file is {@link NO_USERS}. Throws
 * `BFTP_ERR_LOCAL_FILE` for a file that is not a valid users file (saying where), or one
 * that others may read or write (it holds password hashes).
 */
export async function loadUsers(file: string): Promise<UsersFile> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, "r");
  } catch (err) {
    if ((err as { code?: unknown }).code === "ENOENT") return NO_USERS;
    throw new BftpError("BFTP_ERR_LOCAL_FILE", `Cannot read ${JSON.stringify(file)}`, {
      cause: err,
    });
  }
  let text: string;
  try {
    const stats = await handle.stat();
    if ((stats.mode & 0o077) !== 0) {
      throw invalid(
        file,
        `others may read or write it (mode ${(stats.mode & 0o777).toString(8)}); chmod 600 it`,
      );
    }
    if (stats.size > MAX_USERS_FILE_BYTES)
      throw invalid(file, `it is over ${MAX_USERS_FILE_BYTES} bytes`);
    text = await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid(file, "it is not JSON");
  }
  const parsed = fileSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(file, `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

/** Writes the users file atomically with mode 0600 (its folder 0700 when created). */
export async function saveUsers(file: string, users: UsersFile): Promise<void> {
  await writePrivateFile(file, `${JSON.stringify(users, null, 2)}\n`);
}

/**
 * True when the users file at `file` holds at least one account: the server then requires a
 * login (unless `--anonymous`). For `bftp serve`'s checks before it listens.
 */
export async function hasAccounts(file: string): Promise<boolean> {
  return (await loadUsers(file)).users.length > 0;
}

function invalid(file: string, why: string): BftpError {
  return new BftpError(
    "BFTP_ERR_LOCAL_FILE",
    `Cannot use users file ${JSON.stringify(file)}: ${why}`,
  );
}
