//! Detector state that costs one pointer until detection first uses it.
//!
//! Every wrapper carries one or two clocks (and a channel one shadow); with
//! detection off they are never touched, so they should weigh no more than
//! a null pointer. With detection on, the first use allocates the state and
//! publishes it with a compare-exchange; a racing first use that loses
//! frees its own allocation and uses the winner's.

use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::Mutex;

use crate::clock::VClock;

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
        // SAFETY: as in `get`: published from `Box::into_raw`, valid until
        // `drop`.
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

/// A synchronization object's state: its vector clock, and whether the
/// lock-order graph may have a node for it (set for every lock a thread
/// has held with detection on). The cell's address names a lock in that
/// graph: it is stable for the lock's life, and the node leaves the graph
/// when the cell is freed, so a later lock at the same address never
/// inherits its edges.
#[derive(Default)]
pub(crate) struct SyncCell {
    pub(crate) clock: Mutex<VClock>,
    pub(crate) in_lock_graph: AtomicBool,
}

impl SyncCell {
    /// The name of this object in the lock-order graph.
    pub(crate) fn id(&self) -> usize {
        self as *const SyncCell as usize
    }
}

impl Drop for SyncCell {
    fn drop(&mut self) {
        if *self.in_lock_graph.get_mut() {
            crate::lock_order::forget(self.id());
        }
    }
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
