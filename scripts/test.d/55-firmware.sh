#!/usr/bin/env bash
# Step 55, the firmware: bindspace-core on a Cortex-M4 under QEMU
# (firmware/README.md).
#
# 1. Checks the firmware's golden fingerprint digests against the ones the
#    host computes now (firmware/golden-gen).
# 2. Builds bindspace-core with its mock flash for Cortex-M0
#    (thumbv6m-none-eabi: no compare-and-swap atomics).
# 3. Checks that the runner fails when the firmware does: one build per
#    injected fault (failed check, panic, hard fault, hang).
# 4. Builds the self-test at opt-level "z" and runs it under QEMU; fails if
#    it fails, panics, faults or hangs.
# 5. Runs `footprint`, the smallest useful device program (space, search,
#    every command, the flash log), also without the command language, and
#    prints the section sizes (.text against the 48 KiB goal), where the
#    footprint's .text goes, and the stack high-water marks.
#
# Tools (qemu-system-arm, defmt-print, readelf, the thumb targets) come from
# the install phase of scripts/test.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$BINDSPACE_ROOT"
require_cmd cargo qemu-system-arm defmt-print readelf nm timeout

root="$BINDSPACE_ROOT"
release="$root/firmware/target/thumbv7em-none-eabihf/release"
# The footprint app is built as a device ships it: the `device` profile,
# release without overflow checks (firmware/Cargo.toml says why).
device="$root/firmware/target/thumbv7em-none-eabihf/device"
mkdir -p "$root/target"
# The goal for a device program with space, search, commands and log
# (reported), and the ceiling the footprint app must stay under (enforced,
# so that growth is caught: about 3 KB above its size of 2026-11-23, 47.7
# KB; lower it as the size comes down).
text_goal=$((48 * 1024))
text_ceiling=$((50 * 1024))

# --- 1. golden digests --------------------------------------------------------
# Run from the repository root so the firmware's Cortex-M target setting
# (firmware/.cargo/config.toml) does not apply to this host program.
section "golden fingerprint digests: host vs firmware/src/golden_table.rs"
run cargo run --quiet --manifest-path firmware/golden-gen/Cargo.toml >"$root/target/golden_table.host.rs"
if ! diff -u firmware/src/golden_table.rs "$root/target/golden_table.host.rs"; then
    fail "firmware/src/golden_table.rs is stale: the host computes other digests (above)." \
        "If the change of bits is intended (a format change), regenerate it with" \
        "cargo run --manifest-path firmware/golden-gen/Cargo.toml > firmware/src/golden_table.rs"
    exit 1
fi

# --- 2. Cortex-M0 -------------------------------------------------------------
section "bindspace-core with the mock flash for thumbv6m-none-eabi"
run cargo build --quiet -p bindspace-core --target thumbv6m-none-eabi --features mock-flash
exercised "thumbv6m-none-eabi: bindspace-core with the mock flash builds"

# --- 3. the runner fails when the firmware does --------------------------------
# Each inject-* feature adds one deliberate fault, met first; every one must
# fail the run: 1 from the firmware's own failure exit, 124 from the
# runner's time limit. Run before the real build: these overwrite its ELF.
for fault in failed-check:1 panic:1 hard-fault:1 hang:124; do
    name="${fault%%:*}"
    want="${fault##*:}"
    section "injected $name"
    set +e
    (cd firmware && export BINDSPACE_FW_TIMEOUT=10 && run cargo run --quiet --release --features "inject-$name") \
        >"$root/target/firmware-inject-$name.log" 2>&1
    status=$?
    set -e
    if [ "$status" -ne "$want" ]; then
        cat "$root/target/firmware-inject-$name.log" >&2
        fail "firmware with an injected $name exited $status, not $want: the runner would hide a failure"
        exit 1
    fi
    echo "the run failed as it must (exit status $status)"
done

# --- 4. the self-test under QEMU -------------------------------------------------
section "self-test on qemu-system-arm mps2-an386 (Cortex-M4), opt-level z"
log="$root/target/firmware-selftest.log"
(cd firmware && run_logged "$log" cargo run --quiet --release) ||
    { fail "firmware self-test FAILED"; exit 1; }
grep -q "self-test passed" "$log" || { fail "firmware exited 0 without reporting a pass"; exit 1; }
checks=$(sed -n 's/.*self-test passed: \([0-9]*\) checks.*/\1/p' "$log" | tail -n 1)
self_stack=$(sed -n 's/.*stack high-water mark: \([0-9]*\) bytes.*/\1/p' "$log" | tail -n 1)
exercised "thumbv7em-none-eabihf on qemu-system-arm mps2-an386: firmware self-test, $checks checks, kernel $(sed -n 's/.*kernel selected at compile time: \([a-z0-9]*\).*/\1/p' "$log" | head -n 1)"

