//! The channels' hooks into racecheck: which operations are happens-before
//! edges, with Go's rules (`runtime/chan.go`'s `racenotify`/`racesync`).
//!
//! - Each slot of a bounded buffer (the ring's slots, hchan's `buf`) is a
//!   sync object. A send *notifies* the slot it fills and a receive the slot
//!   it empties: each acquires the slot's clock and then releases into it.
//!   So a send happens before the receive that empties its slot, and for
//!   capacity C the k-th receive happens before the (k+C)-th send, which
//!   reuses that slot: a buffered channel used as a semaphore synchronizes.
//! - Unbounded channels only give send → receive: the sender releases into
//!   its message's slot, the receiver acquires it.
//! - A direct hand-off to a parked thread (unbuffered channels, and hchan's
//!   hand-off to a waiting receiver) goes through the waiter's context
//!   ([`Context::publish_wait`](crate::context::Context::publish_wait) and
//!   friends) and is an edge both ways, as Go's `racesync` makes it.
//! - `close` releases into a channel-level clock; a receive that fails
//!   because the channel is closed acquires it (see `channel.rs`).
//!
//! Blocking operations also tell racecheck's deadlock detector where they
//! wait ([`blocking`]); the public methods are `#[track_caller]` down to the
//! park sites so that the location is the user's line.
//!
//! Under `racecheck::explore`, which runs one thread of a program at a time
//! and picks which at each scheduling point, every public channel
//! operation is a scheduling point ([`operation`], taken before the
//! operation touches the channel), a park passes the turn on ([`park`]),
//! a wake-up makes the woken thread runnable at once ([`unparking`]),
//! nobody spins waiting for a peer that cannot run ([`exploring`]), and a
//! select's random order comes from the schedule ([`schedule_random`]).
//!
//! With detection off each hook is one relaxed load of racecheck's global
//! flag, and the per-slot clocks are not even allocated.

use std::panic::Location;
use std::time::Instant;

use racecheck::annotate::SyncClock;

/// Go's `racenotify`: the calling thread both observes and publishes
/// through `slot`.
#[inline]
pub(crate) fn notify(slot: &SyncClock) {
    if racecheck::enabled() {
        slot.acquire();
        slot.release();
    }
}

/// Sync objects for the `n` slots of a buffer: `n` clocks with detection
/// on, none with it off, so that an unchecked program's slots keep their
/// size and cache-line layout.
pub(crate) fn slot_clocks(n: usize) -> Box<[SyncClock]> {
    let n = if racecheck::enabled() { n } else { 0 };
    (0..n).map(|_| SyncClock::new()).collect()
}

/// [`notify`] on slot `i` of clocks from [`slot_clocks`]; one relaxed load
/// with detection off.
#[inline]
pub(crate) fn notify_slot(clocks: &[SyncClock], i: usize) {
    if racecheck::enabled() {
        if let Some(slot) = clocks.get(i) {
            notify(slot);
        }
    }
}

/// A wait that racecheck's deadlock detector knows about, until dropped.
pub(crate) struct Blocked(bool);

/// Tells racecheck's deadlock detector that this thread is about to wait
/// in `op` (Go's wait reason: `chan send`, `chan receive`) called at `at`.
/// Waits with a deadline are left out: they end by themselves.
#[inline]
pub(crate) fn blocking(deadline: Option<Instant>, op: &'static str, at: &'static Location<'static>) -> Blocked {
    if deadline.is_none() && racecheck::enabled() {
        racecheck::deadlock::park(op, at);
        Blocked(true)
    } else {
        Blocked(false)
    }
}

impl Drop for Blocked {
    fn drop(&mut self) {
        if self.0 {
            racecheck::deadlock::unpark();
        }
    }
}

/// A channel operation is about to start: a scheduling point for
/// `racecheck::explore`. Never call it while holding a channel's lock.
#[inline]
pub(crate) fn operation() {
    racecheck::schedule::point();
}

/// Runs `wait`, a park of this thread, as a blocked wait for
/// `racecheck::explore` (the turn passes to another thread meanwhile).
#[inline]
pub(crate) fn park<R>(wait: impl FnOnce() -> R) -> R {
    racecheck::schedule::park(wait)
}

/// This thread is about to unpark `thread`.
#[inline]
#[cfg_attr(loom, allow(dead_code))]
pub(crate) fn unparking(thread: &std::thread::Thread) {
    racecheck::schedule::unparking(thread);
}

/// Whether this thread runs under `racecheck::explore`, where waiting
/// actively for a peer is pointless (the peer runs only once this thread
/// parks). One relaxed load when detection is off.
#[inline]
pub(crate) fn exploring() -> bool {
    racecheck::schedule::is_exploring()
}

/// Under `racecheck::explore`, a random number from the schedule, so that
/// a seed replays `select!`'s choices too.
#[inline]
pub(crate) fn schedule_random() -> Option<u64> {
    racecheck::schedule::random()
}
