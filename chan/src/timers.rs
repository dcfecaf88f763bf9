//! Timer channels: [`after`], [`at`], [`tick`] and [`never`], receivers of
//! the same [`Receiver`] type as any channel, so they can sit in a
//! [`select!`](crate::select!) next to ordinary channels.
//!
//! None of them has a sender and none is ever closed. They cost no thread:
//! a receive sleeps until the message is due, and a select that waits on
//! one wakes itself at the due instant.

use std::time::{Duration, Instant};

use crate::channel::{from_core, Flavor, Receiver};
use crate::flavors::{at, never, tick};

fn instant(t: Instant) -> Instant {
    t
}

/// A receiver that gets one message, the instant it was due, once
/// `duration` has passed. Afterwards it stays empty; it is never closed.
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let start = Instant::now();
/// let timeout = chan::after(Duration::from_millis(10));
/// let due = timeout.recv().unwrap();
/// assert!(due >= start + Duration::from_millis(10));
/// assert!(timeout.try_recv().is_err()); // one message only
/// ```
pub fn after(duration: Duration) -> Receiver<Instant> {
    match Instant::now().checked_add(duration) {
        Some(when) => at(when),
        None => never(),
    }
}

/// A receiver that gets one message, `when`, at the instant `when`.
/// Afterwards it stays empty; it is never closed.
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let when = Instant::now() + Duration::from_millis(5);
/// assert_eq!(chan::at(when).recv(), Ok(when));
/// ```
pub fn at(when: Instant) -> Receiver<Instant> {
    let (_s, r) = from_core(at::Channel::new(when, instant), Flavor::At);
    r
}

/// A receiver that gets a message every `duration`: the instant that tick
/// was due. It holds at most one: a tick not taken in time is not queued,
/// the next is due `duration` after the last one taken. Never closed.
///
/// ```
/// use std::time::Duration;
///
/// let ticker = chan::tick(Duration::from_millis(2));
/// let a = ticker.recv().unwrap();
/// let b = ticker.recv().unwrap();
/// assert!(b >= a + Duration::from_millis(2));
/// ```
pub fn tick(duration: Duration) -> Receiver<Instant> {
    let now = Instant::now();
    match now.checked_add(duration) {
        Some(first) => {
            let (_s, r) = from_core(tick::Channel::new(first, duration, instant), Flavor::Tick);
            r
        }
        None => never(),
    }
}

/// A receiver that never gets a message and is never closed. In a select
/// it switches a case off, as a nil channel does in Go.
///
/// It allocates nothing, so it can initialize a `const` or `static`, and
/// every `never` receiver is the same channel:
/// [`same_channel`](Receiver::same_channel) is true between any two.
///
/// ```
/// use std::time::Duration;
///
/// let r = chan::never::<i32>();
/// assert!(r.recv_timeout(Duration::from_millis(1)).is_err());
/// ```
pub const fn never<T>() -> Receiver<T> {
    Receiver { flavor: Flavor::Never(never::Channel::new()) }
}
