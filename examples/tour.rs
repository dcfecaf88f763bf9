//! A guided tour of the workspace in one command:
//!
//! ```text
//! cargo run --release --example tour
//! ```
//!
//! 1. a Go-style pipeline on both flavors of channel;
//! 2. a small ring-versus-hchan timing table measured on this machine;
//! 3. a data race report, from a child run of this program with
//!    `RACECHECK=1`;
//! 4. a deadlock report, from another child run;
//! 5. the blocking profile of a pipeline with a slow stage;
//! 6. where to go next.
//!
//! The children are this same executable with an argument (`race` or
//! `deadlock`), so the tour needs nothing but itself.

use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use chan::{Receiver, Sender};
use racecheck::cell::RaceCell;
use racecheck::sync::Arc;

type Make = fn(usize) -> (Sender<u64>, Receiver<u64>);

fn heading(title: &str) {
    println!("\n== {title}\n");
}

/// generate → square → sum, each stage a thread, shut down by `close`.
fn pipeline(make: Make, cap: usize, n: u64) -> u64 {
    let (nums_tx, nums_rx) = make(cap);
    let (squares_tx, squares_rx) = make(cap);
    let generator = thread::spawn(move || {
        for i in 1..=n {
            nums_tx.send(i).expect("the squarer is alive");
        }
        nums_tx.close();
    });
    let squarer = thread::spawn(move || {
        for x in nums_rx.iter() {
            squares_tx.send(x * x).expect("the summer is alive");
        }
        squares_tx.close();
    });
    let sum = squares_rx.iter().sum();
    generator.join().expect("generator panicked");
    squarer.join().expect("squarer panicked");
    sum
}

/// ns per message, one sender and one receiver, best of three.
fn handoff(make: impl Fn() -> (Sender<u64>, Receiver<u64>), messages: u64) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let (tx, rx) = make();
        let start = Instant::now();
        let sender = thread::spawn(move || (0..messages).for_each(|i| tx.send(i).expect("receiver alive")));
        for _ in 0..messages {
            rx.recv().expect("sender alive");
        }
        sender.join().expect("sender panicked");
        best = best.min(start.elapsed().as_nanos() as f64 / messages as f64);
    }
    best
}

fn tour() {
    println!("chan + racecheck: Go's channels, race detector and deadlock report, in Rust.");

    heading("1. A pipeline: generate -> square -> sum, stages closed as in Go");
    let n = 10_000;
    let expected = n * (n + 1) * (2 * n + 1) / 6;
    for (name, make) in [
        ("chan::bounded(0)        ", chan::bounded as Make),
        ("chan::hchan::bounded(0) ", chan::hchan::bounded as Make),
        ("chan::bounded(16)       ", chan::bounded as Make),
        ("chan::hchan::bounded(16)", chan::hchan::bounded as Make),
    ] {
        let cap = if name.contains("(16)") { 16 } else { 0 };
        let start = Instant::now();
        let sum = pipeline(make, cap, n);
        assert_eq!(sum, expected);
        println!("  {name}  sum of squares 1..={n} = {sum}  in {:>6.1} ms", start.elapsed().as_secs_f64() * 1e3);
    }
    println!("  Same code, two flavors: only the constructor's path changed.");

    heading("2. Ring (lock-free) vs hchan (Go's mutex design), ns per message on this machine");
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    let messages = 100_000;
    println!("  {cores} cores, {messages} messages, one sender and one receiver, best of 3");
    println!("  {:<12} {:>10} {:>10}", "capacity", "default", "hchan");
    for cap in [Some(0), Some(1), Some(64), None] {
        let (label, ring, hchan) = match cap {
            Some(c) => (
                format!("bounded({c})"),
                handoff(|| chan::bounded(c), messages),
                handoff(|| chan::hchan::bounded(c), messages),
            ),
            None => {
                ("unbounded".to_owned(), handoff(chan::unbounded, messages), handoff(chan::hchan::unbounded, messages))
            }
        };
        println!("  {label:<12} {ring:>10.1} {hchan:>10.1}");
    }
    println!("  (`cargo bench --bench handoff` compares with crossbeam-channel and kanal.)");

    heading("3. A data race, caught: `RACECHECK=1` on a lost update");
    show_child("race", 40);

    heading("4. A deadlock, reported as Go does");
    show_child("deadlock", 20);

    heading("5. Where a pipeline waits: chan's blocking profile");
    blocking_profile();

    heading("6. Next");
    for line in [
        "RACECHECK=1 cargo run --example racy_counter [-- mutex | -- channel]   the race, and two fixes",
        "RACECHECK=1 cargo run --example unsafe_ring [-- fixed]   a Relaxed that should be Release",
        "RACECHECK=1 cargo run --example deadlock                 the deadlock report",
        "RUST_LOG=chan=debug cargo run --example blocking_trace   tracing events of blocking",
        "cargo run --example timeline -- out.json                 a Perfetto timeline (docs/timeline.svg)",
        "cargo run --example pipeline | worker_pool               Go patterns",
        "cargo test --workspace                                   every test",
        "docs/: ring.md, hchan.md, racecheck.md, channels-racecheck.md, observability.md",
    ] {
        println!("  {line}");
    }
}

