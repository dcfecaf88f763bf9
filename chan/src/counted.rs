//! A channel's single allocation and how its handles share it.
//!
//! Every channel is one heap block, [`Counted`], holding the flavor's core
//! and what all handles share: how many senders and receivers are alive and
//! racecheck's view of the channel as a whole. Handles point at it with a [`ChanRef`], a plain pointer
//! with no reference count of its own: the two handle counts are the
//! reference count.
//!
//! Why not an `Arc`: its two counters sit in front of the value, and the
//! ring's and the list's cores are aligned to a 128-byte cache line, so an
//! `Arc` would spend a whole line on 16 bytes of counters (an empty
//! unbounded channel would take 640 bytes instead of 512). The handle counts
//! already say when the last handle goes, so a second count is not needed.
//!
//! Freeing: when the last sender goes, it closes the channel and then marks
//! its side released; so does the last receiver. Whichever of the two marks
//! second frees the block. Every handle's last use happens before its count
//! decrement (AcqRel), the last decrement of a side happens before that
//! side's mark (AcqRel), and the second mark reads the first, so the free
//! happens after every use by every handle.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::race::ChanRace;

/// A channel's allocation: its core plus what its handles share.
pub(crate) struct Counted<C> {
    senders: AtomicUsize,
    receivers: AtomicUsize,
    /// Set by the first side (all senders, or all receivers) to be gone; the
    /// second side to go frees the allocation.
    one_side_gone: AtomicBool,
    /// racecheck's view of the channel as a whole (close, sends, the drops
    /// of senders).
    pub(crate) race: ChanRace,
    pub(crate) chan: C,
}

impl<C> std::ops::Deref for Counted<C> {
    type Target = C;

    #[inline]
    fn deref(&self) -> &C {
        &self.chan
    }
}

/// Which side of a channel a handle is on.
#[derive(Clone, Copy)]
pub(crate) enum Side {
    Sender,
    Receiver,
}

/// A handle's pointer to its channel's [`Counted`]. Copying one does not
/// count a new handle: [`ChanRef::acquire`] does.
pub(crate) struct ChanRef<C> {
    ptr: NonNull<Counted<C>>,
}

// SAFETY: a `ChanRef` is shared access to a `Counted<C>` from any thread, as
// an `Arc<Counted<C>>` is: it needs what `Arc` needs, `Counted<C>` both
// `Send` (the last handle may free it on any thread) and `Sync`.
unsafe impl<C> Send for ChanRef<C> where Counted<C>: Send + Sync {}
// SAFETY: sharing a `&ChanRef` across threads lets each copy the pointer and
// use the `Counted<C>` from there, as sharing an `&Arc` does: again
// `Counted<C>: Send + Sync` is what that needs.
unsafe impl<C> Sync for ChanRef<C> where Counted<C>: Send + Sync {}

impl<C> Clone for ChanRef<C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C> Copy for ChanRef<C> {}

impl<C> ChanRef<C> {
    /// Allocates a channel around `chan`, counting one sender and one
    /// receiver: the caller makes exactly those two handles.
    pub(crate) fn new(chan: C) -> Self {
        let counted = Box::new(Counted {
            senders: AtomicUsize::new(1),
            receivers: AtomicUsize::new(1),
            one_side_gone: AtomicBool::new(false),
            race: ChanRace::new(),
            chan,
        });
        ChanRef { ptr: NonNull::from(Box::leak(counted)) }
    }

    /// Counts one more handle on `side`, for a clone of a live one.
    pub(crate) fn acquire(&self, side: Side) {
        // Relaxed: the caller's own handle keeps the count above zero, so
        // this cannot race with the free; it only has to be counted.
        self.counter(side).fetch_add(1, Ordering::Relaxed);
    }

    /// Uncounts a handle on `side`. If it was that side's last, runs
    /// `last_gone` (which closes the channel) and frees the allocation if
    /// the other side is gone too.
    ///
    /// # Safety
    /// Called once per counted handle, which must not use this reference
    /// (or any copy of it) afterwards.
    pub(crate) unsafe fn release(&self, side: Side, last_gone: impl FnOnce()) {
        if self.counter(side).fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        last_gone();
        if self.one_side_gone.swap(true, Ordering::AcqRel) {
            crate::trace::freed(&self.chan as *const C as usize);
            // SAFETY: both sides have counted down to zero and no count goes
            // up again from zero (`acquire` needs a live handle), so no
            // handle is left; the orderings in the module doc make every
            // use happen before this. The pointer came from `Box::leak`.
            drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
        }
    }

    fn counter(&self, side: Side) -> &AtomicUsize {
        match side {
            Side::Sender => &self.senders,
            Side::Receiver => &self.receivers,
        }
    }
}

impl<C> std::ops::Deref for ChanRef<C> {
    type Target = Counted<C>;

    #[inline]
    fn deref(&self) -> &Counted<C> {
        // SAFETY: the allocation lives while any handle does, and a
        // `ChanRef` is only reached through a live handle (see `release`).
        unsafe { self.ptr.as_ref() }
    }
}
