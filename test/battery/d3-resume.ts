/**
 * D3 (issue 6): a transfer cut at a seeded random offset by a proxy, then resumed with the
 * client library (PROTOCOL.md §10), in both directions; passing: every final SHA-256 matches
 * the source. Then bad offsets (beyond the size, negative, not an integer) on GET and on a
 * resumed PUT must be refused with a coded error, the connection staying usable.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { BftpClient } from "../../src/client/client.js";
import { isBftpError } from "../../src/errors.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { waitUntil } from "../helpers/wait-until.js";
import type { BatterySize, Check, CheckResult } from "./check.js";
import { FaultProxy, batterySeed, prng } from "./fault-proxy.js";

const sha256 = (data: Uint8Array): string => createHash("sha256").update(data).digest("hex");
const LIMITS = { limits: { stallTimeoutMs: 5000 } };

/** The code a failed call carried, or "none" if it succeeded. */
async function codeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "none";
  } catch (err) {
    return isBftpError(err) ? err.code : "uncoded";
  }
}

/** One cut-then-resume transfer; returns the offset the resume started from, or a failure. */
async function resumeOnce(
  srv: TestServer,
  proxy: FaultProxy,
  direction: "up" | "down",
  i: number,
  random: () => number,
): Promise<{ offset: number } | { failure: string }> {
  const content = randomBytes(64 * 1024 + Math.floor(random() * 960 * 1024));
  const at = Math.floor(random() * content.length);
  const remote = `/d3-${direction}-${i}.bin`;
  const local = path.join(srv.outside, `d3-${direction}-${i}.bin`);
  const what = `${direction} ${i}: cut at ${at} of ${content.length}`;
  if (direction === "down") await fs.writeFile(path.join(srv.root, remote), content);
  else await fs.writeFile(local, content);
  proxy.next = { direction, kind: "cut", at, reset: random() < 0.5 };
  const cut = await BftpClient.connect({ host: "127.0.0.1", port: proxy.port }, LIMITS);
  const first = direction === "down" ? cut.download(remote, local) : cut.upload(local, remote, {});
  const code = await codeOf(first);
  await cut.close().catch(() => undefined);
  if (code === "none") return { failure: `${what}: the cut transfer succeeded` };
  // The server keeps an upload's partial once it has noticed the lost connection.
  await waitUntil(() => srv.server.connections === 0, "the server saw the cut", 5000);
  const client = await BftpClient.connect({ host: "127.0.0.1", port: srv.port }, LIMITS);
  try {
    const result =
      direction === "down"
        ? await client.download(remote, local, { resume: true })
        : await client.upload(local, remote, { resume: true });
    const final =
      direction === "down" ? sha256(await fs.readFile(local)) : await client.hash(remote);
    if (final !== sha256(content)) return { failure: `${what}: checksum differs after resume` };
    return { offset: result.offset };
  } catch (err) {
    return { failure: `${what}: resume failed (${isBftpError(err) ? err.code : String(err)})` };
  } finally {
    await client.close().catch(() => undefined);
    await fs.rm(local, { force: true });
  }
}

