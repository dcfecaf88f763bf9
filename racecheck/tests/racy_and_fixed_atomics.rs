//! Racy/silent twins for atomics, fences and the annotation API: the
//! orderings are honoured as the C++11/Rust model (and Miri) has them, so
//! relaxed publication is reported and Release/Acquire code is not.

#[macro_use]
mod common;

use racecheck::annotate::{self, SyncClock};
use racecheck::cell::{RaceCell, UnsafeCell};
use racecheck::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use racecheck::thread;

use Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};

/// Publishes `data` with a store of `store` ordering and reads it after a
/// load of `load` ordering has seen the flag.
fn message_passing(store: Ordering, load: Ordering) {
    let data = RaceCell::new(0);
    let flag = AtomicUsize::new(0);
    thread::scope(|s| {
        s.spawn(|| {
            data.set(42);
            flag.store(1, store);
        });
        s.spawn(|| {
            while flag.load(load) == 0 {
                thread::yield_now();
            }
            data.get();
        });
    });
}

scenario!(release_store_acquire_load_is_silent, races = 0, {
    message_passing(Release, Acquire);
});

scenario!(seq_cst_store_and_load_is_silent, races = 0, {
    message_passing(SeqCst, SeqCst);
});

scenario!(relaxed_store_publishes_nothing, races = 1, {
    message_passing(Relaxed, Acquire);
});

scenario!(relaxed_load_acquires_nothing, races = 1, {
    message_passing(Release, Relaxed);
});

/// A release sequence: the Release store heads it, the RMW by another
/// thread continues it (even Relaxed), and an Acquire load that reads the
/// RMW's value still synchronizes with the head.
fn release_sequence(continue_with_rmw: bool) {
    let data = RaceCell::new(0);
    let flag = AtomicUsize::new(0);
    // Invisible to the detector: lets the reader load the flag only once it
    // holds 2, so that it cannot acquire the head's store directly.
    let second_done = std::sync::atomic::AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            data.set(1);
            flag.store(1, Release);
        });
        s.spawn(|| {
            while flag.load(Relaxed) != 1 {
                thread::yield_now();
            }
            if continue_with_rmw {
                flag.fetch_add(1, Relaxed);
            } else {
                flag.store(2, Relaxed); // a plain store ends the sequence
            }
            second_done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        s.spawn(|| {
            while !second_done.load(std::sync::atomic::Ordering::SeqCst) {
                thread::yield_now();
            }
            assert_eq!(flag.load(Acquire), 2);
            data.get();
        });
    });
}

scenario!(rmw_continues_the_release_sequence, races = 0, {
    release_sequence(true);
});

scenario!(plain_store_breaks_the_release_sequence, races = 1, {
    release_sequence(false);
});

/// Fence-based publication: `fence(Release)` + relaxed store, relaxed load
/// + `fence(Acquire)`.
fn fenced(release_fence: Option<Ordering>, acquire_fence: Option<Ordering>) {
    let data = RaceCell::new(0);
    let flag = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            data.set(1);
            if let Some(order) = release_fence {
                fence(order);
            }
            flag.store(true, Relaxed);
        });
        s.spawn(|| {
            while !flag.load(Relaxed) {
                thread::yield_now();
            }
            if let Some(order) = acquire_fence {
                fence(order);
            }
            data.get();
        });
    });
}

scenario!(release_and_acquire_fences_are_silent, races = 0, {
    fenced(Some(Release), Some(Acquire));
});

scenario!(seq_cst_fences_are_silent, races = 0, {
    fenced(Some(SeqCst), Some(SeqCst));
});

scenario!(acq_rel_fences_are_silent, races = 0, {
    fenced(Some(AcqRel), Some(AcqRel));
});

scenario!(missing_acquire_fence_races, races = 1, {
    fenced(Some(Release), None);
});

scenario!(missing_release_fence_races, races = 1, {
    fenced(None, Some(Acquire));
});

scenario!(seq_cst_fence_on_one_side_only_races, races = 1, {
    fenced(Some(SeqCst), None);
});

/// A spin lock built on compare_exchange: Acquire on lock and Release on
/// unlock order the critical sections; Relaxed does not.
fn spin_lock(lock_order: Ordering, unlock_order: Ordering) {
    let locked = AtomicBool::new(false);
    let data = RaceCell::new(0);
    let first_done = std::sync::atomic::AtomicBool::new(false);
    thread::scope(|s| {
        for i in 0..2 {
            let (locked, data, first_done) = (&locked, &data, &first_done);
            s.spawn(move || {
                if i == 1 {
                    // make the second critical section come second in time
                    while !first_done.load(std::sync::atomic::Ordering::SeqCst) {
                        thread::yield_now();
                    }
                }
                while locked.compare_exchange_weak(false, true, lock_order, Relaxed).is_err() {
                    thread::yield_now();
                }
                data.set(data.get() + 1);
                locked.store(false, unlock_order);
                first_done.store(true, std::sync::atomic::Ordering::SeqCst);
            });
        }
    });
}

