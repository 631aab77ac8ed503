import type { Check } from "./check.js";
import { d1KilledUploads } from "./d1-killed-uploads.js";
import { d2ServerKilled } from "./d2-server-killed.js";
import { d3Resume } from "./d3-resume.js";
import { d4Corruption } from "./d4-corruption.js";

/** The battery's faults checks (see checks.ts). */
export const FAULTS_CHECKS: readonly Check[] = [
  d1KilledUploads,
  d2ServerKilled,
  d3Resume,
  d4Corruption,
];
