//! Three races that one run of a program rarely shows, and that
//! `racecheck::explore` finds:
//!
//! - `lock-order`: a write ordered with another thread's write only when
//!   the writing thread happens to take a mutex first;
//! - `cas`: a read in the contended branch of a lock-free push, the branch
//!   taken only when a compare-and-swap fails;
//! - `full-channel`: a slow path that only runs when a bounded channel is
//!   full.
//!
//! Each comes with its fixed twin (`--fixed`), which no schedule reports.
//!
//! ```text
//! # one plain run under the detector (exit status 66 if it saw the race)
//! RACECHECK=1 cargo run --release --example explore_races -- lock-order
//! # 100 schedules
//! cargo run --release --example explore_races -- lock-order --explore 100
//! # the fixed program
//! cargo run --release --example explore_races -- lock-order --explore 100 --fixed
//! ```
//!
//! `docs/racecheck.md` records how often each is found, plain and explored.

use std::time::{Duration, Instant};

use racecheck::cell::RaceCell;
use racecheck::sync::atomic::{AtomicUsize, Ordering};
use racecheck::sync::{Arc, Mutex};
use racecheck::thread;

/// A first thread initializes `config` and then announces it under the
/// lock; a second takes the lock, and then overwrites `config` with its own
/// setting. When the first thread gets the lock first, the lock orders the
/// two writes; when the second does, nothing does. Spawned in this order,
/// the first thread nearly always wins the lock.
///
/// Fixed: the second thread writes `config` only while it holds the lock
/// and the first thread wrote it under the lock too.
pub fn lock_order(fixed: bool) {
    let announced = Arc::new(Mutex::new(false));
    let config = Arc::new(RaceCell::new(0u32));
    let first = {
        let (announced, config) = (announced.clone(), config.clone());
        thread::spawn(move || {
            if fixed {
                let mut announced = announced.lock().unwrap();
                config.set(1);
                *announced = true;
            } else {
                config.set(1);
                *announced.lock().unwrap() = true;
            }
        })
    };
    let second = {
        let (announced, config) = (announced.clone(), config.clone());
        thread::spawn(move || {
            let announced = announced.lock().unwrap();
            if fixed {
                config.set(if *announced { 2 } else { 3 });
            } else {
                let seen = *announced;
                drop(announced);
                config.set(if seen { 2 } else { 3 });
            }
        })
    };
    first.join().unwrap();
    second.join().unwrap();
}

/// A Treiber-style stack of pre-allocated nodes: each of two threads fills
/// its node and pushes it with a compare-and-swap on `top`. When the CAS
/// fails (another push got in between this thread's load of `top` and its
/// CAS), the contended branch looks at the node that won, for statistics;
/// but the CAS's failure ordering is `Relaxed`, which orders nothing, so
/// that read races with the winner's write of its node. Uncontended, the
/// branch never runs, and the two pushes are microseconds apart.
///
/// Fixed: the failure ordering is `Acquire`.
pub fn cas(fixed: bool) {
    const THREADS: usize = 2;
    struct Stack {
        top: AtomicUsize,
        values: Vec<RaceCell<u64>>,
        next: Vec<AtomicUsize>,
        contended: AtomicUsize,
    }
    let stack = Arc::new(Stack {
        top: AtomicUsize::new(0),
        values: (0..THREADS).map(|_| RaceCell::new(0)).collect(),
        next: (0..THREADS).map(|_| AtomicUsize::new(0)).collect(),
        contended: AtomicUsize::new(0),
    });
    let failure = if fixed { Ordering::Acquire } else { Ordering::Relaxed };
    let pushers: Vec<_> = (0..THREADS)
        .map(|i| {
            let stack = stack.clone();
            thread::spawn(move || {
                stack.values[i].set(100 + i as u64);
                let mut top = stack.top.load(Ordering::Acquire);
                loop {
                    stack.next[i].store(top, Ordering::Relaxed);
                    match stack.top.compare_exchange(top, i + 1, Ordering::Release, failure) {
                        Ok(_) => break,
                        Err(winner) => {
                            // The contended branch: who beat us, and with what?
                            let value = stack.values[winner - 1].get();
                            stack.contended.fetch_add(value as usize, Ordering::Relaxed);
                            top = winner;
                        }
                    }
                }
            })
        })
        .collect();
    for pusher in pushers {
        pusher.join().unwrap();
    }
}

/// A producer hands records to a logging thread over a bounded channel and
/// never waits: when the channel is full it puts the record on a spill list
/// that the logging thread looks at after each record. The spill list is a
/// plain shared variable, and nothing orders the producer's write of it with
/// the logger's read. The producer works a little between records, so the
/// logger keeps up and the channel is almost never full.
///
/// Fixed: the spill list is behind a mutex.
pub fn full_channel(fixed: bool) {
    full_channel_paced(fixed, Duration::from_millis(1));
}

/// [`full_channel`] with `pace` of work before each record. The work has
/// no scheduling point, so under `explore` the pace changes nothing but
/// the time a schedule takes.
pub fn full_channel_paced(fixed: bool, pace: Duration) {
    const RECORDS: u64 = 8;
    let (records, log) = chan::bounded::<u64>(4);
    let (ready_tx, ready) = chan::bounded::<()>(0);
    let spill = Arc::new(RaceCell::new(Vec::<u64>::new()));
    let spill_lock = Arc::new(Mutex::new(()));
    let logger = {
        let (spill, spill_lock) = (spill.clone(), spill_lock.clone());
        thread::spawn(move || {
            ready_tx.send(()).unwrap();
            let mut spilled = 0;
            for _record in log.iter() {
                spilled = if fixed {
                    let _held = spill_lock.lock().unwrap();
                    spill.with(Vec::len)
                } else {
                    spill.with(Vec::len)
                };
            }
            spilled
        })
    };
    ready.recv().unwrap();
    for record in 0..RECORDS {
        work(pace);
        if let Err(chan::TrySendError::Full(record)) = records.try_send(record) {
            // The slow path.
            if fixed {
                let _held = spill_lock.lock().unwrap();
                spill.with_mut(|s| s.push(record));
            } else {
                spill.with_mut(|s| s.push(record));
            }
        }
    }
    drop(records);
    logger.join().unwrap();
}

/// Busy work that no scheduler sees: the time a producer spends making a
/// record.
fn work(time: Duration) {
    let start = Instant::now();
    while start.elapsed() < time {
        std::hint::spin_loop();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let program: fn(bool) = match args.first().map(String::as_str) {
        Some("lock-order") => lock_order,
        Some("cas") => cas,
        Some("full-channel") => full_channel,
        _ => {
            eprintln!("usage: explore_races lock-order|cas|full-channel [--explore N] [--fixed]");
            std::process::exit(2);
        }
    };
    let fixed = args.iter().any(|a| a == "--fixed");
    let explore = args.iter().position(|a| a == "--explore").map(|i| {
        args.get(i + 1).and_then(|n| n.parse::<usize>().ok()).unwrap_or_else(|| {
            eprintln!("--explore wants a number of schedules");
            std::process::exit(2);
        })
    });
    match explore {
        Some(iterations) => racecheck::explore(iterations, move || program(fixed)),
        None => program(fixed),
    }
}
