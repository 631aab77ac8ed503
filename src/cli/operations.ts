/**
 * The remote operations the command line and the shell share (issue 13, item 9), by the
 * name of their `bftp` command, each loaded only when asked for (a command loads only its
 * own modules: issue 12, item 4). `bftp get` and the shell's `get` and `mget` both run
 * `getOperation`; `bftp ls` and the shell's `ls` the same table entry; and so on. The shell's
 * commands name theirs in `ShellCommandSpec.operation`, and a test holds the two equal.
 */
export const OPERATIONS = {
  get: async () => (await import("./get-command.js")).getOperation,
  put: async () => (await import("./put-command.js")).putOperation,
  sync: async () => (await import("./sync-command.js")).syncOperation,
  mv: async () => (await import("./mv-command.js")).mvOperation,
  ls: async () => (await import("./remote-commands.js")).REMOTE_SPECS.ls,
  stat: async () => (await import("./remote-commands.js")).REMOTE_SPECS.stat,
  hash: async () => (await import("./remote-commands.js")).REMOTE_SPECS.hash,
  mkdir: async () => (await import("./remote-commands.js")).REMOTE_SPECS.mkdir,
  rm: async () => (await import("./remote-commands.js")).REMOTE_SPECS.rm,
  rmdir: async () => (await import("./remote-commands.js")).REMOTE_SPECS.rmdir,
} as const;

/** The shell's commands for each operation (its own name, and more where sftp has them). */
export const SHELL_NAMES: Readonly<Record<keyof typeof OPERATIONS, readonly string[]>> = {
  get: ["get", "mget"],
  put: ["put", "mput"],
  sync: ["mirror"],
  mv: ["mv"],
  ls: ["ls"],
  stat: ["stat"],
  hash: ["hash"],
  mkdir: ["mkdir"],
  rm: ["rm"],
  rmdir: ["rmdir"],
};
