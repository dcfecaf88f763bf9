//! Checking one's own unsafe code: a hand-written single-producer,
//! single-consumer ring buffer on `racecheck::cell::UnsafeCell` and
//! racecheck's atomics, with one ordering bug.
//!
//! ```text
//! RACECHECK=1 cargo run --example unsafe_ring            # reported, exit 66
//! RACECHECK=1 cargo run --example unsafe_ring -- fixed   # silent, exit 0
//! ```
//!
//! The producer writes a slot, then publishes it by storing the new `tail`.
//! That store must be `Release` so that the consumer's `Acquire` load of
//! `tail` also makes the slot's contents visible. The buggy version stores
//! it `Relaxed`: on x86 it will almost always work anyway, on ARM it may
//! hand out a slot before its value lands, and racecheck reports the
//! slot's write and read as a data race on every machine.

use racecheck::cell::UnsafeCell;
use racecheck::sync::atomic::{AtomicUsize, Ordering};
use racecheck::thread;

const CAPACITY: usize = 8;

/// A fixed ring of `CAPACITY` slots; `head` and `tail` count pushes and
/// pops forever (slot = count % CAPACITY).
struct SpscRing {
    slots: [UnsafeCell<u64>; CAPACITY],
    /// Pops so far; written by the consumer only.
    head: AtomicUsize,
    /// Pushes so far; written by the producer only.
    tail: AtomicUsize,
    /// The ordering of the store that publishes a pushed slot.
    publish: Ordering,
}

// SAFETY: one producer and one consumer share the ring; each slot is
// written only by the producer and read only by the consumer, handed over
// through `head` and `tail` as argued in `push` and `pop`. (That argument is
// exactly what the buggy ordering breaks, and what racecheck checks.)
unsafe impl Sync for SpscRing {}

impl SpscRing {
    fn new(publish: Ordering) -> Self {
        SpscRing {
            slots: std::array::from_fn(|_| UnsafeCell::new(0)),
            head: AtomicUsize::new(0),
            tail: AtomicUsize::new(0),
            publish,
        }
    }

    /// Producer only.
    fn push(&self, value: u64) {
        let tail = self.tail.load(Ordering::Relaxed); // our own counter
        while tail - self.head.load(Ordering::Acquire) == CAPACITY {
            std::hint::spin_loop(); // full: wait for the consumer
        }
        // SAFETY: slot `tail` is free: the consumer finished it (its
        // Release store of `head`, which we acquired, says so) and will not
        // touch it until `tail` moves past it.
        self.slots[tail % CAPACITY].with_mut(|p| unsafe { *p = value });
        self.tail.store(tail + 1, self.publish); // the bug when Relaxed
    }

    /// Consumer only.
    fn pop(&self) -> u64 {
        let head = self.head.load(Ordering::Relaxed); // our own counter
        while self.tail.load(Ordering::Acquire) == head {
            std::hint::spin_loop(); // empty: wait for the producer
        }
        // SAFETY: the producer wrote slot `head` before moving `tail` past
        // it and will not write it again until `head` moves on. (Whether
        // that write is *visible* here is exactly what the `publish`
        // ordering decides.)
        let value = self.slots[head % CAPACITY].with(|p| unsafe { *p });
        self.head.store(head + 1, Ordering::Release);
        value
    }
}

fn main() {
    let fixed = std::env::args().nth(1).as_deref() == Some("fixed");
    let ring = SpscRing::new(if fixed { Ordering::Release } else { Ordering::Relaxed });
    let total: u64 = thread::scope(|s| {
        s.spawn(|| (1..=1000).for_each(|i| ring.push(i)));
        (0..1000).map(|_| ring.pop()).sum()
    });
    println!("{}: sum of 1..=1000 through the ring = {total}", if fixed { "fixed" } else { "buggy" });
}
