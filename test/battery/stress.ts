/**
 * `npm run stress`: every check of the battery at full size, one line each; exits 1 if any
 * failed. Checks register in checks.ts.
 */
import { CHECKS } from "./checks.js";
import { formatLine } from "./check.js";

const only = new Set(process.argv.slice(2));
let failed = 0;
const started = Date.now();
for (const check of CHECKS) {
  if (only.size > 0 && !only.has(check.id)) continue;
  let line: string;
  try {
    const result = await check.run("full");
    if (!result.pass) failed++;
    line = formatLine(check, result);
  } catch (err) {
    failed++;
    line = formatLine(check, {
      pass: false,
      figure: `threw ${err instanceof Error ? err.message : String(err)}`,
    });
  }
  process.stdout.write(`${line}\n`);
}
process.stdout.write(
  `battery: ${failed === 0 ? "all passed" : `${failed} failed`} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
);
process.exitCode = failed === 0 ? 0 : 1;
