// http-get against local web servers on port 0: a real node:http server for the normal
// cases, raw TCP servers for the broken ones. A failed download never leaves OUTFILE.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { runExample } from "../helpers/examples-spawn.js";
import { closeServer, listenLocal, unusedPort } from "../helpers/examples-socket.js";

const TEST_TIMEOUT = 90_000;
const BODY = randomBytes(5 * 1024 * 1024 + 123);
let web: http.Server;
let base: string;
let dir: string;
const requests: http.IncomingMessage[] = [];

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "bftp-http-get-"));
  web = http.createServer((req, res) => {
    requests.push(req);
    if (req.url === "/big.bin") {
      res.writeHead(200, {
        "Content-Type": "application/octet-stream",
        "Content-Length": BODY.length,
      });
      res.end(BODY);
    } else if (req.url === "/streamed?x=1") {
      // No Content-Length: for an HTTP/1.0 request the body ends when the server closes.
      res.writeHead(200, { "Content-Type": "text/plain" });
      for (let i = 0; i < 64; i++) res.write(BODY.subarray(i * 1024, (i + 1) * 1024));
      res.end();
    } else if (req.url === "/moved") {
      res.writeHead(301, { Location: "/big.bin" }).end();
    } else {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not here");
    }
  });
  base = `http://127.0.0.1:${await listenLocal(web)}`;
});
after(async () => {
  await closeServer(web);
  await rm(dir, { recursive: true, force: true });
});

/** A raw TCP server that answers every request with `response`, then closes. */
async function rawServer(
  t: { after: (fn: () => Promise<void>) => void },
  response: Buffer | string,
): Promise<string> {
  const server = net.createServer((socket) => {
    socket.on("error", () => undefined);
    socket.once("data", () => {
      socket.end(response);
    });
  });
  const port = await listenLocal(server);
  t.after(() => closeServer(server));
  return `http://127.0.0.1:${port}/`;
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** Files in the test folder whose name starts with `prefix`, temporary files included. */
async function filesLike(prefix: string): Promise<string[]> {
  return (await readdir(dir)).filter(
    (name) => name.startsWith(prefix) || name.startsWith(`.${prefix}`),
  );
}

test(
  "downloads a multi-MiB body with Content-Length, byte for byte",
  { timeout: TEST_TIMEOUT },
  async () => {
    const out = path.join(dir, "big.out");
    const run = await runExample("http-get", [`${base}/big.bin`, out]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /^HTTP\/1\.[01] 200 OK$/m, "the status line is reported on stderr");
    assert.equal(sha256(await readFile(out)), sha256(BODY));
    assert.deepEqual(await filesLike("big.out"), ["big.out"], "no temporary file left");
    const request = requests.at(-1);
    assert.equal(request?.httpVersion, "1.0");
    assert.equal(request.method, "GET");
    assert.equal(request.headers.host, new URL(base).host);
  },
);

test(
  "without Content-Length, the body is everything until the server closes",
  { timeout: TEST_TIMEOUT },
  async () => {
    const out = path.join(dir, "streamed.out");
    const run = await runExample("http-get", [`${base}/streamed?x=1`, out]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(sha256(await readFile(out)), sha256(BODY.subarray(0, 64 * 1024)));
  },
);

test("a 404: exit 1, the status on stderr, no OUTFILE", { timeout: TEST_TIMEOUT }, async () => {
  const out = path.join(dir, "missing.out");
  const run = await runExample("http-get", [`${base}/nothing-here`, out]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /^HTTP\/1\.[01] 404 Not Found$/m);
  assert.match(run.stderr, /\[HTTP_ERR_STATUS\]/);
  assert.deepEqual(await filesLike("missing.out"), []);
});

test(
  "a redirect is reported with where it points, not followed",
  { timeout: TEST_TIMEOUT },
  async () => {
    const run = await runExample("http-get", [`${base}/moved`, path.join(dir, "moved.out")]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /\[HTTP_ERR_STATUS\]/);
    assert.match(run.stderr, /\/big\.bin/);
  },
);

test("a refused connection: exit 1 with ECONNREFUSED", { timeout: TEST_TIMEOUT }, async () => {
  const out = path.join(dir, "refused.out");
  const run = await runExample("http-get", [`http://127.0.0.1:${await unusedPort()}/`, out]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /ECONNREFUSED/);
  assert.deepEqual(await filesLike("refused.out"), []);
});

test(
  "a server that closes before the headers end: exit 1, no OUTFILE",
  { timeout: TEST_TIMEOUT },
  async (t) => {
    const url = await rawServer(t, "HTTP/1.0 200 OK\r\nContent-Length: 10\r\nConte");
    const out = path.join(dir, "early.out");
    const run = await runExample("http-get", [url, out]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /\[BFTP_ERR_UNEXPECTED_EOF\]/);
    assert.deepEqual(await filesLike("early.out"), []);
  },
);

test("a server that closes without a word: exit 1", { timeout: TEST_TIMEOUT }, async (t) => {
  const run = await runExample("http-get", [await rawServer(t, ""), path.join(dir, "silent.out")]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /\[BFTP_ERR_PEER_CLOSED\]/);
});

test(
  "a body shorter than Content-Length: exit 1, and an existing OUTFILE is untouched",
  { timeout: TEST_TIMEOUT },
  async (t) => {
    const url = await rawServer(
      t,
      Buffer.concat([
        Buffer.from("HTTP/1.0 200 OK\r\nContent-Length: 100000\r\n\r\n"),
        BODY.subarray(0, 60_000),
      ]),
    );
    const out = path.join(dir, "short.out");
    await writeFile(out, "the previous version");
    const run = await runExample("http-get", [url, out]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /\[BFTP_ERR_UNEXPECTED_EOF\]/);
    assert.equal(await readFile(out, "utf8"), "the previous version");
    assert.deepEqual(await filesLike("short.out"), ["short.out"], "the temporary file was removed");
  },
);

test(
  "a response that is not HTTP: exit 1 with HTTP_ERR_MALFORMED",
  { timeout: TEST_TIMEOUT },
  async (t) => {
    const url = await rawServer(t, "SSH-2.0-OpenSSH_9.6\r\n\r\n");
    const run = await runExample("http-get", [url, path.join(dir, "ssh.out")]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /\[HTTP_ERR_MALFORMED\]/);
  },
);

test(
  "https:// and other schemes are refused before connecting, exit 2",
  { timeout: TEST_TIMEOUT },
  async () => {
    for (const url of ["https://127.0.0.1/", "ftp://127.0.0.1/x", "not a url"]) {
      const run = await runExample("http-get", [url, path.join(dir, "never.out")]);
      assert.equal(run.code, 2, `${url}: ${run.stderr}`);
    }
    assert.deepEqual(await filesLike("never.out"), []);
  },
);
