/** The public API of bftp. */
export {
  BftpError,
  ERROR_CODES,
  isBftpError,
  type ErrorCode,
  type ErrorDetails,
} from "./errors.js";
export * from "./wire/index.js";
