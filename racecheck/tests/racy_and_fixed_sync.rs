//! Racy/silent twins for `racecheck::sync`: Mutex, RwLock, Condvar, Barrier,
//! Once, OnceLock, WaitGroup and Arc, each with a racy program that must be
//! reported and its correctly synchronized twin that must stay silent. Each scenario
//! runs in its own child process with `RACECHECK=1` (see `common`).
//!
//! Waiting that must *not* create an edge uses std's atomics, which the
//! detector does not see: the program is then ordered in real time but not
//! by happens-before, which is exactly a data race.

#[macro_use]
mod common;

use std::sync::atomic::AtomicBool as StdFlag;
use std::sync::atomic::Ordering::SeqCst as STD_SEQ_CST;

use racecheck::cell::RaceCell;
use racecheck::sync::{Arc, Barrier, Condvar, Mutex, Once, OnceLock, RwLock, WaitGroup};
use racecheck::thread;

/// Waits until `flag` is set, invisibly to the detector.
fn wait_unseen(flag: &StdFlag) {
    while !flag.load(STD_SEQ_CST) {
        std::thread::yield_now();
    }
}

// ---- locks ----------------------------------------------------------------

scenario!(mutex_orders_critical_sections, races = 0, {
    let lock = Mutex::new(());
    let x = RaceCell::new(0);
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..50 {
                    let _g = lock.lock().unwrap();
                    x.set(x.get() + 1);
                }
            });
        }
    });
    assert_eq!(x.get(), 200);
});

scenario!(mutex_skipped_on_one_side_races, races = 1, {
    let lock = Mutex::new(());
    let x = RaceCell::new(0);
    let first = StdFlag::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            let _g = lock.lock().unwrap();
            x.set(1);
            first.store(true, STD_SEQ_CST);
        });
        s.spawn(|| {
            wait_unseen(&first);
            x.set(2); // forgot the lock
        });
    });
});

scenario!(try_lock_orders_too, races = 0, {
    let lock = Mutex::new(0);
    let x = RaceCell::new(0);
    thread::scope(|s| {
        s.spawn(|| {
            let _g = lock.lock().unwrap();
            x.set(1);
        });
        s.spawn(|| loop {
            if let Ok(_g) = lock.try_lock() {
                x.set(2);
                break;
            }
            thread::yield_now();
        });
    });
});

scenario!(rwlock_readers_and_writers_are_ordered, races = 0, {
    let lock = RwLock::new(());
    let x = RaceCell::new(0);
    thread::scope(|s| {
        for i in 0..4 {
            let (lock, x) = (&lock, &x);
            s.spawn(move || {
                for _ in 0..20 {
                    if i % 2 == 0 {
                        let _g = lock.write().unwrap();
                        x.set(x.get() + 1);
                    } else {
                        let _g = lock.read().unwrap();
                        x.get();
                    }
                }
            });
        }
    });
});

// Readers never synchronize with each other: two "readers" that write are
// a race even though both held the read lock.
scenario!(rwlock_readers_do_not_order_each_other, races = 1, {
    let lock = RwLock::new(());
    let x = RaceCell::new(0);
    let first = StdFlag::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            let _g = lock.read().unwrap();
            x.set(1);
            first.store(true, STD_SEQ_CST);
        });
        s.spawn(|| {
            wait_unseen(&first);
            let _g = lock.read().unwrap();
            x.set(2);
        });
    });
});

// A writer acquires every reader since the last writer, not only the last.
scenario!(rwlock_writer_sees_every_reader, races = 0, {
    let lock = RwLock::new(());
    let x = RaceCell::new(0);
    let both_read = std::sync::Barrier::new(2);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                {
                    let _g = lock.read().unwrap();
                    x.get();
                }
                both_read.wait();
            });
        }
    });
    let _g = lock.write().unwrap();
    x.set(1);
});

scenario!(condvar_wait_is_ordered_after_the_notifier, races = 0, {
    let state = Arc::new((Mutex::new(false), Condvar::new()));
    let data = Arc::new(RaceCell::new(0));
    let h = {
        let (state, data) = (state.clone(), data.clone());
        thread::spawn(move || {
            data.set(7); // outside the lock: ordered by notify -> wake
            *state.0.lock().unwrap() = true;
            state.1.notify_one();
        })
    };
    let mut ready = state.0.lock().unwrap();
    while !*ready {
        ready = state.1.wait(ready).unwrap();
    }
    drop(ready);
    assert_eq!(data.get(), 7);
    h.join().unwrap();
});

