//! Large capacities: one too large to allocate is a clear panic naming it,
//! never an abort (the allocator's default on failure) or Vec's bare
//! "capacity overflow"; and a large channel holding few values costs
//! `recv_many` few slots.

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

#[test]
fn recv_many_grows_its_buffer_with_what_is_queued_not_with_the_capacity() {
    let (tx, rx) = bounded::<u32>(1 << 20);
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    let mut buf = Vec::new();
    let n = futures_lite::future::block_on(rx.recv_many(&mut buf, usize::MAX)).unwrap();
    assert_eq!((n, buf.as_slice()), (3, &[0, 1, 2][..]));
    assert!(
        buf.capacity() <= 64,
        "a channel of 2^20 slots holding 3 values made recv_many reserve {}",
        buf.capacity()
    );
    // Many queued values are all taken in one call, batch after batch.
    for i in 0..1000 {
        tx.try_send(i).unwrap();
    }
    buf.clear();
    let n = futures_lite::future::block_on(rx.recv_many(&mut buf, usize::MAX)).unwrap();
    assert_eq!(n, 1000);
    assert!(buf.iter().copied().eq(0..1000));
}
