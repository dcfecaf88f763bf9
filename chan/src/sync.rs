//! The primitives the channel cores are written against.
//!
//! Under `--cfg loom` every atomic, lock, cell and park call comes from
//! `loom`, so the loom models in `tests/loom.rs` explore the very code that
//! ships; otherwise they are the `std` items with the same names.

#[cfg(not(loom))]
pub(crate) mod atomic {
    pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicUsize, Ordering};
}
#[cfg(loom)]
pub(crate) mod atomic {
    pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicUsize, Ordering};
}

#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// Thread handles and parking.
pub(crate) mod thread {
    #[cfg(loom)]
    pub(crate) use loom::thread::{current, park, yield_now, Thread};
    #[cfg(not(loom))]
    pub(crate) use std::thread::{current, park, park_timeout, yield_now, Thread};
}

/// An `UnsafeCell` with loom's closure-based API, so that under loom every
/// access to a slot's payload is checked for races by the model.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// One step of a busy wait: a CPU spin hint, or a yield to loom's scheduler.
#[inline(always)]
pub(crate) fn spin_loop() {
    #[cfg(not(loom))]
    std::hint::spin_loop();
    #[cfg(loom)]
    loom::thread::yield_now();
}

/// Exponential backoff for the short waits before a thread parks.
///
/// Outside loom this is `crossbeam_utils::Backoff`. Under loom a spin loop
/// would make the model explore an unbounded number of schedules, so every
/// step yields to the model's scheduler instead.
#[cfg(not(loom))]
pub(crate) use crossbeam_utils::Backoff;

#[cfg(loom)]
pub(crate) struct Backoff(std::cell::Cell<u32>);

#[cfg(loom)]
impl Backoff {
    pub(crate) fn new() -> Self {
        Backoff(std::cell::Cell::new(0))
    }
    pub(crate) fn spin(&self) {
        self.snooze()
    }
    pub(crate) fn snooze(&self) {
        self.0.set(self.0.get() + 1);
        loom::thread::yield_now();
    }
}
