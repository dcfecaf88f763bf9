//! Blocking observability: what chan's blocking operations can tell you,
//! each part off until the program asks for it.
//!
//! A blocking operation *waits* when it cannot complete at once and parks
//! (after a short spin on the lock-free flavors). Three views of those
//! waits, each switched on separately:
//!
//! - **Events** ([`set_events`]; needs the cargo feature `trace`, on by
//!   default): a `tracing` event under target `chan` when an operation
//!   starts to wait (`parked`) and one when it resumes (`woke`), plus
//!   `closed` when a channel is closed. Your subscriber still filters them
//!   (`RUST_LOG=chan=debug`); without `set_events(true)` chan emits
//!   nothing, whatever the filter says.
//! - **Profile** ([`set_profiling`], [`profile`]): Go's block profile, but
//!   every wait counted: per call site (`file:line:col` of your `send`,
//!   `recv`, `select`...) and operation, the number of waits, the total
//!   time blocked, and the median, 99th percentile and longest wait.
//!   [`Profile`] prints as a table.
//! - **Timeline** ([`start_timeline`], [`stop_timeline`]): every wait as a
//!   slice on its thread's track, and an arrow from the operation that woke
//!   it, written as Chrome trace-event JSON that <https://ui.perfetto.dev>
//!   and `chrome://tracing` open.
//!
//! The same switches from outside the program, for one run:
//! `CHAN_OBSERVE=events,profile,timeline=PATH` (any subset, comma
//! separated). `profile` there also prints the table to stderr when the
//! process exits, and `timeline=PATH` writes the file then (both at exit
//! on Linux, where chan hooks `atexit`). An item it does not know is
//! reported on stderr by name and ignored. The variable is read once, at
//! the first send or wait or the first call into this module.
//!
//! ```
//! use std::{thread, time::Duration};
//!
//! chan::observe::set_profiling(true);
//! let (tx, rx) = chan::bounded::<u32>(0);
//! let h = thread::spawn(move || {
//!     thread::sleep(Duration::from_millis(20));
//!     tx.send(7).unwrap();
//! });
//! assert_eq!(rx.recv(), Ok(7)); // waits about 20 ms
//! h.join().unwrap();
//! let profile = chan::observe::profile();
//! let row = profile.rows().iter().find(|r| r.op == "recv").unwrap();
//! assert!(row.count >= 1 && row.total >= Duration::from_millis(10));
//! println!("{profile}");
//! chan::observe::set_profiling(false);
//! ```
//!
//! # Never self-feeding
//!
//! A `tracing` subscriber may itself send on a chan channel (a
//! non-blocking writer such as `tracing-appender`'s hands every line to a
//! writer thread through one). chan keeps that from looping:
//!
//! - while a thread emits a chan event, chan observes none of that thread's
//!   operations (no event, no profile entry, no slice): a send that blocks
//!   inside the subscriber cannot emit another event, so nothing recurses;
//! - a channel that a thread sends on while it emits a chan event carries
//!   the log itself: from then on (until the channel is freed) it emits no
//!   events. Its writer thread waiting on it for the next line, which would
//!   otherwise log its own wait into the channel it waits on and wake
//!   itself, forever, stays quiet. The profile and the timeline still show
//!   that channel's waits: recording them calls no user code;
//! - a send made while a thread emits a chan event about that same channel
//!   (the event's line coming back to the channel it is about) never
//!   waits: with no room the line is dropped. The thread may be the one
//!   that drains the channel (the writer reporting its own wake-up), and
//!   would otherwise wait on itself.
//!
//! # Cost
//!
//! Off: each send reads one global word (the check for a send made while
//! emitting, two instructions), a wait reads it at its park and one
//! thread-local flag when it ends; nothing else changes. On, the
//! recording runs only for operations that park, which already pay for a
//! futex wait and wake. `docs/observability.md` has the measurements.

mod events;
mod park;
mod profile;
mod switch;
mod timeline;

