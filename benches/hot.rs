//! Hot-path A/B runs: the default flavor against crossbeam-channel (and
//! `chan::hchan`, named `hchan`, outside the select scenarios),
//! interleaved round by round so that all see the same machine noise.
//!
//! `cargo bench --bench hot` prints, per (scenario, capacity), the median
//! and the best of `HOT_ROUNDS` rounds (default 7) of `HOT_MESSAGES`
//! messages (default 200000; a tenth on `bounded(0)`) for each library. `HOT_FILTER` keeps only the
//! cases whose `scenario/capacity/library` name contains it (for example
//! `seq/unbounded` or `mpsc`). Built to profile one case: with
//! `HOT_ROUNDS=1 HOT_FILTER=seq/unbounded/chan`, run under
//! `valgrind --tool=callgrind`, the instruction count is repeatable.
//! `HOT_PIN_APART=1` pins each thread of `spsc`, `mpsc` and `mpmc` to a
//! CPU of its own, as a thread-per-core program does (Linux).
//!
//! The CPUs are taken as numbered `0..n`, where `n` is what the process
//! may use; under `taskset` with other CPUs, leave `HOT_PIN_APART` unset.
//!
//! The select scenarios: `select_rx` and `select_both` are the code of
//! `benches/common/mod.rs` (what `compare` runs); `select_fill` is the
//! single-thread form for callgrind: one thread selects sends over
//! [`THREADS`] channels until they hold a round's worth (at most their
//! capacity), then selects receives until they are empty, so every select
//! goes in its first try and the instruction count repeats;
//! `select_macro` is the same with each library's `select!` (four arms).
//!
//! `try_pair` is crossbeam's `linearizable` test as a benchmark: [`THREADS`]
//! threads each send and then `try_recv`, which must find a message (its
//! own, or another's). It times the receive path that a slot still being
//! written sends down: chan passes such a slot when a later message is
//! ready, crossbeam-channel waits for its sender.

#[allow(dead_code)]
mod common;

use std::thread;
use std::time::Instant;

const THREADS: usize = 4;

trait Lib {
    const NAME: &'static str;
    type S: Clone + Send + 'static;
    type R: Clone + Send + 'static;
    fn make(cap: Option<usize>) -> (Self::S, Self::R);
    fn send(s: &Self::S, v: usize);
    fn recv(r: &Self::R) -> usize;
    fn try_recv(r: &Self::R) -> Option<usize>;
}

macro_rules! lib {
    ($ty:ident, $name:expr, $bounded:path, $unbounded:path, $s:ty, $r:ty) => {
        struct $ty;
        impl Lib for $ty {
            const NAME: &'static str = $name;
            type S = $s;
            type R = $r;
            fn make(cap: Option<usize>) -> (Self::S, Self::R) {
                match cap {
                    Some(n) => $bounded(n),
                    None => $unbounded(),
                }
            }
            #[inline(never)]
            fn send(s: &Self::S, v: usize) {
                s.send(v).unwrap();
            }
            #[inline(never)]
            fn recv(r: &Self::R) -> usize {
                r.recv().unwrap()
            }
            #[inline(never)]
            fn try_recv(r: &Self::R) -> Option<usize> {
                r.try_recv().ok()
            }
        }
    };
}

lib!(Chan, "chan", chan::bounded, chan::unbounded, chan::Sender<usize>, chan::Receiver<usize>);
lib!(Hchan, "hchan", chan::hchan::bounded, chan::hchan::unbounded, chan::Sender<usize>, chan::Receiver<usize>);
lib!(
    Crossbeam,
    "crossbeam",
    crossbeam_channel::bounded,
    crossbeam_channel::unbounded,
    crossbeam_channel::Sender<usize>,
    crossbeam_channel::Receiver<usize>
);

