#!/usr/bin/env bash
# Every figure of docs/performance.md's table, from one run on this machine:
#   - the references: the disk's fdatasync rate, PostgreSQL's own
#     bank-transfer benchmark (pgbench TPC-B, synchronous_commit=on) on a
#     throwaway cluster, and the HTTP ceiling (`bench --workload ceiling`:
#     API v1's GET /health, no ledger work, under the same load generator);
#   - `wallet-service bench` (release build, in-process server) on SQLite:
#     transfer, entry, balance, mixed, batch, hold, trade, transfer with a
#     webhook receiver attached; then on PostgreSQL (a database of the same
#     cluster): transfer, with each writer_connections of $WRITERS;
#   - a summary: each workload with its ratio to its reference, and each of
#     issue 16's targets met or missed (and by how much).
#
#   bench/compare.sh                      # 64 clients, 10 s each
#   CLIENTS=8 DURATION=30 WRITERS="1 2 4" BATCH_CLIENTS=4 BATCH_SIZE=1000 bench/compare.sh
#   WALLET_BIN=/tmp/wallet-service-before bench/compare.sh   # no build
#
# Installs PostgreSQL from Debian's packages if pgbench/initdb are missing
# (needs root). The cluster lives in a temp dir on a loopback port and is
# removed on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENTS=${CLIENTS:-64}
DURATION=${DURATION:-10}
WALLETS=${WALLETS:-100000}
PG_PORT=${PG_PORT:-54329}
BATCH_SIZE=${BATCH_SIZE:-1000}
# A batch producer is a few clients with big requests, not 64 small ones.
BATCH_CLIENTS=${BATCH_CLIENTS:-4}
# The PostgreSQL backend's writer connections to measure (2 is the default).
WRITERS=${WRITERS:-"2"}
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

# What a commit costs the disk at least: a write of one 4 KiB page made
# durable with fdatasync, in place in a preallocated file, as SQLite's WAL
# is written once it has grown to its working size (appends that grow a
# file also sync its size, and ran at about half this rate here). On the
# file system the bench's SQLite file lives on (the temp dir).
echo "== fdatasync rate (4 KiB writes in place, 5 s)"
python3 - "$WORK/fsync.probe" >"$WORK/fsync.rate" <<'EOF'
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
pages = 4096
os.write(fd, b"\0" * (4096 * pages))
os.fsync(fd)
page, n, start = b"\1" * 4096, 0, time.monotonic()
while time.monotonic() - start < 5:
    os.pwrite(fd, page, (n % pages) * 4096)
    os.fdatasync(fd)
    n += 1
print(round(n / (time.monotonic() - start)))
EOF
FSYNC=$(cat "$WORK/fsync.rate")
echo "fdatasync/s: $FSYNC"

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
    echo "$status" >"$WORK/$name.status"
}

# SQLite: a temporary file of the bench's own (a WALLET_DB naming a
# PostgreSQL database would send these runs there). The ceiling first and
# last: their spread is the machine's noise over the SQLite runs.
unset WALLET_DB
common=(--clients "$CLIENTS" --duration "$DURATION" --wallets "$WALLETS")
run_bench ceiling-1 --workload ceiling "${common[@]}"
run_bench transfer --workload transfer "${common[@]}"
run_bench entry --workload entry "${common[@]}"
run_bench balance --workload balance "${common[@]}"
run_bench mixed --workload mixed "${common[@]}"
run_bench batch --workload batch --batch-size "$BATCH_SIZE" --clients "$BATCH_CLIENTS" \
    --duration "$DURATION" --wallets "$WALLETS"
run_bench hold --workload hold "${common[@]}"
run_bench trade --workload trade "${common[@]}"
run_bench webhook --workload transfer --webhook ok "${common[@]}"
run_bench transfer-2 --workload transfer "${common[@]}"
run_bench ceiling-2 --workload ceiling "${common[@]}"

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
# Each writer count is a config file; nothing else differs between runs.
for n in $WRITERS; do
    echo "writer_connections = $n" >"$WORK/writers-$n.toml"
    WALLET_CONFIG="$WORK/writers-$n.toml" run_bench "pg-transfer-$n" \
        --db "$DB_URL" --workload transfer "${common[@]}"
