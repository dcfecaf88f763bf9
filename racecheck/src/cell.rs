//! Instrumented shared variables: [`RaceCell`], a plain variable as Go has
//! them, and [`UnsafeCell`], loom's checked `UnsafeCell` for one's own unsafe
//! code.
//!
//! Each keeps its FastTrack state inline, next to the value, so a check
//! needs no global lookup.

use std::fmt;
use std::mem::ManuallyDrop;
use std::panic::Location;
use std::sync::{Mutex, PoisonError};

use crate::config::enabled;
use crate::report::AccessKind;
use crate::runtime::with_current;
use crate::shadow::Shadow;

/// A value and its detector state, under one lock.
struct Guarded<T> {
    shadow: Shadow,
    value: T,
}

/// A shared variable whose every access is checked for data races.
///
/// This is the variable of a Go program: `get` and `with` are reads, `set`
/// and `with_mut` are writes, and two of them race when at least one is a
/// write and no happens-before edge (a join, a lock, an atomic
/// release/acquire pair, ...) orders them. Dropping the cell counts as a
/// write, as freeing memory does.
///
/// It is safe Rust: every access holds a small lock around the value, so a
/// racy program is reported (when detection is on) but never undefined
/// behaviour. That lock is invisible to the detector: it creates no
/// happens-before edge. Calling back into the same cell from inside `with`
/// or `with_mut` deadlocks or panics, as re-locking a `Mutex` does.
///
/// ```
/// use racecheck::cell::RaceCell;
/// use racecheck::thread;
///
/// let counter = RaceCell::new(0);
/// thread::scope(|s| {
///     s.spawn(|| counter.set(counter.get() + 1));
/// });
/// // The scope's implicit join orders the thread's write before this read.
/// assert_eq!(counter.get(), 1);
/// ```
pub struct RaceCell<T> {
    inner: ManuallyDrop<Mutex<Guarded<T>>>,
}

impl<T> RaceCell<T> {
    /// A new variable holding `value`. Creating it is not an access.
    pub const fn new(value: T) -> RaceCell<T> {
        RaceCell { inner: ManuallyDrop::new(Mutex::new(Guarded { shadow: Shadow::new(), value })) }
    }

    fn addr(&self) -> usize {
        self as *const Self as usize
    }

    /// Reads the value (a read access).
    #[track_caller]
    pub fn get(&self) -> T
    where
        T: Copy,
    {
        self.with(|v| *v)
    }

    /// Overwrites the value (a write access).
    #[track_caller]
    pub fn set(&self, value: T) {
        self.with_mut(|v| *v = value);
    }

    /// Runs `f` on a shared reference to the value (a read access).
    #[track_caller]
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        if enabled() {
            return self.with_checked(f, Location::caller());
        }
        f(&self.inner.lock().unwrap_or_else(PoisonError::into_inner).value)
    }

    /// Runs `f` on an exclusive reference to the value (a write access).
    #[track_caller]
    pub fn with_mut<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        if enabled() {
            return self.with_mut_checked(f, Location::caller());
        }
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner).value)
    }

    /// `with` with detection on: a scheduling point (before the cell's
    /// lock: the thread may wait there for its turn), then the check.
    #[cold]
    #[inline(never)]
    fn with_checked<R>(&self, f: impl FnOnce(&T) -> R, location: &'static Location<'static>) -> R {
        crate::explore::point();
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        check_read(&mut guard.shadow, self.addr(), location);
        f(&guard.value)
    }

    /// `with_mut` with detection on.
    #[cold]
    #[inline(never)]
    fn with_mut_checked<R>(&self, f: impl FnOnce(&mut T) -> R, location: &'static Location<'static>) -> R {
        crate::explore::point();
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        check_write(&mut guard.shadow, self.addr(), AccessKind::Write, location);
        f(&mut guard.value)
    }

    /// A mutable reference through exclusive ownership: no other thread can
    /// hold the cell, so this is not checked.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner.get_mut().unwrap_or_else(PoisonError::into_inner).value
    }

    /// Takes the value out (a write access: the variable's life ends here).
    #[track_caller]
    pub fn into_inner(self) -> T {
        let location = Location::caller();
        let addr = self.addr();
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used again and is not dropped (it is in a
        // `ManuallyDrop`), so taking the lock out of it moves it exactly
        // once.
        let lock = unsafe { ManuallyDrop::take(&mut this.inner) };
        let mut guarded = lock.into_inner().unwrap_or_else(PoisonError::into_inner);
        if enabled() {
            check_write(&mut guarded.shadow, addr, AccessKind::Write, location);
        }
        guarded.value
    }
}

