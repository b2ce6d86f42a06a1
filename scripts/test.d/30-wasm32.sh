#!/usr/bin/env bash
# wasm32: the core's tests (every kernel oracle test over all lengths and
# offsets, the property tests, the fingerprint and address tests) run by
# wasm-bindgen-test-runner, in Node and in headless Chromium, built twice:
# plain (scalar kernel) and with +simd128 (simd128 kernel). Only the
# cross-check against the `crc32c` crate stays on native targets, where that
# crate builds; the known-answer CRC tests run here too.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$BINDSPACE_ROOT"
make_scratch
require_cmd wasm-bindgen-test-runner node chromium chromedriver

target=wasm32-unknown-unknown

write_webdriver_json "$SCRATCH/webdriver.json"

# One build per flavour, each in its own target directory: RUSTFLAGS changes
# every artifact, and separate directories keep both builds warm between runs.
run_flavour() {
    local flavour="$1" runtime="$2" rustflags="$3" log line
    log="$SCRATCH/$flavour-$runtime.log"
    section "wasm32 $flavour build, tests in $runtime"
    # The runner gives a whole browser run 20 s by default, and a long
    # synchronous test keeps the page from answering chromedriver meanwhile:
    # on a loaded 2-core machine the simd128 run in Chromium timed out
    # ("execute/sync timed out after 19.0s") while Node took 34 s. The
    # budget is for the whole suite, so give it room.
    local env_vars=(
        "RUSTFLAGS=$rustflags"
        "CARGO_TARGET_DIR=$BINDSPACE_ROOT/target/wasm32-$flavour"
        "WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-600}"
    )
    if [[ "$runtime" == chromium ]]; then
        env_vars+=(
            WASM_BINDGEN_USE_BROWSER=1
            "CHROMEDRIVER=$(command -v chromedriver)"
            "WASM_BINDGEN_TEST_WEBDRIVER_JSON=$SCRATCH/webdriver.json"
        )
    fi
    run_logged "$log" env "${env_vars[@]}" \
        cargo test -p bindspace-core --target "$target" --lib -- --nocapture || return 1

    grep -q 'test result: ok' "$log" || fail "no passing test result in $runtime" || return 1
    if [[ "$runtime" == chromium ]]; then
        grep -q 'Running headless tests in Chrome' "$log" ||
            fail "the runner did not use headless Chromium" || return 1
    fi
    line="$(extract_line 'bindspace kernels exercised on' "$log")" ||
        fail "core did not report its kernels" || return 1
    if [[ "$flavour" == simd128 ]]; then
        grep -q 'simd128' <<<"$line" || fail "simd128 build did not exercise simd128: $line" || return 1
    else
        if grep -q 'simd128' <<<"$line"; then
            fail "plain build claims simd128: $line"
            return 1
        fi
    fi
    exercised "$target ($flavour build) in $runtime: ${line#bindspace kernels exercised on wasm32: }," \
        "$(grep -Eo 'test result: ok\. [0-9]+ passed' "$log" | head -n1 | grep -Eo '[0-9]+ passed') tests"
}

# Tests that cannot run on wasm32, each with its reason. Every other test of
# the core must run there: a plain `#[test]` is invisible to
# wasm-bindgen-test-runner, so a test module without the wasm32 import of
# `wasm_bindgen_test as test` would be skipped without a word. The check
# below turns that silence into a failure.
HOST_ONLY_TESTS=(
    crc32c::tests::agrees_with_crc32c_crate # the `crc32c` crate is a native-only dev-dependency
    crc32c::tests::the_instruction_is_used_where_present # x86_64's SSE4.2 path; wasm32 has only the table
    command::source::tests::a_growable_space_reports_what_it_can_hold # needs the `alloc` feature, on for native core tests only (core/Cargo.toml); wasm/tests/commands.rs checks the same on wasm32 through the binding
)

every_host_test_runs_on_wasm() {
    section "every bindspace-core test also runs on wasm32"
    cargo test -p bindspace-core --lib -- --list 2>/dev/null |
        sed -n 's/: test$//p' | sort >"$SCRATCH/host.list"
    env RUSTFLAGS= CARGO_TARGET_DIR="$BINDSPACE_ROOT/target/wasm32-scalar" \
        cargo test -p bindspace-core --target "$target" --lib -- --list 2>/dev/null |
        sed -n 's/: test$//p' | sort >"$SCRATCH/wasm.list"
    printf '%s\n' "${HOST_ONLY_TESTS[@]}" | sort >"$SCRATCH/host-only.list"
    comm -23 "$SCRATCH/host.list" "$SCRATCH/wasm.list" |
        comm -23 - "$SCRATCH/host-only.list" >"$SCRATCH/missing.list"
    local host wasm
    host="$(wc -l <"$SCRATCH/host.list")"
    wasm="$(wc -l <"$SCRATCH/wasm.list")"
    echo "host: $host tests; wasm32: $wasm tests; host-only by design: ${#HOST_ONLY_TESTS[@]}"
    if ((host == 0 || wasm == 0)); then
        fail "could not list the tests (host $host, wasm32 $wasm)"
        return 1
    fi
    if [[ -s "$SCRATCH/missing.list" ]]; then
        sed 's/^/  not run on wasm32: /' "$SCRATCH/missing.list"
        fail "add to each such test module:
    #[cfg(target_arch = \"wasm32\")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
or, if a test truly cannot run on wasm32, list it in HOST_ONLY_TESTS in $0 with the reason"
        return 1
    fi
}

status=0
run_flavour scalar node "" || status=1
every_host_test_runs_on_wasm || status=1
run_flavour scalar chromium "" || status=1
run_flavour simd128 node "-C target-feature=+simd128" || status=1
run_flavour simd128 chromium "-C target-feature=+simd128" || status=1
exit "$status"
