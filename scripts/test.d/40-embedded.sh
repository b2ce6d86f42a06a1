#!/usr/bin/env bash
# Embedded: the no_std, no-heap core builds for Cortex-M4F (thumbv7em-none-
# eabihf) and Cortex-M0 (thumbv6m-none-eabi, no compare-and-swap atomics),
# in debug and release. Running it on a Cortex-M is the firmware step's job.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$BINDSPACE_ROOT"

for target in thumbv7em-none-eabihf thumbv6m-none-eabi; do
    for profile in dev release; do
        section "bindspace-core for $target ($profile)"
        run cargo build -p bindspace-core --target "$target" --profile "$profile"
        lib="target/$target/$([[ $profile == dev ]] && echo debug || echo release)/libbindspace_core.rlib"
        [[ -f "$lib" ]] || fail "no $lib after the build"
        exercised "$target ($profile): bindspace-core builds, $(du -k "$lib" | cut -f1) KiB rlib"
    done
done
