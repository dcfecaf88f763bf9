//! An ordinary program with std's threads, checked as it is: a `RaceCell`
//! written before `std::thread::spawn`, read and written in the thread,
//! read again after `join`, with a `chan` channel in between. Every access
//! is ordered (by the spawn, the channel, the join), so racecheck must stay
//! silent:
//!
//! ```text
//! RACECHECK=1 cargo run --example std_threads
//! ```
//!
//! On Linux racecheck sees std's spawn and join without code changes (see
//! `docs/racecheck.md`, "std's threads").

use std::sync::Arc;

use racecheck::cell::RaceCell;

fn main() {
    let cell = Arc::new(RaceCell::new(0));
    let (tx, rx) = chan::bounded(1);
    cell.set(1); // written before the spawn
    let c = cell.clone();
    let worker = std::thread::spawn(move || {
        let seen = c.get(); // read in the thread: ordered by the spawn
        tx.send(seen).unwrap();
        c.set(seen + 1); // after the send: only the join orders it
    });
    let seen = rx.recv().unwrap();
    worker.join().unwrap();
    assert_eq!(cell.get(), seen + 1); // read after the join
    println!("{} race(s) reported", racecheck::race_count());
}