impl<T> Drop for RaceCell<T> {
    fn drop(&mut self) {
        let addr = self.addr();
        // SAFETY: this is the cell's drop; `inner` is never touched again.
        let lock = unsafe { ManuallyDrop::take(&mut self.inner) };
        let mut guarded = lock.into_inner().unwrap_or_else(PoisonError::into_inner);
        if enabled() {
            check_write(&mut guarded.shadow, addr, AccessKind::Drop, Location::caller());
        }
    }
}

impl<T: Default> Default for RaceCell<T> {
    fn default() -> Self {
        RaceCell::new(T::default())
    }
}

impl<T> From<T> for RaceCell<T> {
    fn from(value: T) -> Self {
        RaceCell::new(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for RaceCell<T> {
    /// Formats the value; this is a read access.
    #[track_caller]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with(|v| f.debug_tuple("RaceCell").field(v).finish())
    }
}

#[cold]
#[inline(never)]
fn check_read(shadow: &mut Shadow, addr: usize, location: &'static Location<'static>) {
    with_current(|t| shadow.read(t, addr, location));
}

#[cold]
#[inline(never)]
fn check_write(shadow: &mut Shadow, addr: usize, kind: AccessKind, location: &'static Location<'static>) {
    with_current(|t| shadow.write(t, addr, kind, location));
}

/// loom's checked `UnsafeCell`: the raw-pointer API of
/// `loom::cell::UnsafeCell`, with every `with` checked as a read and every
/// `with_mut` as a write.
///
/// Use it inside your own synchronization primitives to have the detector
/// tell you when two threads touch the contents without a happens-before
/// edge between them. As with std's `UnsafeCell`, the type is not `Sync`:
/// you assert with your own `unsafe impl Sync` that your protocol makes
/// sharing sound, and racecheck checks the assertion.
///
/// ```
/// use racecheck::cell::UnsafeCell;
///
/// let cell = UnsafeCell::new(5);
/// // SAFETY: no other reference to the contents exists.
/// cell.with_mut(|p| unsafe { *p += 1 });
/// assert_eq!(cell.with(|p| unsafe { *p }), 6);
/// ```
pub struct UnsafeCell<T: ?Sized> {
    shadow: Mutex<Shadow>,
    value: std::cell::UnsafeCell<T>,
}

impl<T> UnsafeCell<T> {
    /// Wraps `value`. Creating the cell is not an access.
    pub const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell { shadow: Mutex::new(Shadow::new()), value: std::cell::UnsafeCell::new(value) }
    }

    /// Unwraps the value (ownership proves nobody else can race).
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> UnsafeCell<T> {
    fn addr(&self) -> usize {
        self.value.get() as *const u8 as usize
    }

    /// Runs `f` with a const pointer to the contents; checked as a read.
    #[track_caller]
    pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        if enabled() {
            self.check(AccessKind::Read, Location::caller());
        }
        f(self.value.get())
    }

    /// Runs `f` with a mutable pointer to the contents; checked as a write.
    #[track_caller]
    pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        if enabled() {
            self.check(AccessKind::Write, Location::caller());
        }
        f(self.value.get())
    }

    /// The detector's side of an access, kept out of line so that the
    /// fast path (detection off) is the flag test and the call to `f`.
    #[cold]
    #[inline(never)]
    fn check(&self, kind: AccessKind, location: &'static Location<'static>) {
        crate::explore::point();
        let mut shadow = self.shadow.lock().unwrap_or_else(PoisonError::into_inner);
        let addr = self.addr();
        with_current(|t| match kind {
            AccessKind::Read => shadow.read(t, addr, location),
            _ => shadow.write(t, addr, kind, location),
        });
    }

    /// An exclusive reference through exclusive ownership (std's
    /// `UnsafeCell::get_mut`); not checked, since `&mut self` proves no
    /// other thread can reach the cell.
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

impl<T: Default> Default for UnsafeCell<T> {
    fn default() -> Self {
        UnsafeCell::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for UnsafeCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnsafeCell").finish_non_exhaustive()
    }
}
