#!/usr/bin/env bash
# The host store benchmark in quick mode: prints the must-show table
# (durable commits vs raw fdatasync and redb, group commit, recovery,
# compaction with reader p99, parallel search). Fails only on a crash.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$BINDSPACE_ROOT"

section "bench: host store (quick)"
BINDSPACE_BENCH_QUICK=1 run cargo bench -p bindspace-benches --bench store
exercised "host store benchmark"
