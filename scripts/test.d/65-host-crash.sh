#!/usr/bin/env bash
# The host store's crash, fault and concurrency tests: thousands of
# simulated power cuts against a model (BINDSPACE_CRASH_TRIALS, default
# 2000), the seed-defect regressions, and the writers/readers/compaction
# stress test, and the real SIGKILL test (a child process committing in a
# loop, killed 20 times).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$BINDSPACE_ROOT"

section "host store: power cuts, faults, concurrency"
run cargo test -p bindspace-host --release \
    --test store_crash --test store_faults --test store_concurrency --test store_kill -- --nocapture
exercised "host store crash tests"
