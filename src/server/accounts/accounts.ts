import { randomBytes } from "node:crypto";
import { BftpError } from "../../errors.js";
import { Sandbox } from "../sandbox.js";
import { HashGate } from "./hash-gate.js";
import {
  hashPassword,
  verifyPassword,
  type PasswordHash,
  type ScryptParams,
} from "./password-hash.js";
import { PERMISSIONS, type Permission } from "./permissions.js";
import { holdsKey, parseAuthorizedKey } from "./public-keys.js";
import { ANONYMOUS, NO_USERS, type UsersFile } from "./users-file.js";

/** A logged-in identity: its name, its own sandbox (its root) and what it may do. */
export interface Account {
  readonly name: string;
  readonly sandbox: Sandbox;
  /** The account's root as a path from the served root ("/" for the whole of it). */
  readonly root: string;
  readonly permissions: ReadonlySet<Permission>;
}

/** Options for {@link Accounts.open}. */
export interface AccountsOptions {
  /** The accounts (a loaded users file); none means anyone may use the server, as before. */
  readonly users?: UsersFile;
  /**
   * When accounts exist: the permissions of a session that does not log in (`--anonymous`),
   * or undefined to refuse it. Without accounts the anonymous session may do everything.
   */
  readonly anonymous?: readonly Permission[];
  /** Password-hash computations at once (default 2). */
  readonly maxConcurrentHashes?: number;
  /** Password-hash computations waiting for a turn (default 64); more are refused. */
  readonly maxQueuedHashes?: number;
  /** Longest wait for a turn, ms (default 10 s). */
  readonly hashWaitMs?: number;
}

interface Entry {
  readonly account: Account;
  readonly password: PasswordHash;
  /** The account's public keys, as SSH blobs. */
  readonly keys: readonly Buffer[];
}

/**
 * The server's accounts (issue 7): who may log in, with which root and permissions. Read once
 * at start-up: a changed users file takes effect when the server restarts.
 *
 * A password check costs the same whether the user exists or not: an unknown name is checked
 * against a dummy hash made with the parameters most accounts use, through the same gate, so
 * the time of a refusal does not reveal which names exist.
 */
export class Accounts {
  readonly #users: ReadonlyMap<string, Entry>;
  readonly #anonymous: Account | undefined;
  /** What an unknown name is checked against; none without accounts (nothing to hide). */
  readonly #dummy: PasswordHash | undefined;
  readonly #gate: HashGate;

  private constructor(
    users: ReadonlyMap<string, Entry>,
    anonymous: Account | undefined,
    dummy: PasswordHash | undefined,
    gate: HashGate,
  ) {
    this.#users = users;
    this.#anonymous = anonymous;
    this.#dummy = dummy;
    this.#gate = gate;
  }

  /**
   * Opens a sandbox for each account's root inside `root` (creating a missing root folder),
   * refusing a root that leads outside, and prepares the dummy hash.
   */
  static async open(root: Sandbox, options: AccountsOptions = {}): Promise<Accounts> {
    const file = options.users ?? NO_USERS;
    const sandboxes = new Map<string, Sandbox>([["/", root]]);
    const sandboxFor = async (virtual: string): Promise<Sandbox> => {
      const normal = root.normalize("/", virtual);
      const known = sandboxes.get(normal);
      if (known !== undefined) return known;
      await root.makeDirectories("/", normal);
      const { real } = await root.resolve("/", normal);
      const sandbox = await Sandbox.open(real);
      if (!root.contains(sandbox.root)) {
        throw new BftpError(
          "BFTP_ERR_PATH_REFUSED",
          `Cannot use root ${JSON.stringify(virtual)}: it leads outside the served root`,
        );
      }
      sandboxes.set(normal, sandbox);
      return sandbox;
    };
    const users = new Map<string, Entry>();
    for (const user of file.users) {
      const sandbox = await sandboxFor(user.root);
      const userRoot = root.normalize("/", user.root);
      users.set(user.name, {
        account: {
          name: user.name,
          sandbox,
          root: userRoot,
          permissions: new Set(user.permissions),
        },
        password: user.password,
        keys: (user.keys ?? []).map((line) => parseAuthorizedKey(line).blob),
      });
    }
    const anonymous: Account | undefined =
      users.size === 0
        ? { name: ANONYMOUS, sandbox: root, root: "/", permissions: new Set(PERMISSIONS) }
        : options.anonymous === undefined
          ? undefined
          : { name: ANONYMOUS, sandbox: root, root: "/", permissions: new Set(options.anonymous) };
    // Without accounts no name exists, so there is nothing to hide and nothing to hash: a
    // server without accounts never spends scrypt's memory.
    const dummy =
      users.size === 0
        ? undefined
        : await hashPassword(randomBytes(18).toString("base64"), commonParams(file));
    const gate = new HashGate({
      concurrency: options.maxConcurrentHashes ?? 2,
      queue: options.maxQueuedHashes ?? 64,
      waitMs: options.hashWaitMs ?? 10_000,
    });
    return new Accounts(users, anonymous, dummy, gate);
  }

