//! The list of a select's cases: the first few inside the `Select` itself,
//! all of them on the heap once there are more. A select over a handful of
//! channels, built afresh by every loop over `select!`, then allocates
//! nothing at all on its way to a ready case.
//!
//! The cases are in `inline[..len]` while `heap` is empty, and in `heap`
//! (with `len` 0) once it is not: `push` moves them all there when the
//! inline room is full. Either way they are one slice, in the order added.

use std::mem::MaybeUninit;
use std::ops::{Deref, DerefMut};
use std::ptr;

use super::stored::StoredCase;
use super::Case;

/// How many cases fit inside the `Select`.
const INLINE_CASES: usize = 4;

/// A case with the index `Select::send`/`recv` returned for it.
pub(crate) type Entry<'a> = (usize, StoredCase<'a>);

/// `repr(C)`, with the (uninitialized) inline room last: with the fields
/// that `new` sets on both sides of it, LLVM merges their stores into a
/// memset of the whole room, a large part of the cost of a select that
/// goes at once.
#[repr(C)]
pub(crate) struct CaseList<'a> {
    /// How many of `inline` hold a case (0 once the cases are in `heap`).
    len: usize,
    heap: Vec<Entry<'a>>,
    inline: MaybeUninit<[Entry<'a>; INLINE_CASES]>,
}

impl<'a> CaseList<'a> {
    pub(crate) fn new() -> CaseList<'a> {
        CaseList { len: 0, inline: MaybeUninit::uninit(), heap: Vec::new() }
    }

    /// The first place of the inline array.
    #[inline]
    fn inline_ptr(&mut self) -> *mut Entry<'a> {
        self.inline.as_mut_ptr().cast()
    }

    /// Adds `case` with `index` at the end.
    #[cfg(test)]
    pub(crate) fn push<C: Case<'a> + 'a>(&mut self, index: usize, case: C) {
        self.push_with(index, || case)
    }

    /// Adds the case `make` builds, with `index`, at the end. The case is
    /// built only once its place is known, so that it is built there.
    #[inline]
    pub(crate) fn push_with<C: Case<'a> + 'a>(&mut self, index: usize, make: impl FnOnce() -> C) {
        let on_heap = self.heap.len();
        let slot = if on_heap == 0 && self.len < INLINE_CASES {
            // SAFETY: `len < INLINE_CASES`: a place in the array, not live
            // (module doc).
            unsafe { self.inline_ptr().add(self.len) }
        } else if on_heap != 0 && on_heap < self.heap.capacity() {
            // SAFETY: within the capacity, past the live cases.
            unsafe { self.heap.as_mut_ptr().add(on_heap) }
        } else {
            self.heap_room()
        };
        // SAFETY: `slot` is a free place (above, or `heap_room`), written
        // in full here and then counted. The case is built here, after the
        // place is known, and so stored straight into it: built by the
        // caller, it would wait on the stack across the call to `heap_room`
        // and then be copied, with loads wider than the stores that wrote
        // it, which stalls the CPU (store forwarding fails) on every case
        // of a large select.
        unsafe {
            ptr::addr_of_mut!((*slot).0).write(index);
            StoredCase::write(ptr::addr_of_mut!((*slot).1), make());
        }
        if self.heap.is_empty() {
            self.len += 1;
        } else {
            // SAFETY: `heap_room` reserved the place at the old length, now
            // written.
            unsafe { self.heap.set_len(self.heap.len() + 1) }
        }
    }

    /// The free place at the end of `heap`, moving the inline cases there
    /// first if they are still inline; the caller writes it and counts it.
    #[cold]
    fn heap_room(&mut self) -> *mut Entry<'a> {
        if self.heap.is_empty() {
            // Reserve first, so that nothing below can fail while cases are
            // half moved. Room for 16 cases at once: a select over more
            // than four channels is mostly over many (one per worker), and
            // growing 8 -> 16 would copy every case again.
            self.heap.reserve(4 * INLINE_CASES);
            let base = self.inline_ptr();
            for pos in 0..self.len {
                // SAFETY: `inline[..len]` holds live cases; each is read
                // once, and `len` drops to 0 below, so none is read or
                // dropped again from `inline`.
                self.heap.push(unsafe { base.add(pos).read() });
            }
            self.len = 0;
        }
        self.heap.reserve(1);
        // SAFETY: reserved: the place at `len` is within the capacity.
        unsafe { self.heap.as_mut_ptr().add(self.heap.len()) }
    }

    /// Removes and returns the case at `pos`, keeping the others in order.
    ///
    /// # Panics
    /// If `pos` is out of bounds.
    pub(crate) fn remove(&mut self, pos: usize) -> Entry<'a> {
        if !self.heap.is_empty() {
            return self.heap.remove(pos);
        }
        assert!(pos < self.len, "case position out of bounds");
        let base = self.inline_ptr();
        // SAFETY: `pos < len`, so `inline[pos]` is live: it is read out, and
        // the live cases after it move down one place over it (`copy`
        // handles the overlap); `len` then stops counting the last place,
        // now a stale copy. Nothing can panic in between.
        unsafe {
            let entry = base.add(pos).read();
            ptr::copy(base.add(pos + 1), base.add(pos), self.len - pos - 1);
            self.len -= 1;
            entry
        }
    }
}

