//! `Mutex`: an unlock is a release, the next lock an acquire (Go's model of
//! `sync.Mutex`). Each lock also feeds the lock-order graph that reports
//! potential deadlocks (see `lock_order.rs`).
//!
//! Under [`explore`](crate::explore()) a lock and an unlock are scheduling
//! points, and a thread that finds the lock taken waits in the scheduler
//! (so that the holder gets to run) instead of in std's lock; an unlock
//! makes the waiters runnable.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

use crate::annotate::SyncClock;
use crate::lock_order::{self, HeldLock};
use crate::report::LockKind;

/// A mutual exclusion lock, as `std::sync::Mutex`, whose unlock
/// happens before the next lock.
///
/// ```
/// use racecheck::cell::RaceCell;
/// use racecheck::sync::{Arc, Mutex};
///
/// let lock = Arc::new(Mutex::new(()));
/// let data = Arc::new(RaceCell::new(0));
/// let handles: Vec<_> = (0..2)
///     .map(|_| {
///         let (lock, data) = (lock.clone(), data.clone());
///         racecheck::thread::spawn(move || {
///             let _guard = lock.lock().unwrap();
///             data.set(data.get() + 1); // ordered by the lock: no race
///         })
///     })
///     .collect();
/// for h in handles {
///     h.join().unwrap();
/// }
/// assert_eq!(data.get(), 2);
/// ```
pub struct Mutex<T: ?Sized> {
    clock: SyncClock,
    inner: std::sync::Mutex<T>,
}

/// The lock held, as `std::sync::MutexGuard`; dropping it releases.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized + 'a> {
    // `ManuallyDrop` so that the release below runs while the lock is still
    // held, and so that `Condvar::wait` can take the std guard out.
    inner: ManuallyDrop<std::sync::MutexGuard<'a, T>>,
    lock: &'a Mutex<T>,
}

impl<T> Mutex<T> {
    /// A new unlocked mutex.
    pub const fn new(value: T) -> Mutex<T> {
        Mutex { clock: SyncClock::new(), inner: std::sync::Mutex::new(value) }
    }

