#!/usr/bin/env bash
# On-target tests: qemu-tests/ runs sluicegate's alloc-free primitives under
# embassy's thread executor on two emulated microcontrollers, a BBC micro:bit
# (Cortex-M0, thumbv6m: no CAS) and an Arm MPS2 AN386 (Cortex-M4F, thumbv7em).
# Each firmware prints one line per scenario and exits through semihosting:
# QEMU's exit status is 0 only if every scenario passed.
#
# Installs qemu-system-arm (Debian's package) and the rustup targets when
# missing; if an install is refused it prints SKIPPED and why, and exits 0.
set -uo pipefail
cd "$(dirname "$0")/../qemu-tests" || exit 1

# The machine for each target is picked in qemu-tests/build.rs (memory map,
# clock) and qemu-tests/.cargo/config.toml (the QEMU command `cargo run` uses).
TARGETS=(thumbv6m-none-eabi thumbv7em-none-eabihf)
# Each firmware runs in well under a second; the limit is for a hang that
# the firmware's own watchdog cannot catch.
LIMIT_S=${QEMU_LIMIT_S:-60}

skip() {
    echo "SKIPPED: $1"
    exit 0
}

install_qemu() {
    local sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo -n)
    local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
    # Without the recommended GUI, firmware and disk-image packages (a tenth
    # of the download). A stale package list: update once and retry.
    "${apt[@]}" install -y --no-install-recommends qemu-system-arm ||
        { "${apt[@]}" update && "${apt[@]}" install -y --no-install-recommends qemu-system-arm; }
}

if ! command -v qemu-system-arm >/dev/null 2>&1; then
    echo "installing qemu-system-arm (apt-get)"
    log=$(mktemp)
    if ! install_qemu >"$log" 2>&1; then
        tail -n 5 "$log"
        rm -f "$log"
        skip "on-target tests (QEMU): the qemu-system-arm install was refused"
    fi
    rm -f "$log"
fi
rustup target add "${TARGETS[@]}" >/dev/null 2>&1 ||
    skip "on-target tests (QEMU): rustup refused to add ${TARGETS[*]}"
qemu-system-arm --version | head -n 1

failed=()
for target in "${TARGETS[@]}"; do
    echo "--- $target"
    if ! cargo build --quiet --message-format short --release --target "$target"; then
        failed+=("$target (build)")
        continue
    fi
    # `cargo run` hands the firmware to the target's runner: QEMU.
    timeout "$LIMIT_S" cargo run --quiet --message-format short --release --target "$target"
    rc=$?
    if [ $rc = 124 ]; then
        echo "timed out after $LIMIT_S s"
    fi
    [ $rc = 0 ] || failed+=("$target (exit status $rc)")
done

if [ ${#failed[@]} -gt 0 ]; then
    printf 'on-target FAILED: %s\n' "${failed[@]}"
    exit 1
fi
