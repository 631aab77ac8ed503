import type { Check } from "./check.js";
import { P1_PATH_CORPUS } from "./p1-path-corpus.js";
import { P2_PLANTED_LINKS } from "./p2-planted-links.js";
import { P3_SWAP_RACE } from "./p3-swap-race.js";
import { P4_HOSTILE_LISTING } from "./p4-hostile-listing.js";

/** The battery's paths checks (see checks.ts): P1-P4 of issue 6. */
export const PATHS_CHECKS: readonly Check[] = [
  P1_PATH_CORPUS,
  P2_PLANTED_LINKS,
  P3_SWAP_RACE,
  P4_HOSTILE_LISTING,
];
