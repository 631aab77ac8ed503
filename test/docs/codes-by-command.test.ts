import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ERROR_CODES } from "../../src/errors.js";
import { REQUESTS } from "../../src/protocol/requests.js";

// PROTOCOL.md §5.4 tells a client writer which codes each command can answer (issue 11). It
// is derived from the server's code by reading it; this checks that it stays complete and
// names only codes that cross the wire. The codes themselves are checked against the server
// in test/server/*.test.ts (spec-integer-fields, spec-trailers, spec-links-and-root, ...).
const spec = readFileSync(new URL("../../../PROTOCOL.md", import.meta.url), "utf8");
const section = spec.slice(spec.indexOf("### 5.4"), spec.indexOf("## 6."));
const rows = [...section.matchAll(/^\| (.+?) +\| (.+?) +\|$/gm)]
  .map((m) => ({ when: m[1] ?? "", codes: m[2] ?? "" }))
  .filter((r) => !/^-+$/.test(r.when) && r.when !== "when" && r.when !== "command");

test("PROTOCOL.md §5.4 has a row for every command", () => {
  const named = new Set(rows.flatMap((r) => [...r.when.matchAll(/`([A-Z]+)`/g)].map((m) => m[1])));
  for (const op of Object.keys(REQUESTS)) assert.ok(named.has(op), `no row names ${op}`);
});

test("PROTOCOL.md §5.4 names only codes that cross the wire", () => {
  const wire = new Set(
    Object.entries(ERROR_CODES)
      .filter(([, info]) => "status" in info)
      .map(([code]) => code),
  );
  const named = rows.flatMap((r) =>
    [...r.codes.matchAll(/`(BFTP_ERR_[A-Z0-9_]+)`/g)].map((m) => m[1]),
  );
  assert.ok(named.length > 20, `found ${named.length} codes`);
  for (const code of named) assert.ok(wire.has(code ?? ""), `${code} is not a wire code`);
});
