// The command lines of every example: --help teaches and exits 0, mistakes exit 2 with a
// pointer to --help, and a server started on a busy port fails with exit 1.
import assert from "node:assert/strict";
import net from "node:net";
import { describe, test } from "node:test";
import { AVERAGE_ERROR_CODES } from "../../examples/average-protocol.js";
import { runExample } from "../helpers/examples-spawn.js";
import { closeServer, listenLocal } from "../helpers/examples-socket.js";

const TEST_TIMEOUT = 90_000;
const PROGRAMS = ["echo-server", "echo-client", "average-server", "average-client", "http-get"];

for (const program of PROGRAMS) {
  describe(program, () => {
    for (const flag of ["--help", "-h"]) {
      test(
        `${flag} prints the usage on stdout and exits 0`,
        { timeout: TEST_TIMEOUT },
        async () => {
          const run = await runExample(program, [flag]);
          assert.equal(run.code, 0, run.stderr);
          const help = run.stdout.toString();
          assert.match(help, new RegExp(`^Usage: ${program} `));
          assert.match(help, /--help/);
          assert.equal(run.stderr, "");
        },
      );
    }

    test("an unknown flag exits 2 and points to --help", { timeout: TEST_TIMEOUT }, async () => {
      const run = await runExample(program, ["--no-such-flag"]);
      assert.equal(run.code, 2);
      assert.equal(run.stdout.length, 0);
      assert.match(run.stderr, new RegExp(`--no-such-flag[\\s\\S]*${program} --help`));
    });
  });
}

describe("the help teaches what each program shows", () => {
  test("echo-server --help explains each mode", { timeout: TEST_TIMEOUT }, async () => {
    const help = (await runExample("echo-server", ["--help"])).stdout.toString();
    for (const mode of ["sequential", "event-loop", "processes"]) {
      assert.match(help, new RegExp(`--mode ${mode} `));
    }
    assert.match(help, /listening on HOST:PORT/);
  });

  test(
    "average-server --help lists every code its replies can carry",
    { timeout: TEST_TIMEOUT },
    async () => {
      const help = (await runExample("average-server", ["--help"])).stdout.toString();
      const sent = Object.keys(AVERAGE_ERROR_CODES).filter((code) => code !== "AVG_ERR_BAD_REPLY");
      for (const code of [...sent, "BFTP_ERR_BAD_UTF8", "BFTP_ERR_FRAME_TOO_LARGE"]) {
        assert.ok(help.includes(code), code);
      }
      assert.ok(help.includes("BFTP_ERR_BAD_FRAME_HEADER") && help.includes("BFTP_ERR_TIMEOUT"));
    },
  );
});

describe("values the examples refuse with exit 2", () => {
  const cases: [string, string[]][] = [
    ["echo-server", ["--port", "65536"]],
    ["echo-server", ["--port", "-1"]],
    ["echo-server", ["--port", "80x"]],
    ["echo-server", ["--mode", "threads"]],
    ["echo-server", ["--mode", "event-loop", "--workers", "2"]],
    ["echo-server", ["--mode", "processes", "--workers", "0"]],
    ["echo-server", ["--mode", "event-loop", "--max-waiting", "3"]],
    ["echo-server", ["--idle-timeout", "0"]],
    ["echo-server", ["--idle-timeout", "soon"]],
    ["echo-server", ["extra-argument"]],
    ["echo-client", ["--timeout", "-5"]],
    ["average-server", ["--max-request", "64KB"]],
    ["average-server", ["--max-request", "2MiB", "--max-discard", "1MiB"]],
    ["average-server", ["--max-request", "8GiB", "--max-discard", "8GiB"]],
    ["average-server", ["--max-connections", "0"]],
    ["average-client", ["--port"]],
    ["http-get", []],
    ["http-get", ["http://127.0.0.1/"]],
    ["http-get", ["http://127.0.0.1/", "a", "b"]],
  ];
  for (const [program, args] of cases) {
    test(`${program} ${args.join(" ")}`, { timeout: TEST_TIMEOUT }, async () => {
      const run = await runExample(program, args);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, new RegExp(`${program} --help`));
    });
  }
});

describe("a server on a port already in use", () => {
  for (const program of ["echo-server", "average-server"]) {
    test(`${program} exits 1 with EADDRINUSE`, { timeout: TEST_TIMEOUT }, async (t) => {
      const blocker = net.createServer();
      const port = await listenLocal(blocker);
      t.after(() => closeServer(blocker));
      const run = await runExample(program, ["--port", String(port)]);
      assert.equal(run.code, 1);
      assert.equal(run.stdout.length, 0, "no listening line");
      assert.match(run.stderr, /EADDRINUSE/);
    });
  }

  test(
    "echo-server --mode processes exits 1 too, workers and all",
    { timeout: TEST_TIMEOUT },
    async (t) => {
      const blocker = net.createServer();
      const port = await listenLocal(blocker);
      t.after(() => closeServer(blocker));
      const run = await runExample("echo-server", ["--port", String(port), "--mode", "processes"]);
      assert.equal(run.code, 1);
      assert.equal(run.stdout.length, 0, "no listening line");
      assert.match(run.stderr, /EADDRINUSE/);
    },
  );
});
