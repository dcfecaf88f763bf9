//! The blocking path's cost with the `trace` feature on but no subscriber,
//! against the same path with tracing compiled out.
//!
//! ```text
//! cargo bench --bench blocking                          # trace on, no subscriber
//! cargo bench --bench blocking --no-default-features    # trace compiled out
//! ```
//!
//! Two threads play ping-pong over two unbuffered channels, so every
//! operation that does not find its partner already waiting registers as
//! a waiter: the path that emits the `chan` events (`trace::parking` and
//! `trace::woke`). Prints ns per round trip, best of `RUNS`, for the
//! default flavor's rendezvous and hchan's; the feature line says which
//! build this is. docs/tracing.md records the comparison.

use std::thread;
use std::time::Instant;

const ROUND_TRIPS: usize = 100_000;
const RUNS: usize = 7;

fn ping_pong(make: fn() -> (chan::Sender<usize>, chan::Receiver<usize>)) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..RUNS {
        let (ping_tx, ping_rx) = make();
        let (pong_tx, pong_rx) = make();
        let start = Instant::now();
        let echo = thread::spawn(move || {
            for v in ping_rx.iter() {
                pong_tx.send(v).unwrap();
            }
        });
        for i in 0..ROUND_TRIPS {
            ping_tx.send(i).unwrap();
            assert_eq!(pong_rx.recv(), Ok(i));
        }
        drop(ping_tx);
        echo.join().unwrap();
        best = best.min(start.elapsed().as_nanos() as f64 / ROUND_TRIPS as f64);
    }
    best
}

fn main() {
    let feature = if cfg!(feature = "trace") { "trace on, no subscriber" } else { "trace compiled out" };
    println!("blocking path, ns per round trip (best of {RUNS}), {feature}");
    println!("{:<18} {:>10}", "flavor", "ns");
    println!("{:<18} {:>10.0}", "bounded(0)", ping_pong(|| chan::bounded(0)));
    println!("{:<18} {:>10.0}", "hchan::bounded(0)", ping_pong(|| chan::hchan::bounded(0)));
}
