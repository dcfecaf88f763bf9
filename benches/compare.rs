//! The comparison run: every library side by side in one process.
//!
//! `cargo bench --bench compare` runs the scenarios of crossbeam-channel's
//! benchmark suite (`seq`, `spsc`, `mpsc`, `mpmc`, `select_rx`,
//! `select_both`; see `benches/common/mod.rs`) for `bounded(0)`,
//! `bounded(1)`, `bounded(N)` and `unbounded`, for this crate's default
//! flavor, `chan::hchan`, crossbeam-channel, flume, kanal and
//! `std::sync::mpsc`, then again with every thread pinned to one core. It
//! prints markdown tables (ns per message, ratio to crossbeam-channel, the
//! geometric means of those ratios, pinned/unpinned ratios (the pinned pass
//! is a child process restricted to CPU 0, like `taskset -c 0`), the memory an
//! empty channel and each buffered message take), adds Go's native channels
//! when `go` is installed (`benches/go/main.go`), and writes one SVG chart
//! per scenario into `docs/bench/`. The libraries take turns run by run
//! within each cell, so that a cell's ratios compare runs made under the
//! same machine load.
//!
//! Environment: `COMPARE_RUNS` (runs per cell, default 5; the tables give
//! the median, and again the fastest), `COMPARE_MESSAGES`
//! (default 200000; `bounded(0)` uses a tenth), `COMPARE_PINNED=0` to skip
//! the pinned pass, `COMPARE_SVG_DIR` (default `docs/bench`),
//! `COMPARE_THREADS` (threads per side and channels per select, default 4,
//! as crossbeam's suite; Go's selects are written for 4 and are skipped at
//! any other width), `COMPARE_GO_BIN` (a binary built from
//! `benches/go/main.go`, for a machine without Go).
//!
//! kanal and `std::sync::mpsc` have no select, so their select cells are
//! n/a. Of the two geometric-mean rows, the first is over every scenario
//! the library has, the second over only the scenarios every column of the
//! table has (the fair one when columns differ in what they have).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::thread;
use std::time::Duration;

use common::{
    cap_name, scenario_name, threads, Chan, Crossbeam, Flume, Hchan, Kanal, Lib, Scenario, Std, BOUNDED_N, CAPS,
    SCENARIOS,
};

/// Counts live heap bytes, for the memory table.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator unchanged; the counter is a
// plain atomic and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Bytes an empty channel takes, and bytes per buffered message.
fn memory<L: Lib>(cap: Option<usize>) -> (isize, Option<f64>) {
    let before = LIVE.load(Ordering::Relaxed);
    let (s, r) = L::make(cap);
    let empty = LIVE.load(Ordering::Relaxed) - before;
    let per_msg = match cap {
        Some(0) => None,
        _ => {
            let k = cap.unwrap_or(1000).min(1000);
            let filled_before = LIVE.load(Ordering::Relaxed);
            for i in 0..k {
                L::send(&s, i);
            }
            let grown = LIVE.load(Ordering::Relaxed) - filled_before;
            Some((empty + grown) as f64 / k as f64)
        }
    };
    drop((s, r));
    (empty, per_msg)
}

struct Config {
    runs: usize,
    messages: usize,
}

/// (library, scenario, capacity) -> ns per message.
type Results = BTreeMap<(String, Scenario, String), f64>;

/// One library's run of a scenario ([`common::run`] for that library).
type Runner = fn(Scenario, Option<usize>, usize) -> Option<Duration>;

