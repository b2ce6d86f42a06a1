#!/usr/bin/env bash
# redis-benchmark against `bindspace serve` (PING, SET, SEARCH; 50 clients)
# beside redis-server (PING, SET) in the same run; prints the table and
# ratios. Fails only if a server does not start or a run crashes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$BINDSPACE_ROOT"

require_cmd redis-benchmark redis-server redis-cli
section "bench: bindspace serve vs redis-server"
run benches/server/run.sh
exercised "server benchmark (redis-benchmark)"
