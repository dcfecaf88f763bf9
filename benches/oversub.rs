//! The hand-off cases that oversubscription decides: `spsc`, `mpsc`,
//! `mpmc`, `select_rx` and `select_both` on `bounded(0)` and `bounded(1)`,
//! for this crate's default flavor, kanal (no select) and
//! crossbeam-channel, interleaved round by round so that all three see the
//! same machine noise.
//!
//! `cargo bench --bench oversub` prints, per case, the median and the best
//! of `OVERSUB_ROUNDS` rounds (default 5) of `OVERSUB_MESSAGES` messages
//! (default 100000; `bounded(0)` uses a tenth). `OVERSUB_FILTER` keeps the
//! cases whose `scenario/capacity/library` name contains it. Run it under
//! `taskset -c 1` for the oversubscribed setting (every thread on one CPU)
//! and without for the unpinned one; to compare two builds, copy the
//! binary `cargo bench --bench oversub --no-run` prints aside and run the
//! old and the new one alternately.

// This bench uses only a few of the shared libraries and scenarios.
#[allow(dead_code)]
mod common;

use common::{cap_name, scenario_name, Chan, Crossbeam, Kanal, Lib, Scenario};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let rounds = env_usize("OVERSUB_ROUNDS", 5).max(1);
    let messages = env_usize("OVERSUB_MESSAGES", 100_000);
    let filter = std::env::var("OVERSUB_FILTER").unwrap_or_default();
    type Runner = fn(Scenario, Option<usize>, usize) -> Option<std::time::Duration>;
    let libs: [(&str, Runner); 3] = [
        (Chan::NAME, common::run::<Chan>),
        (Kanal::NAME, common::run::<Kanal>),
        (Crossbeam::NAME, common::run::<Crossbeam>),
    ];
    println!("| case | library | median ns/msg | best ns/msg |");
    println!("| --- | --- | ---: | ---: |");
    for scenario in [Scenario::Spsc, Scenario::Mpsc, Scenario::Mpmc, Scenario::SelectRx, Scenario::SelectBoth] {
        for cap in [Some(0), Some(1)] {
            let case = format!("{}/{}", scenario_name(scenario), cap_name(cap));
            let chosen: Vec<_> =
                libs.iter().filter(|(name, _)| format!("{case}/{name}").contains(filter.as_str())).collect();
            let n = if cap == Some(0) { messages / 10 } else { messages };
            let mut times = vec![Vec::new(); chosen.len()];
            for _ in 0..rounds {
                for (i, (_, f)) in chosen.iter().enumerate() {
                    if let Some(d) = f(scenario, cap, n) {
                        times[i].push(d.as_nanos() as f64 / n as f64);
                    }
                }
            }
            for ((name, _), t) in chosen.iter().zip(&mut times) {
                if t.is_empty() {
                    continue;
                }
                t.sort_by(f64::total_cmp);
                println!("| {case} | {name} | {:.1} | {:.1} |", t[t.len() / 2], t[0]);
            }
        }
    }
}
