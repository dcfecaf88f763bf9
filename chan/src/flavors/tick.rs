//! The flavor behind [`tick`](crate::tick): a message every `duration`,
//! as crossbeam-channel has it. The channel holds at most one message: a
//! tick taken late is followed by one due a full `duration` after it was
//! taken, so a slow receiver skips ticks instead of finding a backlog,
//! while one that keeps up sees no drift (see `recv`). Never closed; no
//! sender (see `at.rs` for `make`).

use std::marker::PhantomData;
use std::time::{Duration, Instant};

use crate::err::{RecvTimeoutError, TryRecvError};
use crate::flavors::at::sleep_until;
use crate::sync::Mutex;

pub(crate) struct Channel<T> {
    delivery_time: Mutex<Instant>,
    duration: Duration,
    make: fn(Instant) -> T,
    _marker: PhantomData<fn() -> T>,
}

impl<T> Channel<T> {
    pub(crate) fn new(first: Instant, duration: Duration, make: fn(Instant) -> T) -> Self {
        Channel { delivery_time: Mutex::new(first), duration, make, _marker: PhantomData }
    }

    fn next_due(&self) -> Instant {
        *self.delivery_time.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut due = self.delivery_time.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if now < *due {
            return Err(TryRecvError::Empty);
        }
        let msg = *due;
        // A far-future overflow just means "never again".
        *due = now.checked_add(self.duration).unwrap_or(now + Duration::from_secs(86_400 * 365 * 30));
        Ok((self.make)(msg))
    }

    /// Blocks for the next tick. The tick is claimed before sleeping (the
    /// one after it is due a period later, or a period from now if it is
    /// already late), so a receiver that keeps up sees a steady period with
    /// no drift from wake-up latency, and two blocked receivers get two
    /// different ticks. This is crossbeam-channel's rule.
    ///
    /// Out of line: it sleeps anyway, and inlined into the public `recv`'s
    /// dispatch it would make every other flavor's receive save more
    /// registers.
    #[inline(never)]
    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        let msg = {
            let mut due = self.delivery_time.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(d) = deadline {
                if d < *due {
                    drop(due);
                    sleep_until(d);
                    return Err(RecvTimeoutError::Timeout);
                }
            }
            let msg = *due;
            let from = msg.max(Instant::now());
            *due = from.checked_add(self.duration).unwrap_or(from + Duration::from_secs(86_400 * 365 * 30));
            msg
        };
        sleep_until(msg);
        Ok((self.make)(msg))
    }

    /// When a receive can next succeed.
    pub(crate) fn next_delivery(&self) -> Option<Instant> {
        Some(self.next_due())
    }

    receive_only!();

    pub(crate) fn len(&self) -> usize {
        usize::from(Instant::now() >= self.next_due())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
