#!/usr/bin/env bash
# The `bindspace` program: the real server binary driven by redis-cli and
# the redis crate (every command, pipelining, WATCH across connections,
# AUTH, bad input, restart and SIGKILL), the command line (demo, import,
# export, check, compact), and a bounded fuzz run of the RESP framing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$BINDSPACE_ROOT"

require_cmd redis-cli
section "bindspace serve and the command line"
# Release, as the binary ships and as the README runs it (10-host already
# ran these tests in the debug build, with debug assertions).
run cargo test --release -p bindspace-host --test server_clients --test cli_commands
run cargo test --release -p bindspace-host --lib server::
exercised "bindspace server (redis-cli, redis crate)"

section "the README's first command"
run cargo run -q --release -p bindspace-host --bin bindspace -- demo
exercised "bindspace demo"

if cargo +nightly fuzz --help >/dev/null 2>&1; then
    section "fuzz: RESP framing (bounded)"
    # New inputs go to a scratch directory; the seeds stay as committed.
    make_scratch
    (cd host/fuzz && run cargo +nightly fuzz run resp_frame "$SCRATCH" corpus/resp_frame \
        -- -max_total_time="${BINDSPACE_FUZZ_SECONDS:-30}")
    exercised "RESP framing fuzz"
    drop_build_dir "$BINDSPACE_ROOT/host/fuzz/target"
else
    fail "cargo-fuzz is missing: the RESP framing fuzz run did not happen"
fi
