import v8 from "node:v8";
import vm from "node:vm";

/** Bytes streamed between two young-generation collections. */
const EVERY = 2 * 1024 * 1024;
/** Young collections between two full ones. */
const MINORS_PER_MAJOR = 32;

type Collect = (options: { type: "minor" | "major" }) => void;

let collect: Collect | undefined;
let since = 0;
let minors = 0;

/**
 * Counts bytes streamed between the object store and a client, and collects V8's young
 * generation after every 2 MiB (issue 15: server RSS under 100 MB while streaming a large
 * object). Each socket read, from the store's HTTP answers or from a client's upload, is a
 * fresh 64 KiB buffer outside V8's heap, freed only when V8 next collects the young
 * generation, which it does after about 1 MiB of JavaScript objects: at 450 MB/s that let 25
 * to 35 MB of spent buffers wait (a 2 GiB GET peaked at 108 MB; collected every 2 MiB, at 82
 * MB, as fast). A young collection here takes a fraction of a millisecond, so this costs a
 * few per cent of a core at full speed. Under load a buffer still queued at a young
 * collection survives it and moves to the old generation, which only a full collection frees
 * (a loaded machine saw 114 MB): so every 64 MiB the collection is a full one, about 3 ms on
 * this small heap, well under 1 % at 100 MB/s. The disk paths need none of it: they read into
 * reused buffers (transfer-arena.ts) and hand file bytes to the socket without copies.
 */
export function streamed(bytes: number): void {
  since += bytes;
  if (since < EVERY) return;
  since = 0;
  if (collect === undefined) {
    // The function V8 installs in contexts made after --expose-gc; the running one is unchanged.
    v8.setFlagsFromString("--expose-gc");
    collect = vm.runInNewContext("gc") as Collect;
  }
  minors++;
  collect({ type: minors % MINORS_PER_MAJOR === 0 ? "major" : "minor" });
}
