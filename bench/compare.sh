#!/usr/bin/env bash
# Side by side on this machine, in one run: PostgreSQL's own bank-transfer
# benchmark (pgbench TPC-B, synchronous_commit=on) on a throwaway local
# cluster, then `wallet-service bench` (release build, in-process server on a
# temporary database) with the same client count and duration. Prints both
# and the ratio, then the batch and balance workloads.
#
#   bench/compare.sh                      # 64 clients, 10 s each
#   CLIENTS=8 DURATION=30 BATCH_CLIENTS=4 BATCH_SIZE=1000 bench/compare.sh
#
# Installs PostgreSQL from Debian's packages if pgbench/initdb are missing
# (needs root). The cluster lives in a temp dir on a loopback port and is
# removed on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENTS=${CLIENTS:-64}
DURATION=${DURATION:-10}
PG_PORT=${PG_PORT:-54329}
BATCH_SIZE=${BATCH_SIZE:-1000}
# A batch producer is a few clients with big requests, not 64 small ones.
BATCH_CLIENTS=${BATCH_CLIENTS:-4}

pg_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && [ -x "$dir/pgbench" ] && { echo "$dir"; return 0; }
    done
    return 1
}

if ! PG=$(pg_bin); then
    echo "== installing PostgreSQL (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >/dev/null
    PG=$(pg_bin)
fi

# initdb refuses to run as root: run the cluster as the `postgres` user
# (the Debian package creates it), or as ourselves when not root.
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

WORK=$(mktemp -d /tmp/wallet-compare.XXXXXX)
chmod 755 "$WORK"
[ "$(id -u)" = 0 ] && chown postgres "$WORK"
cleanup() {
    as_pg "$PG/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "== machine"
echo "cpus: $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "memory: $(free -m | awk '/^Mem:/ {print $2}') MiB"
echo "disk: $(df -h "$WORK" | awk 'NR==2 {print $1, $2}')"

echo "== PostgreSQL $("$PG/postgres" --version | awk '{print $3}'): pgbench TPC-B, $CLIENTS clients, ${DURATION}s"
as_pg "$PG/initdb" -D "$WORK/pg" -U postgres --auth=trust >/dev/null
as_pg "$PG/pg_ctl" -D "$WORK/pg" -w -l "$WORK/pg.log" \
    -o "-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1 -c synchronous_commit=on -c fsync=on \
        -c max_connections=$((CLIENTS + 20)) -c shared_buffers=256MB" start >/dev/null
as_pg "$PG/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -i -s 10 -q postgres 2>&1 | tail -n 1
PGBENCH_OUT=$(as_pg "$PG/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres \
    -c "$CLIENTS" -j 2 -T "$DURATION" postgres 2>&1)
echo "$PGBENCH_OUT" | grep -E '^(number of failed|latency average|tps)'
PG_TPS=$(echo "$PGBENCH_OUT" | awk '/^tps = / {print $3; exit}')
as_pg "$PG/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null

echo "== building wallet-service (release)"
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/wallet-service

run_bench() {
    local name=$1
    shift
    echo "== wallet-service bench $*"
    local out status=0
    # stderr carries the per-second progress; keep the report.
    out=$("$BIN" bench "$@" 2>/dev/null) || status=$?
    echo "$out"
    [ "$status" = 0 ] || echo "(wallet-service bench exited $status: money not conserved or check failed)"
    echo "$out" | awk '/^throughput:/ {print $2; exit}' >"$WORK/$name.tps"
}

run_bench transfer --workload transfer --clients "$CLIENTS" --duration "$DURATION"
run_bench batch --workload batch --batch-size "$BATCH_SIZE" --clients "$BATCH_CLIENTS" --duration "$DURATION"
run_bench balance --workload balance --clients "$CLIENTS" --duration "$DURATION"

WS_TPS=$(cat "$WORK/transfer.tps")
echo "== summary ($CLIENTS clients, ${DURATION}s each)"
echo "pgbench TPC-B tps:           $PG_TPS"
echo "wallet-service transfers/s:  $WS_TPS"
awk -v a="$WS_TPS" -v b="$PG_TPS" 'BEGIN { if (b > 0) printf "ratio:                       %.2fx\n", a / b }'
echo "batch transfers/s:           $(cat "$WORK/batch.tps")"
echo "balance reads/s:             $(cat "$WORK/balance.tps")"
