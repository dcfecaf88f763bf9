//! Scheduling hooks for synchronization primitives built outside
//! racecheck, so that [`explore`](crate::explore()) can schedule their
//! users: the `chan` channels call them.
//!
//! Under `explore`, only one thread of a run executes between two
//! scheduling points, and a thread that blocks must say so, or the others
//! wait for it until the scheduler's fallback gives up on it (50 ms). A
//! primitive that blocks its callers by parking them (`std::thread::park`)
//! needs three calls:
//!
//! - [`point`] at the start of every operation, before it takes any lock of
//!   its own, so that the schedule decides the order of operations;
//! - [`park`] around each park, so that the turn passes to another thread
//!   while this one sleeps;
//! - [`unparking`] right before each `unpark`, so that the scheduler makes
//!   the woken thread runnable at that step, whatever the OS does next.
//!
//! A primitive that makes random choices (a select's poll order) can draw
//! them from [`random`] while exploring, so that a seed replays them too.
//!
//! Outside an exploration every function is one relaxed load of a counter
//! of running explorations (zero in a program that never explores), and
//! does nothing.
//!
//! ```
//! use std::sync::atomic::{AtomicBool, Ordering};
//! use std::sync::Mutex;
//!
//! /// A one-shot event: `wait` parks until `set`.
//! #[derive(Default)]
//! struct Event {
//!     set: AtomicBool,
//!     waiter: Mutex<Option<std::thread::Thread>>,
//! }
//!
//! impl Event {
//!     fn set(&self) {
//!         racecheck::schedule::point();
//!         self.set.store(true, Ordering::Release);
//!         if let Some(thread) = self.waiter.lock().unwrap().take() {
//!             racecheck::schedule::unparking(&thread);
//!             thread.unpark();
//!         }
//!     }
//!
//!     fn wait(&self) {
//!         racecheck::schedule::point();
//!         *self.waiter.lock().unwrap() = Some(std::thread::current());
//!         while !self.set.load(Ordering::Acquire) {
//!             racecheck::schedule::park(std::thread::park);
//!         }
//!     }
//! }
//!
//! let event = Event::default();
//! event.set();
//! event.wait();
//! ```

use crate::explore;

/// A scheduling point: under `explore`, the schedule may let another thread
/// run here. Call it before an operation other threads can observe, and
/// never while holding a lock another thread of the run could need.
#[inline]
pub fn point() {
    explore::point();
}

/// Runs `wait`, a park of the current thread (`std::thread::park`,
/// `park_timeout`) that another thread's unpark or a timeout ends, as a
/// blocked wait: under `explore` the turn passes to another thread before,
/// and comes back after. Like a park, it may return spuriously: call it in
/// a loop that re-checks the condition.
#[inline]
pub fn park<R>(wait: impl FnOnce() -> R) -> R {
    explore::park_wait(wait)
}

/// Tells the scheduler that the current thread is about to unpark `thread`:
/// under `explore` the thread becomes runnable at this step (call it right
/// before `thread.unpark()`).
#[inline]
pub fn unparking(thread: &std::thread::Thread) {
    explore::unparking(thread);
}

/// Whether the current thread runs under `explore`: spinning while waiting
/// for another thread is then pointless (only one thread of the run
/// executes at a time), and a primitive should park at once.
#[inline]
pub fn is_exploring() -> bool {
    explore::exploring()
}

/// A random number drawn from the current thread's schedule while it runs
/// under `explore` (`None` otherwise): a primitive's random choices made
/// with it are replayed by the seed like the schedule itself.
#[inline]
pub fn random() -> Option<u64> {
    explore::random()
}
