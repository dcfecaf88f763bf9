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

use std::marker::PhantomData;

use super::{packet, Arrival, Channel, Packet, Side, ABANDONED, FILLED, ON_TIME, PENDING};
use crate::context::{Context, Operation};
use crate::sync::atomic::Ordering;
use crate::waker::{Entry, Step};

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

    /// After a peer selected this receive case: waits for a message that a
    /// `Select::send` reservation brings late (see `Packet`).
    pub(crate) fn wait_for_message(&self) -> Arrival {
        self.0.wait_for_message()
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
        // A fresh round: the message comes with the selection unless a
        // reservation says otherwise (nobody else sees the packet now).
        packet.0.late.store(ON_TIME, Ordering::Relaxed);
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

    /// `Select::send`: sets a waiting receiver of another thread aside for
    /// a message that comes later, so that `SelectedOperation::send` never
    /// blocks. The receiver is selected now, its packet marked `PENDING`;
    /// it stays parked (a peer that selects it unparks it, and nobody has)
    /// or, if it wakes, waits in `wait_for_message` until the reservation
    /// fills the packet or gives it up. `Err(true)` if the channel is
    /// closed, `Err(false)` if no receiver waits.
    pub(crate) fn reserve_receiver(&self) -> Result<LateSend<T>, bool> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(true);
        }
        let entry = inner.receivers.try_select_with(|entry, step| {
            // SAFETY: a listed receiver's packet, under the lock.
            let packet = unsafe { packet::<T>(entry) };
            // Published to the receiver by the selecting CAS that follows.
            match step {
                Step::Prepare => packet.late.store(PENDING, Ordering::Relaxed),
                Step::Undo => packet.late.store(ON_TIME, Ordering::Relaxed),
            }
        });
        entry.map(|entry| LateSend { entry: Some(entry), _marker: PhantomData }).ok_or(false)
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

/// A receiver that `reserve_receiver` selected, owed a message.
pub(crate) struct LateSend<T> {
    /// `None` once the message was handed over.
    entry: Option<Entry>,
    _marker: PhantomData<fn(T)>,
}

/// The reserved receiver's packet.
///
/// # Safety
/// `entry` comes from a `LateSend<T>` not yet completed.
unsafe fn late_packet<T>(entry: &Entry) -> &Packet<T> {
    // SAFETY: the entry was listed with a `Packet<T>` by this channel. Its
    // owner was selected by `reserve_receiver` and waits for `late` to
    // leave `PENDING` before it touches or frees the packet (a plain
    // receive's packet is on its stack, a select's in its case), and the
    // entry is unlisted, so no other peer reaches it.
    unsafe { packet::<T>(entry) }
}

impl<T> LateSend<T> {
    /// Hands `msg` to the reserved receiver and wakes it.
    pub(crate) fn send(mut self, msg: T) {
        let entry = self.entry.take().expect("a reservation is completed once");
        // SAFETY: not completed yet (we just took the entry).
        let packet = unsafe { late_packet::<T>(&entry) };
        // racecheck: the send happens here, so the edge is made here (the
        // receiver acquires again when it sees FILLED).
        entry.cx.sync_with_waiter();
        // SAFETY: exclusive access to the packet (see `late_packet`).
        unsafe { packet.put(Some(msg)) };
        // Release: the receiver's Acquire load of FILLED sees the message.
        packet.late.store(FILLED, Ordering::Release);
        entry.cx.unpark();
    }
}

impl<T> Drop for LateSend<T> {
    /// Given up without a message: the receiver receives again.
    fn drop(&mut self) {
        if let Some(entry) = self.entry.take() {
            // SAFETY: not completed (the entry was still there).
            unsafe { late_packet::<T>(&entry) }.late.store(ABANDONED, Ordering::Release);
            entry.cx.unpark();
        }
    }
}
