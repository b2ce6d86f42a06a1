# shellcheck shell=bash
# Shell helpers shared by scripts/test.sh and the step files in
# scripts/test.d/. Source it; it defines functions and a few variables and
# runs nothing.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"   # from a step file

# The repository root, whatever directory the caller started in.
BINDSPACE_ROOT="${BINDSPACE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export BINDSPACE_ROOT

# Prints a command, then runs it, so a CI log shows exactly what ran.
run() {
    printf '+ %s\n' "$*" >&2
    "$@"
}

# A visible sub-heading inside a step's output.
section() {
    printf '\n--- %s\n' "$*"
}

# Records what a step exercised (a target, a kernel, a runtime). The line is
# printed now and, when test.sh drives the step, repeated in its closing
# summary, so the end of a CI log says which platforms really ran.
exercised() {
    printf '[exercised] %s\n' "$*"
    if [[ -n "${BINDSPACE_EXERCISED_FILE:-}" ]]; then
        printf '%s: %s\n' "${BINDSPACE_STEP:-?}" "$*" >>"$BINDSPACE_EXERCISED_FILE"
    fi
}

# Prints an error and returns non-zero (use as `fail "why"; return` or
# `... || fail "why"`).
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    return 1
}

# Exits the step unless every named command is on PATH.
require_cmd() {
    local cmd
    for cmd in "$@"; do
        command -v "$cmd" >/dev/null 2>&1 || {
            fail "'$cmd' is not installed (scripts/test.sh installs it)"
            exit 1
        }
    done
}

# The first line of FILE matching the extended regex PATTERN, printed from
# where the match starts; fails (non-zero) when there is none. Test output
# interleaves under --nocapture, so the match may start mid-line.
extract_line() {
    local pattern="$1" file="$2" found
    found="$(grep -Eo -m1 "${pattern}.*" "$file")" || return 1
    printf '%s\n' "$found"
}

# Runs a command with its output both shown and saved to FILE, keeping the
# command's own exit status (not tee's).
run_logged() {
    local file="$1"
    shift
    printf '+ %s\n' "$*" >&2
    "$@" 2>&1 | tee "$file"
    return "${PIPESTATUS[0]}"
}

# Sets SCRATCH to a fresh directory that is removed when the step exits.
# Call it as a plain command, never inside $(...): the subshell's exit would
# remove the directory at once.
make_scratch() {
    SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/bindspace-step.XXXXXX")"
    trap 'rm -rf "$SCRATCH"' EXIT
}

# Removes a build directory that no later step uses, under CI (or with
# BINDSPACE_DROP_BUILDS=1). A whole run builds for five targets, four
# profiles and two sanitizer setups, and every one kept to the end adds up
# to more than a small CI disk holds; a developer's machine keeps them, so
# rerunning a step stays incremental.
drop_build_dir() {
    local dir="$1"
    [[ -n "${CI:-}" || "${BINDSPACE_DROP_BUILDS:-}" == 1 ]] || return 0
    [[ -d "$dir" ]] || return 0
    printf 'dropping build directory %s (%s; no later step uses it)\n' \
        "${dir#"$BINDSPACE_ROOT"/}" "$(du -sh "$dir" 2>/dev/null | cut -f1)"
    rm -rf "$dir"
}

# Free space on the file system holding the repository, in GiB (one
# decimal), for the step summary: a full disk shows up as the reason.
disk_free_gib() {
    df -Pk "$BINDSPACE_ROOT" 2>/dev/null | awk 'NR == 2 { printf "%.1f", $4 / 1048576 }'
}

# Writes the chromedriver capabilities wasm-bindgen-test-runner uses for
# headless Chromium to "$1" (its profile goes under $SCRATCH). The runner
# adds `headless` and `no-sandbox` itself; the extra flags keep Chromium
# from reaching for the network (closed here) and from first-run work.
write_webdriver_json() {
    cat >"$1" <<JSON
{
  "goog:chromeOptions": {
    "binary": "$(command -v chromium)",
    "args": [
      "--headless", "--no-sandbox", "--disable-gpu",
      "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
      "--user-data-dir=$SCRATCH/chromium-profile"
    ]
  }
}
JSON
}
