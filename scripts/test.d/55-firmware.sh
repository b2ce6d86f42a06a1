#!/usr/bin/env bash
# Step 55, the firmware: bindspace-core on a Cortex-M4 under QEMU.
#
# 1. Installs what is missing: Debian's qemu-system-arm and binutils
#    (readelf), the two Cortex-M rustup targets, defmt-print.
# 2. Checks the firmware's golden fingerprint digests against the ones the
#    host computes now (firmware/golden-gen).
# 3. Builds bindspace-core for Cortex-M0 (thumbv6m-none-eabi: no CAS atomics).
# 4. Checks that the runner fails when the firmware does: one build per
#    injected fault (failed check, panic, hard fault, hang).
# 5. Builds the firmware at opt-level "z" and runs its self-test under QEMU;
#    fails if the self-test fails, panics, faults or hangs.
# 6. Runs `footprint`, the smallest useful device program (space, search,
#    every command, the flash log), and prints its section sizes (.text
#    against the 48 KiB goal), where its .text goes, and the stack
#    high-water marks both programs measured.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root="$PWD"
release="$root/firmware/target/thumbv7em-none-eabihf/release"
# The goal for a device program with space, search, commands and log
# (reported), and the ceiling the footprint app must stay under (enforced,
# so that growth is caught; lower it as the goal comes within reach).
text_goal=$((48 * 1024))
text_ceiling=$((72 * 1024))

say() { printf '== firmware: %s\n' "$*"; }

# --- 1. tools ---------------------------------------------------------------
missing=()
command -v qemu-system-arm >/dev/null || missing+=(qemu-system-arm)
command -v readelf >/dev/null || missing+=(binutils)
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
for target in thumbv7em-none-eabihf thumbv6m-none-eabi; do
    rustup target list --installed | grep -qx "$target" || rustup target add "$target"
done
if ! command -v defmt-print >/dev/null; then
    say "installing defmt-print"
    cargo install defmt-print --locked --quiet
fi

# --- 2. golden digests --------------------------------------------------------
# Run from the repository root so the firmware's Cortex-M target setting
# (firmware/.cargo/config.toml) does not apply to this host program.
mkdir -p "$root/target"
say "golden fingerprint digests: host vs firmware/src/golden_table.rs"
cargo run --quiet --manifest-path firmware/golden-gen/Cargo.toml >"$root/target/golden_table.host.rs"
if ! diff -u firmware/src/golden_table.rs "$root/target/golden_table.host.rs"; then
    echo "firmware/src/golden_table.rs is stale: the host computes other digests (above)." >&2
    echo "If the change in bits is intended (a format change), regenerate it with" >&2
    echo "  cargo run --manifest-path firmware/golden-gen/Cargo.toml > firmware/src/golden_table.rs" >&2
    exit 1
fi

# --- 3. Cortex-M0 -----------------------------------------------------------
core_features=()
if grep -q '^mock-flash' core/Cargo.toml; then
    core_features=(--features mock-flash)
fi
say "bindspace-core for thumbv6m-none-eabi ${core_features[*]}"
cargo build --quiet -p bindspace-core --target thumbv6m-none-eabi "${core_features[@]}"

# --- 4. the runner fails when the firmware does --------------------------------
# Each inject-* feature adds one deliberate fault; every one must fail the
# run (a hang by the runner's time limit). Run first: these builds overwrite
# the ELF that the sizes below are read from.
# The expected status: 1 from the firmware's own failure exit, 124 from the
# runner's time limit.
for fault in failed-check:1 panic:1 hard-fault:1 hang:124; do
    name="${fault%%:*}"
    want="${fault##*:}"
    set +e
    (cd firmware && BINDSPACE_FW_TIMEOUT=10 cargo run --quiet --release --features "inject-$name") \
        >"$root/target/firmware-inject-$name.log" 2>&1
    status=$?
    set -e
    if [ "$status" -ne "$want" ]; then
        cat "$root/target/firmware-inject-$name.log" >&2
        echo "firmware with an injected $name exited $status, not $want: the runner would hide a failure" >&2
        exit 1
    fi
    say "injected $name: the run fails as it must (exit status $status)"
done

