//! A timeline of a small pipeline with a slow stage, written as Chrome
//! trace-event JSON: open it in <https://ui.perfetto.dev> (or
//! `chrome://tracing`).
//!
//! ```text
//! cargo run --example timeline -- out.json
//! ```
//!
//! A producer feeds a `bounded(2)` channel; a parser stage passes each item
//! on; a slow stage (5 ms per item) reads through a rendezvous channel
//! (`bounded(0)`); a collector gathers the results from an hchan channel
//! and ticks a progress timer with `select!`. The slow stage sets the pace:
//! every thread upstream spends its time blocked on `send`, the collector on
//! `select`. Each wait is a slice on its thread's track; each arrow runs
//! from the operation that woke it (a `wake` mark on the waker's track).
//! The blocking profile of the same run is printed at the end.

use std::thread;
use std::time::Duration;

const ITEMS: u32 = 12;

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "timeline.json".to_string());
    chan::observe::set_profiling(true);
    chan::observe::start_timeline();

    let (raw_tx, raw_rx) = chan::bounded::<u32>(2);
    let (parsed_tx, parsed_rx) = chan::bounded::<u32>(0);
    let (done_tx, done_rx) = chan::hchan::bounded::<u32>(1);

    let spawn =
        |name: &str, f: Box<dyn FnOnce() + Send>| thread::Builder::new().name(name.into()).spawn(f).expect("spawn");
    let threads = vec![
        spawn(
            "producer",
            Box::new(move || {
                for i in 0..ITEMS {
                    raw_tx.send(i).expect("the parser is alive");
                }
            }),
        ),
        spawn(
            "parser",
            Box::new(move || {
                for item in raw_rx.iter() {
                    parsed_tx.send(item * 10).expect("the slow stage is alive");
                }
            }),
        ),
        spawn(
            "slow-stage",
            Box::new(move || {
                for item in parsed_rx.iter() {
                    thread::sleep(Duration::from_millis(5));
                    done_tx.send(item + 1).expect("the collector is alive");
                }
            }),
        ),
    ];

    let progress = chan::tick(Duration::from_millis(20));
    let mut results = Vec::new();
    while results.len() < ITEMS as usize {
        chan::select! {
            recv(done_rx) -> r => results.push(r.expect("the slow stage sends them all")),
            recv(progress) -> _ => eprintln!("collector: {} of {ITEMS} so far", results.len()),
        }
    }
    for t in threads {
        t.join().expect("a stage panicked");
    }

    let timeline = chan::observe::stop_timeline();
    match timeline.save(&path) {
        Ok(()) => println!("{} waits written to {path}: open it in https://ui.perfetto.dev", timeline.len()),
        Err(e) => {
            eprintln!("could not write {path}: {e}");
            std::process::exit(1);
        }
    }
    println!("\n{}", chan::observe::profile());
}
