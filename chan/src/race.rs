//! The channels' hooks into racecheck: which operations are happens-before
//! edges and which are accesses, with Go's rules (`runtime/chan.go`'s
//! `racenotify`, `racesync`, and `racereadpc`/`racewritepc` on
//! `c.raceaddr()`). The edges depend only on the order of the channel
//! operations, never on whether a thread parked.
//!
//! - Each slot of a bounded buffer (the ring's slots, hchan's `buf`) is a
//!   sync object. A send *notifies* the slot it fills and a receive the slot
//!   it empties, each with Go's `racereleaseacquire`: the slot takes the
//!   thread's past in place of what it held, and the thread takes in what
//!   the slot held. So a send happens before the receive that empties its
//!   slot, and for capacity C the k-th receive happens before the (k+C)-th
//!   send, which reuses that slot: a buffered channel used as a semaphore
//!   synchronizes. Nothing more: the k-th send is not ordered before the
//!   (k+C)-th, nor a receive before the receive C later.
//! - Unbounded channels only give send → receive: the sender releases into
//!   its message's slot, the receiver acquires it.
//! - A direct hand-off to a parked thread goes through the waiter's context
//!   ([`Context::publish_wait`](crate::context::Context::publish_wait) and
//!   friends). On an unbuffered channel it is an edge both ways, as Go's
//!   `racesync`. On a buffered one it pretends to go through the buffer
//!   slot, as Go does: the peer notifies the slot for itself and then for
//!   the waiter, with the past the waiter published when it parked, so the
//!   edges are those of the same operations done without parking. On an
//!   unbounded one the sender's past goes to the receiver only.
//! - The channel itself is a variable ([`ChanRace`]): `close` writes it and
//!   every send (a send case of a select that is tried or chosen included)
//!   reads it, so a send not ordered with the close is a race. `close` also
//!   releases into a channel-level clock that an operation failing because
//!   of the close acquires. `len` and `capacity` are not accesses: as in Go,
//!   whose `raceaddr` is kept apart from the fields `len` and `cap` read so
//!   that they never race with `close`.
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

#[cfg(feature = "racecheck")]
pub(crate) use racecheck::annotate::{SyncClock, Variable};

#[cfg(not(feature = "racecheck"))]
pub(crate) use self::off::{SyncClock, Variable};

/// Whether racecheck's detection is on in this process (`RACECHECK=1`): one
/// relaxed load; always false without the `racecheck` feature.
#[cfg(feature = "racecheck")]
#[inline(always)]
pub(crate) fn enabled() -> bool {
    racecheck::enabled()
}

/// Without the `racecheck` feature no detection can be on, and every hook
/// below folds away.
#[cfg(not(feature = "racecheck"))]
#[inline(always)]
pub(crate) const fn enabled() -> bool {
    false
}

/// Stand-ins for racecheck's types when chan is built without it: the same
/// methods, doing nothing, and no space taken.
#[cfg(not(feature = "racecheck"))]
mod off {
    use std::panic::Location;

    #[derive(Debug, Default)]
    pub(crate) struct SyncClock;

    #[allow(dead_code)]
    impl SyncClock {
        pub(crate) const fn new() -> SyncClock {
            SyncClock
        }
        pub(crate) fn release(&self) {}
        pub(crate) fn release_merge(&self) {}
        pub(crate) fn acquire(&self) {}
        pub(crate) fn release_acquire(&self) {}
        pub(crate) fn release_acquire_for(&self, _published: &SyncClock, _deliver: &SyncClock) {}
        pub(crate) fn reset(&self) {}
    }

    #[derive(Debug, Default)]
    pub(crate) struct Variable;

    #[allow(dead_code)]
    impl Variable {
        pub(crate) const fn new() -> Variable {
            Variable
        }
        pub(crate) fn read_at(&self, _place: &'static Location<'static>) {}
        pub(crate) fn write_at(&self, _place: &'static Location<'static>) {}
    }
}

/// Go's `racenotify` on a buffer slot: the calling thread passes its past
/// to the slot and takes in what the slot held (`racereleaseacquire`).
#[inline]
pub(crate) fn notify(slot: &SyncClock) {
    slot.release_acquire();
}

/// Sync objects for the `n` slots of a buffer: `n` clocks with detection
/// on, none with it off, so that an unchecked program's slots keep their
/// size and cache-line layout.
pub(crate) fn slot_clocks(n: usize) -> Box<[SyncClock]> {
    let n = if enabled() { n } else { 0 };
    (0..n).map(|_| SyncClock::new()).collect()
}

/// [`notify`] on slot `i` of clocks from [`slot_clocks`]; one relaxed load
/// with detection off.
#[inline]
pub(crate) fn notify_slot(clocks: &[SyncClock], i: usize) {
    if enabled() {
        if let Some(slot) = clocks.get(i) {
            notify(slot);
        }
    }
}