done
echo "== pgbench TPC-B again, $CLIENTS clients, ${DURATION}s"
run_pgbench pgbench-2
as_pg "$PG/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null

# ---- summary -------------------------------------------------------------
v() { cat "$WORK/$1.$2"; }
mean() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (a + b) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
# verdict MEASURED OP GOAL: "met", or "missed: N.NNx short" (">=") / "N.NNx over" ("<=").
verdict() {
    awk -v m="$1" -v op="$2" -v g="$3" 'BEGIN {
        if (m == "" || g == "") { print "not measured"; exit }
        if (op == ">=") { if (m >= g) print "met"; else printf "missed (%.2fx short)\n", g / m }
        else            { if (m <= g) print "met"; else printf "missed (%.2fx over)\n", m / g }
    }'
}
CEIL=$(mean "$(v ceiling-1 tps)" "$(v ceiling-2 tps)")
TRANSFER=$(mean "$(v transfer tps)" "$(v transfer-2 tps)")
PG_TPS=$(mean "$(v pgbench-1 tps)" "$(v pgbench-2 tps)")
echo
echo "== summary ($CLIENTS clients, ${DURATION}s each, $WALLETS wallets; one run)"
echo "references:"
printf "  %-34s %8s/s\n" "fdatasync (4 KiB, in place)" "$FSYNC"
printf "  %-34s %8s/s  (%s, %s)\n" "HTTP ceiling (GET /api/v1/health)" "$CEIL" "$(v ceiling-1 tps)" "$(v ceiling-2 tps)"
printf "  %-34s %8s/s  (%s, %s)\n" "pgbench TPC-B" "$PG_TPS" "$(v pgbench-1 tps)" "$(v pgbench-2 tps)"
echo "SQLite (per second; ratio to the reference in brackets):"
row() { # name label reference-value reference-name
    printf "  %-34s %8s  p99 %7s ms  %5sx %s\n" "$2" "$(v "$1" tps)" "$(v "$1" p99)" \
        "$(ratio "$(v "$1" tps)" "$3")" "$4"
}
row transfer "transfer" "$FSYNC" "fsync"
row transfer-2 "transfer (again, after the others)" "$FSYNC" "fsync"
row entry "entry (API v1)" "$FSYNC" "fsync"
row balance "balance" "$CEIL" "ceiling"
row mixed "mixed (90% balance)" "$CEIL" "ceiling"
row batch "batch ($BATCH_CLIENTS x $BATCH_SIZE; transfers)" "$TRANSFER" "transfer"
row hold "hold (placed + captured)" "$TRANSFER" "transfer"
row trade "trade" "$TRANSFER" "transfer"
row webhook "transfer, webhook receiver on" "$TRANSFER" "transfer"
echo "PostgreSQL backend:"
for n in $WRITERS; do
    row "pg-transfer-$n" "transfer, $n writer connections" "$PG_TPS" "pgbench"
done
echo "targets:"
target() { printf "  %-58s %10s  %s\n" "$1" "$2" "$(verdict "$2" "$3" "$4")"; }
target "batch of $BATCH_SIZE >= 100,000 transfers/s" "$(v batch tps)" ">=" 100000
target "transfer >= 3x fsync rate (ratio)" "$(ratio "$TRANSFER" "$FSYNC")" ">=" 3
target "transfer >= 25% of the HTTP ceiling (ratio)" "$(ratio "$TRANSFER" "$CEIL")" ">=" 0.25
target "transfer p99 <= 15 ms" "$(v transfer p99)" "<=" 15
target "balance >= 50% of the HTTP ceiling (ratio)" "$(ratio "$(v balance tps)" "$CEIL")" ">=" 0.5
target "webhook receiver on: >= 90% of transfer (ratio)" "$(ratio "$(v webhook tps)" "$TRANSFER")" ">=" 0.9
for n in $WRITERS; do
    target "PostgreSQL transfer ($n writers) >= 2x pgbench (ratio)" \
        "$(ratio "$(v "pg-transfer-$n" tps)" "$PG_TPS")" ">=" 2
done
failed=0
for f in "$WORK"/*.status; do [ "$(cat "$f")" = 0 ] || failed=1; done
if [ "$failed" = 0 ]; then
    echo "audits: every run conserved money and passed check"
else
    echo "audits: A RUN FAILED ITS AUDIT (see its report above)"
    exit 1
fi
