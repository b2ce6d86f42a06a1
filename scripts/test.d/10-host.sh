#!/usr/bin/env bash
# Host x86_64: the whole workspace's tests, with every Hamming kernel this CPU
# has (core's tests force AVX2 and AVX-512 in turn where the CPU has them;
# the host crate checks its run-time choice against the scalar path).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$BINDSPACE_ROOT"
make_scratch

section "CPU"
flags="$(grep -m1 '^flags' /proc/cpuinfo || true)"
for f in popcnt avx2 avx512f avx512vpopcntdq; do
    if grep -qw "$f" <<<"$flags"; then echo "  $f: yes"; else echo "  $f: no"; fi
done

section "cargo test --workspace"
run cargo test --workspace

# The core's native tests always build it with `alloc` and `mock-flash` (its
# dev-dependency on itself); without them it is tested on wasm32 (30-wasm32)
# and built for the Cortex-M targets (40-embedded, and the firmware step).

# The two tests that name the kernels print them only with --nocapture; run
# just those again (already built) and keep their lines.
section "kernels exercised"
run_logged "$SCRATCH/core.log" cargo test -q -p bindspace-core --lib \
    kernels::tests::report_exercised_kernels -- --nocapture --exact
run_logged "$SCRATCH/host.log" cargo test -q -p bindspace-host --lib \
    kernels::tests::detected_kernel_agrees_with_scalar -- --nocapture --exact

core_line="$(extract_line 'bindspace kernels exercised on' "$SCRATCH/core.log")" ||
    fail "core did not report its kernels"
host_line="$(extract_line 'bindspace host kernels available' "$SCRATCH/host.log")" ||
    fail "host did not report its kernels"
exercised "host $(uname -m): core tests: ${core_line#bindspace kernels exercised on }"
exercised "host $(uname -m): host run-time detection: ${host_line#bindspace host kernels available: }"
