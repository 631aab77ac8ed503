/**
 * `bftp serve` keeps V8's young generation at its start size (issue 12, item 5: server memory
 * under load). A hundred transfers allocate fast enough that V8 doubles the young generation
 * up to 32 MB, a fifth of the server's peak RSS, for no gain in speed (docs/performance.md,
 * "Memory under 100 clients"). `--max-semi-space-size` would cap it, but V8 reads that only
 * when the process starts, which would mean a second process (a launcher that re-executes
 * `node` with the flag), whose own RSS would cost more than the flag saves. The growth
 * factor, by contrast, is read each time V8 grows the young generation: setting it to 1 from
 * inside the running process stops the growth, with no second process and no change to the
 * client commands' start-up.
 */
import v8 from "node:v8";

/** The V8 flags by which a user chooses the young generation's size; given, bftp leaves it be. */
const USER_FLAGS = [
  "--max-semi-space-size",
  "--min-semi-space-size",
  "--semi-space-growth-factor",
] as const;

/** Where the user's Node flags come from: `process.execArgv` and `NODE_OPTIONS`. */
export interface NodeFlagSources {
  readonly execArgv: readonly string[];
  readonly nodeOptions: string | undefined;
}

/**
 * Whether the user chose the young generation's size themselves, with one of V8's flags on the
 * `node` command line or in `NODE_OPTIONS` (V8 accepts `_` for `-` in flag names).
 *
 * @example
 * userSizedYoungGeneration({ execArgv: ["--max-semi-space-size=16"], nodeOptions: undefined }); // true
 */
export function userSizedYoungGeneration(sources: NodeFlagSources): boolean {
  return nodeFlagNames(sources).some((name) => USER_FLAGS.some((known) => name === known));
}

/**
 * The names of the flags the user gave `node`, on its command line and in `NODE_OPTIONS`,
 * without values and with `_` spelled `-` (V8 accepts either).
 *
 * @example
 * nodeFlagNames({ execArgv: ["--max_semi_space_size=16"], nodeOptions: "--expose-gc" });
 * // ["--max-semi-space-size", "--expose-gc"]
 */
export function nodeFlagNames(sources: NodeFlagSources): string[] {
  return [...sources.execArgv, ...(sources.nodeOptions ?? "").split(/\s+/)]
    .filter((flag) => flag.startsWith("--"))
    .map((flag) => (flag.split("=", 1)[0] ?? "").replaceAll("_", "-"));
}

/**
 * Stops V8 from growing the young generation past its start size, unless the user sized it
 * (then their choice stands). Returns whether it did. Call once, early in `bftp serve`; it
 * applies to the whole process, its worker threads included.
 *
 * @example
 * keepYoungGenerationSmall({ execArgv: process.execArgv, nodeOptions: process.env["NODE_OPTIONS"] });
 */
export function keepYoungGenerationSmall(sources: NodeFlagSources): boolean {
  if (userSizedYoungGeneration(sources)) return false;
  v8.setFlagsFromString("--semi-space-growth-factor=1");
  return true;
}
