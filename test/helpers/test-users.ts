import { hashPassword } from "../../src/server/accounts/password-hash.js";
import { PERMISSIONS, type Permission } from "../../src/server/accounts/permissions.js";
import type { UserRecord, UsersFile } from "../../src/server/accounts/users-file.js";

/** scrypt cost for test accounts: N = 2^10 (128 KiB, about 1 ms), so tests stay quick. */
export const CHEAP_LOG_N = 10;

/** Options for {@link testUser}. */
export interface TestUserOptions {
  readonly root?: string;
  readonly permissions?: readonly Permission[];
  /** log2 of scrypt's N (default {@link CHEAP_LOG_N}). */
  readonly logN?: number;
}

/** An account with a real scrypt hash of `password`, cheap unless `logN` says otherwise. */
export async function testUser(
  name: string,
  password: string,
  options: TestUserOptions = {},
): Promise<UserRecord> {
  return {
    name,
    root: options.root ?? "/",
    permissions: options.permissions ?? [...PERMISSIONS],
    password: await hashPassword(password, { logN: options.logN ?? CHEAP_LOG_N, r: 8, p: 1 }),
  };
}

/** A users file holding `users`. */
export function usersFile(...users: UserRecord[]): UsersFile {
  return { version: 1, users };
}
