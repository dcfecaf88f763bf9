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

use super::{packet, Arrival, Channel, Packet, Side, ABANDONED, FILLED, LATE_SENDER, ON_TIME, PENDING};
use crate::context::{Context, Operation};
use crate::sync::atomic::Ordering;
use crate::waker::Step;

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

    /// After a receiver selected this late send case: the receiver, which
    /// waits for the message.
    pub(crate) fn take_peer(&self) -> Option<LateSend<T>> {
        // SAFETY: the receiver that selected us wrote `peer` before its CAS
        // and no longer touches our packet; the caller was selected.
        self.0.peer.with_mut(|p| unsafe { (*p).take() })
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

    /// Lists a `Select::send` case, which has no message yet, as a *late
    /// sender*: a receiver that comes selects it and waits for the message
    /// in its own packet, which the select delivers with
    /// `SelectedOperation::send` (crossbeam-channel's zero flavor does the
    /// same). Returns false, listing nothing, if a send could go now.
    ///
    /// # Safety
    /// As `select_list_recv`.
    pub(crate) unsafe fn select_list_late_send(&self, packet: &SelectPacket<T>, oper: Operation, cx: &Context) -> bool {
        let mut inner = self.lock();
        if inner.closed || inner.receivers.has_waiter_of_other_thread() {
            return false;
        }
        // Nobody else sees the packet until it is listed, under this lock.
        packet.0.late.store(LATE_SENDER, Ordering::Relaxed);
        inner.senders.register_with_packet(oper, packet.as_entry_packet(), cx);
        inner.waiter_listed(Side::Send);
        true
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
        entry
            .map(|entry| {
                // SAFETY: the entry was listed by this channel with a
                // `Packet<T>`; its owner, selected just now with the packet
                // marked PENDING, keeps it in place until it leaves PENDING.
                LateSend::new(unsafe { packet::<T>(&entry) }, entry.cx.clone())
            })
            .ok_or(false)
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

/// A receiver that a late send selected or was selected by, owed a
/// message: `reserve_receiver` (a `Select::send` that found a receiver
/// waiting), or a receiver that selected a waiting late sender
/// (`take_from_sender`). It points at the receiver's packet, which stays
/// put until the receiver sees `late` leave `PENDING`.
pub(crate) struct LateSend<T> {
    /// The receiver's packet and context; `None` once the message was
    /// handed over.
    peer: Option<(*const Packet<T>, Context)>,
}

// SAFETY: a `LateSend` moves a `T` to the receiver's thread (hence `T:
// Send`); the packet pointer is only used for that one hand-over, which the
// receiver waits for.
unsafe impl<T: Send> Send for LateSend<T> {}

impl<T> LateSend<T> {
    /// A debt to the receiver waiting in `packet` (marked `PENDING`), which
    /// `cx` wakes.
    pub(super) fn new(packet: &Packet<T>, cx: Context) -> Self {
        LateSend { peer: Some((packet, cx)) }
    }

    /// Hands `msg` to the reserved receiver and wakes it.
    pub(crate) fn send(mut self, msg: T) {
        let (packet, cx) = self.peer.take().expect("a reservation is completed once");
        // SAFETY: the receiver keeps its packet in place while it is
        // PENDING, and waits for us alone (it is listed nowhere).
        let packet = unsafe { &*packet };
        // racecheck: the send happens here, so the edge is made here (the
        // receiver acquires again when it sees FILLED).
        cx.sync_with_waiter();
        // SAFETY: exclusive access to the packet (above).
        unsafe { packet.put(Some(msg)) };
        // Release: the receiver's Acquire load of FILLED sees the message.
        packet.late.store(FILLED, Ordering::Release);
        cx.unpark();
    }
}

impl<T> Drop for LateSend<T> {
    /// Given up without a message: the receiver receives again.
    fn drop(&mut self) {
        if let Some((packet, cx)) = self.peer.take() {
            // SAFETY: not completed: the receiver still waits on its packet.
            unsafe { &*packet }.late.store(ABANDONED, Ordering::Release);
            cx.unpark();
        }
    }
}
