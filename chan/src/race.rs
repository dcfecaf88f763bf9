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
//! With detection off each hook is one relaxed load of racecheck's global
//! flag, and each clock one null pointer.

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
