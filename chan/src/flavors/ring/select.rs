//! How a select takes part in a ring channel.
//!
//! The ring never hands a message to a particular thread, so a select only
//! *watches* it: each case registers the select's context in `senders` or
//! `receivers` like a blocked operation does, re-checks the ring after the
//! registration's fence (the Dekker argument of `waker.rs`), and on wake-up
//! tries the operation again. A notification that finds the context already
//! selected through another case fails its CAS and moves on to the next
//! waiter, so a select never swallows a wake-up meant for someone else.

use super::{Channel, Claim, CHECKING, PASSED};
use crate::context::{Context, Operation};
use crate::sync::atomic::Ordering;

/// What reserving a slot for a later send found.
pub(crate) enum Reserve {
    /// The slot at this position is reserved: complete it with
    /// [`Channel::send_reserved`] or give it up with
    /// [`Channel::abandon_reserved`], exactly once.
    Slot(usize),
    /// No room now.
    Full,
    /// Closed: the send will fail.
    Closed,
}

impl<T> Channel<T> {
    /// Registers `cx` to be woken when a receive may go; returns whether
    /// one may go already (the caller must still unregister).
    pub(crate) fn watch_recv(&self, oper: Operation, cx: &Context) -> bool {
        self.receivers.register(oper, cx);
        self.can_recv()
    }

    /// Registers `cx` to be woken when a send may go; returns whether one
    /// may go already (the caller must still unregister).
    pub(crate) fn watch_send(&self, oper: Operation, cx: &Context) -> bool {
        self.senders.register(oper, cx);
        self.can_send()
    }

    pub(crate) fn unwatch_recv(&self, oper: Operation) {
        self.receivers.unregister(oper);
    }

    pub(crate) fn unwatch_send(&self, oper: Operation) {
        self.senders.unregister(oper);
    }

    /// `Select::send`: claims a slot now for a message that comes later,
    /// so that `SelectedOperation::send` never blocks, as crossbeam-channel
    /// promises. Until the message is written the slot is stamped
    /// *reserved* (`tail | mark_bit`): `try_recv` finds the ring empty there
    /// and a blocking receiver parks until the write notifies it.
    pub(crate) fn reserve_send(&self) -> Reserve {
        loop {
            match self.claim_send() {
                Claim::Slot(tail) => {
                    if self.mark_reserved(tail) {
                        return Reserve::Slot(tail);
                    }
                    // A receiver passed the slot before we marked it: it
                    // was never ours to keep; claim another.
                }
                Claim::WouldBlock => return Reserve::Full,
                Claim::Closed => return Reserve::Closed,
            }
        }
    }

    /// Stamps the slot just claimed at `tail` *reserved*, so that a
    /// receiver waiting for it parks instead of waiting for the write
    /// (`can_recv`): the message may take any time to come. Until this
    /// stamp the slot looks like one being written, which a receiver may
    /// pass when a later message is ready (`pass_unwritten`): after the
    /// stamp (a compare-exchange, so a full barrier, the reservation's side
    /// of that Dekker pair) we look at the slot's pass word. If a receiver
    /// is passing or has passed the slot, the reservation is given up: the
    /// slot is freed and `false` returned.
    pub(super) fn mark_reserved(&self, tail: usize) -> bool {
        let slot = self.slot(tail);
        let marked =
            slot.stamp.compare_exchange(tail, tail | self.mark_bit, Ordering::SeqCst, Ordering::Relaxed).is_ok();
        debug_assert!(marked, "only the slot's sender changes a claimed, unwritten stamp");
        let key = self.pass_key(tail);
        loop {
            // SeqCst: with the SeqCst stamp above, the store-load pair that
            // a receiver's fence answers (a weaker load is not ordered
            // after the stamp in the language's model).
            let word = self.pass(tail).load(Ordering::SeqCst);
            if marked && word & !(self.mark_bit - 1) != key {
                return true;
            }
            if word & (self.mark_bit - 1) == CHECKING
                && self.pass(tail).compare_exchange(word, key | PASSED, Ordering::AcqRel, Ordering::Acquire).is_err()
            {
                continue;
            }
            // Passed (by us just now, or by the receiver): give the slot up.
            self.free_passed_slot(tail);
            return false;
        }
    }

    /// Writes `msg` into the slot `reserve_send` claimed. Gives `msg` back
    /// if a receiver passed the reserved slot while later messages were
    /// ready (see `claim_recv`): the reservation is then gone and the
    /// caller sends as a plain `send` does.
    ///
    /// # Safety
    /// `tail` comes from `Reserve::Slot` of this channel and is completed or
    /// abandoned once.
    pub(crate) unsafe fn send_reserved(&self, tail: usize, msg: T) -> Result<(), T> {
        // SAFETY: a reservation is a successful claim, used once (contract).
        unsafe { self.fill(tail, tail | self.mark_bit, msg) }?;
        // With a fence: a receiver may have parked in front of the reserved
        // slot after our claim, so the claim alone does not order us with
        // its re-check (the Dekker argument of `waker.rs`).
        self.receivers.notify();
        Ok(())
    }

    /// Gives a reserved slot up without a message: stamps it as a *hole*,
    /// "written in this lap" with the mark bit set (a stamp never carries
    /// that bit otherwise), which the next receive steps over.
    ///
    /// # Safety
    /// As for [`send_reserved`](Channel::send_reserved).
    pub(crate) unsafe fn abandon_reserved(&self, tail: usize) {
        // Release, as a write's stamp: the receiver that steps over the hole
        // and frees the slot for the next lap is ordered after our claim.
        // A receiver may have left the hole already (`claim_recv`): then we
        // are the second to leave and free the slot.
        let hole = (tail + 1) | self.mark_bit;
        match self.slot(tail).stamp.compare_exchange(tail | self.mark_bit, hole, Ordering::Release, Ordering::Relaxed) {
            Ok(_) => self.receivers.notify(),
            Err(_) => self.free_passed_slot(tail),
        }
    }

    /// Passes on a wake-up that a watching `ready` took without receiving:
    /// the message that caused it is still there for another waiter.
    pub(crate) fn forward_recv_wakeup(&self) {
        self.receivers.notify();
    }

    /// As `forward_recv_wakeup`, for room that a `ready` did not use.
    pub(crate) fn forward_send_wakeup(&self) {
        self.senders.notify();
    }

    /// Whether a receive would not block now, as `claim_recv` decides: a
    /// message (or a hole, which the receive steps over) at `head`, closed
    /// and drained, or a message ready after a slot whose sender has not
    /// written it yet (the receive passes that slot). Unlike the waiters'
    /// re-check `can_recv`, an unwritten slot alone does not count, so
    /// `Select::ready` does not report a receive that would find the ring
    /// empty.
    pub(crate) fn can_recv_now(&self) -> bool {
        let head = self.head.load(Ordering::SeqCst);
        let stamp = self.slot(head).stamp.load(Ordering::SeqCst);
        if stamp & !self.mark_bit == head + 1 {
            return true;
        }
        let tail = self.tail.load(Ordering::SeqCst);
        if tail & !self.mark_bit == head {
            return tail & self.mark_bit != 0;
        }
        stamp & !self.mark_bit == head && self.written_between(head, tail)
    }

    /// Whether a send would not block now: a free slot at `tail`, or closed
    /// (a slot still being read does not count, as in `can_recv_now`).
    pub(crate) fn can_send_now(&self) -> bool {
        let tail = self.tail.load(Ordering::SeqCst);
        tail & self.mark_bit != 0 || self.slot(tail).stamp.load(Ordering::SeqCst) == tail
    }
}
