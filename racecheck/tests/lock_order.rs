//! Potential deadlocks: cycles in the order threads take racecheck's
//! `Mutex` and `RwLock`, reported as ThreadSanitizer's lock-order
//! inversions although no run below actually deadlocks. Each scenario runs
//! in a child process with `RACECHECK=1`; the racy ones must be reported
//! (and set exit status 66), their twins must stay silent.

mod common;

use std::sync::atomic::AtomicBool as StdFlag;
use std::sync::atomic::Ordering::SeqCst;

use racecheck::sync::{Arc, Condvar, Mutex, RwLock};
use racecheck::thread;

const WARNING: &str = "WARNING: POTENTIAL DEADLOCK (lock-order inversion)";

/// Runs test `name` in a child and checks how many lock-order reports it
/// printed, with the exit status that follows.
fn expect(name: &str, env: &[(&str, Option<&str>)], inversions: usize) -> String {
    let out = common::rerun(name, env);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stderr.matches(WARNING).count(), inversions, "reports in the child:\n{stderr}\n{stdout}");
    assert_eq!(common::reports(&stderr), 0, "no data race in these programs:\n{stderr}");
    let status = if inversions == 0 { 0 } else { 66 };
    assert_eq!(out.status.code(), Some(status), "child status:\n{stderr}\n{stdout}");
    assert!(stdout.contains("1 passed"), "the child test did not pass:\n{stdout}\n{stderr}");
    stderr
}

/// A test that runs `$body` in a child and expects `$n` reports.
macro_rules! scenario {
    ($name:ident, inversions = $n:expr, $body:block) => {
        #[test]
        fn $name() {
            if common::in_child() {
                $body
                assert_eq!(racecheck::reports().lock_order_inversions, $n, "reports counted in the child");
                return;
            }
            expect(stringify!($name), &[], $n);
        }
    };
}

/// Takes `first` then `second` on a new thread, and waits for it.
fn in_order_on_a_thread(first: &Arc<Mutex<u32>>, second: &Arc<Mutex<u32>>) {
    let (first, second) = (first.clone(), second.clone());
    thread::spawn(move || {
        let _a = first.lock().unwrap();
        let _b = second.lock().unwrap();
    })
    .join()
    .unwrap();
}

fn two_locks() -> (Arc<Mutex<u32>>, Arc<Mutex<u32>>) {
    (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)))
}

// One thread takes A then B, a later one B then A: had they run at once,
// each could hold one lock and wait for the other.
scenario!(two_threads_in_opposite_orders, inversions = 1, {
    let (a, b) = two_locks();
    in_order_on_a_thread(&a, &b);
    in_order_on_a_thread(&b, &a);
});

// As ThreadSanitizer: one thread taking both orders is reported too, since
// the two code paths could run on two threads.
scenario!(one_thread_in_both_orders, inversions = 1, {
    let (a, b) = two_locks();
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    let _b = b.lock().unwrap();
    let _a = a.lock().unwrap();
});

scenario!(the_same_order_everywhere, inversions = 0, {
    let (a, b) = two_locks();
    in_order_on_a_thread(&a, &b);
    in_order_on_a_thread(&a, &b);
    // Reentering in a row, and releasing out of order, is no inversion.
    let ga = a.lock().unwrap();
    let gb = b.lock().unwrap();
    drop(ga);
    drop(gb);
});

/// Takes `guard`, then `first` and `second`, on a new thread.
fn guarded_on_a_thread(guard: &Arc<Mutex<()>>, first: &Arc<Mutex<u32>>, second: &Arc<Mutex<u32>>) {
    let (guard, first, second) = (guard.clone(), first.clone(), second.clone());
    thread::spawn(move || {
        let _g = guard.lock().unwrap();
        let _a = first.lock().unwrap();
        let _b = second.lock().unwrap();
    })
    .join()
    .unwrap();
}

// Both orders, always under the same guard lock: the two can never run at
// once, so there is no potential deadlock (GoodLock's gatelock rule).
scenario!(opposite_orders_under_a_common_guard, inversions = 0, {
    let (a, b) = two_locks();
    let guard = Arc::new(Mutex::new(()));
    guarded_on_a_thread(&guard, &a, &b);
    guarded_on_a_thread(&guard, &b, &a);
});