    /// Consumes the mutex and returns the value.
    pub fn into_inner(self) -> LockResult<T> {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Blocks until the lock is held; acquires what the last unlock
    /// released.
    #[track_caller]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        if crate::config::enabled() {
            return self.lock_watched();
        }
        // Detection is off, and stays off: the guard needs no hook.
        match self.inner.lock() {
            Ok(guard) => Ok(self.unwatched_guard(guard)),
            Err(poison) => Err(PoisonError::new(self.unwatched_guard(poison.into_inner()))),
        }
    }

    /// `lock` with detection on: a scheduling point, the lock order, and
    /// a wait that the deadlock detector (and `explore`'s scheduler) hears
    /// about when the lock is taken.
    #[cold]
    #[track_caller]
    fn lock_watched(&self) -> LockResult<MutexGuard<'_, T>> {
        let at = Location::caller();
        crate::explore::point();
        lock_order::before_lock(&self.clock, self.addr(), LockKind::Mutex, at);
        let result = match self.inner.try_lock() {
            Ok(guard) => Ok(guard),
            Err(TryLockError::Poisoned(poison)) => Err(poison),
            Err(TryLockError::WouldBlock) => crate::deadlock::blocked_in("mutex lock", at, || self.lock_contended()),
        };
        match result {
            Ok(guard) => Ok(self.guard(guard, at)),
            Err(poison) => Err(PoisonError::new(self.guard(poison.into_inner(), at))),
        }
    }

    /// Waits for a lock another thread holds: in `explore`'s scheduler
    /// while the thread explores (trying again whenever an unlock wakes it),
    /// else in std's lock.
    fn lock_contended(&self) -> LockResult<std::sync::MutexGuard<'_, T>> {
        let mut waited = false;
        loop {
            let result = match self.inner.try_lock() {
                Ok(guard) => Ok(guard),
                Err(TryLockError::Poisoned(poison)) => Err(poison),
                Err(TryLockError::WouldBlock) => {
                    if crate::explore::wait_lock(self.id()) {
                        waited = true;
                        continue;
                    }
                    self.inner.lock()
                }
            };
            if waited {
                crate::explore::settle();
            }
            return result;
        }
    }

    /// The name of this lock for `explore`'s scheduler.
    fn id(&self) -> usize {
        &self.clock as *const SyncClock as usize
    }

    /// Takes the lock if it is free right now. It never blocks, so it adds
    /// nothing to the lock order, but the lock it takes is held like any
    /// other.
    #[track_caller]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        let at = Location::caller();
        if crate::config::enabled() {
            crate::explore::point();
        }
        match self.inner.try_lock() {
            Ok(guard) => Ok(self.guard(guard, at)),
            Err(TryLockError::Poisoned(poison)) => {
                Err(TryLockError::Poisoned(PoisonError::new(self.guard(poison.into_inner(), at))))
            }
            Err(TryLockError::WouldBlock) => Err(TryLockError::WouldBlock),
        }
    }

    #[inline]
    fn unwatched_guard<'a>(&'a self, inner: std::sync::MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        MutexGuard { inner: ManuallyDrop::new(inner), lock: self }
    }

    #[inline]
    fn guard<'a>(&'a self, inner: std::sync::MutexGuard<'a, T>, at: &'static Location<'static>) -> MutexGuard<'a, T> {
        if crate::config::enabled() {
            self.locked(at);
        }
        MutexGuard { inner: ManuallyDrop::new(inner), lock: self }
    }

    /// The detector's side of taking the lock: the acquire, and the lock
    /// now held for the lock order.
    #[cold]
    #[inline(never)]
    fn locked(&self, at: &'static Location<'static>) {
        self.clock.acquire();
        lock_order::acquired(&self.clock, self.addr(), LockKind::Mutex, at);
    }

    fn addr(&self) -> usize {
        self as *const Self as *const () as usize
    }

    /// Whether a holder panicked.
    pub fn is_poisoned(&self) -> bool {
        self.inner.is_poisoned()
    }

    /// A mutable reference through exclusive ownership (no locking needed).
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        self.inner.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard holds.
    pub(crate) fn mutex(&self) -> &'a Mutex<T> {
        self.lock
    }

    /// Splits the guard for `Condvar::wait`: releases (the wait unlocks the
    /// mutex) and hands out the std guard, the mutex, and what the lock
    /// order needs to take the lock back.
    pub(crate) fn into_std(self) -> (std::sync::MutexGuard<'a, T>, &'a Mutex<T>, Option<HeldLock>) {
        let held = lock_order::suspend(&self.lock.clock);
        self.lock.clock.release();
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is wrapped in `ManuallyDrop`, so our `Drop` does
        // not run and the std guard is moved out exactly once.
        let inner = unsafe { ManuallyDrop::take(&mut this.inner) };
        (inner, this.lock, held)
    }

    /// Rebuilds the guard after `Condvar::wait` re-locked the mutex at
    /// `at`, with the acquire that re-locking implies.
    pub(crate) fn from_std(
        inner: std::sync::MutexGuard<'a, T>,
        lock: &'a Mutex<T>,
        held: Option<HeldLock>,
        at: &'static Location<'static>,
    ) -> Self {
        lock.clock.acquire();
        lock_order::resume(held, &lock.clock, at);
        MutexGuard { inner: ManuallyDrop::new(inner), lock }
    }
}

/// The unlock with detection on: a scheduling point, the lock no longer
/// held for the lock order, the release, the unlock, and the wake-up of the threads `explore` keeps waiting for the
/// lock. It takes the mutex and the std guard by value, not the racecheck
/// guard: a guard whose address went out of line would live in memory on
/// the path with detection off too, which doubles the cost of an unchecked
/// lock and unlock.
#[cold]
#[inline(never)]
fn unlock_watched<T: ?Sized>(lock: &Mutex<T>, inner: std::sync::MutexGuard<'_, T>) {
    crate::explore::point();
    lock_order::released(&lock.clock);
    lock.clock.release();
    drop(inner);
    crate::explore::unlocked(lock.id());
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        if crate::config::enabled() {
            // SAFETY: this is the guard's drop; `inner` is taken once and
            // not used afterwards.
            let inner = unsafe { ManuallyDrop::take(&mut self.inner) };
            unlock_watched(self.lock, inner);
        } else {
            // SAFETY: this is the guard's drop; `inner` is not used
            // afterwards.
            unsafe { ManuallyDrop::drop(&mut self.inner) }
        }
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
