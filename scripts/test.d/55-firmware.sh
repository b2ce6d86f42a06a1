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
# 6. Prints the image's section sizes (.text against its 48 KiB budget) and
#    the stack high-water mark the firmware measured.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root="$PWD"
elf="$root/firmware/target/thumbv7em-none-eabihf/release/bindspace-firmware"
text_budget=$((48 * 1024))

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
for fault in failed-check panic hard-fault hang; do
    set +e
    (cd firmware && BINDSPACE_FW_TIMEOUT=10 cargo run --quiet --release --features "inject-$fault") \
        >"$root/target/firmware-inject-$fault.log" 2>&1
    status=$?
    set -e
    if [ "$status" -eq 0 ]; then
        cat "$root/target/firmware-inject-$fault.log" >&2
        echo "firmware with an injected $fault exited 0: the runner would hide a failure" >&2
        exit 1
    fi
    say "injected $fault: the run fails as it must (exit status $status)"
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

# --- 6. sizes ----------------------------------------------------------------
section_size() { # name -> bytes (0 when absent)
    local hex
    hex=$(readelf -S --wide "$elf" | awk -v name="$1" '
        { for (i = 1; i <= NF; i++) if ($i == name) { print $(i + 4); exit } }')
    echo $((16#${hex:-0}))
}
text=$(section_size .text)
rodata=$(section_size .rodata)
vectors=$(section_size .vector_table)
data=$(section_size .data)
bss=$(section_size .bss)
stack=$(sed -n 's/.*stack high-water mark: \([0-9]*\) bytes.*/\1/p' "$log" | tail -n 1)
checks=$(sed -n 's/.*self-test passed: \([0-9]*\) checks.*/\1/p' "$log" | tail -n 1)
say "self-test passed: $checks checks"
say "size: .text $text bytes ($(((text * 100) / text_budget))% of the ${text_budget}-byte budget), .rodata $rodata, .vector_table $vectors, .data $data, .bss $bss"
say "flash image (vectors + text + rodata + data): $((vectors + text + rodata + data)) bytes"
say "stack high-water mark: ${stack:-unknown} bytes"
if [ "$text" -gt "$text_budget" ]; then
    echo "firmware .text is $text bytes, over its budget of $text_budget bytes" >&2
    exit 1
fi