impl<'a> Deref for CaseList<'a> {
    type Target = [Entry<'a>];

    #[inline]
    fn deref(&self) -> &[Entry<'a>] {
        if self.heap.is_empty() {
            // SAFETY: `inline[..len]` holds live cases (module doc); the
            // array is laid out as its elements, from its first byte.
            unsafe { std::slice::from_raw_parts(self.inline.as_ptr().cast::<Entry<'a>>(), self.len) }
        } else {
            &self.heap
        }
    }
}

impl<'a> DerefMut for CaseList<'a> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [Entry<'a>] {
        if self.heap.is_empty() {
            // SAFETY: while `heap` is empty, `inline[..len]` holds
            // initialized entries (`push` writes one before raising `len`);
            // `&mut self` makes the access unique.
            unsafe { std::slice::from_raw_parts_mut(self.inline_ptr(), self.len) }
        } else {
            &mut self.heap
        }
    }
}

impl Drop for CaseList<'_> {
    #[inline]
    fn drop(&mut self) {
        if self.heap.is_empty() {
            let live: *mut [Entry<'_>] = &mut **self;
            // SAFETY: the live inline cases, dropped once: `len` is never
            // read again. (The `heap` drops its own.)
            unsafe { ptr::drop_in_place(live) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::RecvCase;
    use super::*;

    #[test]
    fn cases_stay_in_order_through_spilling_and_removal() {
        let chans: Vec<_> = (0..7).map(|_| crate::unbounded::<u8>()).collect();
        let mut list = CaseList::new();
        for (i, (_, r)) in chans.iter().enumerate() {
            list.push(i, RecvCase::new(r));
            assert_eq!(list.iter().map(|(i, _)| *i).collect::<Vec<_>>(), (0..=i).collect::<Vec<_>>());
        }
        assert_eq!(list.remove(2).0, 2);
        assert_eq!(list.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0, 1, 3, 4, 5, 6]);
        let mut small = CaseList::new();
        for (i, (_, r)) in chans.iter().enumerate().take(4) {
            small.push(i, RecvCase::new(r));
        }
        assert_eq!(small.remove(1).0, 1);
        assert_eq!(small.remove(2).0, 3);
        assert_eq!(small.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0, 2]);
    }

    #[test]
    fn every_case_is_dropped_once() {
        // Each case holds a received message until it is dropped.
        let rc = std::rc::Rc::new(());
        let (s, r) = crate::unbounded();
        for n in [0, 3, 4, 5, 9] {
            let mut list = CaseList::new();
            for i in 0..n {
                s.send(rc.clone()).unwrap();
                list.push(i, RecvCase::new(&r));
            }
            for (_, case) in list.iter_mut() {
                assert!(case.try_complete());
            }
            if n > 0 {
                drop(list.remove(0));
            }
            assert_eq!(std::rc::Rc::strong_count(&rc), n.max(1));
            drop(list);
            assert_eq!(std::rc::Rc::strong_count(&rc), 1);
        }
    }
}