/** Bad offsets, each refused with a code while the connection stays usable. */
async function badOffsets(
  srv: TestServer,
): Promise<{ refused: number; total: number; codes: string[] }> {
  await fs.writeFile(path.join(srv.root, "d3-range.bin"), randomBytes(1000));
  // A kept partial of 3000 bytes for /d3-partial.bin (PUT resumable, then a lost connection).
  const maker = await ProtocolConnection.open(srv.port);
  await maker.send({ op: "PUT", path: "/d3-partial.bin", resumable: true });
  await maker.sendRaw(Buffer.concat([Buffer.from("00000bb8"), randomBytes(3000)]));
  await new Promise((r) => setTimeout(r, 100));
  maker.socket.resetAndDestroy();
  await waitUntil(() => srv.server.connections === 0, "the partial was kept", 5000);

  const conn = await ProtocolConnection.open(srv.port);
  const kept = await conn.request({ op: "RESUME", path: "/d3-partial.bin" });
  const k = typeof kept["offset"] === "number" ? kept["offset"] : 3000;
  const codes: string[] = [];
  let refused = 0;
  const cases: [string, object, boolean][] = [
    ["GET offset>size", { op: "GET", path: "/d3-range.bin", offset: 1001 }, false],
    ["GET offset<0", { op: "GET", path: "/d3-range.bin", offset: -1 }, false],
    ["GET offset 1.5", { op: "GET", path: "/d3-range.bin", offset: 1.5 }, false],
    ['GET offset "5"', { op: "GET", path: "/d3-range.bin", offset: "5" }, false],
    [
      "GET offset+length>size",
      { op: "GET", path: "/d3-range.bin", offset: 10, length: 991 },
      false,
    ],
    [
      "PUT offset>partial",
      { op: "PUT", path: "/d3-partial.bin", resumable: true, offset: k + 1 },
      true,
    ],
    [
      "PUT offset<partial",
      { op: "PUT", path: "/d3-partial.bin", resumable: true, offset: k - 1 },
      true,
    ],
    ["PUT offset<0", { op: "PUT", path: "/d3-partial.bin", resumable: true, offset: -1 }, true],
    ["PUT offset 1.5", { op: "PUT", path: "/d3-partial.bin", resumable: true, offset: 1.5 }, true],
    ['PUT offset "5"', { op: "PUT", path: "/d3-partial.bin", resumable: true, offset: "5" }, true],
    ["PUT offset, no resumable", { op: "PUT", path: "/d3-other.bin", offset: 10 }, true],
  ];
  try {
    if (!kept.ok) codes.push(`no partial kept: ${kept.error?.code ?? "?"}`);
    for (const [name, request, upload] of cases) {
      await conn.send(request);
      if (upload) await conn.sendData(Buffer.from("x"));
      const reply = await conn.reply(5000);
      const code = reply.error?.code;
      const alive = (await conn.request({ op: "NOOP" })).ok;
      if (!reply.ok && code !== undefined && alive) refused++;
      codes.push(`${name}: ${code ?? "accepted"}${alive ? "" : " (connection lost)"}`);
    }
  } finally {
    conn.close();
  }
  return { refused: kept.ok ? refused : 0, total: cases.length, codes };
}

async function run(size: BatterySize): Promise<CheckResult> {
  const runs = size === "full" ? 100 : 10;
  const seed = batterySeed();
  const random = prng(seed);
  const srv = await startServer();
  const proxy = await FaultProxy.start(srv.port);
  const failures: string[] = [];
  const matched = { up: 0, down: 0 };
  const resumed = { up: 0, down: 0 };
  let bad;
  try {
    for (let i = 0; i < runs; i++) {
      for (const direction of ["down", "up"] as const) {
        const outcome = await resumeOnce(srv, proxy, direction, i, random);
        if ("failure" in outcome) failures.push(outcome.failure);
        else {
          matched[direction]++;
          if (outcome.offset > 0) resumed[direction]++;
        }
      }
    }
    bad = await badOffsets(srv);
  } finally {
    await proxy.close();
    await srv.stop();
  }
  const refusedAll = bad.refused === bad.total;
  const figure =
    `seed ${seed}: download ${matched.down}/${runs}, upload ${matched.up}/${runs} checksums match ` +
    `(resumed from a kept offset: ${resumed.down} down, ${resumed.up} up); ` +
    `bad offsets ${bad.refused}/${bad.total} refused [${bad.codes.join("; ")}]` +
    (failures.length > 0 ? `; first failure: ${failures[0] ?? ""}` : "");
  return { pass: failures.length === 0 && refusedAll, figure };
}

/** D3: interrupt at a random offset, then resume; bad offsets refused. */
export const d3Resume: Check = {
  id: "D3",
  title: "interrupt then resume",
  run,
};