// The guard is held for one order only: the other can still run alongside.
scenario!(opposite_orders_with_the_guard_on_one_side, inversions = 1, {
    let (a, b) = two_locks();
    let guard = Arc::new(Mutex::new(()));
    guarded_on_a_thread(&guard, &a, &b);
    in_order_on_a_thread(&b, &a);
});

// A → B, B → C and C → A on three threads: a cycle of three.
scenario!(a_cycle_of_three_locks, inversions = 1, {
    let (a, b) = two_locks();
    let c = Arc::new(Mutex::new(0));
    in_order_on_a_thread(&a, &b);
    in_order_on_a_thread(&b, &c);
    in_order_on_a_thread(&c, &a);
});

// Read locks count: with a writer queued, std's RwLock makes new readers
// wait, so a reader can be part of a deadlock.
scenario!(rwlock_read_and_write_in_opposite_orders, inversions = 1, {
    let a = Arc::new(RwLock::new(0));
    let b = Arc::new(RwLock::new(0));
    let (a2, b2) = (a.clone(), b.clone());
    thread::spawn(move || {
        let _a = a2.read().unwrap();
        let _b = b2.write().unwrap();
    })
    .join()
    .unwrap();
    let _b = b.read().unwrap();
    let _a = a.write().unwrap();
});

// A try_lock never blocks, so it orders nothing: no cycle.
scenario!(try_lock_adds_no_order, inversions = 0, {
    let (a, b) = two_locks();
    {
        let _a = a.lock().unwrap();
        let _b = b.try_lock().unwrap();
    }
    in_order_on_a_thread(&b, &a);
});

// ... but the lock it took is held: taking another one after it is ordered.
scenario!(a_lock_taken_with_try_lock_is_held, inversions = 1, {
    let (a, b) = two_locks();
    {
        let _a = a.try_lock().unwrap();
        let _b = b.lock().unwrap();
    }
    in_order_on_a_thread(&b, &a);
});

// A condition variable's wait lets its mutex go and takes it back: waiting
// on A's condvar while holding B takes A while holding B.
scenario!(a_condvar_wait_retakes_its_mutex, inversions = 1, {
    let (a, b) = two_locks();
    let ready = Arc::new(Condvar::new());
    let notifier = {
        let (a, ready) = (a.clone(), ready.clone());
        thread::spawn(move || {
            *a.lock().unwrap() = 1;
            ready.notify_all();
        })
    };
    {
        let _b = b.lock().unwrap();
        let mut a_held = a.lock().unwrap();
        while *a_held == 0 {
            a_held = ready.wait(a_held).unwrap();
        }
    }
    notifier.join().unwrap();
    in_order_on_a_thread(&a, &b);
});

// Locks that are dropped leave the graph: fresh locks at the same addresses
// must not inherit the old ones' order.
scenario!(dropped_locks_leave_the_graph, inversions = 0, {
    for round in 0..200 {
        let (a, b) = two_locks();
        if round % 2 == 0 {
            in_order_on_a_thread(&a, &b);
        } else {
            in_order_on_a_thread(&b, &a);
        }
    }
});

/// The child program for the report and option tests: prints the lines of
/// the four lock acquisitions, then takes A → B on a named worker and
/// B → A on the test's thread.
fn inversion_program() {
    let (a, b) = two_locks();
    let (a2, b2) = (a.clone(), b.clone());
    thread::Builder::new()
        .name("worker".to_owned())
        .spawn(move || {
            println!("W_HOLD {}", line!() + 1);
            let _a = a2.lock().unwrap();
            println!("W_TAKE {}", line!() + 1);
            let _b = b2.lock().unwrap();
        })
        .unwrap()
        .join()
        .unwrap();
    println!("M_HOLD {}", line!() + 1);
    let _b = b.lock().unwrap();
    println!("M_TAKE {}", line!() + 1);
    let _a = a.lock().unwrap();
}

#[test]
fn child_inversion_program() {
    if common::in_child() {
        inversion_program();
    }
}

fn line_of(stdout: &str, key: &str) -> u32 {
    stdout
        .lines()
        .find_map(|l| l.split_once(key)?.1.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("{key} missing from the child's stdout:\n{stdout}"))
}

