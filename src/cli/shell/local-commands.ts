import fs from "node:fs/promises";
import { escapeControls } from "../../client/safe-name.js";
import type { ShellCommandSpec } from "./command-spec.js";
import { expandHome, localError } from "./local-path.js";

/** `lcd [DIR]`: change the local folder (home without DIR). */
export const lcdSpec: ShellCommandSpec = {
  name: "lcd",
  usage: "lcd [DIR]",
  summary: "change the local folder (home without DIR)",
  operands: ["local"],
  minOperands: 0,
  run: (_ctx, { operands }) => {
    const dir = expandHome(operands[0] ?? "~");
    try {
      process.chdir(dir);
    } catch (err) {
      return Promise.reject(localError(err, `Cannot change to ${JSON.stringify(dir)}`));
    }
    return Promise.resolve(undefined);
  },
};

/** `lpwd`: the local folder. */
export const lpwdSpec: ShellCommandSpec = {
  name: "lpwd",
  usage: "lpwd",
  summary: "print the local folder",
  operands: [],
  minOperands: 0,
  run: (ctx) => {
    ctx.print(escapeControls(process.cwd()));
    return Promise.resolve(undefined);
  },
};

/** `lls [DIR]`: list a local folder. */
export const llsSpec: ShellCommandSpec = {
  name: "lls",
  usage: "lls [DIR]",
  summary: "list a local folder",
  details: "Folders end with /, links with @.",
  operands: ["local"],
  minOperands: 0,
  run: async (ctx, { operands }) => {
    const dir = expandHome(operands[0] ?? ".");
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw localError(err, `Cannot list ${JSON.stringify(dir)}`);
    }
    const names = entries
      .map((e) => `${e.name}${e.isDirectory() ? "/" : e.isSymbolicLink() ? "@" : ""}`)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) ctx.print(escapeControls(name));
    return undefined;
  },
};
