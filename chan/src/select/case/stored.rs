//! A select's case, stored inline in the select's list of cases when it is
//! small, boxed otherwise: a select built afresh for each operation (what
//! every loop over `select!` does) should not pay one allocation per case.
//!
//! An inline case has no fixed address: the list may grow, and the
//! `Select` may move, between calls. That is fine for what a case keeps
//! while listed with a channel: its operation id (`Case::oper`, the address
//! of its anchor) is only taken and used within one call of `Select::run`,
//! which holds the `Select` mutably borrowed, so nothing moves meanwhile;
//! the packet or sudog a peer writes to is boxed by the case itself.

use std::mem::{align_of, size_of, MaybeUninit};
use std::ops::{Deref, DerefMut};
use std::ptr;

use super::Case;

/// Room for a case inline: eight words hold every case of a message up to
/// a word, and the receive cases of messages up to three words.
type Room = MaybeUninit<[usize; 8]>;

/// Whether a `C` is stored in the room itself (else the room holds a
/// `Box<C>`).
const fn fits<C>() -> bool {
    size_of::<C>() <= size_of::<Room>() && align_of::<C>() <= align_of::<Room>()
}

/// One case of a select, as `dyn Case`: a `C` in `room`, or a `Box<C>` in
/// `room` when the `C` does not fit. One shape for both, so that using or
/// dropping a case is one direct call with no branch.
pub(crate) struct StoredCase<'a> {
    room: Room,
    /// The `dyn Case` of the case in `room` (`inline_dyn::<C>` or
    /// `boxed_dyn::<C>`): the case's vtable, applied to wherever `room`
    /// is now.
    as_dyn: unsafe fn(*mut Room) -> *mut (dyn Case<'a> + 'a),
    /// Drops the case in `room` (`drop_inline::<C>` or `drop_boxed::<C>`):
    /// one direct call, where `as_dyn` and the vtable would take two.
    drop: unsafe fn(*mut Room),
}

/// # Safety
/// `room` holds a `C` (that `fits`), live for as long as the result is used.
unsafe fn inline_dyn<'a, C: Case<'a> + 'a>(room: *mut Room) -> *mut (dyn Case<'a> + 'a) {
    room.cast::<C>()
}

/// # Safety
/// `room` holds a `Box<C>`'s raw pointer, not yet freed.
unsafe fn boxed_dyn<'a, C: Case<'a> + 'a>(room: *mut Room) -> *mut (dyn Case<'a> + 'a) {
    // SAFETY: per the contract, the room starts with the pointer.
    unsafe { room.cast::<*mut C>().read() }
}

/// # Safety
/// `room` holds a live `C`, never used again.
unsafe fn drop_inline<C>(room: *mut Room) {
    // SAFETY: per the contract.
    unsafe { std::ptr::drop_in_place(room.cast::<C>()) }
}

/// # Safety
/// `room` holds a `Box<C>`'s raw pointer, not yet freed, never used again.
unsafe fn drop_boxed<C>(room: *mut Room) {
    // SAFETY: per the contract, a pointer from `Box::into_raw`, freed once.
    drop(unsafe { Box::from_raw(room.cast::<*mut C>().read()) })
}

impl<'a> StoredCase<'a> {
    #[cfg(test)]
    pub(crate) fn new<C: Case<'a> + 'a>(case: C) -> StoredCase<'a> {
        let mut out = MaybeUninit::uninit();
        // SAFETY: `out` is valid for writes, and `write` fills every field.
        unsafe {
            StoredCase::write(out.as_mut_ptr(), case);
            out.assume_init()
        }
    }

    /// Stores `case` at `dst`, field by field: building the `StoredCase`
    /// first and moving it there copied its ten words once more.
    ///
    /// # Safety
    /// `dst` is valid for writes and aligned; what it held is overwritten,
    /// not dropped.
    #[inline]
    pub(crate) unsafe fn write<C: Case<'a> + 'a>(dst: *mut StoredCase<'a>, case: C) {
        // SAFETY: in bounds of `*dst` (contract); the room is large and
        // aligned enough for a `C` when `fits`, and always for a pointer.
        unsafe {
            let room = ptr::addr_of_mut!((*dst).room);
            if fits::<C>() {
                room.cast::<C>().write(case);
                ptr::addr_of_mut!((*dst).as_dyn).write(inline_dyn::<C>);
                ptr::addr_of_mut!((*dst).drop).write(drop_inline::<C>);
            } else {
                room.cast::<*mut C>().write(Box::into_raw(Box::new(case)));
                ptr::addr_of_mut!((*dst).as_dyn).write(boxed_dyn::<C>);
                ptr::addr_of_mut!((*dst).drop).write(drop_boxed::<C>);
            }
        }
    }
}

impl<'a> Deref for StoredCase<'a> {
    type Target = dyn Case<'a> + 'a;

    #[inline]
    fn deref(&self) -> &Self::Target {
        // SAFETY: `room` holds what `new` stored for `as_dyn`, live until
        // `Drop`, which `&self` outlasts; the pointer is only read through,
        // as `&self` allows.
        unsafe { &*(self.as_dyn)(&self.room as *const Room as *mut Room) }
    }
}

impl<'a> DerefMut for StoredCase<'a> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Self::Target {
        // SAFETY: `room` holds what `new` stored for `as_dyn`, live until
        // `Drop`, which `&mut self` outlasts; `&mut self` makes the access
        // unique.
        unsafe { &mut *(self.as_dyn)(&mut self.room) }
    }
}

impl Drop for StoredCase<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: `room` holds what `new` stored for `drop`, dropped once:
        // nothing uses `room` after `drop`.
        unsafe { (self.drop)(&mut self.room) }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ReadySendCase, RecvCase};
    use super::*;

    #[test]
    fn the_cases_of_small_messages_are_inline() {
        assert!(fits::<RecvCase<'_, usize>>());
        assert!(fits::<ReadySendCase<'_, usize>>());
        assert!(fits::<ReadySendCase<'_, [u64; 16]>>());
        assert!(fits::<RecvCase<'_, String>>());
        assert!(!fits::<RecvCase<'_, [u64; 16]>>());
    }

    #[test]
    fn a_received_message_left_in_a_case_is_dropped_once_inline_or_boxed() {
        let rc = std::rc::Rc::new(());
        let (s, r) = crate::bounded(1);
        s.send(rc.clone()).unwrap();
        let mut inline = StoredCase::new(RecvCase::new(&r));
        assert!(inline.try_complete());
        assert_eq!(std::rc::Rc::strong_count(&rc), 2);
        drop(inline);
        assert_eq!(std::rc::Rc::strong_count(&rc), 1);
        // Too big for the room: boxed, and used through the same `dyn Case`.
        let (big_s, big_r) = crate::bounded(1);
        big_s.send([rc.clone(), rc.clone(), rc.clone(), rc.clone()]).unwrap();
        let mut boxed = StoredCase::new(RecvCase::new(&big_r));
        assert!(boxed.try_complete());
        assert_eq!(std::rc::Rc::strong_count(&rc), 5);
        drop(boxed);
        assert_eq!(std::rc::Rc::strong_count(&rc), 1);
        assert!(big_r.is_empty());
    }
}
