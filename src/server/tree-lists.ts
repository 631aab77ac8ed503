import { BftpError } from "../errors.js";
import type { DataPhaseReader } from "../protocol/data-phase-reader.js";
import type { Shape } from "../protocol/shape.js";
import { haveFrame, listFrame, type HaveEntry, type ListEntry } from "../protocol/tree-records.js";

/** Most have-list entries one request may carry (§8.13). */
const MAX_HAVE = 1_000_000;
/** Most paths one list may name (§8.13). */
const MAX_LIST = 100_000;

/**
 * Whether a GETTREE request says a have list or a path list follows it, read from the raw
 * frame so that a request refused for another field still has its list read and dropped.
 */
export function sendsPhase(payload: Buffer): boolean {
  try {
    const value = JSON.parse(payload.toString("utf8")) as unknown;
    if (typeof value !== "object" || value === null) return false;
    const { have, list } = value as { have?: unknown; list?: unknown };
    return have === true || list === true;
  } catch {
    return false;
  }
}

/**
 * The have list (§8.13), or PUTTREE's offer (§8.14, the same format and limits): every frame
 * a JSON array of entries, bounded, read to its trailer; a path named twice keeps its last entry.
 */
export async function readHave(
  phase: DataPhaseReader | undefined,
  what = "have list",
): Promise<Map<string, HaveEntry>> {
  const have = new Map<string, HaveEntry>();
  await readArrays(phase, haveFrame, MAX_HAVE, what, (entries) => {
    for (const entry of entries) have.set(entry.path, entry);
    return have.size;
  });
  return have;
}

/** The path list (§8.13): every frame a JSON array of entries, bounded, read to its trailer. */
export async function readList(phase: DataPhaseReader | undefined): Promise<ListEntry[]> {
  const list: ListEntry[] = [];
  await readArrays(phase, listFrame, MAX_LIST, "path list", (entries) => {
    list.push(...entries);
    return list.length;
  });
  return list;
}

/** The refusal of a malformed list. */
export function badList(why: string, what = "path list"): BftpError {
  return new BftpError("BFTP_ERR_BAD_REQUEST", `Cannot read the ${what}: ${why}`);
}

/**
 * Reads a data phase of JSON arrays to its trailer, each frame checked with `schema` and
 * given to `add` (which returns how many entries are kept so far) while fewer than `max`.
 * The first refusal is thrown once the phase is read whole, so the connection stays in step.
 */
async function readArrays<T>(
  phase: DataPhaseReader | undefined,
  shape: Shape<T[]>,
  max: number,
  what: string,
  add: (entries: T[]) => number,
): Promise<void> {
  if (phase === undefined) return;
  let kept = 0;
  let refusal: BftpError | undefined;
  for await (const frame of phase.frames()) {
    if (refusal !== undefined) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(frame.toString("utf8"));
    } catch {
      refusal = badList("a frame is not JSON", what);
      continue;
    }
    if (!shape(parsed)) refusal = badList("an entry is malformed", what);
    else if (kept + parsed.length > max) refusal = badList(`more than ${max} entries`, what);
    else kept = add(parsed);
  }
  if (phase.result.failure !== undefined) throw phase.result.failure;
  if (refusal !== undefined) throw refusal;
}