/// The libraries of the table, in column order.
fn runners() -> [(&'static str, Runner); 6] {
    [
        (Chan::NAME, common::run::<Chan>),
        (Hchan::NAME, common::run::<Hchan>),
        (Crossbeam::NAME, common::run::<Crossbeam>),
        (Flume::NAME, common::run::<Flume>),
        (Kanal::NAME, common::run::<Kanal>),
        (Std::NAME, common::run::<Std>),
    ]
}

/// Every cell, `cfg.runs` runs per library: the median into `median` and
/// the fastest into `best`. Cell by cell, and in each cell the libraries
/// take turns run by run, so that the libraries compared in a cell see the
/// same machine: on a shared machine the speed of one thread drifts by
/// 1.6x within a minute (single-thread `seq`, `bounded(N)`: chan 10 or
/// 16-18 ns, hchan 15 or 25-28, in the same process), and measured library
/// after library a cell's ratio was the drift's (hchan's `seq` at 2.3-3.7x
/// chan's, against 1.4-1.5x measured side by side).
///
/// The median is the table's figure: several cells are bimodal (two
/// threads on cores of their own hand off several times faster than when
/// they share one), and the fastest of a few runs then reports whichever
/// library had the luckiest run (crossbeam-channel's `select_rx`
/// `bounded(1)`: 110 ns once in 15 runs, 850-1,150 ns typically).
fn measure_all(cfg: &Config, median: &mut Results, best: &mut Results) {
    let runners = runners();
    for scenario in SCENARIOS {
        for cap in CAPS {
            let messages = if cap == Some(0) { cfg.messages / 10 } else { cfg.messages };
            let mut samples: Vec<Vec<f64>> = vec![Vec::new(); runners.len()];
            for round in 0..cfg.runs {
                // Each round starts one library further on, so that no
                // library always runs right after the same one (a library
                // whose threads sleep in the kernel most of the time, as
                // std's and flume's do on `bounded(1)`, left the next one
                // 1.3x slower for a while, measured).
                for k in 0..runners.len() {
                    let i = (round + k) % runners.len();
                    if let Some(t) = runners[i].1(scenario, cap, messages) {
                        samples[i].push(t.as_nanos() as f64 / messages as f64);
                    }
                }
            }
            for ((name, _), samples) in runners.iter().zip(samples) {
                if let Some((mid, fastest)) = median_and_best(samples) {
                    let key = (name.to_string(), scenario, cap_name(cap));
                    median.insert(key.clone(), mid);
                    best.insert(key, fastest);
                }
            }
        }
    }
}

/// The median and the minimum of `samples`, if there are any.
fn median_and_best(mut samples: Vec<f64>) -> Option<(f64, f64)> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    let mid = if n % 2 == 1 { samples[n / 2] } else { (samples[n / 2 - 1] + samples[n / 2]) / 2.0 };
    Some((mid, samples[0]))
}

fn libs() -> Vec<&'static str> {
    runners().iter().map(|(name, _)| *name).collect()
}

/// Go's channels on the same scenarios, if `go` is installed: the median
/// and the fastest of `cfg.runs` runs, as for the others.
fn measure_go(cfg: &Config, median: &mut Results, best: &mut Results) -> Result<(), String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/go");
    let args = [cfg.messages.to_string(), cfg.runs.to_string(), BOUNDED_N.to_string(), threads().to_string()];
    // `COMPARE_GO_BIN`: a binary built from main.go with `go build`, for a
    // machine without Go (the lent many-core one).
    let mut cmd = match std::env::var_os("COMPARE_GO_BIN") {
        Some(bin) => std::process::Command::new(bin),
        None => {
            let mut cmd = std::process::Command::new("go");
            cmd.args(["run", "main.go"]).current_dir(dir);
            cmd
        }
    };
    let out = cmd
        .args(&args)
        .output()
        .map_err(|e| format!("`go` not runnable ({e}); install it with `apt-get install golang-go`"))?;
    if !out.status.success() {
        return Err(format!("go run failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if let [scenario, cap, mid, fastest] = f[..] {
            let Some(scenario) = SCENARIOS.into_iter().find(|s| scenario_name(*s) == scenario) else {
                continue;
            };
            let parse = |v: &str| v.parse::<f64>().map_err(|e| format!("bad go output {line:?}: {e}"));
            let key = ("go".to_string(), scenario, cap.to_string());
            median.insert(key.clone(), parse(mid)?);
            best.insert(key, parse(fastest)?);
        }
    }
    Ok(())
}

