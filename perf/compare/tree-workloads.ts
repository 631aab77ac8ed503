/**
 * The tree workloads of issue 12: many small files (10,000 of 4 KiB) in one folder, copied
 * to and from the server over one connection, file to file, in files/s. bftp goes through
 * the client library's public tree operations (`downloadTree`, `uploadTree`), so whatever
 * they use underneath is what is measured; each FTP server gets one RETR or STOR per file,
 * one after another, on one control connection (RFC 959 allows one transfer at a time).
 * Every file is checked against its pattern after the clock stops, then removed.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { BftpClient } from "../../src/client/client.js";
import { downloadTree, uploadTree } from "../../src/client/tree.js";
import { FtpClient, FtpReplyError } from "./ftp-client.js";
import { verifyPatternFile } from "./pattern.js";
import type { RunningServer } from "./servers.js";
import { fixtureFiles, measured, UPLOADS, type Rate, type WorkloadContext } from "./workloads.js";

/** Deadline for connecting and for each reply and data stall, ms. */
const TIMEOUT_MS = 60_000;

/** Checks every file of the tree under `dir` (named by the fixture's base names), then removes it. */
async function verifyAndRemove(
  dir: string,
  files: readonly { path: string; seed: number; size: number }[],
  name: (i: number) => string,
): Promise<void> {
  for (const [i, f] of files.entries())
    await verifyPatternFile(path.join(dir, name(i)), f.seed, f.size);
  await fs.rm(dir, { recursive: true, force: true });
}

async function withConnection<T>(
  server: RunningServer,
  body: (c: { bftp?: BftpClient; ftp?: FtpClient }) => Promise<T>,
): Promise<T> {
  if (server.protocol === "bftp") {
    const client = await BftpClient.connect(
      { host: "127.0.0.1", port: server.port },
      { timeout: TIMEOUT_MS },
    );
    try {
      return await body({ bftp: client });
    } finally {
      await client.close();
    }
  }
  const client = await FtpClient.connect({ port: server.port, timeoutMs: TIMEOUT_MS });
  try {
    return await body({ ftp: client });
  } finally {
    await client.quit();
  }
}

/** Downloads the tree folder into a local folder, files/s. */
export function treeGet(server: RunningServer, ctx: WorkloadContext): Promise<Rate> {
  const { tree } = fixtureFiles(ctx.config);
  const base = (i: number): string => path.posix.basename(tree[i]?.path ?? "");
  return withConnection(server, (c) =>
    measured(ctx, `${server.name} tree GET ${tree.length} files`, async (run) => {
      const local = path.join(ctx.work, `tree-get-${server.name}-${run + 1}`);
      await fs.rm(local, { recursive: true, force: true });
      await fs.mkdir(local, { recursive: true });
      const start = performance.now();
      if (c.bftp !== undefined) {
        const result = await downloadTree(c.bftp, "/tree", local);
        if (result.failed.length > 0)
          throw new Error(`${result.failed.length} files failed, first ${result.failed[0]?.path}`);
      } else if (c.ftp !== undefined) {
        const ftp = c.ftp;
        for (const [i, f] of tree.entries()) {
          const chunks: Buffer[] = [];
          let bytes = 0;
          await ftp.retr(f.path, (chunk) => {
            bytes += chunk.length;
            if (bytes <= f.size) chunks.push(Buffer.from(chunk)); // kept up to the file's size
          });
          if (bytes !== f.size) throw new Error(`${f.path}: ${bytes} bytes, expected ${f.size}`);
          await fs.writeFile(path.join(local, base(i)), Buffer.concat(chunks, bytes));
        }
      }
      const rate = tree.length / ((performance.now() - start) / 1000);
      await verifyAndRemove(local, tree, base);
      return rate;
    }),
  );
}

/** Uploads a local copy of the tree into the uploads folder, files/s. */
export function treePut(server: RunningServer, ctx: WorkloadContext): Promise<Rate> {
  const { tree } = fixtureFiles(ctx.config);
  const source = path.join(ctx.root, "tree");
  return withConnection(server, (c) =>
    measured(ctx, `${server.name} tree PUT ${tree.length} files`, async (run) => {
      // A new folder each run: pure-ftpd does not let anonymous users overwrite.
      const folder = `tree-${server.name}-${run + 2}`;
      const remote = `${UPLOADS}/${folder}`;
      const start = performance.now();
      if (c.bftp !== undefined) {
        const result = await uploadTree(c.bftp, source, remote);
        if (result.failed.length > 0)
          throw new Error(`${result.failed.length} files failed, first ${result.failed[0]?.path}`);
      } else if (c.ftp !== undefined) {
        const ftp = c.ftp;
        const made = await ftp.command(`MKD ${remote}`);
        if (made.code !== 257) throw new FtpReplyError(`MKD ${remote}`, made);
        for (const f of tree) {
          const name = path.posix.basename(f.path);
          const data = await fs.readFile(path.join(source, name));
          const sent = await ftp.stor(`${remote}/${name}`, [data]);
          if (sent !== f.size) throw new Error(`${name}: sent ${sent} of ${f.size} bytes`);
        }
      }
      const rate = tree.length / ((performance.now() - start) / 1000);
      await verifyAndRemove(path.join(ctx.root, remote), tree, (i) =>
        path.posix.basename(tree[i]?.path ?? ""),
      );
      return rate;
    }),
  );
}
