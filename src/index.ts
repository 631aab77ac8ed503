/** The public API of bftp. */
export {
  BftpError,
  ERROR_CODES,
  isBftpError,
  RemoteError,
  type BftpErrorOptions,
  type ErrorCode,
  type ErrorDetails,
  type RemoteErrorOptions,
} from "./errors.js";
export * from "./wire/index.js";
export * from "./client/index.js";
export { BftpServer, type ServerOptions } from "./server/server.js";
export type { ServerTls } from "./server/tls-listener.js";
export { loadIdentity, loadOrCreateIdentity, type TlsIdentity } from "./server/tls-identity.js";
export { certificateFingerprint } from "./protocol/fingerprint.js";
export { configDir } from "./config-dir.js";
export { DEFAULT_LIMITS, type ServerLimits } from "./server/limits.js";
export type { AccountsOptions } from "./server/accounts/accounts.js";
export { PERMISSIONS, type Permission } from "./server/accounts/permissions.js";
export {
  hashPassword,
  DEFAULT_SCRYPT,
  type PasswordHash,
} from "./server/accounts/password-hash.js";
export {
  hasAccounts,
  loadUsers,
  saveUsers,
  usersFilePath,
  type UserRecord,
  type UsersFile,
} from "./server/accounts/users-file.js";
export { DEFAULT_PORT, DEFAULT_TLS_PORT, PROTOCOL_VERSION } from "./protocol/version.js";
