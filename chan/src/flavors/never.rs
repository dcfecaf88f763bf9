//! The flavor behind [`never`](crate::never): a channel that never delivers
//! and is never closed, for switching a select case off.
//!
//! It has no state, so it is not allocated: the handle holds this empty
//! value itself. That is what lets `never` be a `const fn`, and every
//! `never` channel is the same channel (`same_channel` is true across
//! calls), as Go's nil channels are all alike.

use std::marker::PhantomData;
use std::time::Instant;

use crate::counted::Side;
use crate::err::{RecvTimeoutError, TryRecvError};
use crate::flavors::at::sleep_until_deadline;
use crate::race::ChanRace;

/// The identity every `never` channel shares (`Flavor::addr`).
static IDENTITY: u8 = 0;

/// racecheck's view of every `never` channel: nothing ever closes or sends
/// on one, but `Flavor::race` wants one.
static RACE: ChanRace = ChanRace::new();

pub(crate) struct Channel<T> {
    _marker: PhantomData<fn() -> T>,
}

impl<T> Clone for Channel<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Channel<T> {}

impl<T> Channel<T> {
    pub(crate) const fn new() -> Self {
        Channel { _marker: PhantomData }
    }

    /// The address that identifies every `never` channel.
    pub(crate) fn addr(&self) -> *const () {
        &IDENTITY as *const u8 as *const ()
    }

    pub(crate) fn race(&self) -> &'static ChanRace {
        &RACE
    }

    /// Nothing is counted: there is no allocation to free.
    pub(crate) fn acquire(&self, _side: Side) {}

    /// As `acquire`: nothing to count down, and nothing to close.
    ///
    /// # Safety
    /// None needed; `unsafe` only to share the shape of
    /// [`ChanRef::release`](crate::counted::ChanRef::release).
    pub(crate) unsafe fn release(&self, _side: Side, _last_gone: impl FnOnce()) {}

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
