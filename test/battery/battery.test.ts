import assert from "node:assert/strict";
import { test } from "node:test";
import { formatLine } from "./check.js";
import { CHECKS } from "./checks.js";

// The per-push subset: every check at its small size, inside the normal test command.
for (const check of CHECKS) {
  test(`${check.id}: ${check.title}`, async () => {
    const result = await check.run("push");
    process.stdout.write(`# ${formatLine(check, result)}\n`);
    assert.ok(result.pass, formatLine(check, result));
  });
}
