#!/usr/bin/env bash
# The log under stress:
# 1. the full power-cut suite (core/tests/log_power_cut.rs) in a release
#    build: every programmed byte of scripted workloads cut, two cuts in a
#    row, random cuts of a long run; it prints how many cut points it
#    covered (a debug `cargo test` covers a share of them);
# 2. cargo-fuzz target `recovery` (core/fuzz) for a bounded time: log
#    recovery on random bytes, as an in-memory image and as the contents of
#    a mock NOR flash, starting from the committed seed corpus
#    (core/fuzz/corpus/recovery, read only: what the run discovers goes to a
#    scratch directory). A panic, a hang or a broken invariant fails the
#    step and leaves the input in core/fuzz/artifacts/recovery/.
#
#   BINDSPACE_FUZZ_SECONDS=600 scripts/test.sh log-fuzz   # longer fuzzing
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$BINDSPACE_ROOT"
make_scratch

seconds="${BINDSPACE_FUZZ_SECONDS:-60}"

section "power-cut suite, release build (every cut point)"
cuts_log="$SCRATCH/power-cut.log"
run_logged "$cuts_log" cargo test --release -p bindspace-core --test log_power_cut -- --nocapture ||
    { fail "power-cut suite failed (see above)"; exit 1; }
grep -q 'test result: ok' "$cuts_log" || { fail "no passing power-cut test result"; exit 1; }
grep -q 'quick run' "$cuts_log" && { fail "the release run did not cover every cut point"; exit 1; }
total=0
while read -r n; do total=$((total + n)); done < <(grep -Eo 'power-cut .*: [0-9]+ cut points' "$cuts_log" | grep -Eo '[0-9]+ cut points' | grep -Eo '^[0-9]+')
grep -E '^power-cut ' "$cuts_log" | sed 's/^/  /'
((total > 0)) || { fail "the power-cut suite reported no cut points"; exit 1; }
exercised "log power-cut suite (mock NOR flash, release): $total cut points recovered and checked against the model"

rustup toolchain list | grep -q '^nightly' ||
    { fail "cargo-fuzz needs a nightly toolchain (scripts/test.sh installs it)"; exit 1; }
if ! cargo fuzz --version >/dev/null 2>&1; then
    section "installing cargo-fuzz"
    run cargo install cargo-fuzz --locked
fi

section "cargo fuzz build recovery"
cd core/fuzz
run cargo +nightly fuzz build recovery

section "cargo fuzz run recovery for ${seconds}s"
mkdir -p "$SCRATCH/corpus"
log="$SCRATCH/fuzz.log"
if ! run_logged "$log" cargo +nightly fuzz run recovery "$SCRATCH/corpus" corpus/recovery -- \
    -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1; then
    fail "fuzz target 'recovery' failed; the input is in core/fuzz/artifacts/recovery/ (reproduce: cd core/fuzz && cargo +nightly fuzz run recovery <file>)"
    exit 1
fi

done_line="$(extract_line 'Done [0-9]+ runs' "$log")" ||
    { fail "libFuzzer did not report its runs"; exit 1; }
seeds="$(find corpus/recovery -type f | wc -l)"
found="$(find "$SCRATCH/corpus" -type f | wc -l)"
exercised "cargo-fuzz target recovery: ${done_line#Done } from $seeds seed inputs ($found new corpus inputs), no failure"
# The sanitizer build (shared with 51-commands-fuzz, which runs first).
drop_build_dir "$BINDSPACE_ROOT/core/fuzz/target"
