#!/usr/bin/env bash
# Side by side on this machine, in one run, on one throwaway PostgreSQL
# cluster: PostgreSQL's own bank-transfer benchmark (pgbench TPC-B,
# synchronous_commit=on), then `wallet-service bench` (release build,
# in-process server) with the same client count and duration:
#   - on PostgreSQL, in a database of the same cluster: `transfer` and
#     `transfer-fee` (a fee to one hot wallet in every transaction), with
#     each writer_connections of $WRITERS;
#   - on SQLite (a temporary file): `transfer`, `transfer-fee`, then the
#     batch and balance workloads.
# Prints every report, then a summary with the ratios.
#
#   bench/compare.sh                      # 64 clients, 10 s each
#   CLIENTS=8 DURATION=30 WRITERS="1 4" BATCH_CLIENTS=4 BATCH_SIZE=1000 bench/compare.sh
#   WALLET_BIN=/tmp/wallet-service-before bench/compare.sh   # no build
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
# The PostgreSQL backend's writer connections to measure.
WRITERS=${WRITERS:-"1 2 4 8"}
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

# The build first: compiling on the same cores must not overlap a measurement.
# WALLET_BIN=path measures that binary instead (say, one built at another
# commit), and builds nothing.
if [ -n "${WALLET_BIN:-}" ]; then
    BIN=$WALLET_BIN
else
    echo "== building wallet-service (release)"
    cargo build --release --locked --quiet
    BIN=${CARGO_TARGET_DIR:-target}/release/wallet-service
fi
echo "binary: $BIN ($("$BIN" --version))"

echo "== PostgreSQL $("$PG/postgres" --version | awk '{print $3}'): pgbench TPC-B, $CLIENTS clients, ${DURATION}s"
as_pg "$PG/initdb" -D "$WORK/pg" -U postgres --auth=trust >/dev/null
# Room for pgbench's clients, then for the bench's writers, readers and loader.
as_pg "$PG/pg_ctl" -D "$WORK/pg" -w -l "$WORK/pg.log" \
    -o "-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1 -c synchronous_commit=on -c fsync=on \
        -c max_connections=$((CLIENTS + 40)) -c shared_buffers=256MB" start >/dev/null
psql_pg() { as_pg "$PG/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -X -q "$@"; }
as_pg "$PG/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -i -s 10 -q postgres 2>&1 | tail -n 1
# Run twice, before and after our PostgreSQL runs: the spread between the
# two is the machine's noise over that time; ratios use their mean.
run_pgbench() {
    local name=$1 out
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    out=$(as_pg "$PG/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres \
        -c "$CLIENTS" -j 2 -T "$DURATION" postgres 2>&1)
    echo "$out" | grep -E '^(number of failed|latency average|tps)'
    echo "$out" | awk '/^tps = / {printf "%.0f\n", $3; exit}' >"$WORK/$name.tps"
}
run_pgbench pgbench-1
# pgbench's tables stay in their own database; the bench gets an empty one
# (each run of it there empties what the previous one left).
psql_pg -d postgres -c "CREATE DATABASE wallet_bench"
DB_URL="postgres://postgres@127.0.0.1:$PG_PORT/wallet_bench"

run_bench() {
    local name=$1
    shift
    echo "== wallet-service bench $*"
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    local out status=0
    # stderr carries the per-second progress; keep the report.
    out=$("$BIN" bench "$@" 2>/dev/null) || status=$?
    echo "$out"
    [ "$status" = 0 ] || echo "(wallet-service bench exited $status: money not conserved or check failed)"
    echo "$out" | awk '/^throughput:/ {print $2; exit}' >"$WORK/$name.tps"
    echo "$out" | sed -n 's/^latency:.* p99 \([0-9.]*\) ms.*/\1/p' >"$WORK/$name.p99"
}

# Each writer count is a config file; nothing else differs between runs.
for n in $WRITERS; do
    echo "writer_connections = $n" >"$WORK/writers-$n.toml"
    for workload in transfer transfer-fee; do
        WALLET_CONFIG="$WORK/writers-$n.toml" run_bench "pg-$workload-$n" \
            --db "$DB_URL" --workload "$workload" --clients "$CLIENTS" --duration "$DURATION"
    done
done
echo "== pgbench TPC-B again, $CLIENTS clients, ${DURATION}s"
run_pgbench pgbench-2
as_pg "$PG/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null
PG_TPS1=$(cat "$WORK/pgbench-1.tps") PG_TPS2=$(cat "$WORK/pgbench-2.tps")
PG_TPS=$(( (PG_TPS1 + PG_TPS2) / 2 ))

# SQLite: a temporary file of the bench's own (a WALLET_DB naming a
# PostgreSQL database would send these runs there).
unset WALLET_DB
run_bench transfer --workload transfer --clients "$CLIENTS" --duration "$DURATION"
run_bench transfer-fee --workload transfer-fee --clients "$CLIENTS" --duration "$DURATION"
run_bench batch --workload batch --batch-size "$BATCH_SIZE" --clients "$BATCH_CLIENTS" --duration "$DURATION"
run_bench balance --workload balance --clients "$CLIENTS" --duration "$DURATION"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
# The fee's cost: how much lower transfer-fee's throughput is than transfer's.
cost() { awk -v fee="$1" -v plain="$2" 'BEGIN { if (plain > 0) printf "%.0f%%", 100 * (plain - fee) / plain; else print "-" }'; }
echo "== summary ($CLIENTS clients, ${DURATION}s each; one cluster, one run)"
echo "pgbench TPC-B tps:                   $PG_TPS1 before, $PG_TPS2 after: mean $PG_TPS"
echo "PostgreSQL backend, by writer_connections (transfers/s, p99; fee cost: transfer-fee below transfer):"
for n in $WRITERS; do
    t=$(cat "$WORK/pg-transfer-$n.tps") f=$(cat "$WORK/pg-transfer-fee-$n.tps")
    printf "  writers %-2s transfer %6s (%sx pgbench, p99 %s ms)  transfer-fee %6s (p99 %s ms)  fee cost %s\n" \
        "$n" "$t" "$(ratio "$t" "$PG_TPS")" "$(cat "$WORK/pg-transfer-$n.p99")" \
        "$f" "$(cat "$WORK/pg-transfer-fee-$n.p99")" "$(cost "$f" "$t")"
done
WS_TPS=$(cat "$WORK/transfer.tps")
FEE_TPS=$(cat "$WORK/transfer-fee.tps")
echo "SQLite transfers/s:                  $WS_TPS ($(ratio "$WS_TPS" "$PG_TPS")x pgbench)"
echo "SQLite transfer-fee/s:               $FEE_TPS (fee cost $(cost "$FEE_TPS" "$WS_TPS"))"
echo "SQLite batch transfers/s:            $(cat "$WORK/batch.tps")"
echo "SQLite balance reads/s:              $(cat "$WORK/balance.tps")"
