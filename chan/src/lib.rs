//! Go-style channels for Rust, a drop-in replacement for
//! [crossbeam-channel](https://docs.rs/crossbeam-channel/0.5).
//!
//! - [`bounded(n)`](bounded) with `n >= 1` is a lock-free ring buffer;
//!   `bounded(0)` is Go's unbuffered channel (a send completes only when a
//!   receiver takes the value); [`unbounded()`](unbounded) is a lock-free
//!   list of blocks, freed as they drain.
//! - [`Sender::close`] is Go's `close`: receivers drain what is buffered,
//!   then see the channel closed; a send on a closed channel returns the
//!   message in the error, it never panics.
//! - Blocking operations spin briefly, then park; a thread that finishes an
//!   operation wakes a waiter only if one is registered, so the fast path
//!   takes no lock.
//! - [`observe`] reports the waits, when asked: `tracing` events, a blocking
//!   profile per call site, and a timeline for Perfetto.
//!
//! ```
//! use std::thread;
//!
//! let (s, r) = chan::bounded(0);
//! let h = thread::spawn(move || {
//!     for i in 0..3 {
//!         s.send(i).unwrap(); // returns once the receiver has it
//!     }
//!     s.close();
//! });
//! assert_eq!(r.iter().collect::<Vec<_>>(), [0, 1, 2]);
//! h.join().unwrap();
//! ```
//!
//! Ordering: messages from one sender arrive in the order sent. Fairness:
//! waiting threads are woken oldest first, but a thread that arrives while
//! no one is parked may overtake them. Dropping the last handle of a side
//! closes the channel, and every message still buffered is dropped exactly
//! once.
#![warn(missing_docs)]
// The unsafe discipline: every unsafe operation sits in an `unsafe` block
// (also inside an `unsafe fn`) with a `// SAFETY:` comment that argues it,
// and every `unsafe fn` says in `# Safety` what its caller must uphold.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

mod barrier;
mod channel;
mod context;
mod counted;
mod err;
mod flavors;
pub mod hchan;
pub mod observe;
mod race;
mod select;
mod sync;
mod timers;
mod trace;
mod waker;

pub use crate::channel::{
    bounded, channel, sync_channel, unbounded, IntoIter, Iter, Receiver, Sender, SyncSender, TryIter,
};
pub use crate::err::{
    ReadyTimeoutError, RecvError, RecvTimeoutError, SelectTimeoutError, SendError, SendTimeoutError, TryReadyError,
    TryRecvError, TrySelectError, TrySendError,
};
#[doc(hidden)]
pub use crate::select::__MacroSelect;
pub use crate::select::{Select, SelectedOperation};
pub use crate::timers::{after, at, never, tick};