fn table(results: &Results, libs: &[&str]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| scenario | capacity | {} |", libs.join(" | "));
    let _ = writeln!(out, "| --- | --- |{}", " ---: |".repeat(libs.len()));
    for scenario in SCENARIOS {
        for cap in CAPS {
            let cap = cap_name(cap);
            let base = results.get(&("crossbeam".to_string(), scenario, cap.clone())).copied();
            let cells: Vec<String> = libs
                .iter()
                .map(|lib| match (results.get(&(lib.to_string(), scenario, cap.clone())), base) {
                    (Some(ns), Some(b)) => format!("{ns:.1} ({:.2})", ns / b),
                    (Some(ns), None) => format!("{ns:.1}"),
                    (None, _) => "n/a".to_string(),
                })
                .collect();
            let _ = writeln!(out, "| {} | {cap} | {} |", scenario_name(scenario), cells.join(" | "));
        }
    }
    // Two geometric means of the ratios: over every scenario the library
    // has (the first runs' convention), and over only the scenarios every
    // column has, the one that compares like with like.
    let shared: Vec<(Scenario, String)> = SCENARIOS
        .into_iter()
        .flat_map(|s| CAPS.map(|c| (s, cap_name(c))))
        .filter(|(s, c)| libs.iter().all(|lib| results.contains_key(&(lib.to_string(), *s, c.clone()))))
        .collect();
    let own = libs.iter().map(|lib| {
        let keys = results.keys().filter(|(l, _, _)| l == lib).map(|(_, s, c)| (*s, c.clone()));
        geomean_ratio(results, lib, keys)
    });
    let _ = writeln!(out, "| geomean ratio, scenarios the library has | | {} |", own.collect::<Vec<_>>().join(" | "));
    let common = libs.iter().map(|lib| geomean_ratio(results, lib, shared.iter().cloned()));
    let _ =
        writeln!(out, "| geomean ratio, scenarios every column has | | {} |", common.collect::<Vec<_>>().join(" | "));
    out
}

/// The geometric mean of `lib`'s time over crossbeam-channel's, over the
/// given (scenario, capacity) pairs that both have; "n/a" if none.
fn geomean_ratio(results: &Results, lib: &str, keys: impl Iterator<Item = (Scenario, String)>) -> String {
    let logs: Vec<f64> = keys
        .filter_map(|(s, c)| {
            let ns = results.get(&(lib.to_string(), s, c.clone()))?;
            let base = results.get(&("crossbeam".to_string(), s, c))?;
            Some((ns / base).ln())
        })
        .collect();
    if logs.is_empty() {
        return "n/a".into();
    }
    format!("{:.2} ({} scenarios)", (logs.iter().sum::<f64>() / logs.len() as f64).exp(), logs.len())
}

fn pinned_ratio_table(unpinned: &Results, pinned: &Results, libs: &[&str]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| scenario | capacity | {} |", libs.join(" | "));
    let _ = writeln!(out, "| --- | --- |{}", " ---: |".repeat(libs.len()));
    for scenario in SCENARIOS {
        for cap in CAPS {
            let cap = cap_name(cap);
            let cells: Vec<String> = libs
                .iter()
                .map(|lib| {
                    let k = (lib.to_string(), scenario, cap.clone());
                    match (pinned.get(&k), unpinned.get(&k)) {
                        (Some(p), Some(u)) => format!("{p:.1} ({:.1}×)", p / u),
                        _ => "n/a".into(),
                    }
                })
                .collect();
            let _ = writeln!(out, "| {} | {cap} | {} |", scenario_name(scenario), cells.join(" | "));
        }
    }
    out
}