# --- 5. the self-test under QEMU ---------------------------------------------
say "self-test on qemu-system-arm mps2-an386 (Cortex-M4), opt-level z"
log="$root/target/firmware-selftest.log"
set +e
(cd firmware && cargo run --quiet --release) 2>&1 | tee "$log"
status="${PIPESTATUS[0]}"
set -e
if [ "$status" -ne 0 ]; then
    echo "firmware self-test FAILED (exit status $status)" >&2
    exit 1
fi
grep -q "self-test passed" "$log" || { echo "firmware exited 0 without reporting a pass" >&2; exit 1; }

# --- 6. the footprint app and the sizes ---------------------------------------
section_size() { # elf name -> bytes (0 when absent)
    local hex
    hex=$(readelf -S --wide "$1" | awk -v name="$2" '
        { for (i = 1; i <= NF; i++) if ($i == name) { print $(i + 4); exit } }')
    echo $((16#${hex:-0}))
}
run_footprint() { # log-file [features...]: runs the app, fails the step if it fails
    local out="$1"
    shift
    set +e
    (cd firmware && cargo run --quiet --release --bin footprint "$@") >"$out" 2>&1
    local status=$?
    set -e
    if [ "$status" -ne 0 ]; then
        cat "$out" >&2
        echo "the footprint app $* FAILED (exit status $status)" >&2
        exit 1
    fi
}

# First without the command language (core API calls instead): what the
# space, search and log alone cost. Measured before the full build, which
# overwrites the same ELF.
run_footprint "$root/target/firmware-footprint-api.log" --features footprint-without-commands
api_text=$(section_size "$release/footprint" .text)
api_stack=$(sed -n 's/.*stack high-water mark \([0-9]*\) bytes.*/\1/p' "$root/target/firmware-footprint-api.log" | tail -n 1)

say "footprint: recover from flash, then answer commands (space, search, commands, log)"
app_log="$root/target/firmware-footprint.log"
run_footprint "$app_log"
tail -n 1 "$app_log"

report() { # label elf
    say "$1: .text $(section_size "$2" .text), .rodata $(section_size "$2" .rodata)," \
        ".vector_table $(section_size "$2" .vector_table), .data $(section_size "$2" .data)," \
        ".bss $(section_size "$2" .bss) bytes"
}
report "self-test size" "$release/bindspace-firmware"
report "footprint size" "$release/footprint"
app_text=$(section_size "$release/footprint" .text)

# Where the footprint's code goes, by the symbol that holds it (code the
# compiler inlined into another function counts for that function).
say "footprint .text by owner:"
nm -C -S "$release/footprint" | awk '
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
        else if (name ~ /compiler_builtins/) owner = "compiler_builtins (memcpy, 64-bit division)"
        else if (name ~ /fmt/) owner = "core::fmt (reply and error text)"
        else if (name ~ /footprint/) owner = "main, with the core code inlined into it"
        total[owner] += size
    }
    END { for (o in total) printf "%8d  %s\n", total[o], o }' | sort -rn

self_stack=$(sed -n 's/.*stack high-water mark: \([0-9]*\) bytes.*/\1/p' "$log" | tail -n 1)
app_stack=$(sed -n 's/.*stack high-water mark \([0-9]*\) bytes.*/\1/p' "$app_log" | tail -n 1)
checks=$(sed -n 's/.*self-test passed: \([0-9]*\) checks.*/\1/p' "$log" | tail -n 1)
say "self-test passed: $checks checks; stack high-water mark ${self_stack:-unknown} bytes"
say "footprint stack high-water mark: ${app_stack:-unknown} bytes (without the command language: ${api_stack:-unknown} bytes)"
say "footprint without the command language (space, search, log): .text $api_text bytes"
if [ "$app_text" -le "$text_goal" ]; then
    say "footprint .text $app_text bytes: within the ${text_goal}-byte goal"
else
    say "footprint .text $app_text bytes: OVER the ${text_goal}-byte goal by $((app_text - text_goal)) bytes"
fi
if [ "$app_text" -gt "$text_ceiling" ]; then
    echo "footprint .text is $app_text bytes, over the ceiling of $text_ceiling bytes" >&2
    exit 1
fi
