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

/// Set for the child process of the test below.
const CHILD: &str = "SLUICEGATE_HUGE_CAPACITY_CHILD";

#[test]
fn an_unallocatable_capacity_panics_as_documented_rather_than_aborting() {
    const NAME: &str = "an_unallocatable_capacity_panics_as_documented_rather_than_aborting";
    if std::env::var_os(CHILD).is_some() {
        // The child: 2^46 slots of 2 bytes, 128 TiB, more than any address
        // space. It must panic (the test fails, exit 101), not abort.
        let _ = bounded::<u8>(1 << 46);
        return;
    }
    // The parent runs this test again in a child process, since an abort
    // would take this test binary down with it.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", NAME, "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(101),
        "expected a panic (test failure, exit 101), got {:?}; stderr:\n{stderr}",
        out.status,
    );
    assert!(
        stdout.contains("channel capacity") || stderr.contains("channel capacity"),
        "the panic does not name the capacity:\n{stdout}\n{stderr}"
    );
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
