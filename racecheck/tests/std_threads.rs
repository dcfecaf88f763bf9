//! std's own threads, unchanged: on Linux racecheck sees `std::thread`'s
//! spawn and join (it interposes `pthread_create`/`pthread_join`), so a
//! program that orders its accesses by those is silent; what it cannot see
//! (std's locks, the end of `std::thread::scope`) is reported with one
//! note and counted apart. Each scenario runs in a child with
//! `RACECHECK=1`.

#![cfg(all(feature = "std-threads", target_os = "linux", target_env = "gnu"))]

mod common;

use std::sync::atomic::AtomicBool as StdFlag;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};

use racecheck::cell::RaceCell;

const NOTE: &str = "Note: a thread above was not started through racecheck::thread.";

/// A test that runs `$body` in a child and expects `$races` races, of
/// which `$outside` involve threads racecheck did not start.
macro_rules! scenario {
    ($name:ident, races = $races:expr, outside = $outside:expr, $body:block) => {
        #[test]
        fn $name() {
            if common::in_child() {
                $body
                let reports = racecheck::reports();
                assert_eq!(reports.races, $races, "races counted in the child");
                assert_eq!(reports.races_with_threads_outside_racecheck, $outside, "of them outside");
                return;
            }
            let out = common::rerun(stringify!($name), &[]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert_eq!(common::reports(&stderr), $races, "reports:\n{stderr}\n{stdout}");
            let status = if $races == 0 { 0 } else { 66 };
            assert_eq!(out.status.code(), Some(status), "status:\n{stderr}\n{stdout}");
            assert!(stdout.contains("1 passed"), "the child test did not pass:\n{stdout}\n{stderr}");
            let notes = if $outside == 0 { 0 } else { 1 };
            assert_eq!(stderr.matches(NOTE).count(), notes, "the note, once:\n{stderr}");
        }
    };
}

fn wait_for(flag: &StdFlag) {
    while !flag.load(SeqCst) {
        std::thread::yield_now();
    }
}

// Written before the spawn, read and written in the thread, read after the
// join: every access is ordered by std's spawn and join.
scenario!(spawn_and_join_are_edges, races = 0, outside = 0, {
    let cell = Arc::new(RaceCell::new(0));
    cell.set(1);
    let c = cell.clone();
    let worker = std::thread::spawn(move || c.set(c.get() + 1));
    worker.join().unwrap();
    assert_eq!(cell.get(), 2);
});

// A write after the spawn is not ordered before the thread's read.
scenario!(a_write_after_the_spawn_races, races = 1, outside = 1, {
    let cell = Arc::new(RaceCell::new(0));
    let spawned = Arc::new(StdFlag::new(false));
    let (c, s) = (cell.clone(), spawned.clone());
    let worker = std::thread::spawn(move || {
        wait_for(&s);
        c.get();
    });
    cell.set(1);
    spawned.store(true, SeqCst);
    worker.join().unwrap();
});

// A read before the join is not ordered after the thread's write.
scenario!(a_read_before_the_join_races, races = 1, outside = 1, {
    let cell = Arc::new(RaceCell::new(0));
    let written = Arc::new(StdFlag::new(false));
    let (c, w) = (cell.clone(), written.clone());
    let worker = std::thread::spawn(move || {
        c.set(1);
        w.store(true, SeqCst);
    });
    wait_for(&written);
    cell.get();
    worker.join().unwrap();
});

// The edges pass through threads that never touch racecheck: the
// grandchild, spawned by a child that did nothing checked, is ordered after
// the main thread's write, and the main thread after the grandchild's.
scenario!(edges_pass_through_threads_that_touch_nothing, races = 0, outside = 0, {
    let cell = Arc::new(RaceCell::new(0));
    cell.set(1);
    let c = cell.clone();
    let child = std::thread::spawn(move || {
        let grandchild = std::thread::spawn(move || c.set(c.get() + 1));
        grandchild.join().unwrap();
    });
    child.join().unwrap();
    assert_eq!(cell.get(), 2);
});

// A named std thread keeps its name in reports, and its creation site is
// the program's call to spawn.
#[test]
fn reports_name_the_std_thread_and_where_it_was_spawned() {
    if common::in_child() {
        let cell = Arc::new(RaceCell::new(0));
        let written = Arc::new(StdFlag::new(false));
        let (c, w) = (cell.clone(), written.clone());
        println!("SPAWN_AT {}", line!() + 1);
        let worker = std::thread::Builder::new().name("std-worker".into()).spawn(move || {
            c.set(1);
            w.store(true, SeqCst);
        });
        wait_for(&written);
        cell.get();
        worker.unwrap().join().unwrap();
        return;
    }
    let out = common::rerun("reports_name_the_std_thread_and_where_it_was_spawned", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let spawn: u32 = stdout
        .lines()
        .find_map(|l| l.split_once("SPAWN_AT ")?.1.split_whitespace().next()?.parse().ok())
        .expect("the spawn line");
    // The worker's id depends on which thread touched racecheck first.
    let worker = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("Previous write at 0x")?.split(" by thread ").nth(1)?.strip_suffix(" (std-worker):")
        })
        .unwrap_or_else(|| panic!("the worker's write, by name:\n{stderr}"));
    let lines: Vec<&str> = stderr.lines().collect();
    let created =
        lines.iter().position(|l| l.starts_with(&format!("Thread {worker} (finished) created by std::thread at:")));
    let created = created.expect("where T2 was created");
    assert!(
        lines[created + 1].starts_with("  std_threads::reports_name_the_std_thread_and_where_it_was_spawned  ")
            && lines[created + 1].ends_with(&format!("std_threads.rs:{spawn}")),
        "{stderr}"
    );
    // The test's own thread is the harness's: no note for it alone, but
    // the std worker makes this report one to doubt.
    assert!(stderr.contains("is the test harness's thread for this test"), "{stderr}");
    assert_eq!(stderr.matches(NOTE).count(), 1, "{stderr}");
    assert!(
        stderr.ends_with("Found 1 data race(s) (1 involving threads not started through racecheck, see the note)\n"),
        "{stderr}"
    );
}