// Only the notify orders the write here: the notifier never takes the
// mutex. The waiter's last return from a wait comes after the notify (a
// zero-length wait at the end makes sure), so it acquires it.
scenario!(condvar_notify_orders_without_the_mutex, races = 0, {
    let state = Arc::new((Mutex::new(()), Condvar::new()));
    let data = Arc::new(RaceCell::new(0));
    let notified = Arc::new(StdFlag::new(false));
    let h = {
        let (state, data, notified) = (state.clone(), data.clone(), notified.clone());
        thread::spawn(move || {
            data.set(7);
            state.1.notify_all();
            notified.store(true, STD_SEQ_CST);
        })
    };
    let mut guard = state.0.lock().unwrap();
    while !notified.load(STD_SEQ_CST) {
        guard = state.1.wait_timeout(guard, std::time::Duration::from_millis(10)).unwrap().0;
    }
    let (guard, _) = state.1.wait_timeout(guard, std::time::Duration::ZERO).unwrap();
    drop(guard);
    assert_eq!(data.get(), 7);
    h.join().unwrap();
});

scenario!(condvar_write_after_notify_races, races = 1, {
    let state = Arc::new((Mutex::new(false), Condvar::new()));
    let data = Arc::new(RaceCell::new(0));
    let written = Arc::new(StdFlag::new(false));
    let h = {
        let (state, data, written) = (state.clone(), data.clone(), written.clone());
        thread::spawn(move || {
            *state.0.lock().unwrap() = true;
            state.1.notify_one();
            data.set(7); // after the notify: nothing orders it
            written.store(true, STD_SEQ_CST);
        })
    };
    let ready = state.1.wait_while(state.0.lock().unwrap(), |ready| !*ready).unwrap();
    drop(ready);
    wait_unseen(&written);
    data.get();
    h.join().unwrap();
});

// ---- one-shot and group primitives ------------------------------------------

scenario!(barrier_orders_arrivals_before_departures, races = 0, {
    let barrier = Barrier::new(3);
    let cells = [RaceCell::new(0), RaceCell::new(0), RaceCell::new(0)];
    thread::scope(|s| {
        for i in 0..3 {
            let (barrier, cells) = (&barrier, &cells);
            s.spawn(move || {
                for round in 0..3 {
                    cells[i].set(round);
                    barrier.wait();
                    let sum: usize = cells.iter().map(RaceCell::get).sum();
                    assert_eq!(sum, 3 * round);
                    barrier.wait();
                }
            });
        }
    });
});

scenario!(std_barrier_is_invisible_so_it_races, races = 1, {
    let barrier = std::sync::Barrier::new(2);
    let cells = [RaceCell::new(0), RaceCell::new(0)];
    thread::scope(|s| {
        for i in 0..2 {
            let (barrier, cells) = (&barrier, &cells);
            s.spawn(move || {
                cells[i].set(1);
                barrier.wait();
                cells[1 - i].get();
            });
        }
    });
});

scenario!(once_orders_its_initialization, races = 0, {
    static INIT: Once = Once::new();
    static VALUE: RaceCell<u32> = RaceCell::new(0);
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                INIT.call_once(|| VALUE.set(5));
                assert_eq!(VALUE.get(), 5);
                assert!(INIT.is_completed());
            });
        }
    });
});

scenario!(std_once_is_invisible_so_it_races, races = 1, {
    static INIT: std::sync::Once = std::sync::Once::new();
    static VALUE: RaceCell<u32> = RaceCell::new(0);
    let first = StdFlag::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            INIT.call_once(|| VALUE.set(5));
            first.store(true, STD_SEQ_CST);
        });
        s.spawn(|| {
            wait_unseen(&first);
            INIT.call_once(|| VALUE.set(6)); // fast path: already done
            VALUE.get();
        });
    });
});

scenario!(once_lock_orders_its_initialization, races = 0, {
    static CELL: OnceLock<usize> = OnceLock::new();
    static SIDE: RaceCell<u32> = RaceCell::new(0);
    let first = StdFlag::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            CELL.get_or_init(|| {
                SIDE.set(3);
                1
            });
            first.store(true, STD_SEQ_CST);
        });
        s.spawn(|| {
            wait_unseen(&first);
            // the fast path (`get`) acquires the initialization too
            assert_eq!(CELL.get(), Some(&1));
            assert_eq!(SIDE.get(), 3);
        });
    });
});

scenario!(once_lock_set_publishes_like_init, races = 0, {
    let cell = OnceLock::new();
    let side = RaceCell::new(0);
    thread::scope(|s| {
        s.spawn(|| {
            side.set(9);
            cell.set(1).unwrap();
        });
        s.spawn(|| {
            while cell.get().is_none() {
                thread::yield_now();
            }
            assert_eq!(side.get(), 9);
        });
    });
});

