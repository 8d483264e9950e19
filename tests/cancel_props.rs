//! Property test of the cancellation tree against a small sequential model:
//! random sequences of new roots, children (of tokens and of a `static`-like
//! root), clones, drops and cancellations with or without a cause; after
//! every step each live handle's `is_cancelled()` and `cause()` agree with
//! the model, and every `cancel_with` reports whether it won as the model
//! says. Drops matter because a dropped middle token's children move up the
//! tree: the model never forgets a token, so any child lost on the way
//! shows up as one the model cancels and the tree does not.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Waker};

use proptest::prelude::*;
use proptest::sample::Index;
use sluicegate::cancel::RootToken;
use sluicegate::CancellationToken;

const CASES: u32 = 512;

#[derive(Debug, Clone)]
enum Op {
    NewRoot,
    /// A child of a live handle's token.
    Child(Index),
    /// A child of the case's root token.
    RootChild,
    Clone(Index),
    Drop(Index),
    /// `cancel()` for `None`, `cancel_with(c)` for `Some(c)`.
    Cancel(Index, Option<u8>),
    CancelRoot(Option<u8>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::NewRoot),
        6 => any::<Index>().prop_map(Op::Child),
        2 => Just(Op::RootChild),
        2 => any::<Index>().prop_map(Op::Clone),
        5 => any::<Index>().prop_map(Op::Drop),
        2 => (any::<Index>(), proptest::option::of(any::<u8>())).prop_map(|(i, c)| Op::Cancel(i, c)),
        1 => proptest::option::of(any::<u8>()).prop_map(Op::CancelRoot),
    ]
}

/// One token of the model, never forgotten, whatever its handles do.
#[derive(Debug, Clone, Copy)]
struct ModelToken {
    /// `None` for a root; `Some(ROOT)` for children of the case's root.
    parent: Option<usize>,
    cancelled: bool,
    cause: Option<u8>,
}

/// The model's id of the case's root token.
const ROOT: usize = 0;

struct Model {
    tokens: Vec<ModelToken>,
}

impl Model {
    fn new() -> Self {
        Self {
            tokens: vec![ModelToken {
                parent: None,
                cancelled: false,
                cause: None,
            }],
        }
    }

    /// A new token below `parent` (or a root): born cancelled, with the
    /// parent's cause, if the parent is cancelled.
    fn add(&mut self, parent: Option<usize>) -> usize {
        let (cancelled, cause) = match parent {
            Some(p) => (self.tokens[p].cancelled, self.tokens[p].cause),
            None => (false, None),
        };
        self.tokens.push(ModelToken {
            parent,
            cancelled,
            cause,
        });
        self.tokens.len() - 1
    }

    fn is_descendant(&self, mut id: usize, of: usize) -> bool {
        loop {
            if id == of {
                return true;
            }
            match self.tokens[id].parent {
                Some(p) => id = p,
                None => return false,
            }
        }
    }

    /// Cancels `id` and every descendant not cancelled yet with `cause`;
    /// returns whether `id` was not cancelled yet.
    fn cancel(&mut self, id: usize, cause: Option<u8>) -> bool {
        if self.tokens[id].cancelled {
            return false;
        }
        // A cancelled token's descendants are all cancelled already, so
        // every uncancelled descendant is reached by this cancellation.
        for t in 0..self.tokens.len() {
            if !self.tokens[t].cancelled && self.is_descendant(t, id) {
                self.tokens[t].cancelled = true;
                self.tokens[t].cause = cause;
            }
        }
        true
    }
}

fn ready_at_once(fut: impl Future<Output = ()>) -> bool {
    let mut fut = pin!(fut);
    fut.as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_ready()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Every live handle's state and cause match the model after each step.
    #[test]
    fn the_tree_matches_a_sequential_model(ops in proptest::collection::vec(op(), 1..80)) {
        // `child_token` on a root needs `&'static`: one leaked root per case.
        let root: &'static RootToken<u8> = Box::leak(Box::new(RootToken::with_cause_type()));
        let mut model = Model::new();
        let mut handles: Vec<(usize, CancellationToken<u8>)> = Vec::new();
        for op in ops {
            match op {
                Op::NewRoot => {
                    handles.push((model.add(None), CancellationToken::with_cause_type()));
                }
                Op::Child(i) if !handles.is_empty() => {
                    let (id, token) = &handles[i.index(handles.len())];
                    let child = token.child_token();
                    handles.push((model.add(Some(*id)), child));
                }
                Op::RootChild => {
                    handles.push((model.add(Some(ROOT)), root.child_token()));
                }
                Op::Clone(i) if !handles.is_empty() => {
                    let (id, token) = &handles[i.index(handles.len())];
                    handles.push((*id, token.clone()));
                }
                Op::Drop(i) if !handles.is_empty() => {
                    let at = i.index(handles.len());
                    drop(handles.swap_remove(at));
                }
                Op::Cancel(i, cause) if !handles.is_empty() => {
                    let (id, token) = &handles[i.index(handles.len())];
                    let expected = model.cancel(*id, cause);
                    match cause {
                        Some(c) => prop_assert_eq!(token.cancel_with(c), expected),
                        None => token.cancel(),
                    }
                }
                Op::CancelRoot(cause) => {
                    let expected = model.cancel(ROOT, cause);
                    match cause {
                        Some(c) => prop_assert_eq!(root.cancel_with(c), expected),
                        None => root.cancel(),
                    }
                }
                // An index into no handles: nothing to do.
                _ => {}
            }
            prop_assert_eq!(root.is_cancelled(), model.tokens[ROOT].cancelled);
            prop_assert_eq!(root.cause().copied(), model.tokens[ROOT].cause);
            for (id, token) in &handles {
                let m = model.tokens[*id];
                prop_assert_eq!(token.is_cancelled(), m.cancelled, "token {}", id);
                prop_assert_eq!(token.cause().copied(), m.cause, "token {}", id);
                prop_assert_eq!(ready_at_once(token.cancelled()), m.cancelled);
            }
        }
    }
}
