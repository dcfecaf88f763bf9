//! `Arc` whose drops are ordered: every clone's drop happens before the drop
//! of the last one, which destroys the value.
//!
//! std's `Arc` makes this true with a release decrement and an acquire fence
//! in the last drop; ThreadSanitizer, which ignores fences, reports the
//! destruction as racing with the other threads' last uses (the classic
//! false positive). Here each drop first releases into a clock kept next to
//! the value, and the destruction acquires it. The same holds for
//! `try_unwrap`, `into_inner` and `get_mut`, which succeed only when the
//! caller holds the last reference.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr;

use crate::annotate::SyncClock;

/// A thread-safe reference-counted pointer, as `std::sync::Arc`.
///
/// ```
/// use racecheck::cell::RaceCell;
/// use racecheck::sync::Arc;
///
/// let shared = Arc::new(RaceCell::new(String::from("hi")));
/// let clone = shared.clone();
/// racecheck::thread::spawn(move || clone.with(|s| s.len())).join().unwrap();
/// // the thread's read is ordered before this drop (a write) by the Arc
/// drop(shared);
/// ```
///
/// Unsized contents (`Arc<[T]>`, `Arc<dyn Trait>`) are not supported: the
/// coercion std relies on is unstable.
pub struct Arc<T: ?Sized> {
    inner: std::sync::Arc<Inner<T>>,
}

struct Inner<T: ?Sized> {
    drops: SyncClock,
    value: ManuallyDrop<T>,
}

impl<T: ?Sized> Drop for Inner<T> {
    fn drop(&mut self) {
        // Runs in the thread that dropped the last reference, after std's
        // acquire fence: every other drop released into `drops` before its
        // decrement, so acquiring here orders them all before the
        // destruction below.
        self.drops.acquire();
        // SAFETY: this is the only place the value is dropped, and `Inner`
        // is being dropped, so the value is never used again.
        unsafe { ManuallyDrop::drop(&mut self.value) }
    }
}

impl<T> Arc<T> {
    /// Puts `value` behind a new reference count.
    pub fn new(value: T) -> Arc<T> {
        Arc { inner: std::sync::Arc::new(Inner { drops: SyncClock::new(), value: ManuallyDrop::new(value) }) }
    }

    /// Takes the value out if `this` is the only reference; every other
    /// reference's drop is then ordered before the caller's future.
    pub fn try_unwrap(this: Arc<T>) -> Result<T, Arc<T>> {
        let this = ManuallyDrop::new(this);
        // SAFETY: `this` is in a `ManuallyDrop` and never used again, so the
        // std `Arc` is moved out exactly once and its count is unchanged.
        let inner = unsafe { ptr::read(&this.inner) };
        match std::sync::Arc::try_unwrap(inner) {
            Ok(inner) => {
                inner.drops.acquire();
                let mut inner = ManuallyDrop::new(inner);
                // SAFETY: `inner` is never dropped (it is in a
                // `ManuallyDrop`), so the value is taken out exactly once and
                // the clock is dropped exactly once, by hand.
                unsafe {
                    let value = ManuallyDrop::take(&mut inner.value);
                    ptr::drop_in_place(&mut inner.drops);
                    Ok(value)
                }
            }
            Err(inner) => Err(Arc { inner }),
        }
    }

    /// The value if `this` is the last reference, else `None` (the reference
    /// is dropped either way).
    pub fn into_inner(this: Arc<T>) -> Option<T> {
        // The release of a dropped non-last reference is made by its drop.
        Arc::try_unwrap(this).ok()
    }
}

impl<T: ?Sized> Arc<T> {
    /// A weak reference to the same value.
    pub fn downgrade(this: &Arc<T>) -> Weak<T> {
        Weak { inner: std::sync::Arc::downgrade(&this.inner) }
    }

    /// The number of weak references.
    pub fn weak_count(this: &Arc<T>) -> usize {
        std::sync::Arc::weak_count(&this.inner)
    }

    /// The number of strong references.
    pub fn strong_count(this: &Arc<T>) -> usize {
        std::sync::Arc::strong_count(&this.inner)
    }

    /// Whether both point to the same allocation.
    pub fn ptr_eq(this: &Arc<T>, other: &Arc<T>) -> bool {
        std::sync::Arc::ptr_eq(&this.inner, &other.inner)
    }

