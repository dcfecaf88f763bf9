//! Type-erased values of a type the reader knows from the channel, kept
//! inline when they are small: a select that goes at once should not pay
//! an allocation for the message it hands to `SelectedOperation`, nor for
//! the ring slot a `Select::send` set aside.
//!
//! Whether a value is inline is a function of its type alone (`fits`), so
//! the writer (`Erased::new::<U>`) and the reader (`Erased::into::<U>`,
//! the drop function made for `U`) always agree without a flag.

use std::mem::{align_of, size_of, MaybeUninit};

/// Room for a value inline: three words hold a `Result<T, RecvError>` for
/// any `T` up to a `String` or a `Vec`, and every reservation.
type Buf = MaybeUninit<[usize; 3]>;

/// Whether a `U` is stored inline: small enough, and no more aligned than
/// the buffer.
const fn fits<U>() -> bool {
    size_of::<U>() <= size_of::<Buf>() && align_of::<U>() <= align_of::<Buf>()
}

/// A value of a type the holder knows but does not name: inline when
/// `fits`, else a `Box<U>` whose raw pointer is in the buffer.
pub(crate) struct Erased {
    buf: Buf,
    /// Drops the value in `buf` (`drop_value::<U>`).
    drop_fn: unsafe fn(*mut Buf),
}

impl Erased {
    pub(crate) fn new<U>(value: U) -> Erased {
        let mut buf = Buf::uninit();
        if fits::<U>() {
            // SAFETY: `fits` says `buf` is large and aligned enough for a
            // `U`; it is written once, here.
            unsafe { buf.as_mut_ptr().cast::<U>().write(value) };
        } else {
            // SAFETY: a pointer fits in the three words, which are aligned
            // for it.
            unsafe { buf.as_mut_ptr().cast::<*mut U>().write(Box::into_raw(Box::new(value))) };
        }
        Erased { buf, drop_fn: drop_value::<U> }
    }

    /// Gets the value back.
    ///
    /// # Safety
    /// `U` is the type `new` was called with.
    pub(crate) unsafe fn into<U>(self) -> U {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: per the contract `buf` holds what `new::<U>` wrote there,
        // which is taken once: `this` is never dropped, so `drop_fn` never
        // runs on it.
        unsafe { take::<U>(&this.buf) }
    }
}

/// Moves the value `new::<U>` stored in `buf` out.
///
/// # Safety
/// `buf` holds a value stored by `Erased::new::<U>`, not taken yet; the
/// caller never uses it again.
unsafe fn take<U>(buf: &Buf) -> U {
    if fits::<U>() {
        // SAFETY: inline, per the contract; `read` moves it out.
        unsafe { buf.as_ptr().cast::<U>().read() }
    } else {
        // SAFETY: boxed, per the contract: the pointer of a `Box<U>` that
        // `new` leaked, taken back once.
        *unsafe { Box::from_raw(buf.as_ptr().cast::<*mut U>().read()) }
    }
}

/// Drops the value `Erased::new::<U>` stored in `*buf`.
///
/// # Safety
/// As for `take`.
unsafe fn drop_value<U>(buf: *mut Buf) {
    // SAFETY: the caller's contract is `take`'s.
    drop(unsafe { take::<U>(&*buf) });
}

impl Drop for Erased {
    fn drop(&mut self) {
        // SAFETY: `drop_fn` was made for the type `new` stored, and the
        // value was not taken (`into` never drops its `self`).
        unsafe { (self.drop_fn)(&mut self.buf) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn small_values_are_inline_and_large_ones_boxed() {
        assert!(fits::<Result<usize, ()>>());
        assert!(fits::<String>());
        assert!(!fits::<[u64; 4]>());
    }

    #[test]
    fn values_come_back_and_drop_once() {
        let rc = Rc::new(());
        let small = Erased::new(Some(rc.clone()));
        let big = Erased::new([Some(rc.clone()), Some(rc.clone()), None, Some(rc.clone())]);
        assert_eq!(Rc::strong_count(&rc), 5);
        // SAFETY: `small` was made from an `Option<Rc<()>>`.
        let back = unsafe { small.into::<Option<Rc<()>>>() };
        assert!(back.is_some());
        // SAFETY: `big` was made from an `[Option<Rc<()>>; 4]`.
        let arr = unsafe { big.into::<[Option<Rc<()>>; 4]>() };
        assert_eq!(arr.iter().flatten().count(), 3);
        drop((back, arr));
        assert_eq!(Rc::strong_count(&rc), 1);
        drop(Erased::new(rc.clone()));
        drop(Erased::new([rc.clone(), rc.clone(), rc.clone(), rc.clone()]));
        assert_eq!(Rc::strong_count(&rc), 1);
    }
}
