/** Entry of the memory sampler process: `node sampler-main.js ROOT_PID INTERVAL_MS`. */
import { runSamplerRole } from "./memory-sampler.js";

const [root, interval] = process.argv.slice(2).map(Number);
if (!Number.isSafeInteger(root) || !Number.isSafeInteger(interval))
  throw new Error("Usage: sampler-main.js ROOT_PID INTERVAL_MS");
runSamplerRole(root ?? 0, interval ?? 50);
