//! `Condvar`: the mutex edges of waiting (the wait unlocks, the wake-up
//! re-locks) plus an edge from every notify to the wake-ups after it.
//!
//! Go gives `sync.Cond` no edges of its own and relies on the mutex. We add
//! notify → wake because programs do signal without holding the lock, and
//! the woken thread then depends on what the notifier did. A spurious
//! wake-up acquires too: that can hide a race, never invent one.
//!
//! Under [`explore`](crate::explore()) a wait unlocks the racecheck mutex,
//! waits in the scheduler until a notify picks it (`notify_one` picks the
//! longest waiter), and locks the mutex again; waits and notifies are
//! scheduling points. A wait that no notify ends within the scheduler's
//! patience returns as a spurious wake-up, which condvars allow.

use std::fmt;
use std::sync::{LockResult, PoisonError, WaitTimeoutResult};
use std::time::Duration;

use super::mutex::{Mutex, MutexGuard};
use std::panic::Location;

use crate::annotate::SyncClock;
use crate::config::enabled;
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
        if enabled() && crate::explore::exploring() {
            let at = std::panic::Location::caller();
            return match self.wait_explored(guard, None, Some(at)) {
                Ok((guard, _)) => Ok(guard),
                Err(poison) => Err(PoisonError::new(poison.into_inner().0)),
            };
        }
        let (inner, lock, held) = guard.into_std();
        let at = Location::caller();
        let result = crate::deadlock::blocked_in("condvar wait", at, || self.inner.wait(inner));
        self.notified.acquire();
        map_lock(result, lock, held, at)
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
        if enabled() && crate::explore::exploring() {
            let deadline = std::time::Instant::now().checked_add(dur);
            return match self.wait_explored(guard, deadline, None) {
                Ok((guard, late)) => Ok((guard, timed_out(late))),
                Err(poison) => {
                    let (guard, late) = poison.into_inner();
                    Err(PoisonError::new((guard, timed_out(late))))
                }
            };
        }
        let (inner, lock, held) = guard.into_std();
        let at = Location::caller();
        let result = self.inner.wait_timeout(inner, dur);
        self.notified.acquire();
        match result {
            Ok((inner, timeout)) => Ok((MutexGuard::from_std(inner, lock, held, at), timeout)),
            Err(poison) => {
                let (inner, timeout) = poison.into_inner();
                Err(PoisonError::new((MutexGuard::from_std(inner, lock, held, at), timeout)))
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
        if enabled() {
            self.notify_watched(false);
        }
        self.inner.notify_one();
    }

    /// Wakes every waiter; each wake-up is ordered after this call.
    pub fn notify_all(&self) {
        if enabled() {
            self.notify_watched(true);
        }
        self.inner.notify_all();
    }

    /// A notify with detection on: a scheduling point, the release that
    /// the wake-ups acquire, and the wake-up of the waiters `explore`
    /// keeps (the longest waiter, or `all`).
    #[cold]
    #[inline(never)]
    fn notify_watched(&self, all: bool) {
        crate::explore::point();
        self.notified.release_merge();
        crate::explore::cond_notify(self.id(), all);
    }

    /// The name of this condvar for `explore`'s scheduler.
    fn id(&self) -> usize {
        self as *const Condvar as usize
    }

    /// A wait under `explore`: unlocks the racecheck mutex (waking the
    /// threads the scheduler keeps waiting for it), waits in the scheduler
    /// for a notify, `deadline`, or a spurious wake-up, and locks the mutex
    /// again. A wait with no deadline is a wait for the deadlock detector
    /// too (`at`). Returns whether the deadline passed.
    fn wait_explored<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        deadline: Option<std::time::Instant>,
        at: Option<&'static std::panic::Location<'static>>,
    ) -> LockResult<(MutexGuard<'a, T>, bool)> {
        crate::explore::point();
        let mutex = guard.mutex();
        drop(guard);
        let wait = || crate::explore::cond_wait(self.id(), deadline).unwrap_or(false);
        let late = match at {
            Some(at) => crate::deadlock::blocked_in("condvar wait", at, wait),
            None => wait(),
        };
        self.notified.acquire();
        match mutex.lock() {
            Ok(guard) => Ok((guard, late)),
            Err(poison) => Err(PoisonError::new((poison.into_inner(), late))),
        }
    }
}

fn map_lock<'a, T>(
    result: LockResult<std::sync::MutexGuard<'a, T>>,
    lock: &'a Mutex<T>,
    held: Option<HeldLock>,
    at: &'static Location<'static>,
) -> LockResult<MutexGuard<'a, T>> {
    match result {
        Ok(inner) => Ok(MutexGuard::from_std(inner, lock, held, at)),
        Err(poison) => Err(PoisonError::new(MutexGuard::from_std(poison.into_inner(), lock, held, at))),
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
