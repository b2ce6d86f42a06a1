#!/usr/bin/env bash
# Lint: formatting of every crate (the workspace, and the firmware and fuzz
# crates that live outside it), shellcheck on every shell script, and clippy
# with warnings denied on every crate and every target the platform matrix
# builds.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$BINDSPACE_ROOT"

status=0
check() {
    local what="$1"
    shift
    section "$what"
    if run "$@"; then
        exercised "$what"
    else
        printf 'FAIL: %s\n' "$what" >&2
        status=1
    fi
}

check "rustfmt: workspace" cargo fmt --all --check -- --color=never
# Every crate with a workspace of its own (firmware, firmware/golden-gen,
# core/fuzz, and any added later). Without `--all`: with it, cargo fmt also
# checks the path dependencies, so each of these would re-check the core and
# report the core's formatting as its own.
while IFS= read -r manifest; do
    [[ "$manifest" == Cargo.toml ]] && continue
    check "rustfmt: ${manifest%/Cargo.toml}" cargo fmt --check --manifest-path "$manifest" -- --color=never
done < <(git ls-files -- 'Cargo.toml' '*/Cargo.toml' | xargs grep -l '^\[workspace\]')

# Every shell script in the repository (the test command, its steps, the
# build and runner scripts), warnings and errors.
mapfile -t scripts < <(git ls-files -- '*.sh' .ci/run)
check "shellcheck: ${#scripts[@]} scripts" shellcheck -x -S warning "${scripts[@]}"

check "clippy: workspace, all targets, $(uname -m)" \
    cargo clippy --workspace --all-targets -- -D warnings
check "clippy: bindspace-core, all targets, aarch64-unknown-linux-gnu" \
    cargo clippy -p bindspace-core --all-targets --target aarch64-unknown-linux-gnu -- -D warnings
# On wasm32 the core runs its library and unit tests (30-wasm32); its
# integration tests are native-only (they need the mock flash and std), so
# lint exactly what runs there: the library, and the library built as its
# unit-test binary (`--profile test` compiles it with cfg(test)). Code under
# cfg(target_feature = "simd128") exists only in the +simd128 build.
for flavour in scalar simd128; do
    flags=""
    [[ $flavour == simd128 ]] && flags="-C target-feature=+simd128"
    for profile in dev test; do
        check "clippy: bindspace-core, library ($profile profile), wasm32-unknown-unknown ($flavour)" \
            env RUSTFLAGS="$flags" CARGO_TARGET_DIR="$BINDSPACE_ROOT/target/wasm32-$flavour" \
            cargo clippy -p bindspace-core --lib --profile "$profile" --target wasm32-unknown-unknown -- -D warnings
    done
done
check "clippy: bindspace-wasm, all targets, wasm32-unknown-unknown" \
    cargo clippy -p bindspace-wasm --all-targets --target wasm32-unknown-unknown -- -D warnings
# Tests need std, so the Cortex-M targets lint the library alone.
for target in thumbv7em-none-eabihf thumbv6m-none-eabi; do
    check "clippy: bindspace-core, library, $target" \
        cargo clippy -p bindspace-core --lib --target "$target" -- -D warnings
done
if [[ -f firmware/Cargo.toml && -d firmware/src ]] && compgen -G 'firmware/src/*.rs' >/dev/null; then
    # From inside firmware/ so its own .cargo/config.toml (target, linker
    # script flags) applies.
    check "clippy: bindspace-firmware, thumbv7em-none-eabihf" \
        bash -c 'cd firmware && cargo clippy -- -D warnings'
fi
if [[ -f firmware/golden-gen/Cargo.toml ]]; then
    # The host program that computes the firmware's golden digests.
    check "clippy: firmware/golden-gen, $(uname -m)" \
        cargo clippy --manifest-path firmware/golden-gen/Cargo.toml -- -D warnings
fi
# The fuzz crates, workspaces of their own that cargo-fuzz builds with
# nightly (steps 51-52): their code is linted here on stable like the rest.
for manifest in core/fuzz/Cargo.toml host/fuzz/Cargo.toml; do
    [[ -f $manifest ]] || continue
    check "clippy: ${manifest%/Cargo.toml}, all targets, $(uname -m)" \
        cargo clippy --manifest-path "$manifest" --all-targets -- -D warnings
done
# The cross and debug builds end here: the steps after this one build only
# in target/release (and their own sanitizer and loom directories).
for dir in target/debug target/wasm32-scalar target/wasm32-simd128 target/aarch64-unknown-linux-gnu \
    target/thumbv7em-none-eabihf target/thumbv6m-none-eabi target/wasm32-unknown-unknown firmware/target \
    core/fuzz/target/debug host/fuzz/target/debug; do
    drop_build_dir "$BINDSPACE_ROOT/$dir"
done
exit "$status"
