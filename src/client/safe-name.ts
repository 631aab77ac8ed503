import { BftpError } from "../errors.js";

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f/\\]/u;

/**
 * Checks a name from a server listing before it becomes a local file name: one plain
 * component, never `.`, `..`, empty, absolute, with a separator or backslash, NUL or a
 * control character. A hostile server's `../../.bashrc` is refused, not followed
 * (basic-ftp CVE-2026-27699). Throws `BFTP_ERR_UNSAFE_NAME`.
 *
 * @example
 * localName("report.pdf"); // "report.pdf"
 * localName("../x");       // throws BFTP_ERR_UNSAFE_NAME
 */
export function localName(name: string): string {
  if (
    name === "" ||
    name === "." ||
    name === ".." ||
    UNSAFE.test(name) ||
    /^[A-Za-z]:/.test(name)
  ) {
    throw new BftpError(
      "BFTP_ERR_UNSAFE_NAME",
      `Cannot save a file named ${escapeControls(name)}: it could write outside the target folder`,
      {
        details: { name: escapeControls(name) },
      },
    );
  }
  return name;
}

/** A name {@link localName} accepts, tested without building an error for the ones it refuses. */
export function isLocalName(name: string): boolean {
  try {
    localName(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * The text with every control character (C0, DEL, C1) shown as an escape, so a name can be
 * printed to a terminal without moving the cursor, changing colours or retitling the window.
 *
 * @example
 * escapeControls("a\u001b[2Jb"); // "a\\x1b[2Jb"
 */
export function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/gu, (c) => {
    const code = c.charCodeAt(0);
    return code === 0x0a
      ? "\\n"
      : code === 0x0d
        ? "\\r"
        : code === 0x09
          ? "\\t"
          : `\\x${code.toString(16).padStart(2, "0")}`;
  });
}