/// A producer, a stage that takes 2 ms per item, and a consumer, with the
/// blocking profile on: the table says who waits, where, and how long.
fn blocking_profile() {
    chan::observe::set_profiling(true);
    let (raw_tx, raw_rx) = chan::bounded::<u64>(4);
    let (done_tx, done_rx) = chan::hchan::bounded::<u64>(0);
    let producer = thread::spawn(move || {
        for i in 0..50 {
            raw_tx.send(i).expect("the stage is alive");
        }
    });
    let stage = thread::spawn(move || {
        for item in raw_rx.iter() {
            thread::sleep(Duration::from_millis(2));
            done_tx.send(item).expect("the consumer is alive");
        }
    });
    let mut received = 0;
    for _ in done_rx.iter() {
        received += 1;
    }
    producer.join().expect("producer panicked");
    stage.join().expect("stage panicked");
    chan::observe::set_profiling(false);
    println!("  {received} items through a stage that takes 2 ms each; chan::observe::set_profiling(true), then:");
    println!();
    for line in chan::observe::profile().to_string().lines() {
        println!("  {line}");
    }
    println!();
    println!("  The producer waits on its full buffer, the consumer on the rendezvous: the stage is the");
    println!("  bottleneck. Each wait as a bar, with an arrow from the thread that ended it:");
    println!("  `cargo run --example timeline -- out.json` (Perfetto), drawn in docs/timeline.svg.");
}

/// Runs this program again with `arg` and `RACECHECK=1`, and shows its
/// stderr (the report) without toolchain frames, and its exit status.
fn show_child(arg: &str, max_lines: usize) {
    let exe = std::env::current_exe().expect("the tour's own path");
    println!("  $ RACECHECK=1 {} {arg}", exe.file_name().and_then(|n| n.to_str()).unwrap_or("tour"));
    let out = match Command::new(exe).arg(arg).env("RACECHECK", "1").env_remove("RACECHECK_OPTIONS").output() {
        Ok(out) => out,
        Err(e) => {
            println!("  (could not run the child: {e})");
            return;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.contains("/rustc/") && !l.contains("/.cargo/")).collect();
    for line in lines.iter().take(max_lines) {
        println!("  | {line}");
    }
    if lines.len() > max_lines {
        println!("  | ... ({} more lines)", lines.len() - max_lines);
    }
    match out.status.code() {
        Some(code) => println!("  exit status {code}"),
        None => println!("  killed by a signal"),
    }
}

/// Child: two workers bump a shared counter with nothing ordering them.
fn race() {
    let counter = Arc::new(RaceCell::new(0u32));
    let workers: Vec<_> = (1..=2)
        .map(|i| {
            let counter = counter.clone();
            racecheck::thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || {
                    for _ in 0..100 {
                        let seen = counter.get();
                        counter.set(seen + 1);
                    }
                })
                .expect("spawn")
        })
        .collect();
    for w in workers {
        w.join().expect("worker panicked");
    }
}

/// Child: a worker waits for a value that main never sends, while main
/// waits for the worker.
fn deadlock() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let worker = racecheck::thread::Builder::new()
        .name("worker".into())
        .spawn(move || rx.recv().expect("a value"))
        .expect("spawn");
    thread::sleep(Duration::from_millis(10));
    let value = worker.join().expect("worker panicked"); // never returns
    tx.send(value).expect("unreachable");
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("race") => race(),
        Some("deadlock") => deadlock(),
        _ => tour(),
    }
}