#[test]
fn the_report_names_both_places_of_each_edge() {
    let out = common::rerun("child_inversion_program", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(66), "{stderr}");
    assert_eq!(stderr.matches(WARNING).count(), 1, "{stderr}");
    let file = file!();
    let at = |key: &str| format!("{file}:{}:", line_of(&stdout, key));
    let block = stderr.split("==================\n").find(|b| b.starts_with(WARNING)).expect("a report block");
    let lines: Vec<&str> = block.lines().collect();
    assert!(lines[1].starts_with("Cycle in lock order graph: M1 (0x") && lines[1].ends_with(" => M1"), "{block}");
    // The edge being added now: the test thread takes A (M2) holding B (M1),
    // with its stack, and where it took B.
    let now = lines.iter().position(|l| l.starts_with("Mutex M2 acquired here while holding mutex M1 in thread T1 ("));
    let now = now.expect("the current edge");
    assert!(lines[now + 1].contains(&at("M_TAKE")), "{block}");
    assert!(lines[now + 1].starts_with("  lock_order::inversion_program  "), "{block}");
    let held = lines.iter().position(|l| *l == "Mutex M1 previously acquired by the same thread here:").unwrap();
    assert!(lines[held + 1].contains(&at("M_HOLD")), "{block}");
    // The worker's edge, from its recorded places.
    let then = lines
        .iter()
        .position(|l| l.starts_with("Mutex M1 acquired here while holding mutex M2 in thread T2 (worker):"));
    let then = then.expect("the worker's edge");
    assert!(lines[then + 1].contains(&at("W_TAKE")), "{block}");
    let held = lines.iter().position(|l| *l == "Mutex M2 previously acquired by the same thread here:").unwrap();
    assert!(lines[held + 1].contains(&at("W_HOLD")), "{block}");
    assert!(block.contains("Thread T2 (finished) created at:"), "{block}");
    assert!(stderr.ends_with("Found 0 data race(s) and 1 potential deadlock(s)\n"), "{stderr}");
}

#[test]
fn report_lock_order_0_turns_it_off() {
    let stderr = expect("child_inversion_program", &[("RACECHECK_OPTIONS", Some("report_lock_order=0"))], 0);
    assert!(!stderr.contains("Found"), "{stderr}");
}

#[test]
fn halt_on_error_stops_at_a_lock_order_report() {
    let out = common::rerun("child_inversion_program", &[("RACECHECK_OPTIONS", Some("halt_on_error=1"))]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(66), "{stderr}");
    assert!(stderr.ends_with("Found 0 data race(s) and 1 potential deadlock(s)\n"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("1 passed"), "the child went on");
}

// The inversion is reported before the lock is taken, so that a run that
// does deadlock there still gets it: here the test thread blocks taking A,
// which the first thread lets go only once the report is out.
scenario!(reported_before_blocking, inversions = 1, {
    let (a, b) = two_locks();
    let holding = Arc::new(StdFlag::new(false));
    let (a2, b2, holding2) = (a.clone(), b.clone(), holding.clone());
    let first = thread::spawn(move || {
        {
            let _a = a2.lock().unwrap();
            let _b = b2.lock().unwrap();
        }
        let _a = a2.lock().unwrap();
        holding2.store(true, SeqCst);
        while racecheck::reports().lock_order_inversions == 0 {
            std::thread::yield_now();
        }
    });
    while !holding.load(SeqCst) {
        std::thread::yield_now();
    }
    let _b = b.lock().unwrap();
    let _a = a.lock().unwrap();
    drop((_a, _b));
    first.join().unwrap();
});

// A leaked guard leaves its lock "held" for good; the lock itself may then
// be freed. Nothing about it is looked at again but its name: no crash,
// and no report from locks taken in one order afterwards.
scenario!(a_leaked_guard_of_a_freed_lock_is_harmless, inversions = 0, {
    let a = Mutex::new(0);
    std::mem::forget(a.lock().unwrap());
    drop(a);
    let (b, c) = two_locks();
    for _ in 0..3 {
        in_order_on_a_thread(&b, &c);
        let _b = b.lock().unwrap();
        let _c = c.lock().unwrap();
    }
});
