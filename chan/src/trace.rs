//! Tracing of blocking: the `chan` events of CONTRACT.md.
//!
//! A blocking operation that has to wait (it found the channel full, empty,
//! or no rendezvous partner, and registers itself as a waiter) emits a
//! `DEBUG` event under target `chan`, message `parked`, with fields `id`
//! (the channel's address in hex, stable for its life), `op` (`send`/`recv`),
//! `flavor` (`ring`, `list`, `zero`, `hchan`), `capacity` (a number, or
//! `unbounded`) and `len` (messages buffered at that moment). When the wait
//! ends it emits `woke` with `id`, `op`, `flavor`, `waited` (a
//! `Duration`) and `outcome`:
//!
//! - `completed`: a peer completed the operation (a rendezvous, or Go's
//!   direct hand-off in hchan);
//! - `ready`: a peer made room or a message (ring and list, which then
//!   retry, and may wait again);
//! - `closed`: the channel was closed (or lost its other side);
//! - `timeout`: the deadline passed.
//!
//! A `select` that has to wait emits the same pair once per wait, with
//! `op` and `flavor` both `select`, `id` the select's own address,
//! `capacity` `unbounded` (a select has none) and `len` the number of cases
//! it waits on; `completed` then means a peer completed one of its cases,
//! `ready` that one may go now.
//!
//! `close` emits `closed` with `id`, `flavor`, `capacity` and `len`.
//!
//! The fast paths never come here. With no subscriber interested in `chan`
//! at `DEBUG`, a park costs one check of tracing's cached interest; with the
//! `trace` feature off, nothing at all.

use std::time::Instant;

/// What is waiting, for the events' fields.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(feature = "trace"), allow(dead_code))]
pub(crate) struct Park {
    pub(crate) id: usize,
    pub(crate) op: &'static str,
    pub(crate) flavor: &'static str,
    pub(crate) capacity: Option<usize>,
    pub(crate) len: usize,
}

/// How a wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Completed,
    Ready,
    Closed,
    Timeout,
}

impl Outcome {
    #[cfg_attr(not(feature = "trace"), allow(dead_code))]
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Ready => "ready",
            Outcome::Closed => "closed",
            Outcome::Timeout => "timeout",
        }
    }
}

/// How the wait of a flavor that retries its operation afterwards (ring,
/// list) ended.
pub(crate) fn outcome_of_retry(sel: crate::context::Selected, deadline: Option<Instant>) -> Outcome {
    use crate::context::Selected;
    match sel {
        Selected::Disconnected => Outcome::Closed,
        Selected::Aborted if deadline.is_some_and(|d| Instant::now() >= d) => Outcome::Timeout,
        _ => Outcome::Ready,
    }
}

/// How the wait of a flavor whose peer completes the operation (zero,
/// hchan) ended.
pub(crate) fn outcome_of_handoff(sel: crate::context::Selected, completed: bool) -> Outcome {
    use crate::context::Selected;
    match sel {
        Selected::Operation(_) if completed => Outcome::Completed,
        Selected::Aborted => Outcome::Timeout,
        _ => Outcome::Closed,
    }
}

/// A wait in progress: what is waiting and since when, if anyone listens.
pub(crate) struct Wait {
    #[cfg(feature = "trace")]
    traced: Option<(Park, Instant)>,
}

/// `id` as the events show it: the address in hex.
#[cfg(feature = "trace")]
struct ChanId(usize);

#[cfg(feature = "trace")]
impl std::fmt::Display for ChanId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// `capacity` as the events show it.
#[cfg(feature = "trace")]
struct Capacity(Option<usize>);

#[cfg(feature = "trace")]
impl std::fmt::Display for Capacity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{n}"),
            None => f.write_str("unbounded"),
        }
    }
}

/// Emits `parked` if a subscriber wants it; `park` is only evaluated then.
#[inline]
pub(crate) fn parking(park: impl FnOnce() -> Park) -> Wait {
    #[cfg(feature = "trace")]
    {
        if tracing::enabled!(target: "chan", tracing::Level::DEBUG) {
            let p = park();
            tracing::debug!(
                target: "chan",
                id = %ChanId(p.id),
                op = p.op,
                flavor = p.flavor,
                capacity = %Capacity(p.capacity),
                len = p.len,
                "parked"
            );
            return Wait { traced: Some((p, Instant::now())) };
        }
        Wait { traced: None }
    }
    #[cfg(not(feature = "trace"))]
    {
        let _ = park;
        Wait {}
    }
}

/// Emits `woke` for a wait that `parking` traced.
#[inline]
pub(crate) fn woke(wait: Wait, outcome: Outcome) {
    #[cfg(feature = "trace")]
    if let Some((p, since)) = wait.traced {
        tracing::debug!(
            target: "chan",
            id = %ChanId(p.id),
            op = p.op,
            flavor = p.flavor,
            waited = ?since.elapsed(),
            outcome = outcome.as_str(),
            "woke"
        );
    }
    #[cfg(not(feature = "trace"))]
    let _ = (wait, outcome);
}

/// Emits `closed` for a `close` that closed the channel.
#[inline]
pub(crate) fn closed(park: impl FnOnce() -> Park) {
    #[cfg(feature = "trace")]
    if tracing::enabled!(target: "chan", tracing::Level::DEBUG) {
        let p = park();
        tracing::debug!(
            target: "chan",
            id = %ChanId(p.id),
            flavor = p.flavor,
            capacity = %Capacity(p.capacity),
            len = p.len,
            "closed"
        );
    }
    #[cfg(not(feature = "trace"))]
    let _ = park;
}
