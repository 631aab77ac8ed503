#!/usr/bin/env bash
# A throw-away S3 object store for the tests (issue 15): a single-node Ceph cluster (1 mon,
# 1 OSD, 1 radosgw with the beast frontend) on 127.0.0.1. Real Ceph RGW, not a mock; derived
# from /work/shared/s3/start.sh (see its README for the measurements and the gotchas). Needs
# ceph-mon ceph-osd radosgw ceph-common and curl (scripts/test-tools.sh installs them). Works
# as root or as an ordinary user.
#
# Usage:
#   s3-gateway.sh start [DIR]  prints S3_ENDPOINT=, S3_ACCESS_KEY=, S3_SECRET_KEY=, S3_REGION=,
#                              CEPH_S3_DIR=, CEPH_CONF= lines on stdout (also in DIR/env);
#                              "name pid" lines in DIR/pids; progress on stderr, and on failure
#                              the tail of every daemon's log. DIR defaults to a fresh
#                              mktemp -d /tmp/bftp-s3.XXXXXX. Exit status 0 only when ready.
#   s3-gateway.sh stop DIR     SIGKILLs the PIDs recorded in DIR/pids (never by name), waits
#                              for them to go, removes DIR.
#
# Environment:
#   S3_PORT, MON_PORT            default: a free port each, asked from the kernel
#   S3_ACCESS_KEY, S3_SECRET_KEY default: testaccesskey / testsecretkey0123456789
#   START_TIMEOUT                seconds per wait step, default 60
#   OSD_STORE                    memstore (default: object data in OSD RAM, ~2x its size) |
#                                bluestore (sparse file DIR/osd.0.block of BLUESTORE_BYTES,
#                                default 10 GiB; OSD RAM near OSD_MEMORY_TARGET, default 512 MiB)
#   OWNER_PID                    a watchdog stops the cluster once that process is gone, so a
#                                crashed test run does not leak daemons
#   CEPH_EXTRA_CONF              extra "key = value" lines appended to [global]
# No ceph-mgr: S3 does not need one.
set -euo pipefail

usage() {
  echo "usage: $0 start [DIR] | $0 stop DIR" >&2
  exit 2
}
mode=${1:-}
case "$mode" in
  start | stop) shift ;;
  *) usage ;;
esac

log() { echo "[s3-gateway] $*" >&2; }

