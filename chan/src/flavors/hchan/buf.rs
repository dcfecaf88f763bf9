//! Go's `hchan.buf`: the circular queue of a buffered channel.
//!
//! The ring is an array of possibly-uninitialized slots; which ones hold a
//! value is not recorded here but by the channel's `recvx` and `qcount`
//! (slots `recvx, recvx+1, ... ` for `qcount` steps, wrapping at the end are
//! full, the others empty), exactly as in Go. So every access is `unsafe`
//! and its caller argues from those two fields.
//!
//! A bounded channel allocates the whole ring up front, as Go's `makechan`
//! does, and never reallocates. An unbounded channel starts small and
//! `grow`s, doubling, when a send finds the ring full; growing moves the
//! values to the front of the new ring in queue order, so afterwards
//! `recvx = 0` and `sendx = qcount`, and nothing else about the channel
//! changes.

use std::mem::MaybeUninit;

/// The ring of slots (Go: `buf`, `dataqsiz` slots of `elemsize` bytes).
pub(crate) struct Buf<T> {
    slots: Box<[MaybeUninit<T>]>,
}

impl<T> Buf<T> {
    /// A ring of `size` empty slots. Zero-sized `T` allocates nothing.
    pub(crate) fn with_size(size: usize) -> Self {
        let mut slots = Vec::with_capacity(size);
        // SAFETY: the capacity is `size`, and a `MaybeUninit` needs no
        // initialization. This is O(1) even for a huge ring of zero-sized
        // values, which allocates nothing.
        unsafe { slots.set_len(size) };
        Buf { slots: slots.into_boxed_slice() }
    }

    /// The number of slots (Go's `dataqsiz` for a bounded channel).
    pub(crate) fn size(&self) -> usize {
        self.slots.len()
    }

    /// The slot after `i`, wrapping to 0 at the end (Go: `x++; if x ==
    /// dataqsiz { x = 0 }`).
    pub(crate) fn next(&self, i: usize) -> usize {
        if i + 1 == self.slots.len() {
            0
        } else {
            i + 1
        }
    }

    /// Writes `v` into slot `i` (Go: `typedmemmove(chanbuf(c, i), ep)`).
    ///
    /// Slot `i` should be empty: a value already there would be leaked
    /// (never dropped), though not read twice. The caller's `qcount`/`recvx`
    /// must account for the slot being full afterwards.
    pub(crate) fn put(&mut self, i: usize, v: T) {
        self.slots[i].write(v);
    }

    /// Moves the value out of slot `i`, leaving it empty.
    ///
    /// # Safety
    /// Slot `i` is in range and full; the caller's `qcount`/`recvx` account
    /// for it being empty afterwards.
    pub(crate) unsafe fn take(&mut self, i: usize) -> T {
        // SAFETY: the slot is full, per the contract, and is treated as
        // empty from now on, so the value is moved out exactly once.
        unsafe { self.slots[i].assume_init_read() }
    }

    /// Doubles the ring (at least 4 slots), moving the `qcount` values that
    /// start at `recvx` to slots `0..qcount` in the same order.
    ///
    /// # Safety
    /// Exactly the `qcount` slots starting at `recvx` (wrapping) are full.
    pub(crate) unsafe fn grow(&mut self, recvx: usize, qcount: usize) {
        let size = self.slots.len().checked_mul(2).expect("channel capacity overflow").max(4);
        let mut bigger = Buf::with_size(size);
        let mut i = recvx;
        for j in 0..qcount {
            // SAFETY: slot `i` is one of the `qcount` full slots (contract);
            // each is read once, and the old ring is then freed without
            // dropping anything (its slots are `MaybeUninit`).
            let v = unsafe { self.take(i) };
            // `j < qcount < size`, and the new ring starts empty.
            bigger.put(j, v);
            i = self.next(i);
        }
        *self = bigger;
    }
}
