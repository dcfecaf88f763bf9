//! How a select takes part in a list channel: as in `ring/select.rs`, it
//! watches `receivers` and retries on wake-up. Sends never block, so send
//! cases are always ready and never registered.

use super::Channel;
use crate::context::{Context, Operation};

impl<T> Channel<T> {
    /// Registers `cx` to be woken when a receive may go; returns whether
    /// one may go already (the caller must still unregister).
    pub(crate) fn watch_recv(&self, oper: Operation, cx: &Context) -> bool {
        self.receivers.register(oper, cx);
        self.can_recv()
    }

    pub(crate) fn unwatch_recv(&self, oper: Operation) {
        self.receivers.unregister(oper);
    }

    /// Passes on a wake-up that a watching `ready` took without receiving
    /// (see the ring's).
    pub(crate) fn forward_recv_wakeup(&self) {
        self.receivers.notify();
    }

    /// Whether a receive may not block now (conservative: may say yes for a
    /// slot still being written; the retry then finds it empty).
    pub(crate) fn can_recv_now(&self) -> bool {
        self.can_recv()
    }
}
