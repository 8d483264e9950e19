#!/usr/bin/env bash
# The whole test suite: what CI runs (`.ci/run`) and what the README shows.
# Installs what it needs (rustup targets and components); a step whose
# install is refused prints SKIPPED and why, and the rest still runs.
set -uo pipefail
cd "$(dirname "$0")/.."

failed=()
skipped=()
step() { printf '\n=== %s\n' "$1"; }
run() { # run NAME CMD...: run a step, record failure, keep going
    local name=$1; shift
    step "$name"
    local t0=$SECONDS
    if "$@"; then
        echo "--- $name: ok ($((SECONDS - t0)) s)"
    else
        echo "--- $name: FAILED ($((SECONDS - t0)) s)"
        failed+=("$name")
    fi
}
skip() { echo "SKIPPED: $1"; skipped+=("$1"); }

NIGHTLY=${SLUICEGATE_NIGHTLY:-nightly}
MSRV=1.85

step "install"
rustup component add clippy rustfmt >/dev/null 2>&1 || echo "note: clippy/rustfmt install refused; using what is there"
have_thumb=1
rustup target add thumbv7em-none-eabihf thumbv6m-none-eabi >/dev/null 2>&1 || have_thumb=0
have_miri=1
rustup toolchain install "$NIGHTLY" --profile minimal >/dev/null 2>&1 &&
    rustup component add miri rust-src --toolchain "$NIGHTLY" >/dev/null 2>&1 || have_miri=0
have_msrv=1
rustup toolchain install "$MSRV" --profile minimal >/dev/null 2>&1 || have_msrv=0

run "fmt" cargo fmt --all -- --check
run "clippy" cargo clippy --workspace --all-targets --all-features -- -D warnings
run "doc" env RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps --all-features
# Every public item carries an example (the lint is nightly-only; the
# library, not the check, stays on stable).
if [ $have_miri = 1 ]; then
    run "doc examples on every public item" cargo "+$NIGHTLY" rustdoc --lib --all-features \
        --target-dir target/doc-examples -- -Zunstable-options \
        -Zcrate-attr="feature(rustdoc_missing_doc_code_examples)" \
        -D rustdoc::missing_doc_code_examples
else
    skip "doc example check: rustup refused to install $NIGHTLY"
fi

# The full suite with std's mutex guarding the wait lists (the default), then
# the other two lock implementations over the deterministic tests.
# Unit, integration and doc tests (benches are compiled by clippy above),
# with the timer adapters on so each is tested under its own executor.
# `critical-section` adds that lock to the per-lock tests (tests/raw_mutex.rs);
# it changes the lock of no primitive that does not name it.
run "test (default features + timer adapters)" cargo test --workspace \
    --features sluicegate/tokio,sluicegate/smol,sluicegate/embassy,sluicegate/critical-section
