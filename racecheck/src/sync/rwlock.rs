//! `RwLock`, modelled as Go models `sync.RWMutex` and Miri models RwLock:
//! readers never synchronize with each other; a read-lock acquires what the
//! last writer released; a write-lock acquires the last writer's release
//! joined with the release of every reader since. Read and write locks
//! both feed the lock-order graph (see `lock_order.rs`): with a writer
//! waiting, readers wait too.
//!
//! Under [`explore`](crate::explore()) locking and unlocking are scheduling
//! points, and a thread that cannot take the lock waits in the scheduler,
//! as for `Mutex`.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

use crate::annotate::SyncClock;
use crate::lock_order;
use crate::report::LockKind;

/// A reader-writer lock, as `std::sync::RwLock`.
///
/// ```
/// use racecheck::sync::RwLock;
///
/// let lock = RwLock::new(5);
/// {
///     let a = lock.read().unwrap();
///     let b = lock.read().unwrap();
///     assert_eq!(*a + *b, 10);
/// }
/// *lock.write().unwrap() += 1;
/// assert_eq!(*lock.read().unwrap(), 6);
/// ```
pub struct RwLock<T: ?Sized> {
    /// Set by each write-unlock.
    writer: SyncClock,
    /// Accumulates every read-unlock since the last write-unlock.
    readers: SyncClock,
    inner: std::sync::RwLock<T>,
}

/// Shared access, as `std::sync::RwLockReadGuard`.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized + 'a> {
    // `ManuallyDrop` so that the unlock happens inside our `Drop`, before
    // the scheduler hears of it.
    inner: ManuallyDrop<std::sync::RwLockReadGuard<'a, T>>,
    readers: &'a SyncClock,
}

/// Exclusive access, as `std::sync::RwLockWriteGuard`.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized + 'a> {
    inner: ManuallyDrop<std::sync::RwLockWriteGuard<'a, T>>,
    writer: &'a SyncClock,
    readers: &'a SyncClock,
}

impl<T> RwLock<T> {
    /// A new unlocked lock.
    pub const fn new(value: T) -> RwLock<T> {
        RwLock { writer: SyncClock::new(), readers: SyncClock::new(), inner: std::sync::RwLock::new(value) }
    }

    /// Consumes the lock and returns the value.
    pub fn into_inner(self) -> LockResult<T> {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Blocks until shared access is held; acquires the last writer's
    /// release (and nothing from other readers).
    #[track_caller]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let at = Location::caller();
        let result = if crate::config::enabled() {
            // With detection on, a read that really has to wait tells the
            // deadlock detector, as `Mutex::lock` does.
            crate::explore::point();
            lock_order::before_lock(&self.readers, self.addr(), LockKind::RwLock, at);
            match self.inner.try_read() {
                Ok(guard) => Ok(guard),
                Err(TryLockError::Poisoned(poison)) => Err(poison),
                Err(TryLockError::WouldBlock) => crate::deadlock::blocked_in("rwlock read", at, || {
                    self.contended(|| self.inner.try_read(), || self.inner.read())
                }),
            }
        } else {
            self.inner.read()
        };
        match result {
            Ok(guard) => Ok(self.read_guard(guard, at)),
            Err(poison) => Err(PoisonError::new(self.read_guard(poison.into_inner(), at))),
        }
    }

