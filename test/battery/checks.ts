import type { Check } from "./check.js";
import { FAULTS_CHECKS } from "./checks-faults.js";
import { FUZZ_CHECKS } from "./checks-fuzz.js";
import { LOAD_CHECKS } from "./checks-load.js";
import { PATHS_CHECKS } from "./checks-paths.js";

/** Every check of the battery, in the order (F, P, D, L, S). */
export const CHECKS: readonly Check[] = [
  ...FUZZ_CHECKS,
  ...PATHS_CHECKS,
  ...FAULTS_CHECKS,
  ...LOAD_CHECKS,
].sort(
  (a, b) =>
    "FPDLS".indexOf(a.id[0] ?? "") - "FPDLS".indexOf(b.id[0] ?? "") || a.id.localeCompare(b.id),
);
