import { REQUESTS, SUMMARIES, type Op, type RequestOf } from "../../protocol/requests.js";
import type { Permission } from "../accounts/permissions.js";
import type { CommandContext } from "../command-context.js";
import type { Prepared } from "./prepared.js";

/**
 * When a command may run (PROTOCOL.md §3): `any` before HELLO too (HELLO, NOOP, HELP, QUIT);
 * `hello` after HELLO, before a login (LOGIN); `session` once logged in, or anonymous where
 * that is allowed (everything else).
 */
export type Gate = "any" | "hello" | "session";

/**
 * Everything the server knows about one BFTP command, in one place (issue 14, item 1): its
 * request schema, HELP's summary, when it may run, the permissions it needs, whether a data
 * phase follows the request, how it may be prepared ahead of its turn, and its handler. The
 * session reads all of it from {@link CommandDescriptor}s (commands/index.ts) and nothing else.
 *
 * The schema and the summary live in `src/protocol/requests.ts` because the client shares
 * them; a descriptor names them, it does not copy them.
 */
export interface CommandDescriptor<O extends Op> {
  readonly op: O;
  readonly schema: (typeof REQUESTS)[O];
  readonly summary: string;
  readonly gate: Gate;
  /** The permissions the request needs (PROTOCOL.md §8.2). */
  readonly permissions: (request: RequestOf<O>) => readonly Permission[];
  /**
   * Whether a data phase follows the request on the wire (PUT's bytes, GETTREE's have or
   * path list, PUTTREE's offer), read from the raw payload so that a request that fails its
   * schema is still kept in step; with the checksum that phase uses.
   */
  readonly phase?: (payload: Buffer, request: RequestOf<O> | undefined) => PhaseOf | undefined;
  /** Work that may start before the request's turn (read-only; GET and STAT). */
  readonly prepare?: (ctx: CommandContext, request: RequestOf<O>) => Promise<Prepared>;
  /** Runs a validated, admitted request and sends its reply. */
  readonly run: (ctx: CommandContext, request: RequestOf<O>) => Promise<void>;
}

/** The data phase that follows a request: its checksum algorithm. */
export interface PhaseOf {
  readonly alg: "crc32" | "sha256";
}

/** A descriptor, with its schema and summary filled in from the protocol's tables. */
export function defineCommand<O extends Op>(
  descriptor: Omit<CommandDescriptor<O>, "schema" | "summary">,
): CommandDescriptor<O> {
  return { ...descriptor, schema: REQUESTS[descriptor.op], summary: SUMMARIES[descriptor.op] };
}

/** The same permissions whatever the request. */
export function needs(...permissions: Permission[]): () => readonly Permission[] {
  return () => permissions;
}
