//! The scheduler's lock, with the wake-ups it decides sent once it is
//! released.
//!
//! Handing the turn over means waking one waiting thread, and the woken
//! thread's first act is to take the scheduler's lock. Woken while the
//! waker still holds it, it would block on it at once and be woken a
//! second time; so the state collects the condvars to notify, and the
//! guard notifies them after unlocking, when dropped or before it waits.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// A state that collects the threads to wake.
pub(super) trait Wakes {
    /// The condvars to notify once the lock is released.
    fn to_wake(&mut self) -> &mut Vec<Arc<Condvar>>;
}

/// The lock, held: wakes the threads in `to_wake` once it is released.
pub(super) struct Locked<'a, S: Wakes> {
    guard: Option<MutexGuard<'a, S>>,
    state: &'a Mutex<S>,
}

/// What [`Locked::wait`] did.
#[derive(PartialEq, Eq)]
pub(super) enum Waited {
    /// Woken (or spuriously).
    Woken,
    /// The time ran out.
    TimedOut,
    /// Did not wait: it woke the threads it had to wake first, outside the
    /// lock; the caller looks at the state again.
    Flushed,
}

impl<'a, S: Wakes> Locked<'a, S> {
    pub(super) fn new(state: &'a Mutex<S>) -> Locked<'a, S> {
        // Every update of the state is complete before any call that could
        // panic, so a poisoned lock still holds a consistent state.
        Locked { guard: Some(state.lock().unwrap_or_else(PoisonError::into_inner)), state }
    }

    /// Waits on `wake` for at most `limit`, unless threads are to be woken
    /// first.
    pub(super) fn wait(&mut self, wake: &Condvar, limit: Duration) -> Waited {
        let mut guard = self.guard.take().expect("locked");
        if !guard.to_wake().is_empty() {
            self.guard = Some(guard);
            self.flush();
            self.guard = Some(self.state.lock().unwrap_or_else(PoisonError::into_inner));
            return Waited::Flushed;
        }
        let (guard, timeout) = wake.wait_timeout(guard, limit).unwrap_or_else(PoisonError::into_inner);
        self.guard = Some(guard);
        if timeout.timed_out() {
            Waited::TimedOut
        } else {
            Waited::Woken
        }
    }

    /// Releases the lock and wakes whom the state says to wake.
    fn flush(&mut self) {
        if let Some(mut guard) = self.guard.take() {
            let to_wake = std::mem::take(guard.to_wake());
            drop(guard);
            for wake in to_wake {
                wake.notify_one();
            }
        }
    }
}

impl<S: Wakes> Deref for Locked<'_, S> {
    type Target = S;
    fn deref(&self) -> &S {
        self.guard.as_ref().expect("locked")
    }
}

impl<S: Wakes> DerefMut for Locked<'_, S> {
    fn deref_mut(&mut self) -> &mut S {
        self.guard.as_mut().expect("locked")
    }
}

impl<S: Wakes> Drop for Locked<'_, S> {
    fn drop(&mut self) {
        self.flush();
    }
}