// An explicit join of a scoped thread is a `pthread_join`: seen.
scenario!(scoped_threads_joined_explicitly, races = 0, outside = 0, {
    let cell = RaceCell::new(0);
    std::thread::scope(|s| {
        let h = s.spawn(|| cell.set(1));
        h.join().unwrap();
    });
    cell.get();
});

// The implicit join at the end of `std::thread::scope` is not a
// `pthread_join` (std waits on a counter the threads decrement before
// their start routine returns): it cannot be seen, the race is reported
// with the note, which names `racecheck::thread::scope` instead.
scenario!(a_scope_s_implicit_join_is_not_seen, races = 1, outside = 1, {
    // Leaked, so that its drop adds no second report.
    let cell: &'static RaceCell<u32> = Box::leak(Box::new(RaceCell::new(0)));
    std::thread::scope(|s| {
        s.spawn(|| cell.set(1));
    });
    cell.get();
});

// std's Mutex is invisible: a counter it protects is reported, each report
// counted as involving threads outside racecheck, with one note for all.
scenario!(std_mutex_is_invisible_and_said_so_once, races = 2, outside = 2, {
    let counter = Arc::new(RaceCell::new(0));
    let lock = Arc::new(Mutex::new(()));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (counter, lock) = (counter.clone(), lock.clone());
            std::thread::spawn(move || {
                for _ in 0..100 {
                    let _held = lock.lock().unwrap();
                    counter.set(counter.get() + 1);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(counter.get(), 200);
});

// The same counter under racecheck's Mutex is ordered, std threads or not.
scenario!(racecheck_mutex_orders_std_threads, races = 0, outside = 0, {
    let counter = Arc::new(RaceCell::new(0));
    let lock = Arc::new(racecheck::sync::Mutex::new(()));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (counter, lock) = (counter.clone(), lock.clone());
            std::thread::spawn(move || {
                for _ in 0..100 {
                    let _held = lock.lock().unwrap();
                    counter.set(counter.get() + 1);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(counter.get(), 200);
});

// A detached thread is never joined: nothing orders its write before a
// read that only waited for it in real time.
scenario!(a_detached_thread_gives_no_join_edge, races = 1, outside = 1, {
    static CELL: RaceCell<u32> = RaceCell::new(0);
    static WRITTEN: StdFlag = StdFlag::new(false);
    drop(std::thread::spawn(|| {
        CELL.set(1);
        WRITTEN.store(true, SeqCst);
    }));
    wait_for(&WRITTEN);
    CELL.get();
});

// racecheck's own threads keep their edges and ids: not seen twice.
scenario!(racecheck_threads_are_not_seen_twice, races = 0, outside = 0, {
    let cell = Arc::new(RaceCell::new(0));
    let c = cell.clone();
    racecheck::thread::spawn(move || c.set(1)).join().unwrap();
    cell.get();
    assert!(racecheck::__diagnostics::slots_allocated() <= 2, "the test's thread and the worker");
});
