//! The comparison's scenarios under criterion, for per-message throughput
//! with confidence intervals and criterion's run-to-run change reports.
//!
//! ```text
//! cargo bench --bench scenarios                      # everything, a few minutes
//! cargo bench --bench scenarios -- 'select_rx/'      # one scenario
//! cargo bench --bench scenarios -- 'mpsc/bounded1/chan$'
//! ```
//!
//! Benchmark ids are `scenario/capacity/library`: scenario `seq`, `spsc`,
//! `mpsc`, `mpmc`, `select_rx` or `select_both` (defined in
//! `benches/common/mod.rs`, the same code `cargo bench --bench compare`
//! runs); capacity `bounded0`, `bounded1`, `boundedN` (N = 1024) or
//! `unbounded`; library `chan` (the default flavor), `hchan`, `crossbeam`,
//! `flume`, `kanal` or `std`. Each iteration is one whole run of
//! [`MESSAGES`] messages ([`MESSAGES`] / 10 on `bounded(0)`), threads
//! started and joined inside it, and criterion reports the throughput in
//! messages per second.
//!
//! Left out, because the library cannot run them: `seq` on `bounded(0)`
//! (one thread cannot fill a rendezvous channel), `mpmc` and `select_both`
//! for `std` (no MPMC receiver), both select scenarios for `kanal` and `std`
//! (no select), and `select_both` for `flume` (its `Selector` hangs there;
//! see `flume_select::BOTH_SIDES` in `benches/common/mod.rs`).
//!
//! Samples are few and short (10 samples, flat sampling, 1 s of
//! measurement, 10,000 bootstrap resamples) so the whole suite stays
//! within minutes on two cores; raise them with criterion's flags
//! (`--sample-size`, `--measurement-time`, `--nresamples`) for tighter
//! intervals.

mod common;

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput};

use common::{
    cap_name, scenario_name, supports, Chan, Crossbeam, Flume, Hchan, Kanal, Lib, Scenario, Std, BOUNDED_N, CAPS,
    SCENARIOS,
};

/// Messages per iteration on the buffered capacities.
const MESSAGES: usize = 10_000;

/// `bounded(0)` as `bounded0`, and so on: ids without parentheses are
/// easier to pass as a filter on the command line.
fn cap_id(cap: Option<usize>) -> String {
    match cap {
        Some(n) if n == BOUNDED_N => "boundedN".into(),
        Some(n) => format!("bounded{n}"),
        None => "unbounded".into(),
    }
}

/// `chan::hchan` as `hchan`, `std::mpsc` as `std`.
fn lib_id<L: Lib>() -> &'static str {
    L::NAME.trim_start_matches("chan::").trim_end_matches("::mpsc")
}

fn bench_lib<L: Lib>(group: &mut BenchmarkGroup<'_, WallTime>, scenario: Scenario, cap: Option<usize>) {
    if !supports::<L>(scenario, cap) {
        return;
    }
    let messages = if cap == Some(0) { MESSAGES / 10 } else { MESSAGES };
    group.throughput(Throughput::Elements(messages as u64));
    group.bench_function(lib_id::<L>(), |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    common::run::<L>(scenario, cap, messages).unwrap_or_else(|| {
                        panic!(
                            "`supports` and `run` disagree on {} {} {}",
                            L::NAME,
                            scenario_name(scenario),
                            cap_name(cap)
                        )
                    })
                })
                .sum()
        })
    });
}

fn scenarios(c: &mut Criterion) {
    for scenario in SCENARIOS {
        for cap in CAPS {
            let mut group = c.benchmark_group(format!("{}/{}", scenario_name(scenario), cap_id(cap)));
            // Each iteration takes milliseconds and starts threads: flat
            // sampling runs the same few iterations per sample instead of
            // growing them linearly.
            group.sampling_mode(SamplingMode::Flat);
            bench_lib::<Chan>(&mut group, scenario, cap);
            bench_lib::<Hchan>(&mut group, scenario, cap);
            bench_lib::<Crossbeam>(&mut group, scenario, cap);
            bench_lib::<Flume>(&mut group, scenario, cap);
            bench_lib::<Kanal>(&mut group, scenario, cap);
            bench_lib::<Std>(&mut group, scenario, cap);
            group.finish();
        }
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .nresamples(10_000)
}

criterion_group! {
    name = benches;
    config = config();
    targets = scenarios
}
criterion_main!(benches);
