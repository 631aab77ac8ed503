import type { Check } from "./check.js";
import { L1 } from "./l1-concurrent-clients.js";
import { L2 } from "./l2-soak.js";
import { L3 } from "./l3-slow-reader.js";
import { S1 } from "./s1-slowloris.js";
import { S4 } from "./s4-connection-caps.js";
import { S5 } from "./s5-reset-storm.js";
import { S6 } from "./s6-idle-stall-timeouts.js";
import { S7 } from "./s7-big-directory.js";

/** The battery's load and resource checks (see checks.ts). */
export const LOAD_CHECKS: readonly Check[] = [L1, L2, L3, S1, S4, S5, S6, S7];
