// echo-server --mode processes: worker processes share one port, serve clients in
// parallel, and the primary stops them all cleanly on SIGINT or SIGTERM.
import assert from "node:assert/strict";
import { test } from "node:test";
import { startExampleServer, type ExampleServer } from "../helpers/examples-spawn.js";
import {
  connectClient,
  nextReadFailure,
  receive,
  send,
  type TestClient,
} from "../helpers/examples-socket.js";

const TEST_TIMEOUT = 90_000;
const LISTENING = /^worker (\d+) listening \(\d+ of (\d+)\)$/;

/** Starts the server and waits until every worker has joined the shared port. */
async function startCluster(
  t: { after: (fn: () => Promise<unknown>) => void },
  workers: number,
): Promise<{ server: ExampleServer; workerPids: number[] }> {
  const server = await startExampleServer("echo-server", [
    "--port",
    "0",
    "--mode",
    "processes",
    "--workers",
    String(workers),
  ]);
  t.after(() => server.stop());
  const lines = await server.waitForStderr(LISTENING, workers);
  return { server, workerPids: lines.map((match) => Number(match[1])) };
}

/** The PID of the worker that logged serving the client on `localPort`. */
async function servedBy(server: ExampleServer, localPort: number): Promise<number> {
  const pattern = new RegExp(
    `^worker (\\d+) serving connection from 127\\.0\\.0\\.1:${localPort}$`,
  );
  const [match] = await server.waitForStderr(pattern);
  return Number(match?.[1]);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: a probe, nothing is sent
    return true;
  } catch {
    return false;
  }
}

test("every worker listens on the one announced port", { timeout: TEST_TIMEOUT }, async (t) => {
  const { server, workerPids } = await startCluster(t, 3);
  assert.equal(new Set(workerPids).size, 3);
  assert.ok(!workerPids.includes(server.pid), "workers are processes of their own");
  assert.ok(server.port > 0);
});

test(
  "two worker processes serve two clients at the same time",
  { timeout: TEST_TIMEOUT },
  async (t) => {
    const { server, workerPids } = await startCluster(t, 2);
    const clients: TestClient[] = [];
    t.after(() => {
      for (const client of clients) client.socket.destroy();
      return Promise.resolve();
    });
    const servers = new Set<number>();
    // Round-robin hands consecutive connections to different workers; a few extra tries
    // keep the test independent of that policy. Every client stays open meanwhile.
    for (let i = 0; i < 8 && servers.size < 2; i++) {
      const client = await connectClient(server.port);
      clients.push(client);
      await send(client.socket, `client ${i}`);
      assert.equal((await receive(client, `client ${i}`.length)).toString(), `client ${i}`);
      servers.add(await servedBy(server, client.socket.localPort ?? 0));
    }
    assert.equal(servers.size, 2, "two different worker PIDs served");
    for (const pid of servers) assert.ok(workerPids.includes(pid));
    // Both are still open and still served.
    for (const client of clients) {
      await send(client.socket, "again");
      assert.equal((await receive(client, 5)).toString(), "again");
    }
    for (const client of clients) {
      client.socket.end();
      assert.equal(await nextReadFailure(client), "BFTP_ERR_PEER_CLOSED");
    }
  },
);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  test(
    `the primary forwards ${signal} and exits 0 once the workers are gone`,
    { timeout: TEST_TIMEOUT },
    async (t) => {
      const { server, workerPids } = await startCluster(t, 2);
      const client = await connectClient(server.port);
      t.after(() => Promise.resolve(client.socket.destroy()));
      await send(client.socket, "hi");
      await receive(client, 2);

      const status = await server.stop(signal);
      assert.deepEqual(status, { code: 0, signal: null });
      for (const pid of workerPids) assert.equal(isRunning(pid), false, `worker ${pid} exited`);
      // The open connection was closed, not left dangling.
      assert.match(await nextReadFailure(client), /^BFTP_ERR_(PEER_CLOSED|CONNECTION_LOST)$/);
    },
  );
}
