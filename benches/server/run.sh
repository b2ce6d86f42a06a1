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
# Beside requests per second it prints each server's CPU time per request.
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
# A run that fails or prints no rate fails the benchmark (the callers'
# assignments stop the script under `set -e`; inside this function, run in
# a command substitution, errexit is off, so every step is checked here).
rps() { # port requests keyspace command...
    local port=$1 n=$2 r=$3; shift 3
    local values=() v
    for _ in $(seq 1 "$RUNS"); do
        v="$(timeout 300 redis-benchmark -p "$port" -c "$CLIENTS" -n "$n" -r "$r" --csv "$@" \
            | awk -F'"' 'NR==2 {print $4}')" ||
            { echo "benches/server: redis-benchmark failed on port $port: $1" >&2; return 1; }
        [[ "$v" =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
            { echo "benches/server: no rate from redis-benchmark on port $port ($1): '$v'" >&2; return 1; }
        values+=("$v")
    done
    printf '%s\n' "${values[@]}" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

# Server CPU time (user + system) per request, in µs, of process $1 over
# what `rps` just ran: the server's own cost, which the load of the
# machine and redis-benchmark's share of the processors move less than
# requests per second. Usage: before=$(cpu_ticks PID); rps ...;
# cpu_per_request PID "$before" REQUESTS_PER_RUN.
CLK_TCK="$(getconf CLK_TCK)"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_per_request() { # pid ticks_before requests_per_run
    awk -v a="$2" -v b="$(cpu_ticks "$1")" -v hz="$CLK_TCK" -v n="$3" -v runs="$RUNS" \
        'BEGIN { printf "%.1f", (b - a) * 1e6 / hz / (n * runs) }'
}

HEX="$(head -c 1024 /dev/urandom | od -An -tx1 -v | tr -d ' \n')"

# redis-server, no persistence, its own loopback port.
RPORT="$(free_port)"
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --dir "$WORK" >"$WORK/redis.log" 2>&1 &
RPID=$!
PIDS+=("$RPID")
wait_up "$RPORT"

# bindspace with 10,000 random fingerprints to search.
head -c $((10000 * 1024)) /dev/urandom >"$WORK/fps.bin"
"$BENCH_BIN" import --data-dir "$WORK/always" --format raw "$WORK/fps.bin" >/dev/null
# Starts bindspace on data directory $1 with --fsync $2; sets BPORT and
# BPID. Not run in a subshell, so that cleanup knows the process.
serve() { # dir fsync
    BPORT="$(free_port)"
    "$BENCH_BIN" serve --data-dir "$1" --fsync "$2" --port "$BPORT" >"$WORK/serve-$2.log" 2>&1 &
    BPID=$!
    PIDS+=("$BPID")
    wait_up "$BPORT"
}
serve "$WORK/always" always

echo "redis-benchmark: $CLIENTS clients, median of $RUNS runs; PING/SET $N requests, SEARCH $SEARCH_N"
t=$(cpu_ticks "$RPID"); r_ping=$(rps "$RPORT" "$N" 100 PING); r_ping_cpu=$(cpu_per_request "$RPID" "$t" "$N")
t=$(cpu_ticks "$RPID"); r_set=$(rps "$RPORT" "$N" 100 SET "key:__rand_int__" "$HEX"); r_set_cpu=$(cpu_per_request "$RPID" "$t" "$N")
t=$(cpu_ticks "$BPID"); b_ping=$(rps "$BPORT" "$N" 100 PING); b_ping_cpu=$(cpu_per_request "$BPID" "$t" "$N")
t=$(cpu_ticks "$BPID"); b_set=$(rps "$BPORT" "$N" 100 SET "0x20:__rand_int__" "$HEX"); b_set_cpu=$(cpu_per_request "$BPID" "$t" "$N")
b_search=$(rps "$BPORT" "$SEARCH_N" 100 SEARCH "$HEX" COUNT 10)
kill "$BPID"; wait "$BPID" 2>/dev/null || true
serve "$WORK/periodic" periodic
t=$(cpu_ticks "$BPID"); b_set_p=$(rps "$BPORT" "$N" 100 SET "0x20:__rand_int__" "$HEX"); b_set_p_cpu=$(cpu_per_request "$BPID" "$t" "$N")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
printf '\n%-34s %12s %10s %7s %14s %14s\n' "command" "bindspace/s" "redis/s" "ratio" "bindspace µs" "redis µs"
row() { # name bindspace/s redis/s bindspace-cpu redis-cpu ("-": not measured)
    local r="-"
    [[ "$3" != "-" ]] && r="$(ratio "$2" "$3")"
    printf '%-34s %12.0f %10s %7s %14s %14s\n' "$1" "$2" "$3" "$r" "$4" "$5"
}
row "PING" "$b_ping" "$(printf '%.0f' "$r_ping")" "$b_ping_cpu" "$r_ping_cpu"
row "SET (fsync always: durable acks)" "$b_set" "$(printf '%.0f' "$r_set")" "$b_set_cpu" "$r_set_cpu"
row "SET (fsync periodic, 1 s)" "$b_set_p" "$(printf '%.0f' "$r_set")" "$b_set_p_cpu" "$r_set_cpu"
row "SEARCH k=10 over 10,000 x 8192 bit" "$b_search" "-" "-" "-"
printf '\nratios are bindspace / redis-server (goal: PING and SET >= 0.5); µs: server CPU time\n'
printf '(user + system) per request, a cost that the load of the machine moves less\n'