    /// A pointer to the value.
    pub fn as_ptr(this: &Arc<T>) -> *const T {
        &*this.inner.value as *const T
    }

    /// A mutable reference if `this` is the only reference; every other
    /// reference's drop is then ordered before the caller's future.
    pub fn get_mut(this: &mut Arc<T>) -> Option<&mut T> {
        let inner = std::sync::Arc::get_mut(&mut this.inner)?;
        inner.drops.acquire();
        Some(&mut inner.value)
    }
}

impl<T: Clone> Arc<T> {
    /// A mutable reference, cloning the value first if it is shared.
    pub fn make_mut(this: &mut Arc<T>) -> &mut T {
        if std::sync::Arc::get_mut(&mut this.inner).is_none() {
            *this = Arc::new((**this).clone());
        }
        match Arc::get_mut(this) {
            Some(value) => value,
            None => unreachable!("a fresh Arc has one reference"),
        }
    }
}

impl<T: ?Sized> Drop for Arc<T> {
    #[inline]
    fn drop(&mut self) {
        // Before the decrement (when the field is dropped after this body):
        // whoever destroys the value acquires this.
        self.inner.drops.release_merge();
    }
}

impl<T: ?Sized> Clone for Arc<T> {
    fn clone(&self) -> Arc<T> {
        Arc { inner: self.inner.clone() }
    }
}

impl<T: ?Sized> Deref for Arc<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.inner.value
    }
}

impl<T: ?Sized> AsRef<T> for Arc<T> {
    fn as_ref(&self) -> &T {
        self
    }
}

impl<T: ?Sized> Borrow<T> for Arc<T> {
    fn borrow(&self) -> &T {
        self
    }
}

impl<T: Default> Default for Arc<T> {
    fn default() -> Self {
        Arc::new(T::default())
    }
}

impl<T> From<T> for Arc<T> {
    fn from(value: T) -> Self {
        Arc::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Arc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for Arc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> fmt::Pointer for Arc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&Arc::as_ptr(self), f)
    }
}

impl<T: ?Sized + PartialEq> PartialEq for Arc<T> {
    fn eq(&self, other: &Arc<T>) -> bool {
        **self == **other
    }
}

impl<T: ?Sized + Eq> Eq for Arc<T> {}

impl<T: ?Sized + PartialOrd> PartialOrd for Arc<T> {
    fn partial_cmp(&self, other: &Arc<T>) -> Option<Ordering> {
        (**self).partial_cmp(&**other)
    }
}

impl<T: ?Sized + Ord> Ord for Arc<T> {
    fn cmp(&self, other: &Arc<T>) -> Ordering {
        (**self).cmp(&**other)
    }
}

impl<T: ?Sized + Hash> Hash for Arc<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

/// A non-owning reference, as `std::sync::Weak`: it keeps the allocation,
/// not the value, alive, and takes no part in the drop ordering (only
/// strong references' drops release).
pub struct Weak<T: ?Sized> {
    inner: std::sync::Weak<Inner<T>>,
}

impl<T> Weak<T> {
    /// A weak reference to nothing; `upgrade` always fails.
    pub fn new() -> Weak<T> {
        Weak { inner: std::sync::Weak::new() }
    }
}

impl<T: ?Sized> Weak<T> {
    /// A strong reference, if the value is still alive.
    pub fn upgrade(&self) -> Option<Arc<T>> {
        self.inner.upgrade().map(|inner| Arc { inner })
    }

    /// The number of strong references to the value.
    pub fn strong_count(&self) -> usize {
        self.inner.strong_count()
    }

    /// The number of weak references to the value (zero once no strong
    /// reference is left).
    pub fn weak_count(&self) -> usize {
        self.inner.weak_count()
    }

    /// Whether both point to the same allocation.
    pub fn ptr_eq(&self, other: &Weak<T>) -> bool {
        self.inner.ptr_eq(&other.inner)
    }
}

impl<T: ?Sized> Clone for Weak<T> {
    fn clone(&self) -> Weak<T> {
        Weak { inner: self.inner.clone() }
    }
}

impl<T> Default for Weak<T> {
    fn default() -> Self {
        Weak::new()
    }
}

impl<T: ?Sized> fmt::Debug for Weak<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(Weak)")
    }
}
