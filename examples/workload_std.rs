//! `workload.rs` written against std instead of racecheck: std's threads,
//! `Arc`, `Mutex` and `Condvar`, with only the shared data in `RaceCell`s.
//! This is what a program looks like before it is instrumented: racecheck
//! sees the threads' spawns and joins (on Linux) but not std's locks and
//! condition variables, so the hand-offs through the queues and the
//! mutex-protected tally are reported, each as possibly false, with one
//! note saying which racecheck types would make them visible.
//!
//! ```text
//! cargo build --release --example workload_std
//! RACECHECK=1 target/release/examples/workload_std
//! ```
//!
//! `docs/racecheck.md` records what it reports.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use std::sync::{Arc, Condvar, Mutex};
use std::thread;

use racecheck::cell::RaceCell;

const MESSAGES: u64 = 200_000;
const CAPACITY: usize = 256;
const UPDATES_PER_THREAD: u64 = 200_000;

/// A bounded FIFO hand-off built from std's mutex and condvar: the lock
/// orders each push before the pop that takes it, which racecheck cannot
/// see.
struct Queue<T> {
    items: Mutex<(VecDeque<T>, bool)>,
    not_empty: Condvar,
    not_full: Condvar,
}

impl<T> Queue<T> {
    fn new() -> Self {
        Queue {
            items: Mutex::new((VecDeque::with_capacity(CAPACITY), false)),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
        }
    }

    fn push(&self, item: T) {
        let mut guard = self.items.lock().expect("queue lock");
        while guard.0.len() == CAPACITY {
            guard = self.not_full.wait(guard).expect("queue lock");
        }
        guard.0.push_back(item);
        drop(guard);
        self.not_empty.notify_one();
    }

    fn close(&self) {
        self.items.lock().expect("queue lock").1 = true;
        self.not_empty.notify_all();
    }

    fn pop(&self) -> Option<T> {
        let mut guard = self.items.lock().expect("queue lock");
        loop {
            if let Some(item) = guard.0.pop_front() {
                drop(guard);
                self.not_full.notify_one();
                return Some(item);
            }
            if guard.1 {
                return None;
            }
            guard = self.not_empty.wait(guard).expect("queue lock");
        }
    }
}

type Message = Box<RaceCell<u64>>;

fn main() {
    let start = Instant::now();
    let queues: Arc<Vec<Queue<Message>>> = Arc::new((0..3).map(|_| Queue::new()).collect());
    let shared = Arc::new(Mutex::new(HashMap::<u64, u64>::new()));
    let tally = Arc::new(RaceCell::new(0u64));

    let mut handles = Vec::new();
    // Stage 0: produce.
    {
        let queues = queues.clone();
        handles.push(thread::spawn(move || {
            for i in 0..MESSAGES {
                let message = Box::new(RaceCell::new(i));
                message.set(message.get() * 2);
                queues[0].push(message);
            }
            queues[0].close();
            0
        }));
    }
    // Stages 1 and 2: transform and pass on.
    for stage in 1..3 {
        let queues = queues.clone();
        handles.push(thread::spawn(move || {
            while let Some(message) = queues[stage - 1].pop() {
                message.set(message.get() + 1);
                queues[stage].push(message);
            }
            queues[stage].close();
            0
        }));
    }
    // Stage 3: consume.
    {
        let queues = queues.clone();
        handles.push(thread::spawn(move || {
            let mut sum = 0u64;
            while let Some(message) = queues[2].pop() {
                sum = sum.wrapping_add(message.get());
            }
            sum
        }));
    }
    // Shared state under a mutex.
    for worker in 0..4u64 {
        let (shared, tally) = (shared.clone(), tally.clone());
        handles.push(thread::spawn(move || {
            for i in 0..UPDATES_PER_THREAD {
                let mut map = shared.lock().expect("state lock");
                *map.entry((worker * 7 + i) % 1024).or_insert(0) += 1;
                tally.set(tally.get() + 1);
            }
            0
        }));
    }
    let sum: u64 = handles.into_iter().map(|h| h.join().expect("worker panicked")).sum();
    let expected: u64 = (0..MESSAGES).map(|i| i * 2 + 2).sum();
    assert_eq!(sum, expected);
    assert_eq!(tally.get(), 4 * UPDATES_PER_THREAD);
    let total: u64 = shared.lock().expect("state lock").values().sum();
    assert_eq!(total, 4 * UPDATES_PER_THREAD);
    let reports = racecheck::reports();
    println!(
        "workload_std done in {:.3} s (racecheck {}, {} races, {} of them involving threads not started through racecheck)",
        start.elapsed().as_secs_f64(),
        if racecheck::enabled() { "on" } else { "off" },
        reports.races,
        reports.races_with_threads_outside_racecheck,
    );
}
