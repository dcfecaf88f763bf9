//! The flavor behind [`at`](crate::at) and [`after`](crate::after): one
//! message, the delivery instant, available from that instant on; after it
//! is taken the channel stays empty forever and is never closed
//! (crossbeam-channel's semantics).
//!
//! There is no sender: the flavor makes its message from the instant with
//! `make`, which is the identity for the only type the public functions
//! build it with (`Instant`); it is generic only so that it fits `Flavor<T>`.

use std::marker::PhantomData;
use std::time::Instant;

use crate::err::{RecvTimeoutError, TryRecvError};
use crate::sync::atomic::{AtomicBool, Ordering};

pub(crate) struct Channel<T> {
    delivery_time: Instant,
    received: AtomicBool,
    make: fn(Instant) -> T,
    _marker: PhantomData<fn() -> T>,
}

impl<T> Channel<T> {
    pub(crate) fn new(delivery_time: Instant, make: fn(Instant) -> T) -> Self {
        Channel { delivery_time, received: AtomicBool::new(false), make, _marker: PhantomData }
    }

    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        if self.received.load(Ordering::Relaxed) || Instant::now() < self.delivery_time {
            return Err(TryRecvError::Empty);
        }
        // One taker among racing receivers.
        if self.received.swap(true, Ordering::SeqCst) {
            Err(TryRecvError::Empty)
        } else {
            Ok((self.make)(self.delivery_time))
        }
    }

    // Out of line: it sleeps anyway, and inlined into the public `recv`'s
    // dispatch it would make every other flavor's receive save more
    // registers.
    #[inline(never)]
    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        if !self.received.load(Ordering::Relaxed) {
            let until = deadline.map_or(self.delivery_time, |d| d.min(self.delivery_time));
            sleep_until(until);
            if let Ok(msg) = self.try_recv() {
                return Ok(msg);
            }
        }
        // Taken already (or not yet due at the deadline): nothing will come.
        sleep_until_deadline(deadline);
        Err(RecvTimeoutError::Timeout)
    }

    /// When a receive can next succeed; `None` once the message is taken.
    pub(crate) fn next_delivery(&self) -> Option<Instant> {
        if self.received.load(Ordering::Relaxed) {
            None
        } else {
            Some(self.delivery_time)
        }
    }

    receive_only!();

    pub(crate) fn len(&self) -> usize {
        usize::from(!self.received.load(Ordering::SeqCst) && Instant::now() >= self.delivery_time)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Sleeps until `until` (std's `sleep` may wake early on some platforms).
pub(crate) fn sleep_until(until: Instant) {
    loop {
        let now = Instant::now();
        if now >= until {
            return;
        }
        crate::race::sleep(until - now);
    }
}

/// Sleeps until `deadline`, or forever without one.
pub(crate) fn sleep_until_deadline(deadline: Option<Instant>) {
    match deadline {
        Some(d) => sleep_until(d),
        None => loop {
            crate::race::sleep(std::time::Duration::from_secs(1000));
        },
    }
}
