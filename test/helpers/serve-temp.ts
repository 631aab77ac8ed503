import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { spawnServe, type ServeProcess } from "./spawn-serve.js";

/** A `bftp serve` child serving a fresh temporary folder, for a CLI test file. */
export interface ServedFolder {
  /** Real path of the temporary folder (the served folder is inside it). */
  readonly base: string;
  /** Real path of the served folder. */
  readonly served: string;
  readonly serve: ServeProcess;
  /** `bftp://127.0.0.1:PORT` */
  readonly url: string;
  /** Stops the server (by its PID) and removes the folder. */
  readonly stop: () => Promise<void>;
}

/** Makes `TMP/PREFIX-xxx/served` and serves it with `bftp serve --port 0 ...args`. */
export async function serveTempFolder(
  prefix: string,
  args: readonly string[] = [],
): Promise<ServedFolder> {
  const base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), `${prefix}-`)));
  const served = path.join(base, "served");
  await fs.mkdir(served);
  const serve = await spawnServe(served, args);
  return {
    base,
    served,
    serve,
    url: `bftp://127.0.0.1:${serve.port}`,
    stop: async () => {
      await serve.stop();
      await fs.rm(base, { recursive: true, force: true });
    },
  };
}
