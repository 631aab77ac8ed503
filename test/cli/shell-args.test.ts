import assert from "node:assert/strict";
import { test } from "node:test";
import { parseArgs } from "../../src/cli/shell/command-spec.js";
import { findCommand, SHELL_COMMANDS } from "../../src/cli/shell/command-table.js";
import { throwsWithCode } from "../helpers/assert-code.js";

function spec(name: string): NonNullable<ReturnType<typeof findCommand>> {
  const found = findCommand(SHELL_COMMANDS, name);
  assert.ok(found, name);
  return found;
}

test("short flags group, long flags spell out, operands keep their order", () => {
  const got = parseArgs(spec("get"), ["-rc", "docs", "--overwrite", "out"]);
  assert.deepEqual([...got.flags].sort(), ["overwrite", "recursive", "resume"]);
  assert.deepEqual(got.operands, ["docs", "out"]);
  assert.deepEqual([...parseArgs(spec("put"), ["--recursive", "--continue", "a"]).flags].sort(), [
    "recursive",
    "resume",
  ]);
  assert.deepEqual([...parseArgs(spec("mkdir"), ["-p", "a/b"]).flags], ["parents"]);
});

test("-- ends the flags and a lone - is an operand", () => {
  assert.deepEqual(parseArgs(spec("rm"), ["--", "-x"]).operands, ["-x"]);
  assert.deepEqual(parseArgs(spec("rm"), ["-"]).operands, ["-"]);
  assert.deepEqual(parseArgs(spec("mv"), ["--", "-a", "--b"]).operands, ["-a", "--b"]);
});

test("an unknown flag, or too few or too many operands, is a usage error", () => {
  throwsWithCode(() => parseArgs(spec("get"), ["-x", "a"]), "BFTP_ERR_INVALID_ARGUMENT");
  throwsWithCode(() => parseArgs(spec("get"), ["-rx", "a"]), "BFTP_ERR_INVALID_ARGUMENT");
  throwsWithCode(() => parseArgs(spec("get"), ["--force", "a"]), "BFTP_ERR_INVALID_ARGUMENT");
  throwsWithCode(() => parseArgs(spec("get"), []), "BFTP_ERR_INVALID_ARGUMENT");
  throwsWithCode(() => parseArgs(spec("mv"), ["a", "b", "c"]), "BFTP_ERR_INVALID_ARGUMENT");
  // Several sources are one get (issue 13, item 3), as on the command line.
  assert.deepEqual(parseArgs(spec("get"), ["a", "b", "c"]).operands, ["a", "b", "c"]);
  throwsWithCode(() => parseArgs(spec("pwd"), ["x"]), "BFTP_ERR_INVALID_ARGUMENT");
  throwsWithCode(() => parseArgs(spec("mv"), ["a"]), "BFTP_ERR_INVALID_ARGUMENT");
  throwsWithCode(() => parseArgs(spec("rm"), ["-x", "a"]), "BFTP_ERR_INVALID_ARGUMENT");
  // rm -r is recursive removal now (issue 13, item 7)
  assert.deepEqual([...parseArgs(spec("rm"), ["-r", "a"]).flags], ["recursive"]);
});

test("every command has a usage, a one-line summary, and unique names", () => {
  const names = SHELL_COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])]);
  assert.equal(new Set(names).size, names.length);
  for (const c of SHELL_COMMANDS) {
    assert.ok(c.usage.startsWith(c.name), c.name);
    assert.ok(!c.summary.includes("\n") && c.summary.length < 80, c.name);
    assert.ok(c.minOperands <= c.operands.length || c.passThrough === true, c.name);
  }
  for (const required of ["get", "put", "ls", "pwd", "cd", "rm", "mkdir", "rmdir", "mv", "stat"]) {
    assert.ok(findCommand(SHELL_COMMANDS, required), required);
  }
  for (const required of ["hash", "lcd", "lls", "lpwd", "help", "quit", "exit"]) {
    assert.ok(findCommand(SHELL_COMMANDS, required), required);
  }
});
