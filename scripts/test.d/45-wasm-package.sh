#!/usr/bin/env bash
# The wasm binding and the npm package `bindspace`:
#  1. bindspace-wasm's wasm-bindgen-test suites in Node and in headless
#     Chromium, built plain (scalar kernel) and with +simd128;
#  2. the package built by wasm/build.sh (simd128), its .wasm size
#     raw and gzipped, checked against the budget (150 KiB gzipped);
#  3. `npm pack`, installed into an empty directory: Node tests there that
#     `require` it and `import` it (store, search, errors, exportLog/openLog,
#     the golden logs of tests/golden/), and `tsc --noEmit` on usage files
#     with Node and bundler module resolution;
#  4. the speed benchmark: exact top-10 search over 65,536 x 1,024-bit
#     entries in Node (simd128) beside the native build of the same search
#     in the same run (benches/wasm/search.mjs); it prints the table and
#     fails only if wasm and native results differ, never on a noisy ratio.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$BINDSPACE_ROOT"
make_scratch
require_cmd wasm-bindgen wasm-bindgen-test-runner node npm chromium chromedriver gzip

target=wasm32-unknown-unknown
budget_kib=150
dev="$BINDSPACE_ROOT/wasm/dev"

# Project-local tools (typescript, binaryen's wasm-opt), pinned by
# wasm/dev/package-lock.json; installed only when the lock file changed.
ensure_dev_tools() {
    if ! cmp -s "$dev/package-lock.json" "$dev/node_modules/.bindspace-lock" 2>/dev/null; then
        section "npm ci in wasm/dev"
        # Checked here: this runs where errexit is off (inside `if`), and
        # the marker must only be written after an install that worked.
        (cd "$dev" && run npm ci --no-audit --no-fund --loglevel=error) || return 1
        cp "$dev/package-lock.json" "$dev/node_modules/.bindspace-lock" || return 1
    fi
}

write_webdriver_json "$SCRATCH/webdriver.json"

# The binding's own suites (wasm/tests/*.rs), one build per flavour in the
# same target directories as the core's wasm32 step.
binding_tests() {
    local flavour="$1" runtime="$2" rustflags="$3" log passed
    log="$SCRATCH/binding-$flavour-$runtime.log"
    section "bindspace-wasm tests: $flavour build in $runtime"
    local env_vars=(
        "RUSTFLAGS=$rustflags"
        "CARGO_TARGET_DIR=$BINDSPACE_ROOT/target/wasm32-$flavour"
    )
    if [[ "$runtime" == chromium ]]; then
        env_vars+=(
            WASM_BINDGEN_USE_BROWSER=1
            "CHROMEDRIVER=$(command -v chromedriver)"
            "WASM_BINDGEN_TEST_WEBDRIVER_JSON=$SCRATCH/webdriver.json"
        )
    fi
    run_logged "$log" env "${env_vars[@]}" \
        cargo test -p bindspace-wasm --target "$target" --tests || return 1
    if [[ "$runtime" == chromium ]]; then
        grep -q 'Running headless tests in Chrome' "$log" ||
            fail "the runner did not use headless Chromium" || return 1
    fi
    passed="$(grep -Eo 'test result: ok\. [0-9]+ passed' "$log" | grep -Eo '[0-9]+' |
        awk '{s += $1} END {print s + 0}')"
    ((passed > 0)) || fail "no binding test ran in $runtime ($flavour)" || return 1
    exercised "bindspace-wasm ($flavour build) in $runtime: $passed tests"
}

