#!/usr/bin/env bash
# aarch64 Linux (Raspberry Pi class): the core and host tests cross-compiled
# with the Debian cross gcc and run under qemu-aarch64 (.cargo/config.toml
# sets the linker and runner). NEON is baseline on aarch64, so the core
# chooses it at compile time; core's report test asserts it ran.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$BINDSPACE_ROOT"
make_scratch
require_cmd aarch64-linux-gnu-gcc qemu-aarch64

target=aarch64-unknown-linux-gnu

# The unit tests: every kernel against the oracle, fingerprints, addresses,
# the space, search, commands and the log format. The integration tests
# (long power-cut and crash loops) exercise logic that is the same on every
# target and already run natively; under emulation they would take most of
# an hour, so they stay on the host.
#
# Emulation is slow for unoptimised code, so these tests are built at
# opt-level 2 while debug assertions and overflow checks stay on (profile
# settings through the environment: the workspace profiles stay as they are).
section "cargo test on $target under $(qemu-aarch64 --version | head -n1)"
run_logged "$SCRATCH/test.log" env CARGO_PROFILE_TEST_OPT_LEVEL=2 CARGO_PROFILE_DEV_OPT_LEVEL=2 \
    cargo test --target "$target" -p bindspace-core -p bindspace-host --lib -- --nocapture

# Each test binary is an aarch64 ELF run by qemu; the kernels the tests name
# prove the NEON path ran there.
core_line="$(extract_line 'bindspace kernels exercised on' "$SCRATCH/test.log")" ||
    fail "core did not report its kernels"
host_line="$(extract_line 'bindspace host kernels available' "$SCRATCH/test.log")" ||
    fail "host did not report its kernels"
grep -q 'on aarch64: .*neon' <<<"$core_line" || fail "NEON was not exercised: $core_line"
exercised "$target under qemu-aarch64: core tests: ${core_line#bindspace kernels exercised on aarch64: }"
exercised "$target under qemu-aarch64: host run-time choice: ${host_line#bindspace host kernels available: }"

# The committed golden log images (tests/golden/), opened here too: the
# core's unit tests write fresh images, these are the bytes other targets
# wrote.
section "golden log images on $target"
run_logged "$SCRATCH/golden.log" env CARGO_PROFILE_TEST_OPT_LEVEL=2 CARGO_PROFILE_DEV_OPT_LEVEL=2 \
    cargo test --target "$target" -p bindspace-tests --test golden -- --nocapture
golden_line="$(extract_line 'golden log images checked' "$SCRATCH/golden.log")" ||
    fail "the golden images were not checked on $target"
exercised "$target under qemu-aarch64: ${golden_line}"
# Built at opt-level 2 for emulation, so nothing later reuses it (the lint
# step's aarch64 clippy run checks without building).
drop_build_dir "$BINDSPACE_ROOT/target/$target"
