#!/usr/bin/env bash
# Installs the FTP servers `npm run bench:compare` measures bftp against, from Debian's
# packages, without starting any of them (issue 5, item 2). Idempotent; needs root.
#
#   vsftpd             apt-get install (creates the `ftp` user pure-ftpd needs too)
#   python3-pyftpdlib  apt-get install (run with /usr/bin/python3, not a pyenv shim)
#   pure-ftpd          conflicts with vsftpd (both provide ftp-server), so it is fetched with
#                      `apt-get download` and unpacked with `dpkg -x` into perf/compare/.peers/
#
# A policy-rc.d that refuses every start is put in place for the duration of the install (and
# removed again if this script created it), so no daemon is left listening on port 21.
# Usage: bash perf/compare/install-peers.sh [--check]   (--check: only report what is there)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
peers="$here/.peers"
pure_bin="$peers/pure-ftpd/usr/sbin/pure-ftpd"

have_vsftpd() { [ -x /usr/sbin/vsftpd ]; }
have_pyftpdlib() { /usr/bin/python3 -c 'import pyftpdlib' 2>/dev/null; }
have_pure() { [ -x "$pure_bin" ]; }

report() {
  have_vsftpd && echo "vsftpd: /usr/sbin/vsftpd" || echo "vsftpd: missing"
  have_pyftpdlib && echo "pyftpdlib: importable by /usr/bin/python3" || echo "pyftpdlib: missing"
  have_pure && echo "pure-ftpd: $pure_bin" || echo "pure-ftpd: missing"
}

if [ "${1:-}" = "--check" ]; then
  report
  exit 0
fi
if have_vsftpd && have_pyftpdlib && have_pure && getent passwd ftp >/dev/null; then
  report
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-peers: needs root to apt-get install (run as root, or install vsftpd, python3-pyftpdlib and unpack pure-ftpd yourself)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  made_policy=1
fi
cleanup() { if [ "$made_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

# An empty or stale package list makes install and download fail: update once if needed.
if ! apt-cache show vsftpd >/dev/null 2>&1 || ! apt-cache show pure-ftpd >/dev/null 2>&1; then
  apt-get update -q
fi

need=()
have_vsftpd || need+=(vsftpd)
have_pyftpdlib || need+=(python3-pyftpdlib)
# pure-ftpd's shared libraries (it is unpacked, not installed, so apt does not pull them).
for lib in libsodium23 libcap2 libcrypt1 libpam0g libssl3; do
  dpkg -s "$lib" >/dev/null 2>&1 || need+=("$lib")
done
if [ "${#need[@]}" -gt 0 ]; then
  apt-get install -y -q --no-install-recommends "${need[@]}"
fi

if ! have_pure; then
  work="$(mktemp -d)"
  chmod 755 "$work" # apt-get download fetches as the _apt user
  (cd "$work" && apt-get download -q pure-ftpd)
  mkdir -p "$peers"
  rm -rf "$peers/pure-ftpd"
  dpkg -x "$work"/pure-ftpd_*.deb "$peers/pure-ftpd"
  rm -rf "$work"
fi

# pure-ftpd serves anonymous users from the home of the `ftp` user; vsftpd's package makes it.
if ! getent passwd ftp >/dev/null; then
  adduser --system --group --home /srv/ftp --no-create-home ftp
fi
home="$(getent passwd ftp | cut -d: -f6)"
mkdir -p "$home"

report
