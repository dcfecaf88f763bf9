//! The flavor behind [`never`](crate::never): a channel that never delivers
//! and is never closed, for switching a select case off.

use std::marker::PhantomData;
use std::time::Instant;

use crate::err::{RecvTimeoutError, TryRecvError};
use crate::flavors::at::sleep_until_deadline;

pub(crate) struct Channel<T> {
    _marker: PhantomData<fn() -> T>,
}

impl<T> Channel<T> {
    pub(crate) fn new() -> Self {
        Channel { _marker: PhantomData }
    }

    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        Err(TryRecvError::Empty)
    }

    // Out of line: it sleeps anyway, and inlined into the public `recv`'s
    // dispatch it would make every other flavor's receive save more
    // registers.
    #[inline(never)]
    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        sleep_until_deadline(deadline);
        Err(RecvTimeoutError::Timeout)
    }

    receive_only!();
}
