import type { CommandContext } from "../command-context.js";

/**
 * A request whose file-system work was done before its turn (issue 5): the session starts
 * preparing pipelined GET and STAT requests while earlier ones are still being answered, so
 * their opens, checks and small reads overlap instead of queueing one round trip at a time.
 * Replies still leave strictly in request order (PROTOCOL.md §4.2): `run` is called in turn.
 */
export interface Prepared {
  /** Sends the reply (and the data phase), in the request's turn. */
  run(ctx: CommandContext): Promise<void>;
  /** Releases what preparation holds (an open file) when the request never gets its turn. */
  release(): Promise<void>;
}
