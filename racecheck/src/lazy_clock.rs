//! Detector state that costs one pointer until detection first uses it.
//!
//! Every wrapper carries one or two clocks (and a channel one shadow); with
//! detection off they are never touched, so they should weigh no more than
//! a null pointer. With detection on, the first use allocates the state and
//! publishes it with a compare-exchange; a racing first use that loses
//! frees its own allocation and uses the winner's.

use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Mutex;

use crate::clock::VClock;
use crate::lock_order::Membership;

/// A `T` allocated on first use, freed with the owner.
pub(crate) struct LazyBox<T: Default> {
    ptr: AtomicPtr<T>,
}

impl<T: Default> LazyBox<T> {
    pub(crate) const fn new() -> LazyBox<T> {
        LazyBox { ptr: AtomicPtr::new(ptr::null_mut()) }
    }

    /// The state, allocating it on first use.
    #[inline]
    pub(crate) fn get(&self) -> &T {
        let current = self.ptr.load(Ordering::Acquire);
        if !current.is_null() {
            // SAFETY: a non-null pointer was published by `install` from
            // `Box::into_raw`, with Release, and stays valid until `drop`,
            // which needs `&mut self` and so cannot overlap this borrow.
            return unsafe { &*current };
        }
        self.install()
    }

    #[cold]
    fn install(&self) -> &T {
        let fresh = Box::into_raw(Box::default());
        match self.ptr.compare_exchange(ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: `fresh` came from `Box::into_raw` and is now owned by
            // `self` until `drop`, which cannot overlap this borrow.
            Ok(_) => unsafe { &*fresh },
            Err(winner) => {
                // SAFETY: `fresh` was never shared (the exchange failed), so
                // this is its only owner.
                unsafe { drop(Box::from_raw(fresh)) };
                // SAFETY: `winner` was published by the thread that won,
                // from `Box::into_raw`, and lives until `drop`.
                unsafe { &*winner }
            }
        }
    }

    /// The state if it was ever used.
    #[inline]
    pub(crate) fn get_if_used(&self) -> Option<&T> {
        let current = self.ptr.load(Ordering::Acquire);
        // SAFETY: a non-null pointer was published by `install` from
        // `Box::into_raw` (our Acquire load pairs with its exchange) and
        // stays valid until `drop`, which needs `&mut self` and so cannot
        // overlap this borrow.
        (!current.is_null()).then(|| unsafe { &*current })
    }
}

impl<T: Default> Drop for LazyBox<T> {
    fn drop(&mut self) {
        let current = *self.ptr.get_mut();
        if !current.is_null() {
            // SAFETY: the pointer came from `Box::into_raw` in `install`, and
            // `&mut self` proves nobody borrows it any more.
            unsafe { drop(Box::from_raw(current)) }
        }
    }
}

impl<T: Default> Default for LazyBox<T> {
    fn default() -> Self {
        LazyBox::new()
    }
}

/// A synchronization object's state: its vector clock, and its node in
/// the lock-order graph (see `lock_order`).
#[derive(Default)]
pub(crate) struct SyncCell {
    pub(crate) clock: Mutex<VClock>,
    pub(crate) lock_order: Membership,
}

/// A vector clock allocated on first use: the state of every sync object.
#[derive(Default)]
pub(crate) struct LazyClock {
    cell: LazyBox<SyncCell>,
}

impl LazyClock {
    pub(crate) const fn new() -> LazyClock {
        LazyClock { cell: LazyBox::new() }
    }

    /// The clock, allocating it on first use.
    #[inline]
    pub(crate) fn get(&self) -> &Mutex<VClock> {
        &self.cell.get().clock
    }

    /// The whole state, allocating it on first use.
    #[inline]
    pub(crate) fn cell(&self) -> &SyncCell {
        self.cell.get()
    }

    /// The clock if it was ever used.
    pub(crate) fn get_if_used(&self) -> Option<&Mutex<VClock>> {
        self.cell.get_if_used().map(|cell| &cell.clock)
    }
}
