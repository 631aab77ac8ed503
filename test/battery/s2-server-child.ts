/**
 * The server side of S2 and S3, in its own process so that its memory is measured apart from
 * the thousands of client sockets the checks open. Started by s2-server-process.ts with
 * `--expose-gc`: it serves `argv[2]` with the limits in `argv[3]` (JSON), reports its port,
 * and answers each "rss" message with its resident set size after a forced GC, in MB.
 */
import { BftpServer } from "../../src/server/server.js";

const root = process.argv[2] ?? "";
const limits = JSON.parse(process.argv[3] ?? "{}") as Record<string, number>;
const server = await BftpServer.start({ root, port: 0, limits });
process.on("message", (message: unknown) => {
  if (message === "rss") {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    process.send?.({
      rss: m.rss / 1e6,
      heapUsed: m.heapUsed / 1e6,
      connections: server.connections,
    });
  } else if (message === "stop") {
    void server.close().then(() => process.exit(0));
  }
});
process.send?.({ port: server.address().port });
