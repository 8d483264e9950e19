//! A capacity too large to allocate is a clear panic naming it, never an
//! abort (the allocator's default on failure) or Vec's bare "capacity
//! overflow".

use sluicegate::channel::bounded;

#[test]
#[should_panic(expected = "channel capacity")]
fn an_unallocatable_capacity_panics_naming_the_limit() {
    let _ = bounded::<u64>(usize::MAX);
}

#[test]
fn an_unallocatable_capacity_panics_as_documented_rather_than_aborting() {
    // Runs the helper below in a child process: an abort would take this
    // test binary down with it.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "huge_capacity_child"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(101),
        "expected a panic (test failure, exit 101), got {:?}; stderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[ignore = "run by an_unallocatable_capacity_panics_as_documented_rather_than_aborting"]
fn huge_capacity_child() {
    // 2^46 slots of 2 bytes: 128 TiB, more than any address space.
    let _ = bounded::<u8>(1 << 46);
}