fn run<L: Lib>(scenario: &str, cap: Option<usize>, messages: usize) -> f64 {
    let (s, r) = L::make(cap);
    let start = Instant::now();
    match scenario {
        "seq" => {
            let chunk = cap.unwrap_or(messages).min(messages);
            let mut done = 0;
            while done < messages {
                let n = chunk.min(messages - done);
                for i in 0..n {
                    L::send(&s, i);
                }
                for _ in 0..n {
                    L::recv(&r);
                }
                done += n;
            }
        }
        "try_pair" => {
            let per_thread = messages / THREADS;
            let hs: Vec<_> = (0..THREADS)
                .map(|_| {
                    let (s, r) = (s.clone(), r.clone());
                    thread::spawn(move || {
                        for i in 0..per_thread {
                            L::send(&s, i);
                            L::try_recv(&r).expect("a message is in the channel");
                        }
                    })
                })
                .collect();
            for h in hs {
                h.join().unwrap();
            }
        }
        _ => {
            let (senders, receivers) = match scenario {
                "spsc" => (1, 1),
                "mpsc" => (THREADS, 1),
                _ => (THREADS, THREADS),
            };
            let per_sender = messages / senders;
            let per_receiver = messages / receivers;
            let apart = pin_apart();
            // Pinned apart, the main thread stays unpinned and the first
            // receiver gets a thread of its own too.
            let first_receiver = usize::from(!apart);
            let hs: Vec<_> = (0..senders)
                .map(|k| {
                    let s = s.clone();
                    thread::spawn(move || {
                        pin_to(apart, k);
                        for i in 0..per_sender {
                            L::send(&s, i);
                        }
                    })
                })
                .chain((first_receiver..receivers).map(|k| {
                    let r = r.clone();
                    thread::spawn(move || {
                        pin_to(apart, senders + k);
                        for _ in 0..per_receiver {
                            L::recv(&r);
                        }
                    })
                }))
                .collect();
            if !apart {
                for _ in 0..per_receiver {
                    L::recv(&r);
                }
            }
            for h in hs {
                h.join().unwrap();
            }
        }
    }
    start.elapsed().as_nanos() as f64 / messages as f64
}

/// `select_fill`: every select builds afresh and goes in its first try.
fn select_fill<L: common::Lib>(
    cap: Option<usize>,
    messages: usize,
    send: fn(&[L::S], usize),
    recv: fn(&[L::R]) -> usize,
) -> f64 {
    let (ss, rs): (Vec<L::S>, Vec<L::R>) = (0..THREADS).map(|_| L::make(cap)).unzip();
    let chunk = cap.map_or(messages, |c| c * THREADS).min(messages);
    let start = Instant::now();
    let mut done = 0;
    while done < messages {
        let n = chunk.min(messages - done);
        for i in 0..n {
            send(&ss, i);
        }
        for _ in 0..n {
            recv(&rs);
        }
        done += n;
    }
    start.elapsed().as_nanos() as f64 / messages as f64
}

/// The library's `select!` over [`THREADS`] (four) channels, for
/// `select_macro`: `select_fill` written with the macro.
trait SelectMacro: common::Lib {
    fn send(ss: &[Self::S], v: usize);
    fn recv(rs: &[Self::R]) -> usize;
}

macro_rules! select_macro {
    ($lib:ty, $select:path) => {
        impl SelectMacro for $lib {
            fn send(ss: &[Self::S], v: usize) {
                use $select as select;
                select! {
                    send(ss[0], v) -> res => res.unwrap(),
                    send(ss[1], v) -> res => res.unwrap(),
                    send(ss[2], v) -> res => res.unwrap(),
                    send(ss[3], v) -> res => res.unwrap(),
                }
            }
            fn recv(rs: &[Self::R]) -> usize {
                use $select as select;
                select! {
                    recv(rs[0]) -> msg => msg.unwrap(),
                    recv(rs[1]) -> msg => msg.unwrap(),
                    recv(rs[2]) -> msg => msg.unwrap(),
                    recv(rs[3]) -> msg => msg.unwrap(),
                }
            }
        }
    };
}

select_macro!(common::Chan, chan::select);
select_macro!(common::Crossbeam, crossbeam_channel::select);