fn memory_table() -> String {
    fn row<L: Lib>(out: &mut String) {
        let cells: Vec<String> = CAPS
            .iter()
            .map(|&cap| {
                let (empty, per) = memory::<L>(cap);
                match per {
                    Some(p) => format!("{empty} / {p:.1}"),
                    None => format!("{empty} / n/a"),
                }
            })
            .collect();
        let _ = writeln!(out, "| {} | {} |", L::NAME, cells.join(" | "));
    }
    let mut out = String::new();
    let caps: Vec<String> = CAPS.iter().map(|&c| cap_name(c)).collect();
    let _ = writeln!(out, "| library | {} |", caps.join(" | "));
    let _ = writeln!(out, "| --- |{}", " ---: |".repeat(CAPS.len()));
    row::<Chan>(&mut out);
    row::<Hchan>(&mut out);
    row::<Crossbeam>(&mut out);
    row::<Flume>(&mut out);
    row::<Kanal>(&mut out);
    row::<Std>(&mut out);
    out
}

/// One grouped-bar chart per scenario, log-scale ns per message.
fn svg(results: &Results, libs: &[&str], scenario: Scenario, title: &str) -> String {
    const COLORS: [&str; 7] = ["#1b9e77", "#66a61e", "#7570b3", "#e7298a", "#d95f02", "#a6761d", "#666666"];
    let (w, h, left, top, bottom) = (760.0, 360.0, 60.0, 40.0, 60.0);
    let plot_h = h - top - bottom;
    let (lo, hi) = (0.0f64, 5.0f64); // 10^0 .. 10^5 ns
    let y = |ns: f64| top + plot_h * (1.0 - ((ns.max(1.0).log10() - lo) / (hi - lo)).clamp(0.0, 1.0));
    let group_w = (w - left - 20.0) / CAPS.len() as f64;
    let bar_w = (group_w - 20.0) / libs.len() as f64;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(s, r#"<text x="{left}" y="20" font-size="14">{title}</text>"#);
    for p in 0..=5 {
        let yy = y(10f64.powi(p));
        let _ = writeln!(s, r##"<line x1="{left}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#ddd"/>"##, w - 20.0);
        let _ = writeln!(s, r#"<text x="{}" y="{:.1}" text-anchor="end">1e{p} ns</text>"#, left - 4.0, yy + 4.0);
    }
    for (g, cap) in CAPS.iter().enumerate() {
        let cap = cap_name(*cap);
        let gx = left + g as f64 * group_w + 10.0;
        for (i, lib) in libs.iter().enumerate() {
            if let Some(ns) = results.get(&(lib.to_string(), scenario, cap.clone())) {
                let x = gx + i as f64 * bar_w;
                let yy = y(*ns);
                let _ = writeln!(
                    s,
                    r#"<rect x="{x:.1}" y="{yy:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{lib} {cap}: {ns:.1} ns</title></rect>"#,
                    bar_w - 2.0,
                    top + plot_h - yy,
                    COLORS[i % COLORS.len()]
                );
            }
        }
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{cap}</text>"#,
            gx + group_w / 2.0 - 10.0,
            h - bottom + 16.0
        );
    }
    for (i, lib) in libs.iter().enumerate() {
        let x = left + i as f64 * 105.0;
        let _ = writeln!(
            s,
            r#"<rect x="{x}" y="{}" width="10" height="10" fill="{}"/>"#,
            h - 22.0,
            COLORS[i % COLORS.len()]
        );
        let _ = writeln!(s, r#"<text x="{}" y="{}">{lib}</text>"#, x + 14.0, h - 13.0);
    }
    s.push_str("</svg>\n");
    s
}

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| {
            eprintln!("warning: {name}={v:?} is not a number; using {default}");
            default
        }),
        Err(_) => default,
    }
}