scenario!(std_once_lock_is_invisible_so_it_races, races = 1, {
    let cell = std::sync::OnceLock::new();
    let side = RaceCell::new(0);
    thread::scope(|s| {
        s.spawn(|| {
            side.set(9);
            cell.set(1).unwrap();
        });
        s.spawn(|| {
            while cell.get().is_none() {
                thread::yield_now();
            }
            side.get();
        });
    });
});

scenario!(wait_group_orders_every_done_before_wait, races = 0, {
    let data: Arc<Vec<RaceCell<usize>>> = Arc::new((0..3).map(|_| RaceCell::new(0)).collect());
    let wg = WaitGroup::new();
    for i in 0..3 {
        let (wg, data) = (wg.clone(), data.clone());
        thread::spawn(move || {
            data[i].set(i + 1);
            drop(wg);
        });
    }
    wg.wait();
    assert_eq!(data.iter().map(RaceCell::get).sum::<usize>(), 6);
});

scenario!(wait_group_done_too_early_races, races = 1, {
    let data = Arc::new(RaceCell::new(0));
    let written = Arc::new(StdFlag::new(false));
    let wg = WaitGroup::new();
    {
        let (wg, data, written) = (wg.clone(), data.clone(), written.clone());
        thread::spawn(move || {
            drop(wg); // Done before the work
            data.set(1);
            written.store(true, STD_SEQ_CST);
        });
    }
    wg.wait();
    wait_unseen(&written);
    data.get();
});

// The last drop of an Arc destroys the cell, which counts as a write: it is
// ordered after the other clones' uses by the Arc itself.
scenario!(arc_orders_drops_before_the_last, races = 0, {
    let cell = Arc::new(RaceCell::new(0));
    let dropped = Arc::new(StdFlag::new(false));
    {
        let (cell, dropped) = (cell.clone(), dropped.clone());
        thread::spawn(move || {
            cell.set(1);
            drop(cell);
            dropped.store(true, STD_SEQ_CST);
        });
    }
    wait_unseen(&dropped);
    drop(cell); // last reference: destroys the cell
});

// With std's Arc the detector sees no edge: the destruction races with the
// other thread's write, which is the false positive TSan shows for Arc
// (here a true report about the std type, which racecheck cannot see into).
scenario!(std_arc_is_invisible_so_drop_races, races = 1, {
    let cell = std::sync::Arc::new(RaceCell::new(0));
    let dropped = std::sync::Arc::new(StdFlag::new(false));
    {
        let (cell, dropped) = (cell.clone(), dropped.clone());
        thread::spawn(move || {
            cell.set(1);
            drop(cell);
            dropped.store(true, STD_SEQ_CST);
        });
    }
    wait_unseen(&dropped);
    drop(cell);
});

scenario!(arc_try_unwrap_is_ordered, races = 0, {
    let cell = Arc::new(RaceCell::new(0));
    let dropped = Arc::new(StdFlag::new(false));
    {
        let (cell, dropped) = (cell.clone(), dropped.clone());
        thread::spawn(move || {
            cell.set(1);
            drop(cell);
            dropped.store(true, STD_SEQ_CST);
        });
    }
    wait_unseen(&dropped);
    let mut cell = cell;
    while Arc::strong_count(&cell) > 1 {
        thread::yield_now();
    }
    assert_eq!(Arc::get_mut(&mut cell).map(|c| *c.get_mut()), Some(1));
    let inner = Arc::try_unwrap(cell).ok().unwrap();
    assert_eq!(inner.into_inner(), 1);
});

// ---- mpsc -------------------------------------------------------------------

scenario!(mpsc_send_orders_before_the_matching_recv, races = 0, {
    let (tx, rx) = racecheck::sync::mpsc::channel();
    let data = Arc::new(RaceCell::new(0));
    for i in 0..3 {
        let (tx, data) = (tx.clone(), data.clone());
        thread::spawn(move || {
            // one sender writes; its send orders the write before the
            // receive of its message
            if i == 0 {
                data.set(1);
            }
            tx.send(i).unwrap();
        });
    }
    drop(tx);
    let mut got: Vec<i32> = rx.iter().collect();
    got.sort();
    assert_eq!(got, [0, 1, 2]);
    assert_eq!(data.get(), 1);
});

scenario!(mpsc_write_after_send_races, races = 1, {
    let (tx, rx) = racecheck::sync::mpsc::sync_channel(1);
    let data = Arc::new(RaceCell::new(0));
    let written = Arc::new(StdFlag::new(false));
    {
        let (data, written) = (data.clone(), written.clone());
        thread::spawn(move || {
            tx.send(()).unwrap();
            data.set(1); // after the send: not ordered before the recv
            written.store(true, STD_SEQ_CST);
        });
    }
    rx.recv().unwrap();
    wait_unseen(&written);
    data.get();
});
