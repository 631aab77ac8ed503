import { readFileSync } from "node:fs";

/**
 * bftp's version, from its package.json. Read relative to this module, which sits two folders
 * below the package in both builds: `dist/src/package-version.js` (tsc) and the chunk it lands
 * in under `dist/bundle/` (the bundle `bin` runs, scripts/bundle.ts), so one path serves both.
 */
export const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;