HAND_POLLED=$(ls tests/*_hand_polled.rs 2>/dev/null | sed 's#tests/\(.*\)\.rs#--test \1#' | tr '\n' ' ')
# Without `std`, the default lock is the spin lock: the deterministic suite
# again over it.
# shellcheck disable=SC2086
run "test (spin lock as the default, no std feature)" cargo test --no-default-features --features alloc --lib $HAND_POLLED

run "loom models" env RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 \
    cargo test -p sluicegate-loom-tests --release --target-dir target/loom

# shuttle samples schedules where loom enumerates them: random and PCT
# schedules of 16 to 64 tasks over the channel, the semaphore, the
# condition and the adaptive limiter, each ending in an exact account
# (shuttle-tests/). Its own
# target dir, as loom's, so neither cfg rebuilds the other. A failure
# prints the schedule; SHUTTLE_REPLAY replays it (see the crate docs), and
# SHUTTLE_ITERATIONS raises the schedules per model.
run "shuttle models" env RUSTFLAGS="--cfg shuttle" \
    cargo test -p sluicegate-shuttle-tests --release --target-dir target/shuttle --test models

# A crate outside the workspace, as a user's is, loom-tests its own code with
# sluicegate inside and nothing but `--cfg loom` (no extra manifest lines).
run "loom: a downstream crate's models" env RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 \
    cargo test --release --manifest-path loom-downstream/Cargo.toml --target-dir target/loom-downstream

no_executor_deps() {
    local bad
    bad=$(cargo tree -e normal --no-default-features --features alloc |
        grep -oE '(tokio|smol|async-io|async-std|async-executor|embassy-executor|embassy-time)( v[0-9.]+)' || true)
    [ -z "$bad" ] || { echo "executor crates in the no_std tree: $bad"; return 1; }
}
run "no executor in the no-default-features tree" no_executor_deps

if [ $have_thumb = 1 ]; then
    run "no_std thumbv7em (no features)" cargo build --lib --no-default-features --target thumbv7em-none-eabihf
    run "no_std thumbv7em (alloc)" cargo build --lib --no-default-features --features alloc --target thumbv7em-none-eabihf
    # thumbv6m has no CAS: portable-atomic provides it; the check, not the
    # library, picks how (single-core assumption, or a critical section).
    run "no_std thumbv6m (portable-atomic, single-core)" env \
        RUSTFLAGS="--cfg portable_atomic_unsafe_assume_single_core" \
        cargo build --lib --no-default-features --features portable-atomic,alloc \
        --target thumbv6m-none-eabi --target-dir target/thumbv6m-single-core
    run "no_std thumbv6m (portable-atomic, critical-section)" \
        cargo build --lib --no-default-features --features portable-atomic,critical-section,alloc \
        --target thumbv6m-none-eabi
else
    skip "no_std builds: rustup refused to add the thumbv7em/thumbv6m targets"
fi

# The no_std builds, run: qemu-tests/ on QEMU's micro:bit (Cortex-M0) and
# MPS2 AN386 (Cortex-M4F) under embassy's thread executor, one line per
# scenario. scripts/qemu.sh installs qemu-system-arm when it is missing and
# prints SKIPPED (exiting 0) when the install is refused: kept for the summary.
on_target() {
    local out rc
    out=$(mktemp)
    bash scripts/qemu.sh 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    if grep -q '^SKIPPED: ' "$out"; then skipped+=("$(sed -n 's/^SKIPPED: //p' "$out")"); fi
    rm -f "$out"
    return "$rc"
}
run "on-target (QEMU: micro:bit Cortex-M0, MPS2 AN386 Cortex-M4F)" on_target

if [ $have_msrv = 1 ]; then
    run "MSRV $MSRV (library)" cargo "+$MSRV" check --lib --all-features --target-dir target/msrv
else
    skip "MSRV check: rustup refused to install $MSRV"
fi

if [ $have_miri = 1 ]; then
    # shellcheck disable=SC2086
    run "miri (stacked borrows, strict provenance)" env \
        MIRIFLAGS="-Zmiri-strict-provenance -Zmiri-symbolic-alignment-check" \
        cargo "+$NIGHTLY" miri test --features critical-section --lib $HAND_POLLED --test no_alloc --test raw_mutex
    # shellcheck disable=SC2086
    run "miri (tree borrows)" env \
        MIRIFLAGS="-Zmiri-strict-provenance -Zmiri-tree-borrows" \
        cargo "+$NIGHTLY" miri test --features critical-section --lib $HAND_POLLED --test no_alloc --test raw_mutex
else
    skip "miri: rustup refused to install $NIGHTLY with miri and rust-src"
fi

# The published crate builds on its own, and leaves out what only the
# repository needs.
package_contents() {
    local extra
    extra=$(cargo package --list | grep -E '^(benches|loom-tests|loom-downstream|qemu-tests|scripts|\.ci)/' || true)
    [ -z "$extra" ] || { echo "in the package but should not be: $extra"; return 1; }
}
run "package: contents" package_contents
run "package: builds on its own" cargo package --target-dir target/package
run "package: publish --dry-run" cargo publish --dry-run --target-dir target/package

run "example: patterns" cargo run --quiet --example patterns
run "example: worker pool (the README's, on tokio and smol)" bash -c \
    'cargo run --quiet --example worker_pool --features tokio,smol -- tokio &&
     cargo run --quiet --example worker_pool --features tokio,smol -- smol'
# A real SIGINT (the example sends it to itself) on tokio and on smol.
run "example: shutdown (tokio and smol, self-signalled)" \
    cargo run --quiet --example shutdown --features tokio,smol -- both --self-signal

printf '\n=== summary (%d s)\n' "$SECONDS"
[ ${#skipped[@]} = 0 ] || printf 'SKIPPED: %s\n' "${skipped[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    printf 'FAILED: %s\n' "${failed[@]}"
    exit 1
fi
echo "all checks passed"