scenario!(cas_spin_lock_with_acquire_release_is_silent, races = 0, {
    spin_lock(Acquire, Release);
});

scenario!(cas_spin_lock_with_acq_rel_is_silent, races = 0, {
    spin_lock(AcqRel, SeqCst);
});

// Two reports: the unordered read (`get`) and the unordered write (`set`)
// are different pairs of places.
scenario!(relaxed_spin_lock_races, races = 2, {
    spin_lock(Relaxed, Relaxed);
});

scenario!(atomic_ptr_publication_is_silent, races = 0, {
    let slot: AtomicPtr<RaceCell<u64>> = AtomicPtr::new(std::ptr::null_mut());
    thread::scope(|s| {
        s.spawn(|| {
            let boxed = Box::new(RaceCell::new(5));
            boxed.set(6);
            slot.store(Box::into_raw(boxed), Release);
        });
        s.spawn(|| {
            let ptr = loop {
                let ptr = slot.load(Acquire);
                if !ptr.is_null() {
                    break ptr;
                }
                thread::yield_now();
            };
            // SAFETY: the pointer came from `Box::into_raw` above and this is
            // the only thread that takes it back.
            let boxed = unsafe { Box::from_raw(ptr) };
            assert_eq!(boxed.get(), 6);
        });
    });
});

scenario!(fetch_update_acquires, races = 0, {
    let data = RaceCell::new(0);
    let counter = AtomicU64::new(0);
    thread::scope(|s| {
        s.spawn(|| {
            data.set(3);
            counter.fetch_add(1, Release);
        });
        s.spawn(|| {
            while counter.fetch_update(Relaxed, Acquire, |v| if v == 1 { Some(2) } else { None }).is_err() {
                thread::yield_now();
            }
            data.get();
        });
    });
});

// ---- annotations --------------------------------------------------------

fn annotated_handoff(annotate_it: bool) {
    let flag = std::sync::atomic::AtomicBool::new(false);
    let data = RaceCell::new(0);
    thread::scope(|s| {
        s.spawn(|| {
            data.set(1);
            if annotate_it {
                annotate::release(&flag);
            }
            flag.store(true, std::sync::atomic::Ordering::Release);
        });
        s.spawn(|| {
            while !flag.load(std::sync::atomic::Ordering::Acquire) {
                thread::yield_now();
            }
            if annotate_it {
                annotate::acquire(&flag);
            }
            data.get();
        });
    });
}

scenario!(annotated_release_acquire_is_silent, races = 0, {
    annotated_handoff(true);
});

scenario!(unannotated_std_atomic_races, races = 1, {
    annotated_handoff(false);
});

fn sync_clock_handoff(use_clock: bool) {
    let flag = std::sync::atomic::AtomicBool::new(false);
    let clock = SyncClock::new();
    let data = UnsafeCell::new(0u32);
    let data = &data;
    struct Shared<'a>(&'a UnsafeCell<u32>);
    // SAFETY: the two threads below touch the cell one after the other,
    // ordered by `flag` (Release/Acquire); the test checks the detector
    // agrees when the edge is annotated.
    unsafe impl Sync for Shared<'_> {}
    impl Shared<'_> {
        fn cell(&self) -> &UnsafeCell<u32> {
            self.0
        }
    }
    let shared = Shared(data);
    let shared = &shared;
    thread::scope(|s| {
        s.spawn(|| {
            // SAFETY: the reader waits for `flag`, set after this write.
            shared.cell().with_mut(|p| unsafe { *p = 7 });
            if use_clock {
                clock.release();
            }
            flag.store(true, std::sync::atomic::Ordering::Release);
        });
        s.spawn(|| {
            while !flag.load(std::sync::atomic::Ordering::Acquire) {
                thread::yield_now();
            }
            if use_clock {
                clock.acquire();
            }
            // SAFETY: the write above happened before `flag` was set.
            assert_eq!(shared.cell().with(|p| unsafe { *p }), 7);
        });
    });
}

scenario!(sync_clock_orders_unsafe_cell, races = 0, {
    sync_clock_handoff(true);
});

scenario!(unsafe_cell_without_edge_races, races = 1, {
    sync_clock_handoff(false);
});

fn annotated_memory(join_first: bool) {
    let buffer = [0u8; 32];
    let addr = buffer.as_ptr() as usize;
    let writer = thread::spawn(move || annotate::write(addr as *const u8, 16));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    if join_first {
        writer.join().unwrap();
    } else {
        while !writer.is_finished() {
            thread::yield_now();
        }
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    // overlaps the written range in its second granule
    annotate::read(buffer[8..].as_ptr(), 4);
}

scenario!(annotated_accesses_after_join_are_silent, races = 0, {
    annotated_memory(true);
});

scenario!(annotated_accesses_without_join_race, races = 1, {
    annotated_memory(false);
});
