#!/usr/bin/env bash
# Runs the built test suite (what `npm test` runs after the build) with ONE S3 gateway for the
# whole run (issue 15): scripts/s3-gateway.sh starts a real Ceph RADOS Gateway on 127.0.0.1,
# and its address and keys reach every test process as BFTP_TEST_S3_ENDPOINT,
# BFTP_TEST_S3_ACCESS_KEY, BFTP_TEST_S3_SECRET_KEY and BFTP_TEST_S3_REGION
# (test/helpers/s3-gateway.ts reads them). The gateway is stopped on exit, and its watchdog
# stops it if this script dies without running its trap. If it does not start, its logs' tails
# are printed and BFTP_TEST_S3_UNAVAILABLE tells the S3 tests to fail at once: they fail,
# never skip. The exit status is the test runner's.
#
# BFTP_TEST_FILES: space-separated test files to run instead of every dist/test/**/*.test.js.
set -uo pipefail
cd "$(dirname "$0")/.."

gateway_dir=""
gateway_log=$(mktemp /tmp/bftp-s3-start.XXXXXX)
stop_gateway() {
  [ -n "$gateway_dir" ] && bash scripts/s3-gateway.sh stop "$gateway_dir" || true
  rm -f -- "$gateway_log"
}
trap stop_gateway EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

started=$(date +%s.%N)
if gateway_env=$(OWNER_PID=$$ bash scripts/s3-gateway.sh start 2>"$gateway_log"); then
  while IFS='=' read -r key value; do
    case "$key" in
      S3_ENDPOINT) export BFTP_TEST_S3_ENDPOINT=$value ;;
      S3_ACCESS_KEY) export BFTP_TEST_S3_ACCESS_KEY=$value ;;
      S3_SECRET_KEY) export BFTP_TEST_S3_SECRET_KEY=$value ;;
      S3_REGION) export BFTP_TEST_S3_REGION=$value ;;
      CEPH_S3_DIR) gateway_dir=$value ;;
    esac
  done <<<"$gateway_env"
  echo "run-tests: S3 gateway at $BFTP_TEST_S3_ENDPOINT, ready in $(
    awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'
  ) s" >&2
else
  echo "run-tests: the S3 gateway (scripts/s3-gateway.sh) did not start; the S3 tests will fail" >&2
  tail -n 120 "$gateway_log" >&2
  export BFTP_TEST_S3_UNAVAILABLE="scripts/s3-gateway.sh start failed; see the output above the tests"
fi

if [ -n "${BFTP_TEST_FILES:-}" ]; then
  read -r -a files <<<"$BFTP_TEST_FILES"
else
  mapfile -t files < <(find dist/test -name '*.test.js' | sort)
fi
node --expose-gc --test --test-reporter=spec "${files[@]}"
status=$?
exit "$status"
