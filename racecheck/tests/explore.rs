//! `racecheck::explore`: the PCT guarantee on small programs, racy/silent
//! twins that one plain run would rarely tell apart, seed replay, the
//! verdict as a test harness sees it (panic, exit status 66, several tests
//! exploring at once), and the fallbacks that keep a schedule from hanging.
//!
//! Each scenario runs in a child process of this test binary (see
//! `common`), started *without* `RACECHECK`: `explore` turns detection on
//! for its own threads. A child that does not finish in a minute is killed
//! and the test fails.

#[macro_use]
mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use racecheck::cell::RaceCell;
use racecheck::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use racecheck::sync::{mpsc, Arc, Barrier, Condvar, Mutex, RwLock, WaitGroup};
use racecheck::thread;

/// What a child run left.
struct Child {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Child {
    fn reports(&self) -> usize {
        common::reports(&self.stderr)
    }

    /// Every `seed=N` the reports and messages name, in order.
    fn seeds(&self) -> Vec<u64> {
        self.stderr
            .split("seed=")
            .skip(1)
            .filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
            .collect()
    }

    /// The racing places of the first report (`file:line:col` of both
    /// accesses), which stay the same from run to run.
    fn places(&self) -> Vec<String> {
        let Some(block) = self.stderr.split("==================\n").find(|b| b.starts_with("WARNING: DATA RACE"))
        else {
            return Vec::new();
        };
        let lines: Vec<&str> = block.lines().collect();
        lines
            .windows(2)
            .filter(|pair| pair[0].contains(" at 0x") && pair[0].contains(" by thread "))
            .filter_map(|pair| pair[1].split_whitespace().find(|w| w.starts_with("racecheck/tests/")))
            .map(str::to_owned)
            .collect()
    }
}

impl std::fmt::Display for Child {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "status {:?}\n--- stderr:\n{}\n--- stdout:\n{}", self.status, self.stderr, self.stdout)
    }
}

