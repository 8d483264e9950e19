//! Exact accounting of the values that pass through a channel.
//!
//! Every value a model sends is a [`Value`] made by a [`Ledger`], which
//! records what becomes of it: sent (its send reported success), received
//! (taken out by a receiver, which [`Value::receive`]s it), displaced (by a
//! `force_send`, whose caller gets it back) or dropped (wherever that
//! happens: in a failed or cancelled send, in an error, or inside the
//! channel when a shutdown discards it). At the end of a schedule
//! [`Ledger::check`] asserts that each value met exactly one fate, that only
//! sent values were received, and that the sent values that were dropped
//! are exactly as many as the shutdowns reported discarding.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Default, Clone, Copy)]
struct Entry {
    made: bool,
    sent: bool,
    received: u32,
    displaced: u32,
    dropped: u32,
}

/// The record of every value of one schedule. Its lock is std's, not
/// shuttle's: bookkeeping is no scheduling point.
pub struct Ledger {
    per_sender: usize,
    entries: Mutex<Vec<Entry>>,
    discarded: AtomicUsize,
    shut_down: AtomicBool,
}

impl Ledger {
    /// A ledger for `senders` senders of at most `per_sender` values each.
    pub fn new(senders: usize, per_sender: usize) -> Arc<Self> {
        Arc::new(Self {
            per_sender,
            entries: Mutex::new(vec![Entry::default(); senders * per_sender]),
            discarded: AtomicUsize::new(0),
            shut_down: AtomicBool::new(false),
        })
    }

    fn with<R>(&self, sender: usize, seq: usize, f: impl FnOnce(&mut Entry) -> R) -> R {
        assert!(seq < self.per_sender);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut entries[sender * self.per_sender + seq])
    }

    /// Makes value number `seq` of sender `sender`.
    pub fn make(self: &Arc<Self>, sender: usize, seq: usize) -> Value {
        self.with(sender, seq, |e| {
            assert!(!e.made, "value {sender}.{seq} made twice");
            e.made = true;
        });
        Value {
            sender,
            seq,
            ledger: Some(self.clone()),
        }
    }

    /// Records that the send of `(sender, seq)` reported success.
    pub fn sent(&self, (sender, seq): (usize, usize)) {
        self.with(sender, seq, |e| {
            assert!(!e.sent, "value {sender}.{seq} reported sent twice");
            e.sent = true;
        });
    }

    /// Records a shutdown's report of how many queued values it discarded.
    pub fn discarded(&self, n: usize) {
        self.shut_down.store(true, Ordering::Relaxed);
        self.discarded.fetch_add(n, Ordering::Relaxed);
    }

    /// The end-of-schedule check: every value made met exactly one fate;
    /// none was received unless sent, or received twice; the sent values
    /// dropped unreceived are exactly those the shutdowns discarded
    /// (`exact`), or else at least those, and none without a shutdown: a
    /// value handed to a woken receive before a shutdown is that
    /// receiver's, and is discarded uncounted if the receive is then
    /// dropped; so is a value sent through a permit after the shutdown.
    pub fn check(&self, exact: bool) {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut lost_in_channel = 0;
        for (i, e) in entries.iter().enumerate() {
            let (sender, seq) = (i / self.per_sender, i % self.per_sender);
            if !e.made {
                continue;
            }
            assert_eq!(
                e.received + e.displaced + e.dropped,
                1,
                "value {sender}.{seq} met {} fates: {e:?}",
                e.received + e.displaced + e.dropped,
            );
            if e.received + e.displaced > 0 {
                assert!(
                    e.sent,
                    "value {sender}.{seq} came out but its send failed or was cancelled: {e:?}"
                );
            }
            if e.sent && e.dropped > 0 {
                lost_in_channel += 1;
            }
        }
        let reported = self.discarded.load(Ordering::Relaxed);
        if !self.shut_down.load(Ordering::Relaxed) {
            assert_eq!(
                lost_in_channel, 0,
                "sent values were dropped inside the channel without a shutdown"
            );
        } else if !exact {
            assert!(
                lost_in_channel >= reported,
                "shutdowns reported {reported} discarded, but only {lost_in_channel} sent values were dropped"
            );
        } else {
            assert_eq!(
                lost_in_channel, reported,
                "sent values dropped inside the channel, against those shutdowns reported discarding"
            );
        }
    }

    /// The values whose sends reported success.
    pub fn sent_count(&self) -> usize {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.iter().filter(|e| e.sent).count()
    }
}

/// A value sent through a channel under test; see the [module](self) docs.
pub struct Value {
    sender: usize,
    seq: usize,
    ledger: Option<Arc<Ledger>>,
}

impl Value {
    /// `(sender, seq)`.
    pub fn id(&self) -> (usize, usize) {
        (self.sender, self.seq)
    }

    /// Takes the value out as a receiver; returns its id.
    pub fn receive(mut self) -> (usize, usize) {
        let ledger = self.ledger.take().expect("a live value");
        ledger.with(self.sender, self.seq, |e| e.received += 1);
        self.id()
    }

    /// Takes the value back from a `force_send` that displaced it.
    pub fn displace(mut self) -> (usize, usize) {
        let ledger = self.ledger.take().expect("a live value");
        ledger.with(self.sender, self.seq, |e| e.displaced += 1);
        self.id()
    }
}

impl Drop for Value {
    fn drop(&mut self) {
        if let Some(ledger) = self.ledger.take() {
            ledger.with(self.sender, self.seq, |e| e.dropped += 1);
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Value({}.{})", self.sender, self.seq)
    }
}

/// Asserts that `received`, the ids one receiver took out in order, holds
/// each sender's values in the order that sender sent them.
pub fn assert_fifo_per_sender(received: &[(usize, usize)]) {
    let senders = received.iter().map(|&(s, _)| s + 1).max().unwrap_or(0);
    let mut last: Vec<Option<usize>> = vec![None; senders];
    for &(sender, seq) in received {
        if let Some(prev) = last[sender] {
            assert!(
                seq > prev,
                "sender {sender}'s value {seq} came out after its value {prev}: {received:?}"
            );
        }
        last[sender] = Some(seq);
    }
}