pub(crate) use events::{
    echoes, emit_closed, emit_parked, emit_woke, forget_quiet, in_event, mark_quiet_if_emitting, quiet, wanted,
};
pub(crate) use park::{Outcome, Park};
pub(crate) use profile::record as record_profile;
pub use profile::{Profile, ProfileRow};
pub(crate) use switch::{on, Parts};
pub use timeline::Timeline;
pub(crate) use timeline::{record_slice, record_wake, SliceRecord};

/// A flow id for a wait that is starting, or 0 when no timeline records.
/// It lives here rather than in `timeline.rs` because it reads the switch,
/// and the switch starts the timeline: each of the two names only this
/// index, never the other.
#[inline]
pub(crate) fn next_flow() -> usize {
    if switch::on().contains(Parts::TIMELINE) {
        timeline::fresh_flow()
    } else {
        0
    }
}

/// Switches the `tracing` events of waits on or off (off at start).
///
/// On, each wait emits `parked` and `woke` under target `chan` at level
/// `DEBUG`, and [`Sender::close`](crate::Sender::close) emits `closed`;
/// your subscriber's filter then decides what is written. The fields:
///
/// - `parked`: `id` (the channel's address in hex, stable for its life;
///   a select's own address for `op = "select"`), `op` (`send`, `recv`,
///   `select`), `flavor` (`ring`, `list`, `zero`, `hchan`, `select`),
///   `capacity` (a number, or `unbounded`; `unbounded` for a select),
///   `len` (messages buffered when it started to wait; for a select, the
///   number of cases), `at` (the caller's `file:line:col`).
/// - `woke`: `id`, `op`, `flavor`, `capacity`, `at`, `waited` (the time
///   blocked, a `Duration`) and `outcome`: `completed` (the operation
///   went through), `closed` (the channel was closed or lost its other
///   side), `timeout` (the deadline passed).
/// - `closed`: `id`, `flavor`, `capacity`, `len`.
///
/// Every flavor emits the same pair for the same situation: one `parked`
/// when the operation starts to wait, one `woke` when it completes, fails
/// or times out, however many times it parked in between.
///
/// Built without the `trace` feature, chan has no `tracing` to emit to,
/// and this does nothing.
pub fn set_events(on: bool) {
    switch::set(Parts::EVENTS, on && cfg!(feature = "trace"));
}

/// Whether [`set_events`] (or `CHAN_OBSERVE=events`) switched the events
/// on (never, without the `trace` feature).
pub fn events_enabled() -> bool {
    switch::on().contains(Parts::EVENTS)
}

/// Switches the blocking profile on or off (off at start). Switching it
/// off keeps what was recorded; [`reset_profile`] clears it.
pub fn set_profiling(on: bool) {
    switch::set(Parts::PROFILE, on);
}

/// Whether the blocking profile is recording.
pub fn profiling() -> bool {
    switch::on().contains(Parts::PROFILE)
}

/// What the blocking profile has recorded so far: one row per call site,
/// operation and flavor, the longest total blocked time first.
pub fn profile() -> Profile {
    switch::init();
    profile::snapshot()
}

/// Clears the blocking profile.
pub fn reset_profile() {
    switch::init();
    profile::reset();
}

/// Prints the blocking profile to stderr when the process exits (Linux;
/// elsewhere this does nothing). `CHAN_OBSERVE=profile` does this too.
pub fn print_profile_at_exit() {
    switch::init();
    switch::at_exit_print_profile();
}

/// Starts recording a timeline, dropping anything recorded before. Every
/// wait that ends while it records becomes a slice; see [`Timeline`].
pub fn start_timeline() {
    switch::init();
    timeline::start();
    switch::set(Parts::TIMELINE, true);
}

/// Stops recording and returns the timeline recorded since
/// [`start_timeline`] (empty if it was not started).
pub fn stop_timeline() -> Timeline {
    switch::init();
    switch::set(Parts::TIMELINE, false);
    timeline::take()
}