/// Runs the tests matching `filter` in a child without `RACECHECK`, with
/// `env` added, and at most `threads` tests at once; kills it after a
/// minute.
fn run_filtered(filter: &str, exact: bool, threads: usize, env: &[(&str, &str)]) -> Child {
    let exe = std::env::current_exe().expect("test binary path");
    let mut command = Command::new(exe);
    command.arg(filter);
    if exact {
        command.arg("--exact");
    }
    command
        .args(["--nocapture", &format!("--test-threads={threads}")])
        .env(common::CHILD, "1")
        .env_remove("RACECHECK")
        .env_remove("RACECHECK_OPTIONS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("start the child test");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child `{filter}` hung:\n{}", err.join().unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Child { status: status.code(), stdout: out.join().unwrap_or_default(), stderr: err.join().unwrap_or_default() }
}

fn run(name: &str, env: &[(&str, &str)]) -> Child {
    run_filtered(name, true, 1, env)
}

/// The child side of a test: `$body` runs only in the child.
macro_rules! child {
    ($name:ident, $body:block) => {
        #[test]
        fn $name() {
            if common::in_child() {
                $body
            }
        }
    };
}

/// A child that must find a race: one report, the panic naming the seed,
/// exit status 66.
fn assert_found(child: &Child) {
    assert_eq!(child.reports(), 1, "{child}");
    assert_eq!(child.status, Some(66), "{child}");
    assert!(child.stderr.contains("Schedule: seed="), "the report names its schedule: {child}");
    assert!(child.stderr.contains("racecheck::explore: data races in "), "explore panics: {child}");
    assert!(child.stderr.contains("Found 1 data race(s)"), "{child}");
    assert!(child.stdout.contains("1 failed"), "the test that explored fails: {child}");
}

/// A child that must stay silent and pass.
fn assert_silent(child: &Child) {
    assert_eq!(child.reports(), 0, "{child}");
    assert_eq!(child.status, Some(0), "{child}");
    assert!(child.stdout.contains("1 passed"), "{child}");
}

// ---- the programs ---------------------------------------------------------

/// Depth 1: the first thread's write is ordered before the second's only
/// if the first takes the lock first. With the fix both write under the
/// lock.
fn lock_order(fixed: bool) {
    let lock = Arc::new(Mutex::new(false));
    let x = Arc::new(RaceCell::new(0));
    let first = {
        let (lock, x) = (lock.clone(), x.clone());
        thread::spawn(move || {
            if !fixed {
                x.set(1);
            }
            let mut announced = lock.lock().unwrap();
            if fixed {
                x.set(1);
            }
            *announced = true;
        })
    };
    let second = {
        let (lock, x) = (lock.clone(), x.clone());
        thread::spawn(move || {
            let announced = lock.lock().unwrap();
            if fixed {
                x.set(2);
            }
            drop(announced);
            if !fixed {
                x.set(2);
            }
        })
    };
    first.join().unwrap();
    second.join().unwrap();
}

/// Depth 2: two pushes on a lock-free stack; a push whose CAS fails reads
/// the winner's node, and with a `Relaxed` failure ordering nothing orders
/// that read after the winner's write. The CAS fails only if the other
/// push completes between this push's load and its CAS. Two threads (the
/// closure's and one more) and at most 16 steps.
fn cas_push(fixed: bool) {
    let top = Arc::new(AtomicUsize::new(0));
    let values = Arc::new([RaceCell::new(0u64), RaceCell::new(0)]);
    let failure = if fixed { Ordering::Acquire } else { Ordering::Relaxed };
    let push = move |top: &AtomicUsize, values: &[RaceCell<u64>; 2], i: usize| {
        values[i].set(10 + i as u64);
        let mut seen = top.load(Ordering::Acquire);
        while let Err(winner) = top.compare_exchange(seen, i + 1, Ordering::Release, failure) {
            values[winner - 1].get();
            seen = winner;
        }
    };
    let other = {
        let (top, values) = (top.clone(), values.clone());
        thread::spawn(move || push(&top, &values, 1))
    };
    push(&top, &values, 0);
    other.join().unwrap();
}

// ---- the guarantee --------------------------------------------------------

child!(lock_order_racy, {
    racecheck::explore(200, || lock_order(false));
});
child!(lock_order_fixed, {
    racecheck::explore(200, || lock_order(true));
});

/// A depth-1 race among 3 threads shows with probability at least 1/3 in
/// each depth-1 schedule; 200 schedules hold 67 of those, so a miss has
/// probability at most (2/3)^67 < 1e-11.
#[test]
fn finds_a_depth_one_race_without_racecheck_in_the_environment() {
    assert_found(&run("lock_order_racy", &[]));
    assert_silent(&run("lock_order_fixed", &[]));
}

child!(cas_push_racy, {
    racecheck::explore(2000, || cas_push(false));
});
child!(cas_push_fixed, {
    racecheck::explore(300, || cas_push(true));
});

/// A depth-2 race among n = 2 threads and k ≤ 16 steps shows with
/// probability at least 1/(n·k) = 1/32 in each depth-2 schedule; 2000
/// schedules hold 666 of those, so a miss has probability at most
/// (31/32)^666 < 1e-9.
#[test]
fn finds_a_depth_two_race_in_a_contended_cas() {
    let racy = run("cas_push_racy", &[]);
    assert_found(&racy);
    assert_eq!(racy.places().len(), 2, "{racy}");
    assert_silent(&run("cas_push_fixed", &[]));
}

// ---- replay ---------------------------------------------------------------

/// The seed a report names replays the race on its own, with the same two
/// places; and a seed gives the same verdict every time it runs.
#[test]
fn a_seed_replays_its_schedule() {
    let found = run("cas_push_racy", &[]);
    assert_found(&found);
    let seed = found.seeds()[0];
    let replay = run("cas_push_racy", &[("RACECHECK_OPTIONS", &format!("seed={seed}"))]);
    assert_found(&replay);
    assert!(replay.stderr.contains("data races in 1 of 1 schedules"), "{replay}");
    assert_eq!(replay.places(), found.places(), "{replay}");
    assert_eq!(replay.seeds()[0], seed);

    // Depth-2 seeds over 16 steps, racy or not: each replays the same.
    let mut random = seed;
    for _ in 0..8 {
        random = random.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let seed = (random >> 24) << 24 | 16 << 2 | 1;
        let options = format!("seed={seed}");
        let verdicts: Vec<usize> =
            (0..2).map(|_| run("cas_push_racy", &[("RACECHECK_OPTIONS", &options)]).reports()).collect();
        assert_eq!(verdicts[0], verdicts[1], "seed {seed} gave different verdicts");
    }
}

// ---- the verdict, as a test harness sees it --------------------------------

child!(together_racy, {
    racecheck::explore(200, || lock_order(false));
});
child!(together_fixed_lock, {
    racecheck::explore(200, || lock_order(true));
});
child!(together_fixed_cas, {
    racecheck::explore(200, || cas_push(true));
});

/// Three tests explore at once on libtest's threads: only the racy one
/// fails, and the process exits with 66.
#[test]
fn tests_explore_side_by_side() {
    let child = run_filtered("together_", false, 3, &[]);
    assert_eq!(child.reports(), 1, "{child}");
    assert_eq!(child.status, Some(66), "{child}");
    assert!(child.stdout.contains("2 passed; 1 failed"), "{child}");
    assert!(child.stdout.contains("together_racy"), "{child}");
}

child!(closure_panics, {
    racecheck::explore(100, || {
        let order = Arc::new(Mutex::new(Vec::new()));
        let other = order.clone();
        let t = thread::spawn(move || other.lock().unwrap().push(1));
        order.lock().unwrap().push(0);
        t.join().unwrap();
        assert_eq!(*order.lock().unwrap(), [0, 1], "the spawned thread went first");
    });
});

/// A schedule under which the closure panics is named, and the panic
/// reaches the test.
#[test]
fn a_panic_names_its_schedule() {
    let child = run("closure_panics", &[]);
    assert!(child.stderr.contains("the spawned thread went first"), "{child}");
    assert!(child.stderr.contains("racecheck: explore: the closure panicked under schedule seed="), "{child}");
    assert_eq!(child.status, Some(101), "{child}");
    let seed = child.seeds()[0];
    let replay = run("closure_panics", &[("RACECHECK_OPTIONS", &format!("seed={seed}"))]);
    assert!(replay.stderr.contains("the spawned thread went first"), "the seed replays the panic: {replay}");
}

// ---- every blocking primitive, scheduled, without false reports -----------

child!(blocking_primitives, {
    racecheck::explore(60, || {
        // A bounded queue on Mutex + Condvar.
        let queue = Arc::new((Mutex::new(Vec::new()), Condvar::new(), Condvar::new()));
        let data = Arc::new(RaceCell::new(0));
        let producer = {
            let (queue, data) = (queue.clone(), data.clone());
            thread::spawn(move || {
                for i in 0..4 {
                    data.set(i);
                    let (items, not_empty, not_full) = &*queue;
                    let mut items = not_full.wait_while(items.lock().unwrap(), |v| v.len() == 2).unwrap();
                    items.push(i);
                    not_empty.notify_one();
                }
            })
        };
        for _ in 0..4 {
            let (items, not_empty, not_full) = &*queue;
            let mut items = not_empty.wait_while(items.lock().unwrap(), |v| v.is_empty()).unwrap();
            items.remove(0);
            not_full.notify_all();
        }
        producer.join().unwrap();
        data.get();

        // RwLock, Barrier, WaitGroup, park/unpark, mpsc and a scope.
        let table = RwLock::new(0);
        let cell = RaceCell::new(0);
        let barrier = Barrier::new(3);
        let group = WaitGroup::new();
        let (tx, rx) = mpsc::sync_channel(1);
        thread::scope(|s| {
            for i in 0..2 {
                let (group, tx) = (group.clone(), tx.clone());
                let (table, barrier, cell) = (&table, &barrier, &cell);
                s.spawn(move || {
                    *table.write().unwrap() += 1;
                    let _ = *table.read().unwrap();
                    barrier.wait();
                    if i == 0 {
                        cell.set(1);
                    }
                    tx.send(i).unwrap();
                    drop(group);
                });
            }
            barrier.wait();
            drop(tx);
            let received: Vec<i32> = rx.iter().collect();
            assert_eq!(received.len(), 2);
            group.wait();
            assert_eq!(cell.get(), 1);
            let me = thread::current();
            let flag = Arc::new(AtomicBool::new(false));
            let f = flag.clone();
            s.spawn(move || {
                f.store(true, Ordering::Release);
                me.unpark();
            });
            while !flag.load(Ordering::Acquire) {
                thread::park();
            }
        });
        assert_eq!(*table.read().unwrap(), 2);
    });
});

#[test]
fn every_blocking_primitive_runs_scheduled_without_reports() {
    assert_silent(&run("blocking_primitives", &[]));
}

// ---- never hanging --------------------------------------------------------

child!(invisible_waits, {
    racecheck::explore(4, || {
        // A std lock, which the scheduler cannot see, held across a
        // scheduling point: the yields hand the turn to the closure's
        // thread, which then blocks on the lock with the turn, until the
        // fallback takes the turn back for the holder.
        let std_lock = std::sync::Arc::new(std::sync::Mutex::new(()));
        let x = Arc::new(RaceCell::new(0));
        let holder = {
            let (std_lock, x) = (std_lock.clone(), x.clone());
            thread::spawn(move || {
                let _held = std_lock.lock().unwrap();
                thread::yield_now();
                x.set(1);
            })
        };
        thread::yield_now();
        drop(std_lock.lock().unwrap());
        holder.join().unwrap();
        x.get();
    });
});

child!(spin_loops, {
    racecheck::explore(20, || {
        // A spin on a racecheck atomic: the spinner is demoted after a long
        // run of steps; with a yield, at once.
        for yields in [false, true] {
            let flag = Arc::new(AtomicBool::new(false));
            let spinner = {
                let flag = flag.clone();
                thread::spawn(move || {
                    while !flag.load(Ordering::Acquire) {
                        if yields {
                            thread::yield_now();
                        }
                    }
                })
            };
            flag.store(true, Ordering::Release);
            spinner.join().unwrap();
        }
    });
});

/// Waits the scheduler cannot see and spin loops slow a schedule down but
/// never hang it.
#[test]
fn invisible_waits_and_spins_do_not_hang() {
    assert_silent(&run("invisible_waits", &[]));
    assert_silent(&run("spin_loops", &[]));
}

child!(nested, {
    racecheck::explore(1, || racecheck::explore(1, || {}));
});

#[test]
fn explore_cannot_be_nested() {
    let child = run("nested", &[]);
    assert!(child.stderr.contains("cannot run inside another exploration"), "{child}");
    assert_eq!(child.status, Some(101), "{child}");
}
