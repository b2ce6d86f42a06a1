#!/usr/bin/env bash
# Load benchmark of `bindspace serve` with redis-benchmark (50 clients,
# loopback, bounded request counts: it stops by itself), beside Debian's
# redis-server (no persistence) doing PING and SET in the same run.
#
# bindspace's SET is a real write: parsed, checked, logged, applied. It is
# measured with --fsync always (every acknowledged write is on disk, group
# commit) and --fsync periodic (written to the OS at once, synced every
# second, the closest to redis-server without persistence). Both servers
# get the same SET request: the same 2,048 hex digits (one 8,192-bit
# fingerprint) as the value. SEARCH is exact k=10 over 10,000 fingerprints.
#
# Environment: BENCH_N (requests for PING/SET, default 100000), BENCH_SEARCH_N
# (default 10000), BENCH_RUNS (repetitions, median reported, default 3),
# BENCH_BIN (the bindspace binary; default: build --release).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
N="${BENCH_N:-100000}"
SEARCH_N="${BENCH_SEARCH_N:-10000}"
RUNS="${BENCH_RUNS:-3}"
CLIENTS=50
for tool in redis-benchmark redis-server redis-cli; do
    command -v "$tool" >/dev/null || { echo "benches/server: $tool is missing (Debian redis-tools, redis-server)" >&2; exit 1; }
done
if [[ -z "${BENCH_BIN:-}" ]]; then
    (cd "$ROOT" && cargo build --release -q -p bindspace-host --bin bindspace)
    BENCH_BIN="$ROOT/target/release/bindspace"
fi
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { # port
    for _ in $(seq 1 100); do redis-cli -p "$1" PING >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "benches/server: nothing answers on port $1" >&2; return 1
}
# Requests per second of one redis-benchmark run (median of RUNS runs).
rps() { # port requests keyspace command...
    local port=$1 n=$2 r=$3; shift 3
    local values=()
    for _ in $(seq 1 "$RUNS"); do
        values+=("$(timeout 300 redis-benchmark -p "$port" -c "$CLIENTS" -n "$n" -r "$r" --csv "$@" \
            | awk -F'"' 'NR==2 {print $4}')")
    done
    printf '%s\n' "${values[@]}" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

HEX="$(head -c 1024 /dev/urandom | od -An -tx1 -v | tr -d ' \n')"

# redis-server, no persistence, its own loopback port.
RPORT="$(free_port)"
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --dir "$WORK" >"$WORK/redis.log" 2>&1 &
PIDS+=($!)
wait_up "$RPORT"

# bindspace with 10,000 random fingerprints to search.
head -c $((10000 * 1024)) /dev/urandom >"$WORK/fps.bin"
"$BENCH_BIN" import --data-dir "$WORK/always" --format raw "$WORK/fps.bin" >/dev/null
serve() { # dir fsync -> port
    local port; port="$(free_port)"
    "$BENCH_BIN" serve --data-dir "$1" --fsync "$2" --port "$port" >"$WORK/serve-$2.log" 2>&1 &
    PIDS+=($!)
    wait_up "$port"
    echo "$port"
}
BPORT="$(serve "$WORK/always" always)"

echo "redis-benchmark: $CLIENTS clients, median of $RUNS runs; PING/SET $N requests, SEARCH $SEARCH_N"
r_ping=$(rps "$RPORT" "$N" 100 PING)
b_ping=$(rps "$BPORT" "$N" 100 PING)
r_set=$(rps "$RPORT" "$N" 100 SET "key:__rand_int__" "$HEX")
b_set=$(rps "$BPORT" "$N" 100 SET "0x20:__rand_int__" "$HEX")
b_search=$(rps "$BPORT" "$SEARCH_N" 100 SEARCH "$HEX" COUNT 10)
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
BPORT="$(serve "$WORK/periodic" periodic)"
b_set_p=$(rps "$BPORT" "$N" 100 SET "0x20:__rand_int__" "$HEX")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
printf '\n%-34s %14s %14s %8s\n' "command" "bindspace/s" "redis/s" "ratio"
printf '%-34s %14.0f %14.0f %8s\n' "PING" "$b_ping" "$r_ping" "$(ratio "$b_ping" "$r_ping")"
printf '%-34s %14.0f %14.0f %8s\n' "SET (fsync always: durable acks)" "$b_set" "$r_set" "$(ratio "$b_set" "$r_set")"
printf '%-34s %14.0f %14.0f %8s\n' "SET (fsync periodic, 1 s)" "$b_set_p" "$r_set" "$(ratio "$b_set_p" "$r_set")"
printf '%-34s %14.0f %14s %8s\n' "SEARCH k=10 over 10,000 x 8192 bit" "$b_search" "-" "-"
printf '\nratios are bindspace / redis-server (goal: PING and SET >= 0.5)\n'
