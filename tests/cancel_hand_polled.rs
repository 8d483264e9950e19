//! Deterministic tests of `cancel`: every waiter is polled by hand with a
//! counting waker, so each test pins exactly who is woken, how often, and
//! who completes. No executor and no threads (this file also runs under
//! miri, and over the spin lock without `std`).
mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use common::poll::{polled, Polled};
use common::traits::{assert_not_unpin, assert_send_sync, assert_unpin};
use sluicegate::cancel::{
    CancellationToken, Cancelled, CancelledOwned, DropGuard, RootToken, RunUntilCancelled,
    RunUntilCancelledOwned,
};
use sluicegate::raw_mutex::{LocalRawMutex, SpinRawMutex};

/// More waiters than two wake batches (a cancellation wakes 32 per round
/// trip through the lock).
const MANY: usize = 80;

/// Deep enough to overflow a stack if cancelling or dropping recursed.
const DEEP: usize = if cfg!(miri) { 200 } else { 100_000 };

type Token<C = ()> = CancellationToken<C>;

fn waiters(token: &Token, n: usize) -> Vec<Polled<Cancelled<'_>>> {
    let mut ws: Vec<_> = (0..n).map(|_| polled(token.cancelled())).collect();
    for w in &mut ws {
        w.pending();
    }
    ws
}

/// Asserts each waiter was woken exactly once and now completes.
#[track_caller]
fn all_woken_once_and_ready<F: std::future::Future<Output = ()>>(ws: &mut [Polled<F>]) {
    for w in ws {
        assert_eq!(w.wakes(), 1);
        w.ready();
    }
}

// ---------------------------------------------------------------- types

