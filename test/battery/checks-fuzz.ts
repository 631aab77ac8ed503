import type { Check } from "./check.js";
import { F1 } from "./f1-decoder-fuzz.js";
import { F2 } from "./f2-live-fuzz.js";
import { S2 } from "./s2-huge-headers.js";
import { S3 } from "./s3-command-flood.js";

/** The battery's fuzz checks (see checks.ts), and the hostile-input S checks S2 and S3. */
export const FUZZ_CHECKS: readonly Check[] = [F1, F2, S2, S3];
