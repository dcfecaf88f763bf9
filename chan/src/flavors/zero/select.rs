//! How a select takes part in a rendezvous channel.
//!
//! A selecting thread lists one entry per case, exactly as a blocked `send`
//! or `recv` does, with a packet that lives in the select's heap-allocated
//! case instead of on the stack: a selecting sender's packet holds its
//! message, a selecting receiver's is empty. A peer that finds the entry
//! moves the message through the packet and then selects the thread's
//! context with the case's operation. All of a select's entries share one
//! context, so that CAS succeeds for one case at most; a peer that loses it
//! moves the message back (`Step::Undo`), under the lock, as it does for a
//! waiter that timed out. So a case is completed by a peer exactly when the
//! select wakes up selected with that case's operation, and never otherwise.

use super::{Channel, Packet, Side};
use crate::context::{Context, Operation};

/// A select case's packet. It must stay at one address while listed.
pub(crate) struct SelectPacket<T>(Packet<T>);

impl<T> SelectPacket<T> {
    pub(crate) fn new() -> Self {
        SelectPacket(Packet::new(None))
    }

    /// Moves the message out of the packet.
    ///
    /// # Safety
    /// The packet is not listed in any channel (it was never listed, was
    /// unlisted under the lock, or a peer selected its case, after which the
    /// peer no longer touches it).
    pub(crate) unsafe fn take(&self) -> Option<T> {
        // SAFETY: nobody else can reach the packet, per the contract.
        unsafe { self.0.take() }
    }

    fn as_entry_packet(&self) -> *mut () {
        // The peer writes through this pointer only via the packet's
        // `UnsafeCell`, under the lock.
        &self.0 as *const Packet<T> as *mut ()
    }
}

impl<T> Channel<T> {
    /// Whether a receive could complete (or fail, closed) now.
    pub(crate) fn can_recv_now(&self) -> bool {
        let inner = self.lock();
        inner.closed || inner.senders.has_waiter_of_other_thread()
    }

    /// Whether a send could complete (or fail, closed) now.
    pub(crate) fn can_send_now(&self) -> bool {
        let inner = self.lock();
        inner.closed || inner.receivers.has_waiter_of_other_thread()
    }

    /// Lists a selecting receiver with its empty packet, unless a receive
    /// could go now (then returns false and lists nothing).
    ///
    /// # Safety
    /// `packet` stays where it is until `select_unlist_recv(oper)` returned,
    /// or until the context was selected with `oper`.
    pub(crate) unsafe fn select_list_recv(&self, packet: &SelectPacket<T>, oper: Operation, cx: &Context) -> bool {
        let mut inner = self.lock();
        if inner.closed || inner.senders.has_waiter_of_other_thread() {
            return false;
        }
        inner.receivers.register_with_packet(oper, packet.as_entry_packet(), cx);
        inner.waiter_listed(Side::Recv);
        true
    }

    /// Lists a selecting sender with `msg` in its packet, unless a send
    /// could go now (then gives `msg` back and lists nothing).
    ///
    /// # Safety
    /// As `select_list_recv`; the packet must be empty.
    pub(crate) unsafe fn select_list_send(
        &self,
        packet: &SelectPacket<T>,
        msg: T,
        oper: Operation,
        cx: &Context,
    ) -> Result<(), T> {
        let mut inner = self.lock();
        if inner.closed || inner.receivers.has_waiter_of_other_thread() {
            return Err(msg);
        }
        // SAFETY: the packet is not listed yet and we hold the lock.
        unsafe { packet.0.put(Some(msg)) };
        inner.senders.register_with_packet(oper, packet.as_entry_packet(), cx);
        inner.waiter_listed(Side::Send);
        Ok(())
    }

    /// Watches for a send to become possible (a receiver of another thread
    /// waiting, or the channel closed) without listing a message: returns
    /// true if it is possible already (nothing is listed then). Otherwise a
    /// receiver that lists itself later selects `cx` with `oper`. A watcher
    /// takes nothing from anyone, so all of them are woken.
    pub(crate) fn watch_send(&self, oper: Operation, cx: &Context) -> bool {
        let mut inner = self.lock();
        if inner.closed || inner.receivers.has_waiter_of_other_thread() {
            return true;
        }
        inner.send_watchers.register_with_packet(oper, std::ptr::null_mut(), cx);
        false
    }

    /// Watches for a receive to become possible, as `watch_send`.
    pub(crate) fn watch_recv(&self, oper: Operation, cx: &Context) -> bool {
        let mut inner = self.lock();
        if inner.closed || inner.senders.has_waiter_of_other_thread() {
            return true;
        }
        inner.recv_watchers.register_with_packet(oper, std::ptr::null_mut(), cx);
        false
    }

    pub(crate) fn unwatch_send(&self, oper: Operation) {
        self.lock().send_watchers.unregister(oper);
    }

    pub(crate) fn unwatch_recv(&self, oper: Operation) {
        self.lock().recv_watchers.unregister(oper);
    }

    /// Unlists a selecting receiver; false if a peer had already taken the
    /// entry (it selected this case).
    pub(crate) fn select_unlist_recv(&self, oper: Operation) -> bool {
        self.lock().receivers.unregister(oper).is_some()
    }

    /// Unlists a selecting sender; false if a peer had already taken the
    /// entry (it took the message and selected this case).
    pub(crate) fn select_unlist_send(&self, oper: Operation) -> bool {
        self.lock().senders.unregister(oper).is_some()
    }
}