#[test]
fn tokens_and_futures_are_send_and_sync_and_waiters_are_not_unpin() {
    assert_send_sync::<Token>();
    assert_send_sync::<Token<String>>();
    assert_send_sync::<RootToken>();
    assert_send_sync::<DropGuard>();
    assert_send_sync::<Cancelled<'static>>();
    assert_send_sync::<CancelledOwned>();
    assert_send_sync::<RunUntilCancelled<'static, std::future::Ready<u8>>>();
    assert_send_sync::<RunUntilCancelledOwned<std::future::Ready<u8>>>();
    assert_unpin::<Token>();
    assert_unpin::<DropGuard>();
    // The futures hold the intrusive wait-list node.
    assert_not_unpin!(Cancelled<'static>);
    assert_not_unpin!(CancelledOwned);
}

#[test]
fn a_tree_with_a_local_lock_works_on_one_thread() {
    let token = CancellationToken::<(), _>::new_with_raw_mutex(LocalRawMutex::new());
    let child = token.child_token();
    let mut w = polled(child.cancelled());
    w.pending();
    token.cancel();
    all_woken_once_and_ready(&mut [w]);
}

// ---------------------------------------------------------------- basics

#[test]
fn a_new_token_is_not_cancelled_and_has_no_cause() {
    assert!(!Token::new().is_cancelled());
    assert!(!Token::default().is_cancelled());
    assert!(!RootToken::new().is_cancelled());
    assert!(!RootToken::default().is_cancelled());
    assert_eq!(Token::<u8>::with_cause_type().cause(), None);
    assert_eq!(RootToken::<u8>::with_cause_type().cause(), None);
}

#[test]
fn cancel_wakes_every_waiter_exactly_once_and_is_idempotent() {
    let token = Token::new();
    let mut ws = waiters(&token, 3);
    token.cancel();
    token.cancel();
    assert!(token.is_cancelled());
    all_woken_once_and_ready(&mut ws);
}

#[test]
fn cancel_wakes_more_waiters_than_one_wake_batch() {
    let token = Token::new();
    let mut ws = waiters(&token, MANY);
    token.cancel();
    all_woken_once_and_ready(&mut ws);
}

#[test]
fn cancelled_on_a_cancelled_token_is_ready_at_once_without_a_wake() {
    let token = Token::new();
    token.cancel();
    let mut w = polled(token.cancelled());
    w.ready();
    assert_eq!(w.wakes(), 0);
}

#[test]
fn cancelled_on_a_live_token_stays_pending() {
    let token = Token::new();
    let mut w = polled(token.cancelled());
    w.pending();
    w.pending();
    assert_eq!(w.wakes(), 0);
}

#[test]
fn cancelled_polled_again_after_completing_completes_again() {
    let token = Token::new();
    let mut w = polled(token.cancelled());
    w.pending();
    token.cancel();
    w.ready();
    w.ready();
}

#[test]
fn a_clone_is_another_handle_to_the_same_token() {
    let token = Token::new();
    let other = token.clone();
    let mut w = polled(token.cancelled());
    w.pending();
    other.cancel();
    assert!(token.is_cancelled());
    all_woken_once_and_ready(&mut [w]);
    drop(other);
    assert!(token.is_cancelled());
}

#[test]
fn repoll_with_a_new_waker_moves_the_wake_up_to_it() {
    let token = Token::new();
    let shared = Arc::new(Mutex::new(Box::pin(token.cancelled())));
    let mut first = polled(poll_shared(shared.clone()));
    let mut second = polled(poll_shared(shared));
    first.pending();
    second.pending();
    token.cancel();
    assert_eq!(first.wakes(), 0, "the first waker was replaced");
    assert_eq!(second.wakes(), 1);
    second.ready();
}

/// A future that polls a shared `Cancelled` with its own waker.
async fn poll_shared(fut: Arc<Mutex<std::pin::Pin<Box<Cancelled<'_>>>>>) {
    std::future::poll_fn(|cx| fut.lock().unwrap().as_mut().poll(cx)).await
}

use std::future::Future as _;

// ---------------------------------------------------------------- tree

#[test]
fn cancelling_a_parent_cancels_the_whole_subtree_and_wakes_its_waiters() {
    let root = Token::new();
    let a = root.child_token();
    let b = root.child_token();
    let aa = a.child_token();
    let aaa = aa.child_token();
    let mut ws = vec![
        polled(root.cancelled()),
        polled(a.cancelled()),
        polled(b.cancelled()),
        polled(aa.cancelled()),
        polled(aaa.cancelled()),
    ];
    for w in &mut ws {
        w.pending();
    }
    root.cancel();
    for t in [&root, &a, &b, &aa, &aaa] {
        assert!(t.is_cancelled());
    }
    all_woken_once_and_ready(&mut ws);
}

#[test]
fn cancelling_a_child_leaves_its_parent_and_siblings_alone() {
    let root = Token::new();
    let a = root.child_token();
    let b = root.child_token();
    let aa = a.child_token();
    let mut root_w = polled(root.cancelled());
    let mut b_w = polled(b.cancelled());
    let mut aa_w = polled(aa.cancelled());
    root_w.pending();
    b_w.pending();
    aa_w.pending();
    a.cancel();
    assert!(a.is_cancelled() && aa.is_cancelled());
    assert!(!root.is_cancelled() && !b.is_cancelled());
    aa_w.ready();
    root_w.pending();
    b_w.pending();
    assert_eq!(root_w.wakes() + b_w.wakes(), 0);
}

#[test]
fn a_child_of_a_cancelled_token_is_born_cancelled() {
    let root = Token::new();
    let a = root.child_token();
    root.cancel();
    let born = root.child_token();
    let born_below = a.child_token();
    assert!(born.is_cancelled() && born_below.is_cancelled());
    polled(born.cancelled()).ready();
    assert!(born.child_token().is_cancelled());
}

#[test]
fn a_child_of_a_live_token_is_not_cancelled_and_a_grandchild_neither() {
    let root = Token::new();
    let a = root.child_token();
    let aa = a.child_token();
    assert!(!a.is_cancelled() && !aa.is_cancelled());
}

#[test]
fn cancelling_a_deep_chain_neither_recurses_nor_misses_a_link() {
    let root = Token::new();
    let mut chain = Vec::with_capacity(DEEP);
    let mut last = root.child_token();
    for _ in 0..DEEP {
        let next = last.child_token();
        chain.push(last);
        last = next;
    }
    let mut w = polled(last.cancelled());
    w.pending();
    root.cancel();
    assert!(chain.iter().all(CancellationToken::is_cancelled));
    assert_eq!(w.wakes(), 1);
    w.ready();
    // Dropping the chain from the top does not recurse either.
    drop(chain);
    drop(w);
    drop(last);
}

#[test]
fn cancelling_a_wide_tree_reaches_every_child() {
    let root = Token::new();
    let children: Vec<_> = (0..MANY).map(|_| root.child_token()).collect();
    let mut ws: Vec<_> = children.iter().map(|c| polled(c.cancelled())).collect();
    for w in &mut ws {
        w.pending();
    }
    root.cancel();
    all_woken_once_and_ready(&mut ws);
}

// ---------------------------------------------------------------- cause

#[test]
fn the_first_cause_wins_and_later_cancellations_change_nothing() {
    let token = Token::<&str>::with_cause_type();
    assert!(token.cancel_with("first"));
    assert!(!token.cancel_with("second"));
    token.cancel();
    assert_eq!(token.cause(), Some(&"first"));
    let root = RootToken::<&str>::with_cause_type();
    assert!(root.cancel_with("first"));
    assert!(!root.cancel_with("second"));
    assert_eq!(root.cause(), Some(&"first"));
}

#[test]
fn cancel_without_a_cause_works_for_any_cause_type_and_records_none() {
    let token = Token::<String>::with_cause_type();
    token.cancel();
    assert!(token.is_cancelled());
    assert_eq!(token.cause(), None);
    assert!(!token.cancel_with("too late".into()));
    assert_eq!(token.cause(), None);
}

#[test]
fn a_losing_cause_is_dropped_and_the_winning_one_lives_as_long_as_the_token() {
    let drops = Arc::new(AtomicUsize::new(0));
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    let token = Token::<Counted>::with_cause_type();
    let child = token.child_token();
    assert!(token.cancel_with(Counted(drops.clone())));
    assert!(!token.cancel_with(Counted(drops.clone())));
    assert_eq!(drops.load(SeqCst), 1, "the loser");
    drop(token);
    assert_eq!(drops.load(SeqCst), 1, "the child still reads it");
    assert!(child.cause().is_some());
    drop(child);
    assert_eq!(drops.load(SeqCst), 2);
}

#[test]
fn a_child_reports_the_cause_of_its_ancestors_cancellation() {
    let root = Token::<u32>::with_cause_type();
    let a = root.child_token();
    let aa = a.child_token();
    root.cancel_with(1);
    assert_eq!(a.cause(), Some(&1));
    assert_eq!(aa.cause(), Some(&1));
}

#[test]
fn a_child_cancelled_first_keeps_its_own_cause() {
    let root = Token::<u32>::with_cause_type();
    let a = root.child_token();
    let aa = a.child_token();
    let b = root.child_token();
    assert!(a.cancel_with(2));
    assert!(!aa.cancel_with(3), "reached by its parent's already");
    root.cancel_with(1);
    assert_eq!(root.cause(), Some(&1));
    assert_eq!(a.cause(), Some(&2));
    assert_eq!(aa.cause(), Some(&2));
    assert_eq!(b.cause(), Some(&1));
}

#[test]
fn a_child_cancelled_first_without_a_cause_reports_none_after_its_ancestor() {
    let root = Token::<u32>::with_cause_type();
    let a = root.child_token();
    a.cancel();
    root.cancel_with(1);
    assert_eq!(a.cause(), None);
}

#[test]
fn a_born_cancelled_child_reports_the_cause_that_reached_its_parent() {
    let root = Token::<u32>::with_cause_type();
    let a = root.child_token();
    root.cancel_with(7);
    assert_eq!(root.child_token().cause(), Some(&7));
    assert_eq!(a.child_token().cause(), Some(&7), "inherited twice");
    assert_eq!(a.child_token().child_token().cause(), Some(&7));
}

#[test]
fn a_cause_outlives_every_handle_of_the_token_that_recorded_it() {
    let root = Token::<String>::with_cause_type();
    let a = root.child_token();
    let aa = a.child_token();
    a.cancel_with("middle".into());
    drop(a);
    drop(root);
    assert_eq!(aa.cause().map(String::as_str), Some("middle"));
}

// ---------------------------------------------------------------- drops

#[test]
fn dropping_a_middle_token_keeps_its_children_under_the_grandparent() {
    let root = Token::<u32>::with_cause_type();
    let mid = root.child_token();
    let leaf = mid.child_token();
    let leaf_below = leaf.child_token();
    let mut w = polled(leaf_below.cancelled());
    w.pending();
    drop(mid);
    assert!(!leaf.is_cancelled());
    root.cancel_with(9);
    assert!(leaf.is_cancelled() && leaf_below.is_cancelled());
    assert_eq!(leaf_below.cause(), Some(&9));
    all_woken_once_and_ready(&mut [w]);
}

#[test]
fn a_chain_of_tokens_each_replaced_by_its_child_stays_cancellable() {
    let root = Token::new();
    let mut current = root.child_token();
    for _ in 0..DEEP {
        current = current.child_token();
    }
    root.cancel();
    assert!(current.is_cancelled());
}

#[test]
fn dropping_a_root_makes_its_children_roots() {
    let root = Token::<u32>::with_cause_type();
    let a = root.child_token();
    let aa = a.child_token();
    drop(root);
    assert!(!a.is_cancelled());
    a.cancel_with(4);
    assert_eq!(aa.cause(), Some(&4));
}

#[test]
fn dropping_a_cancelled_child_and_a_born_cancelled_one_is_fine() {
    let root = Token::new();
    let a = root.child_token();
    root.cancel();
    let born = root.child_token();
    drop(a);
    drop(born);
    drop(root);
}

#[test]
fn dropping_every_child_in_any_order_leaves_the_parent_working() {
    let root = Token::new();
    let mut children: Vec<_> = (0..10).map(|_| root.child_token()).collect();
    let grandchildren: Vec<_> = children.iter().map(|c| c.child_token()).collect();
    // First, last, middle.
    drop(children.remove(0));
    drop(children.pop());
    drop(children.remove(3));
    let mut w = polled(root.cancelled());
    w.pending();
    root.cancel();
    assert!(children
        .iter()
        .chain(&grandchildren)
        .all(|t| t.is_cancelled()));
    all_woken_once_and_ready(&mut [w]);
}

#[test]
fn a_child_dropped_while_its_parent_is_mid_cancel_loses_nothing() {
    // The first waiter's waker drops a child between two wake batches of
    // the parent's cancellation; that child's own child is still reached.
    static ROOT: RootToken<u32> = RootToken::with_cause_type();
    let victim = Arc::new(Mutex::new(Some(ROOT.child_token())));
    let grandchild = victim.lock().unwrap().as_ref().unwrap().child_token();
    let victim_in_hook = victim.clone();
    let mut first = Polled::with_hook(ROOT.cancelled(), move || {
        drop(victim_in_hook.lock().unwrap().take());
    });
    first.pending();
    let mut rest: Vec<_> = (0..MANY).map(|_| polled(ROOT.cancelled())).collect();
    for w in &mut rest {
        w.pending();
    }
    let mut below = polled(grandchild.cancelled());
    below.pending();
    ROOT.cancel_with(5);
    assert!(first.hook_ran());
    all_woken_once_and_ready(&mut rest);
    assert_eq!(below.wakes(), 1);
    below.ready();
    assert_eq!(grandchild.cause(), Some(&5));
}

// ---------------------------------------------------------------- waiters

#[test]
fn a_waiter_dropped_while_queued_leaves_the_others_woken() {
    let token = Token::new();
    let mut ws = waiters(&token, 5);
    drop(ws.pop());
    drop(ws.remove(2));
    drop(ws.remove(0));
    token.cancel();
    all_woken_once_and_ready(&mut ws);
}

#[test]
fn a_waiter_dropped_after_its_wake_before_the_repoll_affects_nobody() {
    let token = Token::new();
    let mut ws = waiters(&token, 3);
    token.cancel();
    let woken = ws.remove(1);
    assert_eq!(woken.wakes(), 1);
    drop(woken);
    all_woken_once_and_ready(&mut ws);
}

#[test]
fn a_waiter_dropped_by_another_waiters_waker_during_cancel_loses_nothing() {
    static TOKEN: RootToken = RootToken::new();
    let victim: Arc<Mutex<Option<Polled<Cancelled<'static>>>>> = Arc::new(Mutex::new(None));
    let victim_in_hook = victim.clone();
    let mut first = Polled::with_hook(TOKEN.cancelled(), move || {
        drop(victim_in_hook.lock().unwrap().take());
    });
    first.pending();
    let mut rest: Vec<_> = (0..MANY).map(|_| polled(TOKEN.cancelled())).collect();
    for w in &mut rest {
        w.pending();
    }
    // In the last batch, so the first batch's wake drops it before it is
    // popped.
    let mut v = polled(TOKEN.cancelled());
    v.pending();
    *victim.lock().unwrap() = Some(v);
    TOKEN.cancel();
    assert!(first.hook_ran());
    assert!(victim.lock().unwrap().is_none());
    all_woken_once_and_ready(&mut rest);
    first.ready();
}

#[test]
fn a_panicking_wake_during_cancel_still_wakes_and_cancels_everything() {
    let token = Token::new();
    let child = token.child_token();
    let mut bad = Polled::with_hook(token.cancelled(), || panic!("wake failed"));
    bad.pending();
    let mut rest = waiters(&token, MANY);
    let mut below = polled(child.cancelled());
    below.pending();
    assert!(catch_unwind(AssertUnwindSafe(|| token.cancel())).is_err());
    assert!(child.is_cancelled());
    all_woken_once_and_ready(&mut rest);
    all_woken_once_and_ready(&mut [below]);
    bad.ready();
}

#[test]
fn a_panicking_waker_clone_leaves_the_token_consistent() {
    let token = Token::new();
    let mut fut = Box::pin(token.cancelled());
    let waker = common::poll::panicking_clone_waker();
    let poll = catch_unwind(AssertUnwindSafe(|| {
        fut.as_mut()
            .poll(&mut std::task::Context::from_waker(&waker))
    }));
    assert!(poll.is_err());
    drop(fut);
    let mut w = polled(token.cancelled());
    w.pending();
    token.cancel();
    all_woken_once_and_ready(&mut [w]);
}

#[test]
fn cancelled_owned_dropped_while_queued_or_after_its_wake_affects_nobody() {
    let token = Token::new();
    let mut gone = polled(token.clone().cancelled_owned());
    let mut woken = polled(token.clone().cancelled_owned());
    let mut stays = polled(token.clone().cancelled_owned());
    gone.pending();
    woken.pending();
    stays.pending();
    drop(gone);
    token.cancel();
    assert_eq!(woken.wakes(), 1);
    drop(woken);
    all_woken_once_and_ready(&mut [stays]);
}

#[test]
fn cancelled_owned_keeps_its_token_in_the_tree() {
    let root = Token::new();
    let mut w = polled(root.child_token().cancelled_owned());
    w.pending();
    root.cancel();
    all_woken_once_and_ready(&mut [w]);
}

// ---------------------------------------------------------------- run_until_cancelled

/// A future that counts its polls and completes on the `ready_at`-th.
struct Counted {
    polls: Arc<AtomicUsize>,
    ready_at: usize,
}

impl std::future::Future for Counted {
    type Output = usize;
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> Poll<usize> {
        let n = self.polls.fetch_add(1, SeqCst) + 1;
        if n >= self.ready_at {
            Poll::Ready(n)
        } else {
            Poll::Pending
        }
    }
}

fn counted(ready_at: usize) -> (Counted, Arc<AtomicUsize>) {
    let polls = Arc::new(AtomicUsize::new(0));
    (
        Counted {
            polls: polls.clone(),
            ready_at,
        },
        polls,
    )
}

#[test]
fn run_until_cancelled_returns_the_output_of_a_future_that_completes() {
    let token = Token::new();
    let (fut, _) = counted(2);
    let mut run = polled(token.run_until_cancelled(fut));
    run.pending();
    assert_eq!(run.ready(), Some(2));
}

#[test]
fn run_until_cancelled_on_a_cancelled_token_returns_none_without_polling_the_future() {
    let token = Token::new();
    token.cancel();
    let (fut, polls) = counted(1);
    assert_eq!(polled(token.run_until_cancelled(fut)).ready(), None);
    assert_eq!(polls.load(SeqCst), 0, "never started");
    let root = RootToken::new();
    root.cancel();
    let (fut, polls) = counted(1);
    assert_eq!(polled(root.run_until_cancelled(fut)).ready(), None);
    assert_eq!(polls.load(SeqCst), 0);
}

#[test]
fn run_until_cancelled_lets_a_started_future_that_is_ready_win_over_the_cancellation() {
    let token = Token::new();
    let (fut, polls) = counted(2);
    let mut run = polled(token.run_until_cancelled(fut));
    run.pending();
    // Both ready now: cancelled, and the future completes on this poll.
    token.cancel();
    assert_eq!(run.wakes(), 1);
    assert_eq!(run.ready(), Some(2));
    assert_eq!(polls.load(SeqCst), 2);
}

#[test]
fn run_until_cancelled_returns_none_and_drops_a_pending_future_on_cancel() {
    let token = Token::new();
    let dropped = Arc::new(AtomicUsize::new(0));
    struct Guard(Arc<AtomicUsize>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    let guard = Guard(dropped.clone());
    let mut run = polled(token.run_until_cancelled(async move {
        let _guard = guard;
        std::future::pending::<()>().await
    }));
    run.pending();
    token.cancel();
    assert_eq!(run.wakes(), 1);
    assert_eq!(run.ready(), None);
    drop(run);
    assert_eq!(dropped.load(SeqCst), 1);
}

#[test]
fn run_until_cancelled_dropped_while_queued_or_after_its_wake_affects_nobody() {
    let token = Token::new();
    let mut gone = polled(token.run_until_cancelled(std::future::pending::<()>()));
    let mut woken = polled(token.run_until_cancelled(std::future::pending::<()>()));
    let mut stays = polled(token.run_until_cancelled(std::future::pending::<()>()));
    gone.pending();
    woken.pending();
    stays.pending();
    drop(gone);
    token.cancel();
    assert_eq!(woken.wakes(), 1);
    drop(woken);
    assert_eq!(stays.wakes(), 1);
    assert_eq!(stays.ready(), None);
}

#[test]
fn run_until_cancelled_owned_follows_the_same_order() {
    let token = Token::new();
    let (fut, polls) = counted(1);
    token.cancel();
    assert_eq!(
        polled(token.clone().run_until_cancelled_owned(fut)).ready(),
        None
    );
    assert_eq!(polls.load(SeqCst), 0);
    let token = Token::new();
    let (fut, _) = counted(2);
    let mut run = polled(token.clone().run_until_cancelled_owned(fut));
    run.pending();
    token.cancel();
    assert_eq!(run.ready(), Some(2));
    let mut gone = polled(
        token
            .child_token()
            .run_until_cancelled_owned(std::future::pending::<()>()),
    );
    assert_eq!(gone.ready(), None, "born cancelled");
    drop(gone);
}

#[test]
fn run_until_cancelled_owned_dropped_while_queued_or_after_its_wake_affects_nobody() {
    let token = Token::new();
    let mut gone = polled(
        token
            .clone()
            .run_until_cancelled_owned(std::future::pending::<()>()),
    );
    let mut woken = polled(
        token
            .clone()
            .run_until_cancelled_owned(std::future::pending::<()>()),
    );
    let mut stays = polled(
        token
            .clone()
            .run_until_cancelled_owned(std::future::pending::<()>()),
    );
    gone.pending();
    woken.pending();
    stays.pending();
    drop(gone);
    token.cancel();
    assert_eq!(woken.wakes(), 1);
    drop(woken);
    assert_eq!(stays.wakes(), 1);
    assert_eq!(stays.ready(), None);
}

#[test]
#[should_panic(expected = "polled after completion")]
fn run_until_cancelled_polled_after_completion_panics() {
    let token = Token::new();
    let mut run = polled(token.run_until_cancelled(async {}));
    run.ready();
    let _ = run.poll();
}

// ---------------------------------------------------------------- drop guard

#[test]
fn a_drop_guard_cancels_its_token_when_dropped() {
    let token = Token::<u8>::with_cause_type();
    let child = token.child_token();
    let guard = token.clone().drop_guard();
    let mut w = polled(child.cancelled());
    w.pending();
    drop(guard);
    assert!(token.is_cancelled() && child.is_cancelled());
    assert_eq!(token.cause(), None);
    all_woken_once_and_ready(&mut [w]);
}

#[test]
fn a_disarmed_drop_guard_gives_the_token_back_uncancelled() {
    let token = Token::new();
    let back = token.clone().drop_guard().disarm();
    assert!(!back.is_cancelled());
    drop(back);
    assert!(!token.is_cancelled());
}

#[test]
fn a_drop_guard_cancels_during_a_panic() {
    let token = Token::new();
    let guard = token.clone().drop_guard();
    let result = catch_unwind(AssertUnwindSafe(move || {
        let _guard = guard;
        panic!("work failed");
    }));
    assert!(result.is_err());
    assert!(token.is_cancelled());
}

// ---------------------------------------------------------------- roots

#[test]
fn a_static_root_cancels_its_tree_of_tokens_with_its_cause() {
    static ROOT: RootToken<&str> = RootToken::with_cause_type();
    let a = ROOT.child_token();
    let aa = a.child_token();
    let mut ws = vec![polled(ROOT.cancelled()), polled(aa.cancelled())];
    for w in &mut ws {
        w.pending();
    }
    assert!(ROOT.cancel_with("stop"));
    assert_eq!(a.cause(), Some(&"stop"));
    assert_eq!(aa.cause(), Some(&"stop"));
    assert_eq!(ROOT.child_token().cause(), Some(&"stop"), "born cancelled");
    all_woken_once_and_ready(&mut ws);
}

#[test]
fn children_dropped_under_a_static_root_leave_it_working() {
    static ROOT: RootToken = RootToken::new();
    let mid = ROOT.child_token();
    let leaf = mid.child_token();
    for _ in 0..100 {
        drop(ROOT.child_token());
    }
    drop(mid); // `leaf` moves up to the static root
    ROOT.cancel();
    assert!(leaf.is_cancelled());
}

#[test]
fn a_root_with_another_lock_works_the_same() {
    static SPIN: RootToken<u8, SpinRawMutex> = RootToken::new_with_raw_mutex(SpinRawMutex::new());
    let child = SPIN.child_token();
    let mut w = polled(child.cancelled());
    w.pending();
    SPIN.cancel_with(3);
    assert_eq!(child.cause(), Some(&3));
    all_woken_once_and_ready(&mut [w]);
    let local = RootToken::<(), _>::new_with_raw_mutex(LocalRawMutex::new());
    let mut w = polled(local.cancelled());
    w.pending();
    local.cancel();
    all_woken_once_and_ready(&mut [w]);
}

#[test]
fn run_until_cancelled_on_a_root_races_the_same_way() {
    let root = RootToken::new();
    let (fut, _) = counted(2);
    let mut run = polled(root.run_until_cancelled(fut));
    run.pending();
    root.cancel();
    assert_eq!(run.ready(), Some(2));
}

#[test]
fn debug_output_shows_the_state() {
    let token = Token::new();
    assert_eq!(
        format!("{token:?}"),
        "CancellationToken { is_cancelled: false }"
    );
    let root = RootToken::new();
    root.cancel();
    assert_eq!(format!("{root:?}"), "RootToken { is_cancelled: true }");
    let w = token.cancelled();
    assert_eq!(
        format!("{w:?}"),
        "Cancelled { is_cancelled: false, queued: false }"
    );
    let guard = token.clone().drop_guard();
    assert!(format!("{guard:?}").starts_with("DropGuard { token: Some("));
    let _ = guard.disarm();
    let run = token.run_until_cancelled(async {});
    assert!(format!("{run:?}").starts_with("RunUntilCancelled {"));
    let owned = token.clone().cancelled_owned();
    assert!(format!("{owned:?}").starts_with("CancelledOwned {"));
}
