//! A lost update, as in Go's race detector articles: two workers bump a
//! shared counter with a read and a write that nothing orders.
//!
//! ```text
//! RACECHECK=1 cargo run --example racy_counter            # reported, exit 66
//! RACECHECK=1 cargo run --example racy_counter -- mutex   # fixed: silent
//! RACECHECK=1 cargo run --example racy_counter -- channel # fixed: silent
//! ```
//!
//! The report names the two racing lines: the read (`let seen = ...`) and
//! the write (`counter.set(...)`) of `racy`. Without `RACECHECK=1` every
//! version runs silently (the racy one may print less than 2000).
//!
//! The fixes: a `Mutex` around the update, or a channel of capacity 1 used
//! as a lock, Go's semaphore idiom (`sem <- token` before, `<-sem` after):
//! the k-th receive happens before the (k+1)-th send completes, so each
//! update is ordered after the previous one.

use racecheck::cell::RaceCell;
use racecheck::sync::{Arc, Mutex};
use racecheck::thread;

const WORKERS: usize = 2;
const BUMPS: u64 = 1000;

/// Runs `bump` `BUMPS` times on each of `WORKERS` named threads.
fn on_workers(bump: impl Fn() + Send + Sync + 'static) {
    let bump = Arc::new(bump);
    let mut workers = Vec::new();
    for i in 1..=WORKERS {
        let bump = bump.clone();
        let worker = thread::Builder::new().name(format!("worker-{i}")).spawn(move || {
            for _ in 0..BUMPS {
                bump();
            }
        });
        workers.push(worker.expect("spawn a worker"));
    }
    for worker in workers {
        worker.join().expect("a worker panicked");
    }
}

/// The bug: read, add, write back, with nothing ordering the workers.
fn racy() -> u64 {
    let counter = Arc::new(RaceCell::new(0u64));
    let shared = counter.clone();
    on_workers(move || {
        let seen = shared.get();
        shared.set(seen + 1);
    });
    counter.get()
}

/// Fixed with a mutex.
fn with_mutex() -> u64 {
    let counter = Arc::new(Mutex::new(0u64));
    let shared = counter.clone();
    on_workers(move || *shared.lock().expect("not poisoned") += 1);
    let total = *counter.lock().expect("not poisoned");
    total
}

/// Fixed with a channel of capacity 1 used as a lock.
fn with_channel() -> u64 {
    let counter = Arc::new(RaceCell::new(0u64));
    let (sem, release) = chan::bounded::<()>(1);
    let shared = counter.clone();
    on_workers(move || {
        sem.send(()).expect("the channel is open"); // take the token
        let seen = shared.get();
        shared.set(seen + 1);
        release.recv().expect("the token is there"); // give it back
    });
    counter.get()
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "racy".to_owned());
    let total = match mode.as_str() {
        "racy" => racy(),
        "mutex" => with_mutex(),
        "channel" => with_channel(),
        other => {
            eprintln!("unknown version {other:?}: use racy, mutex or channel");
            std::process::exit(2);
        }
    };
    println!("{mode}: {total} of {} bumps counted", WORKERS as u64 * BUMPS);
}
