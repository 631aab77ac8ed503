#!/usr/bin/env bash
# Installs the programs the tests run as real clients (issue 14): OpenSSH's sftp, scp,
# ssh-keygen, ssh-agent and ssh-add (openssh-client), lftp and rclone; and for the S3 storage
# tests (issue 15) Ceph's mon, OSD, RADOS Gateway and tools, which scripts/s3-gateway.sh runs
# as a real S3 store, haproxy and curl. From Debian's archive, when any is missing. Run by
# `npm test` first; quiet and instant when all are there.
# Without root or apt it says which tests will fail and goes on: they fail, never skip.
set -euo pipefail

declare -A PACKAGE_OF=(
  [sftp]=openssh-client [scp]=openssh-client [ssh-keygen]=openssh-client
  [ssh-agent]=openssh-client [ssh-add]=openssh-client
  [lftp]=lftp [rclone]=rclone
  [ceph-mon]=ceph-mon [ceph-osd]=ceph-osd [radosgw]=radosgw [ceph-authtool]=ceph-common
  [monmaptool]=ceph-mon [radosgw-admin]=ceph-common [ceph]=ceph-common
  [haproxy]=haproxy [curl]=curl
)

missing=()
for program in "${!PACKAGE_OF[@]}"; do
  command -v "$program" >/dev/null 2>&1 || missing+=("${PACKAGE_OF[$program]}")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
mapfile -t packages < <(printf '%s\n' "${missing[@]}" | sort -u)

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "test-tools: missing ${packages[*]}; install them (apt-get install ${packages[*]})," >&2
  echo "test-tools: or the tests in test/sftp, test/cli/key-login and test/storage will fail" >&2
  exit 0
fi

echo "test-tools: installing ${packages[*]} from Debian's archive" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
