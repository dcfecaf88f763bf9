//! A vector clock that costs one pointer until detection first uses it.
//!
//! Every wrapper carries one or two clocks; with detection off they are
//! never touched, so they should weigh no more than a null pointer. With
//! detection on, the first use allocates the clock (behind its own small
//! lock) and publishes it with a compare-exchange; a racing first use that
//! loses frees its own allocation and uses the winner's.

use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Mutex;

use crate::clock::VClock;

pub(crate) struct LazyClock {
    clock: AtomicPtr<Mutex<VClock>>,
}

impl LazyClock {
    pub(crate) const fn new() -> LazyClock {
        LazyClock { clock: AtomicPtr::new(ptr::null_mut()) }
    }

    /// The clock, allocating it on first use.
    pub(crate) fn get(&self) -> &Mutex<VClock> {
        let current = self.clock.load(Ordering::Acquire);
        if !current.is_null() {
            // SAFETY: a non-null pointer was published by `install` from
            // `Box::into_raw`, with Release, and stays valid until `drop`,
            // which needs `&mut self` and so cannot overlap this borrow.
            return unsafe { &*current };
        }
        self.install()
    }

    #[cold]
    fn install(&self) -> &Mutex<VClock> {
        let fresh = Box::into_raw(Box::new(Mutex::new(VClock::new())));
        match self.clock.compare_exchange(ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: `fresh` came from `Box::into_raw` and is now owned by
            // `self` until `drop`, which cannot overlap this borrow.
            Ok(_) => unsafe { &*fresh },
            Err(winner) => {
                // SAFETY: `fresh` was never shared (the exchange failed), so
                // this is its only owner; `winner` was published by the
                // thread that won, from `Box::into_raw`, and lives until
                // `drop`.
                unsafe {
                    drop(Box::from_raw(fresh));
                    &*winner
                }
            }
        }
    }

    /// The clock if it was ever used.
    pub(crate) fn get_if_used(&self) -> Option<&Mutex<VClock>> {
        let current = self.clock.load(Ordering::Acquire);
        // SAFETY: as in `get`: published from `Box::into_raw`, valid until
        // `drop`.
        (!current.is_null()).then(|| unsafe { &*current })
    }
}

impl Drop for LazyClock {
    fn drop(&mut self) {
        let current = *self.clock.get_mut();
        if !current.is_null() {
            // SAFETY: the pointer came from `Box::into_raw` in `install`, and
            // `&mut self` proves nobody borrows it any more.
            unsafe { drop(Box::from_raw(current)) }
        }
    }
}

impl Default for LazyClock {
    fn default() -> Self {
        LazyClock::new()
    }
}
