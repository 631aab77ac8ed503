import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ERROR_CODES } from "../../src/errors.js";

// The error table lives in docs/errors.md (the README links to it: issue 13, item 10).
const section = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");
const documented = [...section.matchAll(/^\|\s*`(BFTP_ERR_[A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]);

test("docs/errors.md's error table lists every code of the catalogue, once, and no other", () => {
  assert.deepEqual([...documented].sort(), Object.keys(ERROR_CODES).sort());
});

test("PROTOCOL.md §5.3 lists exactly the catalogue's wire codes, with the same status", () => {
  const spec = readFileSync(new URL("../../../PROTOCOL.md", import.meta.url), "utf8");
  const table = spec.slice(spec.indexOf("### 5.3"), spec.indexOf("## 6."));
  const rows = [...table.matchAll(/^\|\s*`(BFTP_ERR_[A-Z0-9_]+)`\s*\|\s*(\d+)\s*\|/gm)].map((m) => [
    m[1],
    Number(m[2]),
  ]);
  const wire = Object.entries(ERROR_CODES)
    .filter(([, info]) => "status" in info)
    .map(([code, info]) => [code, (info as { status: number }).status]);
  assert.deepEqual(rows.sort(), wire.sort());
});