/// Runs the measurements again in a child process pinned to CPU 0 from its
/// first instruction, as `taskset -c 0` would start it: the libraries then
/// see a one-CPU process, as they would in production under such a mask.
fn pinned_pass(cfg: &Config) -> Result<Results, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = std::process::Command::new(exe)
        .env(PINNED_CHILD, "1")
        .env("COMPARE_RUNS", cfg.runs.to_string())
        .env("COMPARE_MESSAGES", cfg.messages.to_string())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("pinned child failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let mut results = Results::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if let [lib, scenario, cap, ns] = f[..] {
            let scenario = SCENARIOS.into_iter().find(|s| scenario_name(*s) == scenario).ok_or("bad scenario")?;
            let ns: f64 = ns.parse().map_err(|_| format!("bad line {line:?}"))?;
            results.insert((lib.to_string(), scenario, cap.to_string()), ns);
        }
    }
    Ok(results)
}

const PINNED_CHILD: &str = "COMPARE_PINNED_CHILD";

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken from argv.
    let cfg = Config { runs: env_usize("COMPARE_RUNS", 5).max(1), messages: env_usize("COMPARE_MESSAGES", 200_000) };
    if std::env::var_os(PINNED_CHILD).is_some() {
        // CPU 0 for the whole child, as `taskset -c 0` would.
        if !common::pin_to_cpu(0) {
            eprintln!("sched_setaffinity failed");
            std::process::exit(1);
        }
        let (mut results, mut best) = (Results::new(), Results::new());
        measure_all(&cfg, &mut results, &mut best);
        for ((lib, scenario, cap), ns) in results {
            println!("{lib}\t{}\t{cap}\t{ns}", scenario_name(scenario));
        }
        return;
    }
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    let svg_dir =
        std::env::var("COMPARE_SVG_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/docs/bench").into());

    println!("# Channel comparison\n");
    let threads = threads();
    println!(
        "{cores} cores; {} messages per run ({} for bounded(0)), {} runs per cell, the libraries taking turns; {threads} threads per side in mpsc/mpmc/select_both, {threads} channels per select; N = {BOUNDED_N}.",
        cfg.messages,
        cfg.messages / 10,
        cfg.runs
    );
    println!(
        "Cells: ns per message (ratio to crossbeam-channel). n/a: the library lacks the scenario (std::mpsc has no MPMC; kanal and std::mpsc have no select; Go has no unbounded channel; a rendezvous channel has no single-thread `seq`).\n"
    );

    let (mut results, mut best) = (Results::new(), Results::new());
    measure_all(&cfg, &mut results, &mut best);
    let mut libs = libs();
    match measure_go(&cfg, &mut results, &mut best) {
        Ok(()) => libs.push("go"),
        Err(why) => println!("Go: skipped: {why}\n"),
    }
    println!("## Unpinned, median of {} runs\n\n{}", cfg.runs, table(&results, &libs));
    println!(
        "## Unpinned, fastest of the same {} runs\n\nThe same runs, each library's fastest (the ratio is fastest to fastest).\n\n{}",
        cfg.runs,
        table(&best, &libs)
    );

    std::fs::create_dir_all(&svg_dir).ok();
    for scenario in SCENARIOS {
        let name = scenario_name(scenario);
        let title = format!("{name}: ns per message, log scale ({cores} cores)");
        let path = format!("{svg_dir}/{name}.svg");
        match std::fs::write(&path, svg(&results, &libs, scenario, &title)) {
            Ok(()) => println!("wrote {path}"),
            Err(e) => println!("could not write {path}: {e}"),
        }
    }

    println!(
        "\n## Memory\n\nBytes allocated by an empty channel / per buffered message (up to 1,000 messages buffered):\n"
    );
    println!("{}", memory_table());

    if env_usize("COMPARE_PINNED", 1) == 0 {
        return;
    }
    let pinned = match pinned_pass(&cfg) {
        Ok(pinned) => pinned,
        Err(why) => {
            println!("Pinned pass skipped: {why}");
            return;
        }
    };
    let rust_libs = self::libs();
    println!("\n## Every thread pinned to CPU 0\n\nCells: ns per message (pinned / unpinned).\n");
    println!("{}", pinned_ratio_table(&results, &pinned, &rust_libs));
}
