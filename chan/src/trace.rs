//! The park paths' door to observability ([`crate::observe`]): what a wait
//! is, when it starts and when it ends.
//!
//! A *wait* is one blocking operation that had to park: it starts at the
//! operation's first park and ends when the operation completes, fails on
//! a closed channel, or times out. Every flavor reports the same: the
//! rendezvous and hchan park once per operation ([`parking`], [`woke`]),
//! while ring, list and `select` may park, be notified, retry and park
//! again, so their wait is opened at the first park ([`retrying`]) and
//! closed by the operation's result ([`finished`]).
//!
//! With everything off, a park reads one global word and `finished` one
//! thread-local flag; the only call on a fast path is [`sending`], one
//! load and a branch per send. An operation made while its thread emits a
//! chan event is not observed at all (see `observe/events.rs`).

use std::cell::{Cell, RefCell};
use std::panic::Location;
use std::time::Instant;

use crate::context::Context;
use crate::err::{RecvTimeoutError, SendTimeoutError};
use crate::observe::{self, Parts, SliceRecord};
pub(crate) use crate::observe::{Outcome, Park};

/// An operation's result, as the outcome of its wait.
pub(crate) trait Resolved {
    fn outcome(&self) -> Outcome;
}

impl<T> Resolved for Result<(), SendTimeoutError<T>> {
    fn outcome(&self) -> Outcome {
        match self {
            Ok(()) => Outcome::Completed,
            Err(SendTimeoutError::Disconnected(_)) => Outcome::Closed,
            Err(SendTimeoutError::Timeout(_)) => Outcome::Timeout,
        }
    }
}

impl<T> Resolved for Result<T, RecvTimeoutError> {
    fn outcome(&self) -> Outcome {
        match self {
            Ok(_) => Outcome::Completed,
            Err(RecvTimeoutError::Disconnected) => Outcome::Closed,
            Err(RecvTimeoutError::Timeout) => Outcome::Timeout,
        }
    }
}

/// A select's result: the position of the case that went, or none when
/// the deadline passed.
impl Resolved for Option<usize> {
    fn outcome(&self) -> Outcome {
        match self {
            Some(_) => Outcome::Completed,
            None => Outcome::Timeout,
        }
    }
}

/// How a park of a one-park flavor ended: a peer completed the operation,
/// or closed the channel; the waiter gave up at its deadline.
pub(crate) fn outcome_of_handoff(sel: crate::context::Selected, completed: bool) -> Outcome {
    use crate::context::Selected;
    match sel {
        Selected::Operation(_) if completed => Outcome::Completed,
        Selected::Aborted => Outcome::Timeout,
        _ => Outcome::Closed,
    }
}

/// A wait being observed.
struct Open {
    park: Park,
    at: &'static Location<'static>,
    since: Instant,
    /// What was on when it started (and so what it reports to).
    parts: Parts,
    /// Whether `parked` was emitted (then `woke` follows).
    emitted: bool,
    /// Flow ids of its parks, for the timeline.
    flows: Vec<usize>,
}

impl Open {
    /// Starts observing a wait, if anything is on and the thread is not
    /// inside an emission; emits `parked`.
    #[inline]
    fn start(cx: &Context, at: &'static Location<'static>, park: impl FnOnce() -> Park) -> Option<Open> {
        let parts = observe::on();
        if parts.is_empty() {
            return None;
        }
        Self::start_slow(parts, cx, at, park())
    }

    #[cold]
    fn start_slow(parts: Parts, cx: &Context, at: &'static Location<'static>, park: Park) -> Option<Open> {
        if observe::in_event() {
            return None;
        }
        let mut open = Open { park, at, since: Instant::now(), parts, emitted: false, flows: Vec::new() };
        open.add_park(cx);
        if parts.contains(Parts::EVENTS) && observe::wanted() && !observe::quiet(park.id) {
            observe::emit_parked(&open.park, at);
            open.emitted = true;
        }
        Some(open)
    }

    fn add_park(&mut self, cx: &Context) {
        let flow = cx.flow();
        if flow != 0 {
            self.flows.push(flow);
        }
    }

    #[cold]
    fn end(self, outcome: Outcome) {
        let until = Instant::now();
        let waited = until.saturating_duration_since(self.since);
        if self.emitted {
            observe::emit_woke(&self.park, self.at, waited, outcome);
        }
        if self.parts.contains(Parts::PROFILE) {
            observe::record_profile(self.at, self.park.op, self.park.flavor, waited);
        }
        if self.parts.contains(Parts::TIMELINE) {
            observe::record_slice(SliceRecord {
                park: self.park,
                at: self.at,
                since: self.since,
                until,
                outcome,
                flows: self.flows,
            });
        }
    }
}

