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

use std::mem::{align_of, size_of, ManuallyDrop, MaybeUninit};
use std::ops::{Deref, DerefMut};

use super::case::Case;

/// Room for a case inline: eight words hold every case of a message up to
/// a word, and the receive cases of messages up to three words.
type Room = MaybeUninit<[usize; 8]>;

/// One case of a select: `dyn Case`, inline or boxed.
pub(crate) enum StoredCase<'a> {
    Inline {
        room: Room,
        /// The `dyn Case` of the case in `room` (`as_dyn::<C>`): the case's
        /// vtable, applied to wherever `room` is now.
        as_dyn: fn(*mut Room) -> *mut (dyn Case<'a> + 'a),
        /// Drops the case in `room` (`drop_case::<C>`): one direct call,
        /// where going through `as_dyn` and the vtable takes two.
        drop: unsafe fn(*mut Room),
    },
    /// Dropped by hand in `Drop`, out of line, so that dropping a list of
    /// inline cases is a loop of direct calls with nothing else inlined.
    Boxed(ManuallyDrop<Box<dyn Case<'a> + 'a>>),
}

/// The `dyn Case` view of a `C` at `room` (using it needs a live `C` there).
fn as_dyn<'a, C: Case<'a> + 'a>(room: *mut Room) -> *mut (dyn Case<'a> + 'a) {
    room.cast::<C>()
}

/// Drops the `C` at `room`.
///
/// # Safety
/// `room` holds a live `C`, never used again.
unsafe fn drop_case<C>(room: *mut Room) {
    // SAFETY: per the contract.
    unsafe { std::ptr::drop_in_place(room.cast::<C>()) }
}

impl<'a> StoredCase<'a> {
    pub(crate) fn new<C: Case<'a> + 'a>(case: C) -> StoredCase<'a> {
        if size_of::<C>() <= size_of::<Room>() && align_of::<C>() <= align_of::<Room>() {
            let mut room = Room::uninit();
            // SAFETY: `room` is large and aligned enough for a `C` (checked
            // just above), and written once, here.
            unsafe { room.as_mut_ptr().cast::<C>().write(case) };
            StoredCase::Inline { room, as_dyn: as_dyn::<C>, drop: drop_case::<C> }
        } else {
            StoredCase::Boxed(ManuallyDrop::new(Box::new(case)))
        }
    }
}

impl<'a> Deref for StoredCase<'a> {
    type Target = dyn Case<'a> + 'a;

    fn deref(&self) -> &Self::Target {
        match self {
            // SAFETY: an `Inline` holds in `room` the live case `as_dyn` was
            // made for (written by `new`, dropped only by `Drop`); the
            // pointer is only read through, as `&self` allows.
            StoredCase::Inline { room, as_dyn, .. } => unsafe { &*as_dyn(room as *const Room as *mut Room) },
            StoredCase::Boxed(case) => &***case,
        }
    }
}

impl<'a> DerefMut for StoredCase<'a> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            // SAFETY: as in `deref`, and `&mut self` makes the access unique.
            StoredCase::Inline { room, as_dyn, .. } => unsafe { &mut *as_dyn(room) },
            StoredCase::Boxed(case) => &mut ***case,
        }
    }
}

impl Drop for StoredCase<'_> {
    #[inline]
    fn drop(&mut self) {
        match self {
            // SAFETY: `room` holds the live case `drop` was made for
            // (written by `new`), dropped once: nothing uses `room` after
            // `drop`.
            StoredCase::Inline { room, drop, .. } => unsafe { drop(room) },
            StoredCase::Boxed(case) => drop_boxed(case),
        }
    }
}

#[cold]
#[inline(never)]
fn drop_boxed(case: &mut ManuallyDrop<Box<dyn Case<'_> + '_>>) {
    // SAFETY: called once, from `StoredCase::drop`; nothing uses the box
    // after.
    unsafe { ManuallyDrop::drop(case) }
}

#[cfg(test)]
mod tests {
    use super::super::case::{ReadySendCase, RecvCase, SendCase};
    use super::*;
    use crate::{Receiver, Sender};

    #[test]
    fn the_cases_of_small_messages_are_inline() {
        fn inline(case: &StoredCase<'_>) -> bool {
            matches!(case, StoredCase::Inline { .. })
        }
        let (s, r): (Sender<usize>, Receiver<usize>) = crate::bounded(1);
        assert!(inline(&StoredCase::new(RecvCase::new(&r))));
        assert!(inline(&StoredCase::new(ReadySendCase::new(&s))));
        assert!(inline(&StoredCase::new(SendCase::new(&s, 7))));
        let (big_s, _big_r) = crate::bounded::<[u64; 16]>(1);
        assert!(!inline(&StoredCase::new(SendCase::new(&big_s, [0; 16]))));
    }

    #[test]
    fn an_unselected_send_case_drops_its_message_once_inline_or_boxed() {
        let rc = std::rc::Rc::new(());
        let (s, _r) = crate::bounded(1);
        drop(StoredCase::new(SendCase::new(&s, rc.clone())));
        assert_eq!(std::rc::Rc::strong_count(&rc), 1);
        // Too big for the room: boxed, and dropped out of line.
        let (big_s, _big_r) = crate::bounded(1);
        let boxed = StoredCase::new(SendCase::new(&big_s, [rc.clone(), rc.clone(), rc.clone(), rc.clone()]));
        assert!(matches!(boxed, StoredCase::Boxed(_)));
        assert_eq!(std::rc::Rc::strong_count(&rc), 5);
        drop(boxed);
        assert_eq!(std::rc::Rc::strong_count(&rc), 1);
    }
}
