import type { Op, RequestOf } from "../../protocol/requests.js";
import type { CommandContext } from "../command-context.js";
import { abort } from "./abort.js";
import { cd } from "./cd.js";
import { deleteFile } from "./delete.js";
import { get, prepareGet } from "./get.js";
import { getTree } from "./gettree.js";
import { putTree } from "./puttree.js";
import { hash } from "./hash.js";
import { hello } from "./hello.js";
import { help } from "./help.js";
import { list } from "./list.js";
import { login } from "./login.js";
import { mkdir } from "./mkdir.js";
import { noop } from "./noop.js";
import { put } from "./put.js";
import type { Prepared } from "./prepared.js";
import { pwd } from "./pwd.js";
import { quit } from "./quit.js";
import { rename } from "./rename.js";
import { resume } from "./resume.js";
import { rmdir } from "./rmdir.js";
import { prepareStat, stat } from "./stat.js";

/** A command handler: runs a validated request and sends its reply. */
export type Command<O extends Op> = (ctx: CommandContext, req: RequestOf<O>) => Promise<void>;

/** Every command of PROTOCOL.md §8, by op; the type makes a missing one a compile error. */
export const COMMANDS: { readonly [O in Op]: Command<O> } = {
  HELLO: hello,
  LOGIN: login,
  NOOP: noop,
  HELP: help,
  QUIT: quit,
  PWD: pwd,
  CD: cd,
  STAT: stat,
  LIST: list,
  GET: get,
  PUT: put,
  DELETE: deleteFile,
  MKDIR: mkdir,
  RMDIR: rmdir,
  RENAME: rename,
  HASH: hash,
  RESUME: resume,
  ABORT: abort,
  GETTREE: getTree,
  PUTTREE: putTree,
};

/**
 * Commands whose work may start before their turn (issue 5): read-only, touching no session
 * state, so preparing them early changes nothing a client can tell apart, except speed.
 */
export const PREPARERS: {
  readonly [O in Op]?: (ctx: CommandContext, req: RequestOf<O>) => Promise<Prepared>;
} = {
  GET: prepareGet,
  STAT: prepareStat,
};