  /** True when the users file has accounts. */
  get hasUsers(): boolean {
    return this.#users.size > 0;
  }

  /** True when a session must log in before anything but HELLO (PROTOCOL.md §3). */
  get required(): boolean {
    return this.#anonymous === undefined;
  }

  /** True when some account has a public key: HELLO then announces "publickey". */
  get hasKeys(): boolean {
    for (const entry of this.#users.values()) if (entry.keys.length > 0) return true;
    return false;
  }

  /** The LOGIN methods HELLO announces (PROTOCOL.md §8.1). */
  get methods(): string[] {
    const methods = this.hasUsers ? ["password"] : [];
    if (this.hasKeys) methods.push("publickey");
    if (this.#anonymous !== undefined) methods.push("anonymous");
    return methods;
  }

  /** The account of a session that has not logged in, or undefined when that is refused. */
  get anonymous(): Account | undefined {
    return this.#anonymous;
  }

  /**
   * The account `name` when `password` is its password, else undefined. When accounts exist,
   * every call derives one scrypt key through the gate, known name or not; it rejects with
   * `BFTP_ERR_BUSY` when the gate has no turn in time.
   */
  async verify(name: string, password: string): Promise<Account | undefined> {
    const entry = this.#users.get(name);
    const stored = entry?.password ?? this.#dummy;
    if (stored === undefined) return undefined; // no accounts at all
    const match = await this.#gate.run(() => verifyPassword(password, stored));
    return match && entry !== undefined ? entry.account : undefined;
  }

  /**
   * The account `name` when `publicKey` (an SSH public key blob) is one of its keys, else
   * undefined. The caller checks the signature that proves the key is held.
   */
  keyAccount(name: string, publicKey: Buffer): Account | undefined {
    const entry = this.#users.get(name);
    if (entry === undefined) return undefined;
    return holdsKey(entry.keys, publicKey) ? entry.account : undefined;
  }
}

/** The scrypt parameters most accounts use (ties: the costliest); the default without any. */
function commonParams(file: UsersFile): ScryptParams | undefined {
  const counts = new Map<string, { params: ScryptParams; count: number; cost: number }>();
  for (const { password } of file.users) {
    const key = `${password.logN}:${password.r}:${password.p}`;
    const seen = counts.get(key);
    const cost = 2 ** password.logN * password.r * password.p;
    counts.set(key, {
      params: { logN: password.logN, r: password.r, p: password.p },
      count: (seen?.count ?? 0) + 1,
      cost,
    });
  }
  let best: { params: ScryptParams; count: number; cost: number } | undefined;
  for (const candidate of counts.values()) {
    if (
      best === undefined ||
      candidate.count > best.count ||
      (candidate.count === best.count && candidate.cost > best.cost)
    )
      best = candidate;
  }
  return best?.params;
}
