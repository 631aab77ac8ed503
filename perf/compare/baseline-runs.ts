/**
 * The straight-line baseline column of `npm run bench:compare` (issue 12, item 6): the same
 * files as the servers move, moved by perf/baseline with nothing else. The baseline's server
 * runs as its own process (as every server here does); its client side runs in this process
 * under the same clock as the FTP and bftp clients, so no node start-up is in the figures.
 * GET and the tree GET write to disk in the scratch folder, as the baseline does.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fetchFile, sendFile } from "../baseline/file-baseline.js";
import { fetchTree, sendTree } from "../baseline/tree-baseline.js";
import { startListener, stopListener } from "../cli/processes.js";
import type { Outcome } from "./results.js";
import { REPO_ROOT } from "./servers.js";
import { fixtureFiles, mbps, measured, type Rate, type WorkloadContext } from "./workloads.js";

const FILE_BASELINE = path.join(REPO_ROOT, "dist", "perf", "baseline", "file-baseline.js");
const TREE_BASELINE = path.join(REPO_ROOT, "dist", "perf", "baseline", "tree-baseline.js");

/** The baseline's figures, per workload that ran. */
export interface BaselineResults {
  readonly get?: Outcome<Rate>;
  readonly put?: Outcome<Rate>;
  readonly "tree-get"?: Outcome<Rate>;
  readonly "tree-put"?: Outcome<Rate>;
}

export type BaselineWorkload = keyof BaselineResults;

/** Starts the baseline's server with `args`, runs `body` with its port, stops it. */
async function withServer<T>(
  args: readonly string[],
  body: (port: number) => Promise<T>,
): Promise<T> {
  const listener = await startListener(args);
  try {
    return await body(listener.port);
  } finally {
    await stopListener(listener);
  }
}

/** One baseline workload, measured like the servers' (one warm-up, then `runs`). */
export function baselineRate(workload: BaselineWorkload, ctx: WorkloadContext): Promise<Rate> {
  const { big, tree } = fixtureFiles(ctx.config);
  const bigFile = path.join(ctx.root, big.path);
  const treeDir = path.join(ctx.root, "tree");
  const label = `baseline ${workload}`;
  switch (workload) {
    case "get":
      return withServer([FILE_BASELINE, "serve", bigFile], (port) =>
        measured(ctx, label, async () => {
          const local = path.join(ctx.work, "baseline-get.bin");
          const start = performance.now();
          const { bytes } = await fetchFile(port, local);
          const rate = mbps(bytes, performance.now() - start);
          await fs.rm(local);
          if (bytes !== big.size) throw new Error(`baseline GET: ${bytes} of ${big.size} bytes`);
          return rate;
        }),
      );
    case "put":
      return withServer([FILE_BASELINE, "sink"], (port) =>
        measured(ctx, label, async () => {
          const local = path.join(ctx.work, "baseline-put.bin");
          const start = performance.now();
          const reply = await sendFile(port, bigFile, local);
          const rate = mbps(big.size, performance.now() - start);
          await fs.rm(local, { force: true });
          if (Number(reply.split(" ")[0]) !== big.size)
            throw new Error(`baseline PUT: the sink said "${reply}"`);
          return rate;
        }),
      );
    case "tree-get":
      return withServer([TREE_BASELINE, "serve", treeDir], (port) =>
        measured(ctx, label, async () => {
          const local = path.join(ctx.work, "baseline-tree-get");
          const start = performance.now();
          const files = await fetchTree(port, local);
          const rate = files / ((performance.now() - start) / 1000);
          await fs.rm(local, { recursive: true, force: true });
          if (files !== tree.length) throw new Error(`baseline tree GET: ${files} files`);
          return rate;
        }),
      );
    case "tree-put": {
      const local = path.join(ctx.work, "baseline-tree-put");
      return withServer([TREE_BASELINE, "sink", local], (port) =>
        measured(ctx, label, async () => {
          const start = performance.now();
          const reply = await sendTree(port, treeDir);
          const rate = tree.length / ((performance.now() - start) / 1000);
          await fs.rm(local, { recursive: true, force: true });
          if (reply !== `files ${tree.length}`)
            throw new Error(`baseline tree PUT: the sink said "${reply}"`);
          return rate;
        }),
      );
    }
  }
}