build_package() {
    section "build the npm package (simd128)"
    ensure_dev_tools || { fail "npm ci in wasm/dev failed"; return 1; }
    run_logged "$SCRATCH/build.log" bash wasm/build.sh || return 1
    local wasm raw gz
    wasm="$BINDSPACE_ROOT/wasm/pkg/bindspace_wasm_bg.wasm"
    raw="$(stat -c %s "$wasm")"
    gz="$(gzip -9 -c "$wasm" | wc -c)"
    printf '\n| .wasm (simd128, as wasm/build.sh ships it) | raw | gzip -9 | budget |\n|---|---|---|---|\n'
    printf '| bindspace_wasm_bg.wasm | %d B (%d KiB) | %d B (%d KiB) | %d KiB gzipped |\n\n' \
        "$raw" $((raw / 1024)) "$gz" $((gz / 1024)) "$budget_kib"
    ((gz <= budget_kib * 1024)) ||
        fail "the .wasm is $gz bytes gzipped, over the $budget_kib KiB budget" || return 1
    exercised "npm package bindspace: .wasm $((raw / 1024)) KiB raw, $((gz / 1024)) KiB gzipped (budget $budget_kib KiB)"

    # The size-optimised variant (wasm-opt -Oz) builds too, from the same
    # compiled module.
    run_logged "$SCRATCH/build-small.log" bash wasm/build.sh --small --out "$SCRATCH/pkg-small" || return 1
    gz="$(gzip -9 -c "$SCRATCH/pkg-small/bindspace_wasm_bg.wasm" | wc -c)"
    exercised "wasm/build.sh --small (wasm-opt -Oz): .wasm $((gz / 1024)) KiB gzipped"
}

# Packs the package and installs the tarball into an empty project, as a
# user would, then runs the Node tests and the type checks there.
installed_package_tests() {
    section "npm pack, install into an empty directory, require and import it"
    local tarball app
    tarball="$(cd wasm/pkg && npm pack --silent --pack-destination "$SCRATCH" | tail -n1)"
    run tar -tzf "$SCRATCH/$tarball" | sed 's/^/  /'
    app="$SCRATCH/app"
    mkdir -p "$app"
    printf '{ "name": "bindspace-smoke", "private": true, "type": "module" }\n' >"$app/package.json"
    (cd "$app" && run npm install --no-audit --no-fund --loglevel=error "$SCRATCH/$tarball")
    cp wasm/dev/package-tests/* "$app/"
    (cd "$app" && BINDSPACE_GOLDEN="$BINDSPACE_ROOT/tests/golden" \
        BINDSPACE_FIXTURES="$BINDSPACE_ROOT/wasm/tests/fixtures" \
        run_logged "$SCRATCH/node.log" node --test require.test.cjs import.test.mjs) || return 1
    grep -Eq '^# fail 0' "$SCRATCH/node.log" || fail "node tests failed" || return 1
    grep -E '^# SKIP|# SKIP' "$SCRATCH/node.log" | sed 's/^/  skipped: /' || true
    exercised "installed tarball in Node $(node --version): require and import, $(sed -n 's/^# pass //p' "$SCRATCH/node.log") passed, $(sed -n 's/^# skipped //p' "$SCRATCH/node.log") skipped"

    section "tsc --noEmit on the installed package's types"
    (cd "$app" && run "$dev/node_modules/.bin/tsc" -p tsconfig.json &&
        run "$dev/node_modules/.bin/tsc" -p tsconfig.bundler.json) || return 1
    exercised "TypeScript $("$dev/node_modules/.bin/tsc" --version | awk '{print $2}'): types checked (nodenext and bundler resolution)"
}

# Natively: the binding's log is pinned bytes, the host store opens it,
# and the binding opens the host store's log (the Node tests check the
# wasm side of the same fixtures).
portable_log_native() {
    section "portable log: binding and host store, natively"
    run_logged "$SCRATCH/portable.log" cargo test -p bindspace-wasm --test portable_log || return 1
    grep -q 'test result: ok. 4 passed' "$SCRATCH/portable.log" || fail "portable log tests did not all run" || return 1
    exercised "portable log fixtures: binding bytes pinned, host store opens them, binding opens the host's (native)"
}

speed_benchmark() {
    section "speed: Node (wasm simd128) beside native, same search, same run"
    run_logged "$SCRATCH/bench.log" node benches/wasm/search.mjs 1024 "${BINDSPACE_WASM_BENCH_ROUNDS:-31}" || return 1
    exercised "search benchmark: $(grep -m1 '^Node simd128 / native' "$SCRATCH/bench.log")"
}

status=0
portable_log_native || status=1
binding_tests scalar node "" || status=1
binding_tests scalar chromium "" || status=1
binding_tests simd128 node "-C target-feature=+simd128" || status=1
binding_tests simd128 chromium "-C target-feature=+simd128" || status=1
if build_package; then
    installed_package_tests || status=1
    speed_benchmark || status=1
else
    status=1
fi
exit "$status"
