import { closeSync, openSync } from "node:fs";
import readline from "node:readline";
import { BftpServer } from "../../src/server/server.js";

/**
 * A child program for tests of descriptor exhaustion (issue 11, item 10c): serves the folder
 * named by argv[2] on 127.0.0.1 port 0 and prints `{"port":N}`. Then, one command a line on
 * stdin: `exhaust` opens /dev/null until the process is out of descriptors (run it under a
 * low `prlimit --nofile`, so the loop is short) and prints `{"held":N}`; `free` closes them
 * and prints `{"freed":N}`. Stdin closing stops the server and ends the program.
 */
const root = process.argv[2];
if (root === undefined) throw new Error("usage: fd-starved-server ROOT");
const server = await BftpServer.start({ root, port: 0, limits: { shutdownGraceMs: 1000 } });
const say = (value: object): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};
say({ port: server.address().port });

const held: number[] = [];
const MAX_HELD = 1 << 20; // bounded even if the limit was not lowered
const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line === "exhaust") {
    try {
      while (held.length < MAX_HELD) held.push(openSync("/dev/null", "r"));
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code !== "EMFILE" && code !== "ENFILE") throw err;
    }
    say({ held: held.length });
  } else if (line === "free") {
    const count = held.length;
    for (const fd of held.splice(0)) closeSync(fd);
    say({ freed: count });
  }
}
await server.close();
