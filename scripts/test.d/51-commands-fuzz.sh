#!/usr/bin/env bash
# The command language under cargo-fuzz: target `commands` (core/fuzz)
# runs the parser and executor on a small space for a bounded time,
# starting from the committed seed corpus (core/fuzz/corpus/commands, read
# only: what the run discovers goes to a scratch directory, so the
# repository's corpus stays small). A crash, a panic or a broken invariant
# (a refused command that changed the space) fails the step and leaves the
# input in core/fuzz/artifacts/commands/.
#
#   BINDSPACE_FUZZ_SECONDS=600 scripts/test.sh commands-fuzz   # longer run
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$BINDSPACE_ROOT"
make_scratch

seconds="${BINDSPACE_FUZZ_SECONDS:-60}"

rustup toolchain list | grep -q '^nightly' ||
    { fail "cargo-fuzz needs a nightly toolchain (scripts/test.sh installs it)"; exit 1; }
if ! cargo fuzz --version >/dev/null 2>&1; then
    section "installing cargo-fuzz"
    run cargo install cargo-fuzz --locked
fi

section "cargo fuzz build commands"
cd core/fuzz
run cargo +nightly fuzz build commands

section "cargo fuzz run commands for ${seconds}s"
mkdir -p "$SCRATCH/corpus"
log="$SCRATCH/fuzz.log"
if ! run_logged "$log" cargo +nightly fuzz run commands "$SCRATCH/corpus" corpus/commands -- \
    -max_total_time="$seconds" -max_len=4096 -dict=commands.dict -print_final_stats=1; then
    fail "fuzz target 'commands' failed; the input is in core/fuzz/artifacts/commands/ (reproduce: cd core/fuzz && cargo +nightly fuzz run commands <file>)"
    exit 1
fi

done_line="$(extract_line 'Done [0-9]+ runs' "$log")" ||
    { fail "libFuzzer did not report its runs"; exit 1; }
seeds="$(find corpus/commands -type f | wc -l)"
found="$(find "$SCRATCH/corpus" -type f | wc -l)"
exercised "cargo-fuzz target commands: ${done_line#Done } from $seeds seed inputs ($found new corpus inputs), no failure"
