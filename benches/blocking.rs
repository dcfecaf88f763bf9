//! The blocking path's cost: with the `trace` feature compiled in but
//! nothing observed, with tracing compiled out, and with each part of
//! `chan::observe` on.
//!
//! ```text
//! cargo bench --bench blocking                          # compiled in, all off
//! cargo bench --bench blocking --no-default-features --features std,racecheck  # trace compiled out
//! CHAN_OBSERVE=profile cargo bench --bench blocking     # the blocking profile on
//! CHAN_OBSERVE=events cargo bench --bench blocking      # events on, no subscriber
//! ```
//!
//! Two threads play ping-pong over two unbuffered channels, so nearly
//! every operation that does not find its partner already waiting parks:
//! the path where a wait starts and ends (`trace::parking`, `trace::woke`).
//! Prints ns per round trip, best of `RUNS`, for the default flavor's
//! rendezvous and hchan's; the feature line says which build this is.
//! `docs/observability.md` records the comparison.

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
    let feature = if cfg!(feature = "trace") { "trace compiled in" } else { "trace compiled out" };
    let observe = std::env::var("CHAN_OBSERVE").unwrap_or_default();
    let observe = if observe.is_empty() { "nothing observed".to_string() } else { format!("CHAN_OBSERVE={observe}") };
    println!("blocking path, ns per round trip (best of {RUNS}), {feature}, {observe}, no subscriber");
    println!("{:<18} {:>10}", "flavor", "ns");
    println!("{:<18} {:>10.0}", "bounded(0)", ping_pong(|| chan::bounded(0)));
    println!("{:<18} {:>10.0}", "hchan::bounded(0)", ping_pong(|| chan::hchan::bounded(0)));
}