    /// Takes shared access if possible right now (no lock-order edge: it
    /// never blocks).
    #[track_caller]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        let at = Location::caller();
        if crate::config::enabled() {
            crate::explore::point();
        }
        match self.inner.try_read() {
            Ok(guard) => Ok(self.read_guard(guard, at)),
            Err(TryLockError::Poisoned(poison)) => {
                Err(TryLockError::Poisoned(PoisonError::new(self.read_guard(poison.into_inner(), at))))
            }
            Err(TryLockError::WouldBlock) => Err(TryLockError::WouldBlock),
        }
    }

    /// Blocks until exclusive access is held; acquires the last writer's
    /// release and every reader's release since.
    #[track_caller]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        let at = Location::caller();
        let result = if crate::config::enabled() {
            crate::explore::point();
            lock_order::before_lock(&self.readers, self.addr(), LockKind::RwLock, at);
            match self.inner.try_write() {
                Ok(guard) => Ok(guard),
                Err(TryLockError::Poisoned(poison)) => Err(poison),
                Err(TryLockError::WouldBlock) => crate::deadlock::blocked_in("rwlock write", at, || {
                    self.contended(|| self.inner.try_write(), || self.inner.write())
                }),
            }
        } else {
            self.inner.write()
        };
        match result {
            Ok(guard) => Ok(self.write_guard(guard, at)),
            Err(poison) => Err(PoisonError::new(self.write_guard(poison.into_inner(), at))),
        }
    }

    /// Takes exclusive access if possible right now (no lock-order edge:
    /// it never blocks).
    #[track_caller]
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        let at = Location::caller();
        if crate::config::enabled() {
            crate::explore::point();
        }
        match self.inner.try_write() {
            Ok(guard) => Ok(self.write_guard(guard, at)),
            Err(TryLockError::Poisoned(poison)) => {
                Err(TryLockError::Poisoned(PoisonError::new(self.write_guard(poison.into_inner(), at))))
            }
            Err(TryLockError::WouldBlock) => Err(TryLockError::WouldBlock),
        }
    }

    /// Waits for a lock held elsewhere: in `explore`'s scheduler while the
    /// thread explores (`try_lock` again whenever an unlock wakes it), else
    /// in std's lock (`lock`).
    fn contended<G>(
        &self,
        try_lock: impl Fn() -> TryLockResult<G>,
        lock: impl FnOnce() -> LockResult<G>,
    ) -> LockResult<G> {
        let mut waited = false;
        loop {
            let result = match try_lock() {
                Ok(guard) => Ok(guard),
                Err(TryLockError::Poisoned(poison)) => Err(poison),
                Err(TryLockError::WouldBlock) => {
                    if crate::explore::wait_lock(lock_id(&self.readers)) {
                        waited = true;
                        continue;
                    }
                    lock()
                }
            };
            if waited {
                crate::explore::settle();
            }
            return result;
        }
    }

    #[inline]
    fn read_guard<'a>(
        &'a self,
        inner: std::sync::RwLockReadGuard<'a, T>,
        at: &'static Location<'static>,
    ) -> RwLockReadGuard<'a, T> {
        if crate::config::enabled() {
            self.locked(false, at);
        }
        RwLockReadGuard { inner: ManuallyDrop::new(inner), readers: &self.readers }
    }

    #[inline]
    fn write_guard<'a>(
        &'a self,
        inner: std::sync::RwLockWriteGuard<'a, T>,
        at: &'static Location<'static>,
    ) -> RwLockWriteGuard<'a, T> {
        if crate::config::enabled() {
            self.locked(true, at);
        }
        RwLockWriteGuard { inner: ManuallyDrop::new(inner), writer: &self.writer, readers: &self.readers }
    }

    /// The detector's side of taking the lock: a read-lock acquires the
    /// last writer, a write-lock every reader since as well; then the lock
    /// is held for the lock order, named by its reader clock (which both
    /// guards carry).
    #[cold]
    #[inline(never)]
    fn locked(&self, exclusive: bool, at: &'static Location<'static>) {
        self.writer.acquire();
        if exclusive {
            self.readers.acquire();
        }
        lock_order::acquired(&self.readers, self.addr(), LockKind::RwLock, at);
    }

    fn addr(&self) -> usize {
        self as *const Self as *const () as usize
    }

    /// Whether a writer panicked.
    pub fn is_poisoned(&self) -> bool {
        self.inner.is_poisoned()
    }

    /// A mutable reference through exclusive ownership.
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        self.inner.get_mut()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// The name of a lock for `explore`'s scheduler: the address of its reader
/// clock, which every guard can reach.
fn lock_id(readers: &SyncClock) -> usize {
    readers as *const SyncClock as usize
}

/// Before a read-unlock, with detection on: a scheduling point, then the
/// release, merged, not replaced: a later writer must see every reader.
/// (The unlock helpers take the clocks, not the guard, so that the guard
/// stays in registers on the path with detection off.)
#[cold]
#[inline(never)]
fn before_read_unlock(readers: &SyncClock) {
    crate::explore::point();
    lock_order::released(readers);
    readers.release_merge();
}

/// Before a write-unlock, with detection on: a scheduling point, then the
/// release. The writer acquired every earlier reader, so its own release
/// covers them; the reader clock can start afresh.
#[cold]
#[inline(never)]
fn before_write_unlock(writer: &SyncClock, readers: &SyncClock) {
    crate::explore::point();
    lock_order::released(readers);
    writer.release();
    readers.reset();
}

/// After an unlock, with detection on: the threads `explore` keeps waiting
/// for the lock may try again.
#[cold]
#[inline(never)]
fn after_unlock(readers: &SyncClock) {
    crate::explore::unlocked(lock_id(readers));
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        let on = crate::config::enabled();
        if on {
            before_read_unlock(self.readers);
        }
        // SAFETY: this is the guard's drop; `inner` is not used afterwards.
        unsafe { ManuallyDrop::drop(&mut self.inner) }
        if on {
            after_unlock(self.readers);
        }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        let on = crate::config::enabled();
        if on {
            before_write_unlock(self.writer, self.readers);
        }
        // SAFETY: this is the guard's drop; `inner` is not used afterwards.
        unsafe { ManuallyDrop::drop(&mut self.inner) }
        if on {
            after_unlock(self.readers);
        }
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