/// A wait of a one-park flavor, from [`parking`] to [`woke`].
pub(crate) struct Wait(Option<Open>);

/// A one-park flavor (rendezvous, hchan) is about to park: its wait
/// starts. Call it with `cx` reset and listed, and no lock held (the
/// subscriber may use channels). `park` is only evaluated when something
/// is on.
#[inline]
pub(crate) fn parking(cx: &Context, at: &'static Location<'static>, park: impl FnOnce() -> Park) -> Wait {
    Wait(Open::start(cx, at, park))
}

/// The park that [`parking`] announced is over, and with it the wait.
#[inline]
pub(crate) fn woke(wait: Wait, outcome: Outcome) {
    if let Some(open) = wait.0 {
        open.end(outcome);
    }
}

thread_local! {
    /// The wait of a retrying operation (ring, list, select) in progress on
    /// this thread, between its first park and its result.
    static RETRYING: RefCell<Option<Open>> = const { RefCell::new(None) };
    /// Whether `RETRYING` may hold a wait: a plain flag, cheap to read on
    /// every slow path's return.
    static RETRY_OPEN: Cell<bool> = const { Cell::new(false) };
}

/// A retrying operation (ring, list, select) is about to park: its wait
/// starts at the first park and goes on through the next ones. Call it
/// with `cx` reset and before listing it (so that a send the subscriber
/// makes on this same channel finds no waiter of ours to notify), and no
/// lock held. The operation's result must then go through [`finished`].
#[inline]
pub(crate) fn retrying(cx: &Context, at: &'static Location<'static>, park: impl FnOnce() -> Park) {
    if observe::on().is_empty() {
        return;
    }
    retrying_slow(cx, at, park());
}

#[cold]
fn retrying_slow(cx: &Context, at: &'static Location<'static>, park: Park) {
    if observe::in_event() {
        return;
    }
    let _ = RETRYING.try_with(|slot| {
        let mut slot = slot.borrow_mut();
        match &mut *slot {
            // A later park of the same operation.
            Some(open) if open.park.id == park.id && open.park.op == park.op && open.at == at => open.add_park(cx),
            // The first park (a leftover of an operation that unwound is
            // dropped unreported).
            _ => {
                drop(slot.take());
                drop(slot);
                // Emitting may run channel operations of the subscriber
                // on this thread, which must find the slot free.
                let open = Open::start_slow(observe::on(), cx, at, park);
                if open.is_some() {
                    let _ = RETRY_OPEN.try_with(|flag| flag.set(true));
                }
                let _ = RETRYING.try_with(|slot| *slot.borrow_mut() = open);
            }
        }
    });
}

/// A retrying operation's slow path returns `result`: if it waited, its
/// wait ends with the result's outcome. One thread-local flag otherwise.
#[inline]
pub(crate) fn finished<R: Resolved>(result: R) -> R {
    if RETRY_OPEN.try_with(Cell::get).unwrap_or(false) {
        finish_retry(result.outcome());
    }
    result
}

#[cold]
#[inline(never)]
fn finish_retry(outcome: Outcome) {
    if observe::in_event() {
        // An operation of a subscriber, inside an emission: the wait in the
        // slot belongs to the operation being reported.
        return;
    }
    let open = RETRYING.try_with(|slot| slot.try_borrow_mut().ok().and_then(|mut s| s.take())).ok().flatten();
    let _ = RETRY_OPEN.try_with(|flag| flag.set(false));
    if let Some(open) = open {
        open.end(outcome);
    }
}

/// A send on channel `id`: notes whether it feeds the log (made while this
/// thread emits a chan event), and returns whether it is the echo of an
/// event about `id` itself, which must not wait (`channel.rs`, `send`).
/// One relaxed load unless events are on.
#[inline]
pub(crate) fn sending(id: impl FnOnce() -> usize) -> bool {
    if observe::on().contains(Parts::EVENTS) {
        let id = id();
        observe::mark_quiet_if_emitting(id);
        return observe::echoes(id);
    }
    false
}

/// Channel `id` is freed.
#[inline]
pub(crate) fn freed(id: usize) {
    observe::forget_quiet(id);
}

/// Emits `closed` for a `close` that closed the channel, if events are on.
#[inline]
pub(crate) fn closed(park: impl FnOnce() -> Park) {
    if observe::on().contains(Parts::EVENTS) && observe::wanted() && !observe::in_event() {
        let p = park();
        if !observe::quiet(p.id) {
            observe::emit_closed(&p);
        }
    }
}