# --- 5. the footprint app and the sizes ---------------------------------------
section_size() { # elf name -> bytes (0 when absent)
    local hex
    hex=$(readelf -S --wide "$1" | awk -v name="$2" '
        { for (i = 1; i <= NF; i++) if ($i == name) { print $(i + 4); exit } }')
    echo $((16#${hex:-0}))
}
run_footprint() { # log-file [cargo args...]: runs the app; the step fails if it does
    local out="$1" status
    shift
    set +e
    (cd firmware && run cargo run --quiet --profile device --bin footprint "$@") >"$out" 2>&1
    status=$?
    set -e
    if [ "$status" -ne 0 ]; then
        cat "$out" >&2
        fail "the footprint app $* FAILED (exit status $status)"
        exit 1
    fi
    tail -n 1 "$out"
}
report() { # label elf
    echo "$1: .text $(section_size "$2" .text), .rodata $(section_size "$2" .rodata)," \
        ".vector_table $(section_size "$2" .vector_table), .data $(section_size "$2" .data)," \
        ".bss $(section_size "$2" .bss) bytes"
}

# First without the command language (core API calls instead): what the
# space, search and log alone cost. Measured before the full build, which
# overwrites the same ELF.
section "footprint without the command language (space, search, log)"
run_footprint "$root/target/firmware-footprint-api.log" --features footprint-without-commands
api_text=$(section_size "$device/footprint" .text)
api_stack=$(sed -n 's/.*stack high-water mark \([0-9]*\) bytes.*/\1/p' "$root/target/firmware-footprint-api.log" | tail -n 1)

section "footprint: mount the flash log, then answer commands (space, search, commands, log)"
run_footprint "$root/target/firmware-footprint.log"
app_stack=$(sed -n 's/.*stack high-water mark \([0-9]*\) bytes.*/\1/p' "$root/target/firmware-footprint.log" | tail -n 1)
app_text=$(section_size "$device/footprint" .text)
exercised "thumbv7em-none-eabihf on qemu-system-arm: footprint app (flash log mount, every command write-ahead)"

section "sizes (opt-level z, fat LTO; the footprint without overflow checks)"
report "self-test" "$release/bindspace-firmware"
report "footprint" "$device/footprint"
echo "footprint without the command language: .text $api_text bytes"

# Where the footprint's code goes, by the symbol that holds it (code the
# compiler inlined into another function counts for that function).
echo "footprint .text by owner:"
nm -C -S "$device/footprint" | awk '
    $3 == "t" || $3 == "T" {
        size = 0; hex = toupper($2)
        for (i = 1; i <= length(hex); i++) size = size * 16 + index("0123456789ABCDEF", substr(hex, i, 1)) - 1
        name = $0
        owner = "other (core library, panics, sorting)"
        if (name ~ /bindspace_core::command/) owner = "bindspace_core::command"
        else if (name ~ /bindspace_core::log/) owner = "bindspace_core::log"
        else if (name ~ /bindspace_core::search/) owner = "bindspace_core::search"
        else if (name ~ /bindspace_core::space/) owner = "bindspace_core::space"
        else if (name ~ /bindspace_core/) owner = "bindspace_core (fingerprints, kernels, crc)"
        else if (name ~ /compiler_builtins/) owner = "compiler_builtins (memcpy, memmove, memset)"
        else if (name ~ /fmt/) owner = "core::fmt (panic messages) and defmt"
        else if (name ~ /footprint/) owner = "main, with the core code inlined into it"
        total[owner] += size
    }
    END { for (o in total) printf "%8d  %s\n", total[o], o }' | sort -rn

section "stack high-water marks (painted at reset)"
echo "self-test: ${self_stack:-unknown} bytes (deepest phase)"
echo "footprint: ${app_stack:-unknown} bytes; without the command language: ${api_stack:-unknown} bytes"

if [ "$app_text" -le "$text_goal" ]; then
    echo "footprint .text $app_text bytes: within the ${text_goal}-byte goal"
else
    echo "footprint .text $app_text bytes: OVER the ${text_goal}-byte goal by $((app_text - text_goal)) bytes"
fi
exercised "firmware sizes: footprint .text $app_text bytes (goal $text_goal), without commands $api_text; stack ${app_stack:-?} bytes"
if [ "$app_text" -gt "$text_ceiling" ]; then
    fail "footprint .text is $app_text bytes, over the ceiling of $text_ceiling bytes"
    exit 1
fi
