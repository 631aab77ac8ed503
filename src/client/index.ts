/** `client`: the typed async client library. */
export { BftpClient, type ClientOptions, type ListOptions } from "./client.js";
export { DEFAULT_CLIENT_LIMITS, type ClientLimits } from "./connection.js";
export { PARTIAL_SUFFIX, type DownloadOptions, type TransferResult } from "./download.js";
export type { ChunkDownloadOptions, ChunkHandler } from "./download-to-chunks.js";
export { isLocation, parseLocation, type Location } from "./location.js";
export { type TlsOptions, type UnknownHost } from "./host-trust.js";
export { KNOWN_HOSTS_FILE, hostKey } from "./known-hosts.js";
export type { Progress, ProgressHandler } from "./progress.js";
export type { Entry, ServerInfo } from "./reply-shapes.js";
export { escapeControls, localName } from "./safe-name.js";
export {
  downloadMany,
  downloadTree,
  uploadTree,
  type BatchItem,
  type BatchOptions,
  type BatchResult,
} from "./tree.js";
export type { UploadOptions } from "./upload.js";
export { removeTree, type RemovedTree } from "./remove-tree.js";
export {
  MAX_SYNC_ENTRIES,
  syncTree,
  type SyncChange,
  type SyncDirection,
  type SyncOptions,
  type SyncResult,
} from "./sync.js";