/// The select scenarios, for `L`.
fn run_select<L: SelectMacro>(scenario: &str, cap: Option<usize>, messages: usize) -> f64 {
    let scenario = match scenario {
        "select_fill" => {
            let select = L::SELECT.expect("chan and crossbeam have a select");
            return select_fill::<L>(cap, messages, select.send, select.recv);
        }
        "select_macro" => return select_fill::<L>(cap, messages, <L as SelectMacro>::send, <L as SelectMacro>::recv),
        "select_rx" => common::Scenario::SelectRx,
        _ => common::Scenario::SelectBoth,
    };
    let took = common::run::<L>(scenario, cap, messages).expect("chan and crossbeam run every select scenario");
    took.as_nanos() as f64 / messages as f64
}

/// `HOT_PIN_APART=1`: in `spsc`, `mpsc` and `mpmc`, each thread is pinned
/// to one CPU, thread `k` to the `k`-th CPU modulo their number (senders
/// first, then receivers), as a thread-per-core program pins its threads.
fn pin_apart() -> bool {
    env_usize("HOT_PIN_APART", 0) != 0
}

/// Pins the calling thread to CPU `k` modulo the CPUs, if `apart`.
fn pin_to(apart: bool, k: usize) {
    if !apart {
        return;
    }
    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    assert!(common::pin_to_cpu(k % cpus), "HOT_PIN_APART: sched_setaffinity failed");
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let rounds = env_usize("HOT_ROUNDS", 7).max(1);
    let messages = env_usize("HOT_MESSAGES", 200_000);
    let filter = std::env::var("HOT_FILTER").unwrap_or_default();
    let caps = [("bounded(0)", Some(0)), ("bounded(1)", Some(1)), ("bounded(N)", Some(1024)), ("unbounded", None)];
    type Runner = fn(&str, Option<usize>, usize) -> f64;
    let libs: [(&str, Runner); 3] =
        [(Chan::NAME, run::<Chan>), (Crossbeam::NAME, run::<Crossbeam>), (Hchan::NAME, run::<Hchan>)];
    let select_libs: [(&str, Runner); 2] =
        [(Chan::NAME, run_select::<common::Chan>), (Crossbeam::NAME, run_select::<common::Crossbeam>)];
    println!("| case | library | median ns/msg | best ns/msg |");
    println!("| --- | --- | ---: | ---: |");
    for scenario in
        ["seq", "spsc", "mpsc", "mpmc", "try_pair", "select_fill", "select_macro", "select_rx", "select_both"]
    {
        let libs: &[(&str, Runner)] = if scenario.starts_with("select") { &select_libs } else { &libs };
        for (cap_name, cap) in caps {
            // One thread, or one thread filling channels before it drains
            // them, cannot use a rendezvous; the others run a tenth of the
            // messages there, as `compare` does.
            if cap == Some(0) && matches!(scenario, "seq" | "select_fill" | "select_macro" | "try_pair") {
                continue;
            }
            // `try_pair` needs room for every thread's message.
            if scenario == "try_pair" && cap.is_some_and(|n| n < THREADS) {
                continue;
            }
            let messages = if cap == Some(0) { (messages / 10).max(1) } else { messages };
            let case = format!("{scenario}/{cap_name}");
            let chosen: Vec<_> =
                libs.iter().filter(|(name, _)| format!("{case}/{name}").contains(filter.as_str())).collect();
            if chosen.is_empty() {
                continue;
            }
            let mut times = vec![Vec::new(); chosen.len()];
            for _ in 0..rounds {
                for (i, (_, f)) in chosen.iter().enumerate() {
                    times[i].push(f(scenario, cap, messages));
                }
            }
            for ((name, _), t) in chosen.iter().zip(&mut times) {
                t.sort_by(f64::total_cmp);
                println!("| {case} | {name} | {:.1} | {:.1} |", t[t.len() / 2], t[0]);
            }
        }
    }
}