/// racecheck's view of a channel as a whole: what Go keeps at
/// `c.raceaddr()`, plus the edge between the drops of a channel's senders.
#[derive(Default)]
pub(crate) struct ChanRace {
    /// Written by `close`, read by every send.
    addr: Variable,
    /// `close` releases into it; an operation that fails because the
    /// channel is closed acquires it (Go's `racerelease`/`raceacquire` on
    /// `c.raceaddr()`).
    closed: SyncClock,
    /// Every sender's drop releases into it, and the last one, which closes
    /// the channel, acquires it first: the handle count orders the drops,
    /// so each sender's sends are ordered before that close.
    senders_gone: SyncClock,
}

impl ChanRace {
    pub(crate) const fn new() -> ChanRace {
        ChanRace { addr: Variable::new(), closed: SyncClock::new(), senders_gone: SyncClock::new() }
    }

    /// A send (or a select's try of a send case) at `at`: a read of the
    /// channel.
    #[inline]
    pub(crate) fn send(&self, at: &'static Location<'static>) {
        self.addr.read_at(at);
    }

    /// Runs `close`, which returns whether it closed the channel, as Go's
    /// `closechan` does: a write of the channel at `at` (unless it was
    /// `already_closed`), then the closer's past published, so that whoever
    /// sees the channel closed takes in the write too.
    pub(crate) fn close(
        &self,
        at: &'static Location<'static>,
        already_closed: bool,
        close: impl FnOnce() -> bool,
    ) -> bool {
        if !already_closed {
            self.addr.write_at(at);
        }
        self.closed.release_merge();
        close()
    }

    /// An operation found the channel closed (or its other side gone).
    #[inline]
    pub(crate) fn observed_close(&self) {
        self.closed.acquire();
    }

    /// A sender handle is about to be uncounted.
    #[inline]
    pub(crate) fn sender_dropping(&self) {
        self.senders_gone.release_merge();
    }

    /// The last sender is about to close the channel: every other sender's
    /// drop is ordered before it.
    #[inline]
    pub(crate) fn last_sender_gone(&self) {
        self.senders_gone.acquire();
    }
}

/// A wait that racecheck's deadlock detector knows about, until dropped.
pub(crate) struct Blocked(#[cfg_attr(not(feature = "racecheck"), allow(dead_code))] bool);

/// Tells racecheck's deadlock detector that this thread is about to wait
/// in `op` (Go's wait reason: `chan send`, `chan receive`) called at `at`.
/// Waits with a deadline are left out: they end by themselves.
#[inline]
pub(crate) fn blocking(deadline: Option<Instant>, op: &'static str, at: &'static Location<'static>) -> Blocked {
    if deadline.is_none() && enabled() {
        #[cfg(feature = "racecheck")]
        racecheck::deadlock::park(op, at);
        Blocked(true)
    } else {
        let _ = (op, at);
        Blocked(false)
    }
}

impl Drop for Blocked {
    fn drop(&mut self) {
        #[cfg(feature = "racecheck")]
        if self.0 {
            racecheck::deadlock::unpark();
        }
    }
}

/// A channel operation is about to start: a scheduling point for
/// `racecheck::explore`. Never call it while holding a channel's lock.
#[inline]
pub(crate) fn operation() {
    #[cfg(feature = "racecheck")]
    racecheck::schedule::point();
}

/// Runs `wait`, a park of this thread, as a blocked wait for
/// `racecheck::explore` (the turn passes to another thread meanwhile).
#[inline]
pub(crate) fn park<R>(wait: impl FnOnce() -> R) -> R {
    #[cfg(feature = "racecheck")]
    return racecheck::schedule::park(wait);
    #[cfg(not(feature = "racecheck"))]
    wait()
}

/// This thread is about to unpark `thread`.
#[inline]
#[cfg_attr(loom, allow(dead_code))]
pub(crate) fn unparking(thread: &std::thread::Thread) {
    #[cfg(feature = "racecheck")]
    racecheck::schedule::unparking(thread);
    #[cfg(not(feature = "racecheck"))]
    let _ = thread;
}

/// Whether this thread runs under `racecheck::explore`, where waiting
/// actively for a peer is pointless (the peer runs only once this thread
/// parks). One relaxed load when detection is off.
#[inline]
pub(crate) fn exploring() -> bool {
    #[cfg(feature = "racecheck")]
    return racecheck::schedule::is_exploring();
    #[cfg(not(feature = "racecheck"))]
    false
}

/// Under `racecheck::explore`, a random number from the schedule, so that
/// a seed replays `select!`'s choices too.
#[inline]
pub(crate) fn schedule_random() -> Option<u64> {
    #[cfg(feature = "racecheck")]
    return racecheck::schedule::random();
    #[cfg(not(feature = "racecheck"))]
    None
}

/// Sleeps `duration`: a wait `racecheck::explore` sees, when it runs.
pub(crate) fn sleep(duration: std::time::Duration) {
    #[cfg(feature = "racecheck")]
    racecheck::thread::sleep(duration);
    #[cfg(not(feature = "racecheck"))]
    std::thread::sleep(duration);
}
