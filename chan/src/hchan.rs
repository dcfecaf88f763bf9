//! A port of Go's runtime channel (`runtime/chan.go`'s `hchan`) behind the
//! same [`Sender`]/[`Receiver`] as the default flavor.
//!
//! The default flavor is lock-free; this one is Go's design, kept
//! recognisable so that the two can be compared: one mutex guards a ring
//! buffer allocated up front (`buf`, `sendx`, `recvx`, `qcount`) and two
//! FIFO queues of parked threads (`sendq`, `recvq`, made of `sudog`s).
//!
//! - A send first hands its value straight to a parked receiver (the value
//!   never touches the buffer), else buffers it, else parks.
//! - A receive takes from a parked sender, else from the buffer, else
//!   parks. On a full buffered channel with parked senders it takes the
//!   oldest value and moves the first parked sender's value into the freed
//!   slot, as Go does, so order is kept and that sender is done at once.
//! - Closing wakes every parked thread: senders get their value back in the
//!   error, receivers drain what is buffered, then fail.
//! - `bounded(0)` is unbuffered: a send completes when a receiver takes the
//!   value. `unbounded()` is the same design with a ring that doubles when
//!   full; its senders never park.
//!
//! Ordering and fairness: values arrive in the order they were buffered or
//! handed over; parked threads are served oldest first, though a thread
//! that arrives while the buffer has room (or a value) may go before
//! threads that were just woken. Timeouts (`send_timeout`, `recv_deadline`,
//! ...) never lose or duplicate a value: a waiter that gives up either
//! removes itself, keeping its value, or finds that a peer completed it
//! first and takes that result. Dropping the last handle of a side closes
//! the channel; values still buffered are dropped when the last handle
//! goes. `docs/hchan.md` maps every Go name to ours.
//!
//! ```
//! use std::thread;
//!
//! let (s, r) = chan::hchan::bounded(2);
//! let h = thread::spawn(move || {
//!     for i in 0..5 {
//!         s.send(i).unwrap(); // parks while two values wait
//!     }
//!     s.close();
//! });
//! assert_eq!(r.iter().collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
//! h.join().unwrap();
//! ```

use crate::channel::{from_core, Flavor, Receiver, Sender};
use crate::flavors::hchan::HChan;

#[doc(hidden)]
pub use crate::flavors::hchan::Probe;

/// Creates a Go channel of capacity `cap` (Go's `make(chan T, cap)`).
///
/// `cap == 0` is unbuffered: a send completes only when a receiver takes
/// the value. Otherwise a ring of `cap` slots is allocated up front.
///
/// ```
/// use chan::TrySendError;
///
/// let (s, r) = chan::hchan::bounded(1);
/// s.send("a").unwrap();
/// assert_eq!(s.try_send("b"), Err(TrySendError::Full("b")));
/// assert_eq!(r.recv(), Ok("a"));
///
/// let (s, r) = chan::hchan::bounded(0);
/// let h = std::thread::spawn(move || s.send(7)); // waits for the receiver
/// assert_eq!(r.recv(), Ok(7));
/// assert_eq!(h.join().unwrap(), Ok(()));
/// ```
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    from_core(HChan::new(Some(cap)), Flavor::Hchan)
}

/// Creates a Go-style channel with no capacity limit: sends never block.
///
/// The ring starts empty and doubles whenever a send finds it full.
///
/// ```
/// let (s, r) = chan::hchan::unbounded();
/// for i in 0..100 {
///     s.send(i).unwrap();
/// }
/// s.close();
/// assert_eq!(r.len(), 100);
/// assert_eq!(r.iter().sum::<i32>(), 4950);
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    from_core(HChan::new(None), Flavor::Hchan)
}

/// A snapshot of an hchan channel's internals (`None` for other flavors),
/// taken under its lock after checking its invariants. For tests of the
/// Go-specific paths; not part of the stable API.
#[doc(hidden)]
pub fn probe<T>(s: &Sender<T>) -> Option<Probe> {
    match &s.flavor {
        Flavor::Hchan(c) => Some(c.probe()),
        _ => None,
    }
}
