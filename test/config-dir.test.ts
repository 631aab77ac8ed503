import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { configDir, writePrivateFile } from "../src/config-dir.js";

test("configDir: --config-dir wins, then $XDG_CONFIG_HOME, then ~/.config", () => {
  assert.equal(configDir("/etc/x", { XDG_CONFIG_HOME: "/xdg" }), "/etc/x");
  assert.equal(configDir(undefined, { XDG_CONFIG_HOME: "/xdg" }), "/xdg/bftp");
  assert.equal(configDir(undefined, {}), path.join(os.homedir(), ".config", "bftp"));
  // A relative XDG_CONFIG_HOME is invalid by the specification and ignored.
  assert.equal(
    configDir(undefined, { XDG_CONFIG_HOME: "rel" }),
    path.join(os.homedir(), ".config", "bftp"),
  );
});

test("writePrivateFile: mode 0600 in a 0700 folder, replaced whole, no temporary left", async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-config-"));
  try {
    const file = path.join(root, "conf", "users");
    await writePrivateFile(file, "first\n");
    await writePrivateFile(file, "second\n");
    assert.equal(await fs.readFile(file, "utf8"), "second\n");
    assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
    assert.equal((await fs.stat(path.dirname(file))).mode & 0o777, 0o700);
    assert.deepEqual(await fs.readdir(path.dirname(file)), ["users"]);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});
