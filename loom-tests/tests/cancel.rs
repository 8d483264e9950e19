//! loom models of the cancellation tree: a cancel racing a child's creation
//! and a child's drop, two drops racing up and down the tree, a waiter
//! registering or dropped while `cancel()` runs, and racing causes. The tree's nodes are
//! loom `Arc`s, so each model also fails if any node leaks.
use std::task::Poll;

use sluicegate::CancellationToken;
use sluicegate_loom_tests::{model, thread, Polled};

#[test]
fn cancel_racing_child_creation_always_reaches_the_child() {
    model(|| {
        let parent = CancellationToken::<u8>::with_cause_type();
        let p = parent.clone();
        let creator = thread::spawn(move || {
            let child = p.child_token();
            let mut waiter = Polled::new(child.clone().cancelled_owned());
            // Linked before the cancel (must be woken) or born cancelled.
            let pending = waiter.poll().is_pending();
            (child, waiter, pending)
        });
        assert!(parent.cancel_with(1));
        let (child, mut waiter, pending) = creator.join().unwrap();
        assert!(child.is_cancelled());
        assert_eq!(child.cause(), Some(&1));
        if pending {
            assert_eq!(waiter.wakes(), 1);
            assert_eq!(waiter.poll(), Poll::Ready(()));
        }
    });
}

#[test]
fn cancel_racing_a_middle_tokens_drop_still_reaches_its_child() {
    model(|| {
        let root = CancellationToken::<u8>::with_cause_type();
        let mid = root.child_token();
        let leaf = mid.child_token();
        let mut waiter = Polled::new(leaf.clone().cancelled_owned());
        assert!(waiter.poll().is_pending());
        // The drop moves `leaf` up to `root`; the cancel drains `root`.
        let dropper = thread::spawn(move || drop(mid));
        let r = root.clone();
        let canceller = thread::spawn(move || r.cancel_with(1));
        dropper.join().unwrap();
        assert!(canceller.join().unwrap());
        assert_eq!(leaf.cause(), Some(&1));
        assert_eq!(waiter.wakes(), 1);
        assert_eq!(waiter.poll(), Poll::Ready(()));
    });
}

#[test]
fn a_childs_drop_racing_its_parents_cancel_still_reaches_the_grandchild() {
    model(|| {
        let parent = CancellationToken::<u8>::with_cause_type();
        let child = parent.child_token();
        let below = child.child_token();
        let mut waiter = Polled::new(below.clone().cancelled_owned());
        assert!(waiter.poll().is_pending());
        // The canceller takes `child` off `parent`'s list and drains it
        // later; `child`'s drop, in between, must leave `below` to it.
        let dropper = thread::spawn(move || drop(child));
        let p = parent.clone();
        let canceller = thread::spawn(move || p.cancel_with(1));
        dropper.join().unwrap();
        assert!(canceller.join().unwrap());
        assert_eq!(below.cause(), Some(&1));
        assert_eq!(waiter.wakes(), 1);
        assert_eq!(waiter.poll(), Poll::Ready(()));
    });
}

#[test]
fn a_waiter_registering_while_cancel_runs_is_woken_or_ready() {
    model(|| {
        let token = CancellationToken::new();
        let t = token.clone();
        let waiter = thread::spawn(move || {
            let mut w = Polled::new(t.cancelled_owned());
            w.poll().is_pending().then_some(w)
        });
        token.cancel();
        if let Some(mut w) = waiter.join().unwrap() {
            assert_eq!(w.wakes(), 1);
            assert_eq!(w.poll(), Poll::Ready(()));
        }
    });
}

#[test]
fn a_childs_drop_racing_its_parents_drop_keeps_the_grandchild_in_the_tree() {
    model(|| {
        let root = CancellationToken::new();
        let mid = root.child_token();
        let leaf = mid.child_token();
        let below = leaf.child_token();
        // `leaf` leaving `mid` (try-locking up the tree) races `mid` moving
        // `leaf` up to `root` (locking down it).
        let a = thread::spawn(move || drop(mid));
        let b = thread::spawn(move || drop(leaf));
        a.join().unwrap();
        b.join().unwrap();
        root.cancel();
        assert!(below.is_cancelled());
    });
}

#[test]
fn a_waiter_dropped_while_cancel_wakes_loses_nothing_for_the_others() {
    model(|| {
        let root = CancellationToken::new();
        let child = root.child_token();
        let mut gone = Polled::new(child.clone().cancelled_owned());
        let mut stays = Polled::new(child.clone().cancelled_owned());
        let mut above = Polled::new(root.clone().cancelled_owned());
        assert!(gone.poll().is_pending());
        assert!(stays.poll().is_pending());
        assert!(above.poll().is_pending());
        let dropper = thread::spawn(move || drop(gone));
        let r = root.clone();
        let canceller = thread::spawn(move || r.cancel());
        dropper.join().unwrap();
        canceller.join().unwrap();
        for w in [&mut stays, &mut above] {
            assert_eq!(w.wakes(), 1);
            assert_eq!(w.poll(), Poll::Ready(()));
        }
    });
}

#[test]
fn two_racing_causes_on_one_token_record_exactly_one() {
    model(|| {
        let token = CancellationToken::<u8>::with_cause_type();
        let child = token.child_token();
        let t = token.clone();
        let other = thread::spawn(move || t.cancel_with(2));
        let mine = token.cancel_with(1);
        let theirs = other.join().unwrap();
        assert!(mine != theirs, "exactly one wins");
        let winner = if mine { 1 } else { 2 };
        assert_eq!(token.cause(), Some(&winner));
        assert_eq!(child.cause(), Some(&winner));
    });
}

#[test]
fn a_parents_cause_racing_a_childs_own_leaves_the_first_to_reach_it() {
    model(|| {
        let parent = CancellationToken::<u8>::with_cause_type();
        let child = parent.child_token();
        let grandchild = child.child_token();
        let p = parent.clone();
        let c = child.clone();
        let a = thread::spawn(move || p.cancel_with(1));
        let b = thread::spawn(move || c.cancel_with(2));
        assert!(a.join().unwrap(), "nothing else cancels the parent");
        let child_won = b.join().unwrap();
        let expected = if child_won { 2 } else { 1 };
        assert_eq!(parent.cause(), Some(&1));
        assert_eq!(child.cause(), Some(&expected));
        assert_eq!(grandchild.cause(), Some(&expected));
    });
}
