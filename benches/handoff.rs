//! Hand-off cost, side by side in one process: the default flavor against
//! crossbeam-channel and kanal, one sender thread and one receiver thread.
//!
//! `cargo bench --bench handoff` prints ns per message for `bounded(0)`,
//! `bounded(1)`, `bounded(1024)` and `unbounded`, best of five runs each.
//! These are the cases the waiting strategy decides (see docs/ring.md).

use std::thread;
use std::time::Instant;

const MESSAGES: usize = 200_000;

macro_rules! spsc {
    ($make:expr, $send:ident, $recv:ident) => {{
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let (s, r) = $make;
            let start = Instant::now();
            let h = thread::spawn(move || {
                for i in 0..MESSAGES {
                    s.$send(i).unwrap();
                }
            });
            for _ in 0..MESSAGES {
                r.$recv().unwrap();
            }
            h.join().unwrap();
            best = best.min(start.elapsed().as_nanos() as f64 / MESSAGES as f64);
        }
        best
    }};
}

fn main() {
    println!("spsc, ns per message (best of 5), {} cores", thread::available_parallelism().map_or(0, |n| n.get()));
    println!("{:<14} {:>10} {:>12} {:>10}", "capacity", "chan", "crossbeam", "kanal");
    for cap in [Some(0usize), Some(1), Some(1024), None] {
        let (a, b, c) = match cap {
            Some(n) => (
                spsc!(chan::bounded::<usize>(n), send, recv),
                spsc!(crossbeam_channel::bounded::<usize>(n), send, recv),
                spsc!(kanal::bounded::<usize>(n), send, recv),
            ),
            None => (
                spsc!(chan::unbounded::<usize>(), send, recv),
                spsc!(crossbeam_channel::unbounded::<usize>(), send, recv),
                spsc!(kanal::unbounded::<usize>(), send, recv),
            ),
        };
        let name = cap.map_or("unbounded".to_string(), |n| format!("bounded({n})"));
        println!("{name:<14} {a:>10.1} {b:>12.1} {c:>10.1}");
    }
}
