import type { Op } from "../../protocol/requests.js";
import { ABORT } from "./abort.js";
import { CD } from "./cd.js";
import type { CommandDescriptor } from "./command.js";
import { DELETE } from "./delete.js";
import { GET } from "./get.js";
import { GETTREE } from "./gettree.js";
import { HASH } from "./hash.js";
import { HELLO } from "./hello.js";
import { HELP } from "./help.js";
import { LIST } from "./list.js";
import { LOGIN } from "./login.js";
import { MKDIR } from "./mkdir.js";
import { NOOP } from "./noop.js";
import { PUT } from "./put.js";
import { PUTTREE } from "./puttree.js";
import { PWD } from "./pwd.js";
import { QUIT } from "./quit.js";
import { RENAME } from "./rename.js";
import { RESUME } from "./resume.js";
import { RMDIR } from "./rmdir.js";
import { STAT } from "./stat.js";

/**
 * Every command of PROTOCOL.md §8, by op: the one table the session reads (gates,
 * permissions, data phases, preparation, handlers). The type makes a missing one a compile
 * error, and each entry's op must be its key.
 */
export const COMMANDS: { readonly [O in Op]: CommandDescriptor<O> } = {
  HELLO,
  LOGIN,
  NOOP,
  HELP,
  QUIT,
  PWD,
  CD,
  STAT,
  LIST,
  GET,
  PUT,
  DELETE,
  MKDIR,
  RMDIR,
  RENAME,
  HASH,
  RESUME,
  ABORT,
  GETTREE,
  PUTTREE,
};

/** The descriptor of `op`, typed for any request. */
export function descriptorOf(op: Op): CommandDescriptor<Op> {
  return COMMANDS[op];
}

/** True when `op` names a command of this server. */
export function isOp(op: string | undefined): op is Op {
  return op !== undefined && Object.hasOwn(COMMANDS, op);
}
