//! `Condvar`: the mutex edges of waiting (the wait unlocks, the wake-up
//! re-locks) plus an edge from every notify to the wake-ups after it.
//!
//! Go gives `sync.Cond` no edges of its own and relies on the mutex. We add
//! notify → wake because programs do signal without holding the lock, and
//! the woken thread then depends on what the notifier did. A spurious
//! wake-up acquires too: that can hide a race, never invent one.

use std::fmt;
use std::sync::{LockResult, PoisonError, WaitTimeoutResult};
use std::time::Duration;

use super::mutex::MutexGuard;
use std::panic::Location;

use crate::annotate::SyncClock;
use crate::lock_order::HeldLock;

/// A condition variable, as `std::sync::Condvar`, working with
/// [`racecheck::sync::Mutex`](super::Mutex).
///
/// ```
/// use racecheck::sync::{Arc, Condvar, Mutex};
///
/// let pair = Arc::new((Mutex::new(false), Condvar::new()));
/// let pair2 = pair.clone();
/// racecheck::thread::spawn(move || {
///     let (lock, cvar) = &*pair2;
///     *lock.lock().unwrap() = true;
///     cvar.notify_one();
/// });
/// let (lock, cvar) = &*pair;
/// let mut started = lock.lock().unwrap();
/// while !*started {
///     started = cvar.wait(started).unwrap();
/// }
/// ```
#[derive(Default)]
pub struct Condvar {
    notified: SyncClock,
    inner: std::sync::Condvar,
}

impl Condvar {
    /// A new condition variable.
    pub const fn new() -> Condvar {
        Condvar { notified: SyncClock::new(), inner: std::sync::Condvar::new() }
    }

    /// Unlocks, waits for a notification, re-locks.
    #[track_caller]
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        let (inner, clock, held) = guard.into_std();
        let at = std::panic::Location::caller();
        let result = crate::deadlock::blocked_in("condvar wait", at, || self.inner.wait(inner));
        self.notified.acquire();
        map_lock(result, clock, held, at)
    }

    /// Waits while `condition` holds.
    #[track_caller]
    pub fn wait_while<'a, T, F>(&self, mut guard: MutexGuard<'a, T>, mut condition: F) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut *guard) {
            guard = self.wait(guard)?;
        }
        Ok(guard)
    }

    /// As `wait`, giving up after `dur`.
    #[track_caller]
    pub fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        dur: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let (inner, clock, held) = guard.into_std();
        let at = std::panic::Location::caller();
        let result = self.inner.wait_timeout(inner, dur);
        self.notified.acquire();
        match result {
            Ok((inner, timeout)) => Ok((MutexGuard::from_std(inner, clock, held, at), timeout)),
            Err(poison) => {
                let (inner, timeout) = poison.into_inner();
                Err(PoisonError::new((MutexGuard::from_std(inner, clock, held, at), timeout)))
            }
        }
    }

    /// As `wait_while`, giving up after `dur`.
    #[track_caller]
    pub fn wait_timeout_while<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        dur: Duration,
        mut condition: F,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)>
    where
        F: FnMut(&mut T) -> bool,
    {
        let deadline = std::time::Instant::now() + dur;
        loop {
            if !condition(&mut *guard) {
                return Ok((guard, timed_out(false)));
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return Ok((guard, timed_out(true)));
            }
            guard = self.wait_timeout(guard, deadline - now)?.0;
        }
    }

    /// Wakes one waiter; the wake-up is ordered after this call.
    pub fn notify_one(&self) {
        self.notified.release_merge();
        self.inner.notify_one();
    }

    /// Wakes every waiter; each wake-up is ordered after this call.
    pub fn notify_all(&self) {
        self.notified.release_merge();
        self.inner.notify_all();
    }
}

fn map_lock<'a, T>(
    result: LockResult<std::sync::MutexGuard<'a, T>>,
    clock: &'a SyncClock,
    held: Option<HeldLock>,
    at: &'static Location<'static>,
) -> LockResult<MutexGuard<'a, T>> {
    match result {
        Ok(inner) => Ok(MutexGuard::from_std(inner, clock, held, at)),
        Err(poison) => Err(PoisonError::new(MutexGuard::from_std(poison.into_inner(), clock, held, at))),
    }
}

/// `WaitTimeoutResult` has no public constructor; std's own condvar makes
/// one for us from a zero or an already-expired wait on a private mutex.
fn timed_out(value: bool) -> WaitTimeoutResult {
    let lock = std::sync::Mutex::new(());
    let cv = std::sync::Condvar::new();
    let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
    if value {
        let (_guard, result) = cv.wait_timeout(guard, Duration::ZERO).unwrap_or_else(PoisonError::into_inner);
        result
    } else {
        let (_guard, result) =
            cv.wait_timeout_while(guard, Duration::ZERO, |_| false).unwrap_or_else(PoisonError::into_inner);
        result
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}
