// Issue 15, acceptance: the SFTP front end's file tests (sftp-files.test.ts) run again against
// the S3 backend, as s3-sessions.test.ts does for BFTP's: BFTP_TEST_BACKEND=s3 makes
// startSftpServer() serve a fresh bucket of the test gateway, and `server.files` arrange and
// check the objects. A test of something only a disk has says so and is skipped here.
process.env["BFTP_TEST_BACKEND"] = "s3";

await import("./sftp-files.test.js");
