//! Racy/silent twins for plain accesses (read/read, write/write, read/write,
//! write/read, the read-shared state) and for thread life (spawn, join,
//! scope, park/unpark): a racy program that must be reported and its
//! correctly synchronized twin that must stay silent. Each scenario
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
use racecheck::sync::Arc;
use racecheck::thread;

/// Waits until `flag` is set, invisibly to the detector.
fn wait_unseen(flag: &StdFlag) {
    while !flag.load(STD_SEQ_CST) {
        std::thread::yield_now();
    }
}

// ---- plain accesses -------------------------------------------------------

scenario!(read_read_is_silent, races = 0, {
    let x = RaceCell::new(1);
    thread::scope(|s| {
        s.spawn(|| x.get());
        s.spawn(|| x.get());
    });
});

scenario!(write_write_races, races = 1, {
    let x = RaceCell::new(0);
    let done = StdFlag::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            x.set(1);
            done.store(true, STD_SEQ_CST);
        });
        wait_unseen(&done);
        x.set(2);
    });
});

scenario!(read_then_write_races, races = 1, {
    let x = RaceCell::new(0);
    let done = StdFlag::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            x.get();
            done.store(true, STD_SEQ_CST);
        });
        wait_unseen(&done);
        x.set(2);
    });
});

scenario!(write_then_read_races, races = 1, {
    let x = RaceCell::new(0);
    let done = StdFlag::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            x.set(1);
            done.store(true, STD_SEQ_CST);
        });
        wait_unseen(&done);
        x.get();
    });
});

scenario!(same_thread_accesses_are_silent, races = 0, {
    let x = RaceCell::new(0);
    for i in 0..10 {
        x.set(x.get() + i);
    }
    x.with_mut(|v| *v += 1);
    assert_eq!(x.into_inner(), 46);
});

// The same race, found a hundred times between the same two places, is one
// report; a race at another place is another.
scenario!(the_same_pair_of_places_is_reported_once, races = 2, {
    let x = RaceCell::new(0);
    let done = StdFlag::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            for i in 0..100 {
                x.set(i);
            }
            done.store(true, STD_SEQ_CST);
        });
        wait_unseen(&done);
        let unrelated = racecheck::sync::Mutex::new(());
        for _ in 0..100 {
            // Each unlock is a release, which starts a new epoch of this
            // thread, so every read below is checked again and races again.
            drop(unrelated.lock());
            x.get();
        }
        x.set(0); // another place: write/write with the loop's write
    });
});

// Two unordered readers, then a writer ordered after only one of them: only
// the read-shared state remembers the other reader.
scenario!(read_shared_catches_the_unjoined_reader, races = 1, {
    let x = Arc::new(RaceCell::new(0));
    let first_read = Arc::new(StdFlag::new(false));
    let unjoined = {
        let (x, first_read) = (x.clone(), first_read.clone());
        thread::spawn(move || {
            x.get();
            first_read.store(true, STD_SEQ_CST);
        })
    };
    wait_unseen(&first_read);
    let joined = {
        let x = x.clone();
        thread::spawn(move || x.get())
    };
    joined.join().unwrap();
    x.set(1); // ordered after `joined`'s read, not after `unjoined`'s
    unjoined.join().unwrap();
});

scenario!(read_shared_twin_is_silent, races = 0, {
    let x = Arc::new(RaceCell::new(0));
    let a = {
        let x = x.clone();
        thread::spawn(move || x.get())
    };
    let b = {
        let x = x.clone();
        thread::spawn(move || x.get())
    };
    a.join().unwrap();
    b.join().unwrap();
    x.set(1);
});

// ---- threads --------------------------------------------------------------

scenario!(spawn_orders_the_parents_past, races = 0, {
    let x = Arc::new(RaceCell::new(0));
    x.set(1);
    let x2 = x.clone();
    thread::spawn(move || assert_eq!(x2.get(), 1)).join().unwrap();
});

scenario!(spawn_does_not_order_the_parents_future, races = 1, {
    let x = Arc::new(RaceCell::new(0));
    let started = Arc::new(StdFlag::new(false));
    let h = {
        let (x, started) = (x.clone(), started.clone());
        thread::spawn(move || {
            wait_unseen(&started);
            x.get()
        })
    };
    x.set(1);
    started.store(true, STD_SEQ_CST);
    h.join().unwrap();
});

scenario!(join_orders_the_childs_life, races = 0, {
    let x = Arc::new(RaceCell::new(0));
    let x2 = x.clone();
    let h = thread::Builder::new().name("writer".into()).spawn(move || x2.set(1)).unwrap();
    h.join().unwrap();
    assert_eq!(x.get(), 1);
});

scenario!(no_join_no_order, races = 1, {
    let x = Arc::new(RaceCell::new(0));
    let done = Arc::new(StdFlag::new(false));
    let h = {
        let (x, done) = (x.clone(), done.clone());
        thread::spawn(move || {
            x.set(1);
            done.store(true, STD_SEQ_CST);
        })
    };
    wait_unseen(&done);
    x.get();
    h.join().unwrap();
});

scenario!(scope_end_joins_every_thread, races = 0, {
    let x = RaceCell::new(0);
    let y = RaceCell::new(0);
    thread::scope(|s| {
        s.spawn(|| x.set(1));
        // a thread spawned by a scoped thread is joined by the scope too
        s.spawn(|| {
            s.spawn(|| y.set(2));
        });
    });
    assert_eq!(x.get() + y.get(), 3);
});

scenario!(scoped_threads_race_with_each_other, races = 1, {
    let x = RaceCell::new(0);
    let first = StdFlag::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            x.set(1);
            first.store(true, STD_SEQ_CST);
        });
        s.spawn(|| {
            wait_unseen(&first);
            x.set(2);
        });
    });
});

scenario!(scoped_join_handle_orders, races = 0, {
    let x = RaceCell::new(0);
    thread::scope(|s| {
        let h = s.spawn(|| x.set(1));
        h.join().unwrap();
        assert_eq!(x.get(), 1);
    });
});

scenario!(unpark_orders_before_park_returns, races = 0, {
    let x = Arc::new(RaceCell::new(0));
    let unparked = Arc::new(StdFlag::new(false));
    let main = thread::current();
    let h = {
        let (x, unparked) = (x.clone(), unparked.clone());
        thread::spawn(move || {
            x.set(1);
            main.unpark();
            unparked.store(true, STD_SEQ_CST);
        })
    };
    while !unparked.load(STD_SEQ_CST) {
        thread::park_timeout(std::time::Duration::from_millis(10));
    }
    // The unpark has happened. Either a park above returned after it (and
    // acquired it), or its token is still there and this returns at once.
    thread::park_timeout(std::time::Duration::from_millis(50));
    assert_eq!(x.get(), 1);
    h.join().unwrap();
});

scenario!(without_unpark_park_orders_nothing, races = 1, {
    let x = Arc::new(RaceCell::new(0));
    let ready = Arc::new(StdFlag::new(false));
    let h = {
        let (x, ready) = (x.clone(), ready.clone());
        thread::spawn(move || {
            x.set(1);
            ready.store(true, STD_SEQ_CST);
        })
    };
    while !ready.load(STD_SEQ_CST) {
        thread::park_timeout(std::time::Duration::from_millis(1));
    }
    x.get();
    h.join().unwrap();
});