# A port the kernel says is free now. Another process could take it before the daemon binds
# it; the window is milliseconds and the daemon then fails loudly (it is checked below).
free_port() {
  node -e 'const s = require("node:net").createServer();
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# alive = a /proc entry that is not a zombie
is_alive() { [ -r "/proc/$1/stat" ] && ! awk '{exit ($3=="Z")?0:1}' "/proc/$1/stat" 2>/dev/null; }

stop_gateway() {
  local dir=$1 pids p self=${BASHPID:-$$}
  [ -n "$dir" ] && [ -d "$dir" ] || {
    log "no such folder: $dir"
    return 1
  }
  if [ -f "$dir/pids" ]; then
    # The data is throw-away, so no graceful shutdown: SIGKILL each PID this script recorded,
    # newest first, never ourselves (the watchdog runs this too).
    pids=$(awk '{print $2}' "$dir/pids" | tac)
    for p in $pids; do
      [ "$p" = "$self" ] || kill -KILL "$p" 2>/dev/null || true
    done
    # Wait until each is dead or a zombie: a zombie holds no memory, files or ports any more,
    # and init reaps it when it gets to it (this container's init took ~1.4 s).
    for _ in $(seq 1 100); do
      local left=0
      for p in $pids; do [ "$p" != "$self" ] && is_alive "$p" && left=1; done
      [ $left = 0 ] && break
      sleep 0.05
    done
  fi
  rm -rf -- "$dir"
}

if [ "$mode" = stop ]; then
  [ $# -eq 1 ] || usage
  stop_gateway "$1"
  exit 0
fi
[ $# -le 1 ] || usage

t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1fs", b-a}'; }

DIR=${1:-$(mktemp -d /tmp/bftp-s3.XXXXXX)}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
START_TIMEOUT=${START_TIMEOUT:-60}
OSD_STORE=${OSD_STORE:-memstore}
MON_PORT=${MON_PORT:-$(free_port)}
S3_PORT=${S3_PORT:-$(free_port)}
ACCESS=${S3_ACCESS_KEY:-testaccesskey}
SECRET=${S3_SECRET_KEY:-testsecretkey0123456789}
FSID=$(cat /proc/sys/kernel/random/uuid)
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
export CEPH_CONF=$DIR/ceph.conf
: >"$DIR/pids"
mkdir -p "$DIR"/{log,run,mon.a,osd.0,rgw}

# If anything below fails or start is interrupted: show why (the tail of each log), keep the
# logs beside DIR, and stop what was started.
on_exit() {
  local rc=$? f
  [ $rc = 0 ] && return
  log "start failed (exit $rc) after $(elapsed); the logs' tails follow, all of them in $DIR.failed"
  for f in "$DIR"/log/*; do
    [ -s "$f" ] || continue
    echo "----- ${f##*/} -----" >&2
    tail -n 20 "$f" >&2
  done
  cp -r "$DIR/log" "$DIR.failed" 2>/dev/null || true
  stop_gateway "$DIR" || true
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cat >"$CEPH_CONF" <<EOF
[global]
fsid = $FSID
mon_host = v2:127.0.0.1:$MON_PORT
mon_initial_members = a
public_addr = 127.0.0.1
ms_bind_ipv6 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
auth_allow_insecure_global_id_reclaim = false
keyring = $DIR/keyring
run_dir = $DIR/run
admin_socket = $DIR/run/\$name.asok
pid_file = $DIR/run/\$name.pid
log_file = $DIR/log/\$name.log
mon_cluster_log_file = $DIR/log/cluster.log
crash_dir = $DIR/crash
# one OSD: one replica, few PGs, no autoscaler (there is no mgr)
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
mon_max_pg_per_osd = 1000
mon_data_avail_crit = 1
mon_data_avail_warn = 2
# One mon: commit each paxos proposal at once. The default (1 s a proposal) makes radosgw's
# first start, which issues about 10 pool and application commands, take ~12 s, not ~2 s.
paxos_propose_interval = 0.05
paxos_min_wait = 0.01
# Clients re-send ops that found no usable OSD only on each objecter tick (default 5 s).
objecter_tick_interval = 0.5

[mon]
mon_data = $DIR/mon.\$id

[osd]
osd_data = $DIR/osd.\$id
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 1
EOF
if [ "$OSD_STORE" = memstore ]; then
  cat >>"$CEPH_CONF" <<EOF
osd_objectstore = memstore
memstore_device_bytes = ${MEMSTORE_BYTES:-4294967296}
EOF
else
  cat >>"$CEPH_CONF" <<EOF
osd_objectstore = bluestore
bluestore_block_path = $DIR/osd.0.block
bluestore_block_create = true
bluestore_block_size = ${BLUESTORE_BYTES:-10737418240}
bluestore_fsck_on_mkfs = false
bluestore_fsck_on_mount = false
osd_memory_target = ${OSD_MEMORY_TARGET:-536870912}
osd_memory_cache_min = 67108864
EOF
fi
cat >>"$CEPH_CONF" <<EOF

[client.rgw.a]
# tcp_nodelay: without it beast's answers with a body (GET, LIST) wait ~40 ms each on the
# client's delayed ACK (Nagle): 45 ms per GetObject or ListObjectsV2 instead of 3 ms.
rgw_frontends = beast endpoint=127.0.0.1:$S3_PORT tcp_nodelay=1
rgw_data = $DIR/rgw
rgw_enable_usage_log = false
rgw_thread_pool_size = 64
# Free the data of deleted and overwritten objects after ~5 s, not 2 h: with memstore that
# data is RAM, and the default would hold it for the whole test run.
rgw_gc_obj_min_wait = 5
rgw_gc_processor_period = 5
log_file = $DIR/log/rgw.log

[global]
${CEPH_EXTRA_CONF:-}
EOF

# --- keys: one keyring for every entity (a throw-away cluster) ---
K=$DIR/keyring
ceph-authtool --create-keyring "$K" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$K" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
  --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
ceph-authtool "$K" --gen-key -n osd.0 --cap mon 'allow profile osd' --cap mgr 'allow profile osd' \
  --cap osd 'allow *' >/dev/null
ceph-authtool "$K" --gen-key -n client.rgw.a --cap mon 'allow rw' --cap osd 'allow rwx' \
  --cap mgr 'allow rw' >/dev/null

# Daemons run in the foreground (-f) as our children, so the PID recorded is the daemon's.
start_daemon() { # start_daemon NAME COMMAND...
  local name=$1
  shift
  "$@" >>"$DIR/log/$name.out" 2>&1 </dev/null &
  echo "$name $!" >>"$DIR/pids"
  disown $!
}

wait_for() { # wait_for DESCRIPTION INTERVAL COMMAND...
  local what=$1 interval=$2 deadline name pid
  shift 2
  deadline=$(($(date +%s) + START_TIMEOUT))
  until "$@"; do
    if [ "$(date +%s)" -ge $deadline ]; then
      log "$what: not within ${START_TIMEOUT}s"
      return 1
    fi
    while read -r name pid; do
      is_alive "$pid" || {
        log "$name (pid $pid) died"
        return 1
      }
    done <"$DIR/pids"
    sleep "$interval"
  done
}

# --- mon ---
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$DIR/monmap" --keyring "$K" >>"$DIR/log/mkfs.log" 2>&1
start_daemon mon.a ceph-mon -f -i a
log "mon started $(elapsed)"

# --- osd ---
ceph --connect-timeout "$START_TIMEOUT" osd new "$OSD_UUID" 0 >/dev/null 2>>"$DIR/log/ceph-cli.log"
ceph-osd -i 0 --mkfs --osd-uuid "$OSD_UUID" >>"$DIR/log/mkfs.log" 2>&1
start_daemon osd.0 ceph-osd -f -i 0
log "osd started $(elapsed)"
# radosgw's first writes stall for an objecter tick if the OSD is not up yet, so wait until
# the OSD says it is active (its log, cheaper than running the ceph CLI in a loop).
wait_for "osd boot" 0.05 grep -q 'state: booting -> active' "$DIR/log/osd.0.log"
log "osd active $(elapsed)"

# --- rgw (creates its pools on its first start) ---
start_daemon rgw.a radosgw -f -n client.rgw.a
wait_for "rgw http" 0.1 curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$S3_PORT/"
log "rgw answers HTTP $(elapsed)"

# --- the S3 user ---
radosgw-admin -n client.admin user create --uid=test --display-name=test \
  --access-key="$ACCESS" --secret-key="$SECRET" >"$DIR/log/user.json" 2>>"$DIR/log/radosgw-admin.log"

# --- watchdog: stop everything once the owner process is gone ---
if [ -n "${OWNER_PID:-}" ]; then
  (
    trap - EXIT INT TERM
    while kill -0 "$OWNER_PID" 2>/dev/null; do sleep 1; done
    stop_gateway "$DIR"
  ) >/dev/null 2>&1 </dev/null &
  echo "watchdog $!" >>"$DIR/pids"
  disown $!
fi

cat >"$DIR/env" <<EOF
S3_ENDPOINT=http://127.0.0.1:$S3_PORT
S3_ACCESS_KEY=$ACCESS
S3_SECRET_KEY=$SECRET
S3_REGION=us-east-1
CEPH_S3_DIR=$DIR
CEPH_CONF=$CEPH_CONF
EOF
log "ready $(elapsed)"
trap - EXIT INT TERM
cat "$DIR/env"
