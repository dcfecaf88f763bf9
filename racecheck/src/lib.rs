//! A data race detector for Rust programs in the manner of Go's `-race`.
//!
//! racecheck implements FastTrack (Flanagan & Freund, PLDI 2009), the
//! vector-clock algorithm family behind ThreadSanitizer and Go's race
//! detector, over instrumented versions of the std types:
//!
//! - [`thread`]: spawn, scope, join, park/unpark as happens-before edges;
//! - [`sync`]: `Arc`, `Mutex`, `RwLock`, `Condvar`, `Barrier`, `Once`,
//!   `OnceLock`, `WaitGroup`, `mpsc`, and [`sync::atomic`] with the
//!   C++11/Rust memory model (orderings and fences honoured);
//! - [`cell`]: [`RaceCell`](cell::RaceCell), a shared variable whose every
//!   access is checked, and loom's checked [`UnsafeCell`](cell::UnsafeCell);
//! - [`annotate`]: hooks for synchronization racecheck cannot see;
//! - [`deadlock`]: Go's "all threads are asleep" report, for threads
//!   parked in channels and joins;
//! - [`explore()`]: runs a closure under many seeded schedules (PCT) to find
//!   races that one run's schedule hides; [`schedule`] has the hooks that
//!   let other crates' primitives take part.
//!
//! Beyond Go's detector, racecheck reports *potential* deadlocks: a cycle in
//! the order in which threads take its `Mutex` and `RwLock`
//! (`WARNING: POTENTIAL DEADLOCK (lock-order inversion)`, as
//! ThreadSanitizer), even when the run did not deadlock; it reads
//! ThreadSanitizer's suppression files (`RACECHECK_OPTIONS=
//! suppressions=FILE`); and on Linux it sees the spawn and join of std's
//! own threads without code changes (cargo feature `std-threads`, on by
//! default), saying in the report when a race involves a thread whose
//! std synchronization it cannot see. [`reports`] counts each kind.
//!
//! Detection is on when the process starts with `RACECHECK=1` (or `true`)
//! and off otherwise; off, each wrapper costs about what its std
//! counterpart costs. On, every pair of conflicting accesses not ordered by
//! happens-before is reported once, in Go's format, on stderr (or
//! `log_path`), and the process exits with status 66 at the end.
//!
//! ```
//! use racecheck::cell::RaceCell;
//! use racecheck::sync::Mutex;
//!
//! let hits = RaceCell::new(0);
//! let lock = Mutex::new(());
//! racecheck::thread::scope(|s| {
//!     for _ in 0..2 {
//!         s.spawn(|| {
//!             let _held = lock.lock().unwrap();
//!             hits.set(hits.get() + 1); // ordered by the mutex
//!         });
//!     }
//! });
//! assert_eq!(hits.get(), 2);
//! assert_eq!(racecheck::race_count(), 0);
//! ```
//!
//! See `docs/racecheck.md` in the repository for the guide: instrumenting a
//! program, reading a report, the options, and how racecheck compares with
//! ThreadSanitizer, Miri, loom and Go.

#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]
#![warn(missing_docs)]

pub mod annotate;
pub mod cell;
mod clock;
mod config;
pub mod deadlock;
mod explore;
mod lazy_clock;
mod lock_order;
mod report;
mod runtime;
pub mod schedule;
mod shadow;
mod std_threads;
mod suppress;
pub mod sync;
pub mod thread;

pub use config::enabled;
pub use explore::explore;

/// Numbers about the detector's own state, for racecheck's tests; not part
/// of the stable API.
#[doc(hidden)]
pub mod __diagnostics {
    /// How many thread slots (vector clock entries) have been allocated.
    pub fn slots_allocated() -> usize {
        crate::runtime::slots_allocated()
    }
}
pub use report::{race_count, reports, Reports};
