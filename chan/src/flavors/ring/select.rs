//! How a select takes part in a ring channel.
//!
//! The ring never hands a message to a particular thread, so a select only
//! *watches* it: each case registers the select's context in `senders` or
//! `receivers` like a blocked operation does, re-checks the ring after the
//! registration's fence (the Dekker argument of `waker.rs`), and on wake-up
//! tries the operation again. A notification that finds the context already
//! selected through another case fails its CAS and moves on to the next
//! waiter, so a select never swallows a wake-up meant for someone else.

use super::Channel;
use crate::context::{Context, Operation};

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

    /// Whether a receive would not block now.
    pub(crate) fn can_recv_now(&self) -> bool {
        self.can_recv()
    }

    /// Whether a send would not block now.
    pub(crate) fn can_send_now(&self) -> bool {
        self.can_send()
    }
}
