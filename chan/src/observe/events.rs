//! The `tracing` events, and what keeps them from feeding themselves: the
//! per-thread guard around each emission and the set of channels that carry
//! the log.

use std::cell::Cell;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::park::{Outcome, Park};

thread_local! {
    /// The channel whose chan event this thread is emitting now (and so,
    /// perhaps, inside a subscriber that uses channels), or 0.
    static EMITTING: Cell<usize> = const { Cell::new(0) };
}

/// Whether this thread is emitting a chan event now. A thread being torn
/// down counts as emitting: it observes nothing.
#[inline]
pub(crate) fn in_event() -> bool {
    EMITTING.try_with(Cell::get) != Ok(0)
}

/// Whether this thread is emitting a chan event about channel `id`: a send
/// on `id` now is the event's own line coming back to the channel it is
/// about (see `channel.rs`, `send`).
#[inline]
pub(crate) fn echoes(id: usize) -> bool {
    EMITTING.try_with(Cell::get).is_ok_and(|emitting| emitting == id)
}

/// Runs `emit` with this thread marked as emitting an event about channel
/// `id` (unmarked again even if the subscriber panics).
#[cfg_attr(not(feature = "trace"), allow(dead_code))]
fn emitting(id: usize, emit: impl FnOnce()) {
    struct Unmark;
    impl Drop for Unmark {
        fn drop(&mut self) {
            let _ = EMITTING.try_with(|e| e.set(0));
        }
    }
    if EMITTING.try_with(|e| e.replace(id.max(1))) != Ok(0) {
        return;
    }
    let _unmark = Unmark;
    emit();
}

/// Channels that carry the log: a thread sent on each while it emitted a
/// chan event. Few (one per logging pipeline), so a vector.
static QUIET: Mutex<Vec<usize>> = Mutex::new(Vec::new());
/// Whether `QUIET` may be non-empty, so that a channel's free need not
/// lock it otherwise.
static ANY_QUIET: AtomicBool = AtomicBool::new(false);

fn quiet_list() -> std::sync::MutexGuard<'static, Vec<usize>> {
    QUIET.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether channel `id` carries the log (emits no event).
pub(crate) fn quiet(id: usize) -> bool {
    ANY_QUIET.load(Ordering::Acquire) && quiet_list().contains(&id)
}

/// A send on channel `id`: if this thread is emitting a chan event, the
/// channel carries the log, and is quiet from now on.
#[cold]
pub(crate) fn mark_quiet_if_emitting(id: usize) {
    if in_event() {
        let mut list = quiet_list();
        if !list.contains(&id) {
            list.push(id);
        }
        ANY_QUIET.store(true, Ordering::Release);
    }
}

/// Channel `id` is being freed: a new channel at the same address starts
/// out loud.
pub(crate) fn forget_quiet(id: usize) {
    if ANY_QUIET.load(Ordering::Acquire) {
        quiet_list().retain(|&q| q != id);
    }
}

/// `id` as the events show it: the address in hex.
#[cfg_attr(not(feature = "trace"), allow(dead_code))]
struct ChanId(usize);

impl std::fmt::Display for ChanId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// `capacity` as the events show it.
pub(crate) struct Capacity(pub(crate) Option<usize>);

impl std::fmt::Display for Capacity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{n}"),
            None => f.write_str("unbounded"),
        }
    }
}

/// Whether a subscriber listens to `chan` at `DEBUG` (tracing caches the
/// answer per call site).
#[inline]
pub(crate) fn wanted() -> bool {
    #[cfg(feature = "trace")]
    {
        tracing::enabled!(target: "chan", tracing::Level::DEBUG)
    }
    #[cfg(not(feature = "trace"))]
    {
        false
    }
}

/// Emits `parked`.
pub(crate) fn emit_parked(p: &Park, at: &'static Location<'static>) {
    #[cfg(feature = "trace")]
    emitting(p.id, || {
        tracing::debug!(
            target: "chan",
            id = %ChanId(p.id),
            op = p.op,
            flavor = p.flavor,
            capacity = %Capacity(p.capacity),
            len = p.len,
            at = %at,
            "parked"
        );
    });
    #[cfg(not(feature = "trace"))]
    let _ = (p, at);
}

/// Emits `woke`.
pub(crate) fn emit_woke(p: &Park, at: &'static Location<'static>, waited: Duration, outcome: Outcome) {
    #[cfg(feature = "trace")]
    emitting(p.id, || {
        tracing::debug!(
            target: "chan",
            id = %ChanId(p.id),
            op = p.op,
            flavor = p.flavor,
            capacity = %Capacity(p.capacity),
            at = %at,
            waited = ?waited,
            outcome = outcome.as_str(),
            "woke"
        );
    });
    #[cfg(not(feature = "trace"))]
    let _ = (p, at, waited, outcome);
}

/// Emits `closed`.
pub(crate) fn emit_closed(p: &Park) {
    #[cfg(feature = "trace")]
    emitting(p.id, || {
        tracing::debug!(
            target: "chan",
            id = %ChanId(p.id),
            flavor = p.flavor,
            capacity = %Capacity(p.capacity),
            len = p.len,
            "closed"
        );
    });
    #[cfg(not(feature = "trace"))]
    let _ = p;
}
