#!/usr/bin/env bash
# The cargo runner for the firmware: boots the ELF on QEMU's mps2-an386
# (Cortex-M4), decodes the defmt frames it writes over semihosting with
# defmt-print, and exits with the firmware's own status (0 pass, 1 fail).
# A run that exceeds BINDSPACE_FW_TIMEOUT seconds (default 300) is killed
# and fails, so a hang can never pass.
set -euo pipefail
elf="$1"
limit="${BINDSPACE_FW_TIMEOUT:-300}"
for tool in qemu-system-arm defmt-print; do
    command -v "$tool" >/dev/null || { echo "run-qemu.sh: $tool not found (scripts/test.sh firmware installs it)" >&2; exit 2; }
done
set +e
timeout --signal=KILL "$limit" \
    qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic -monitor none -serial none \
        -semihosting-config enable=on,target=native -kernel "$elf" \
    | defmt-print -e "$elf"
statuses=("${PIPESTATUS[@]}")
set -e
qemu_status="${statuses[0]}"
if [ "$qemu_status" -eq 137 ]; then
    echo "run-qemu.sh: firmware did not finish within ${limit}s" >&2
    exit 124
fi
if [ "${statuses[1]}" -ne 0 ] && [ "$qemu_status" -eq 0 ]; then
    echo "run-qemu.sh: defmt-print failed to decode the log" >&2
    exit 1
fi
exit "$qemu_status"
