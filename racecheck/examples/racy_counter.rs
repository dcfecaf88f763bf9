//! The contract's example: a counter bumped by a worker thread and read by
//! `main` with nothing ordering the two.
//!
//! ```text
//! RACECHECK=1 cargo run -p racecheck --example racy_counter
//! ```
//!
//! prints a `WARNING: DATA RACE` report naming both places and exits with
//! status 66. Without `RACECHECK=1` it runs silently.

use racecheck::cell::RaceCell;
use racecheck::sync::Arc;
use racecheck::thread;

fn main() {
    let counter = Arc::new(RaceCell::new(0u64));
    let worker = {
        let counter = counter.clone();
        thread::Builder::new()
            .name("worker-1".to_owned())
            .spawn(move || {
                for _ in 0..1000 {
                    counter.set(counter.get() + 1);
                }
            })
            .expect("spawn worker-1")
    };
    // Bug: reads while the worker may still be writing. Joining first
    // (`worker.join()` before this line) is the fix.
    println!("counter is now {}", counter.get());
    worker.join().expect("worker-1 panicked");
}
