/**
 * S6 (issue 6): idle and stall timeouts of 1 s. Connections that send nothing (before and after
 * HELLO) are closed within the timeout + 0.5 s, and so are uploads that stop mid-frame; a
 * download read slowly but steadily, lasting several idle timeouts, is not cut by the idle
 * timer nor by the stall timer (PROTOCOL.md §11).
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { BftpClient } from "../../src/client/client.js";
import { HEX_SIZE_HEADER, encodeFrame } from "../../src/wire/index.js";
import { startServer } from "../helpers/bftp-server.js";
import type { BatterySize, Check, CheckResult } from "./check.js";
import { closedAfter, connectRaw, within } from "./load-helpers.js";
import { ThrottledSink } from "./throttled-sink.js";

const TIMEOUT_MS = 1000;
const SLACK_MS = 500;
const RATE = 8 * 1024 * 1024; // bytes per second of the slow reader

/** Opens `count` connections (half say HELLO) and resolves with each one's ms until closed. */
async function idleCloseTimes(port: number, count: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const socket = await connectRaw(port);
      try {
        if (i % 2 === 1) socket.write(encodeFrame(JSON.stringify({ op: "HELLO", versions: [1] })));
        socket.resume(); // replies are dropped: only the close matters here
        // The HELLO reply is immediate, so the idle wait starts at the connect either way.
        return await within(closedAfter(socket, Date.now()), 10_000, "an idle connection closing");
      } finally {
        socket.destroy();
      }
    }),
  );
}

/** Opens `count` uploads that stop mid-frame; resolves with each one's ms from its last byte. */
async function stallCloseTimes(port: number, count: number): Promise<number[]> {
  const hello = encodeFrame(JSON.stringify({ op: "HELLO", versions: [1] }));
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const socket = await connectRaw(port);
      try {
        socket.resume();
        const put = encodeFrame(JSON.stringify({ op: "PUT", path: `/stalled-${i}.bin` }));
        const partial = Buffer.concat([HEX_SIZE_HEADER.encode(1000), Buffer.alloc(400)]);
        await new Promise<void>((resolve) =>
          socket.write(Buffer.concat([hello, put, partial]), () => {
            resolve();
          }),
        );
        return await within(closedAfter(socket, Date.now()), 10_000, "a stalled upload closing");
      } finally {
        socket.destroy();
      }
    }),
  );
}

async function run(size: BatterySize): Promise<CheckResult> {
  const idleCount = size === "full" ? 50 : 5;
  const fileBytes = (size === "full" ? 32 : 24) * 1024 * 1024;
  const srv = await startServer({
    idleTimeoutMs: TIMEOUT_MS,
    stallTimeoutMs: TIMEOUT_MS,
    maxConnections: 256,
    maxPerIp: 256,
  });
  try {
    const content = randomBytes(fileBytes);
    const expected = createHash("sha256").update(content).digest("hex");
    await fs.writeFile(path.join(srv.root, "slow.bin"), content);

    const [times, stalls, transfer] = await Promise.all([
      idleCloseTimes(srv.port, idleCount),
      stallCloseTimes(srv.port, idleCount),
      (async () => {
        const client = await BftpClient.connect({ host: "127.0.0.1", port: srv.port });
        const sink = new ThrottledSink({ bytesPerSecond: RATE });
        const started = Date.now();
        try {
          await client.download("/slow.bin", sink);
          return { ms: Date.now() - started, ok: sink.digest() === expected, error: "" };
        } catch (err) {
          return { ms: Date.now() - started, ok: false, error: String(err) };
        } finally {
          await client.close().catch(() => {});
        }
      })(),
    ]);
    const earliest = Math.min(...times);
    const latest = Math.max(...times);
    const stallLatest = Math.max(...stalls);
    const idleOk =
      earliest >= TIMEOUT_MS - 50 &&
      latest <= TIMEOUT_MS + SLACK_MS &&
      Math.min(...stalls) >= TIMEOUT_MS - 50 &&
      stallLatest <= TIMEOUT_MS + SLACK_MS;
    // The transfer must outlast the idle timeout several times over to prove anything.
    const transferOk = transfer.ok && transfer.ms >= 2 * TIMEOUT_MS;
    return {
      pass: idleOk && transferOk,
      figure:
        `${idleCount} idle connections closed after ${earliest}–${latest} ms ` +
        `(limit ${TIMEOUT_MS + SLACK_MS}), ${idleCount} stalled uploads after ` +
        `${Math.min(...stalls)}–${stallLatest} ms; a ${fileBytes / 1048576} MiB download read at ` +
        `${RATE / 1048576} MiB/s ran ${transfer.ms} ms, ` +
        (transfer.ok ? "not cut, checksum matches" : `FAILED ${transfer.error}`),
    };
  } finally {
    await srv.stop();
  }
}

/** S6: idle and stall timeouts of 1 s. */
export const S6: Check = { id: "S6", title: "idle and stall timeouts", run };
