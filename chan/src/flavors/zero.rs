//! The default flavor for `bounded(0)`: Go's unbuffered channel.
//!
//! A send completes only when a receiver takes the value, and a receive only
//! when a sender gives one. The channel has no buffer: a lock guards two
//! lists of parked operations, and each parked operation owns a *packet* on
//! its own stack that the peer moves the message through.
//!
//! - A sender that finds a parked receiver moves its message into the
//!   receiver's packet and then selects the receiver's context with one CAS
//!   (which publishes the message), all under the lock, then unparks it.
//!   With no receiver parked, it parks with its message in its own packet.
//! - A receiver mirrors that: it takes the message out of a parked sender's
//!   packet, then selects it; or parks with an empty packet.
//! - If the selecting CAS fails (the waiter timed out or was closed at that
//!   moment) the message goes straight back, still under the lock.
//!
//! A parked operation's packet stays valid while it is listed: its owner can
//! only leave by being selected (after which no peer touches the packet) or
//! by taking the lock to unlist itself. So a peer holding the lock may use
//! any listed packet.
//!
//! Waiting itself (spin, yield, then park) is in `context.rs`; a receiver on
//! another core usually sees the hand-off while still spinning, so the common
//! 1:1 rendezvous never pays for a park.

use std::marker::PhantomData;
use std::time::Instant;

use crate::context::{Context, Operation, Selected};
use crate::err::{RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};
use crate::race;
use crate::sync::atomic::{AtomicUsize, Ordering};
use crate::sync::{Mutex, MutexGuard, UnsafeCell};
use crate::trace;
use crate::waker::{Entry, Step, Waker};

pub(crate) use self::select::LateSend;

/// `Packet::late`: the message came with the selecting CAS (the usual
/// hand-off).
const ON_TIME: usize = 0;
/// A `Select::send` case selected the receiver and brings the message later.
const PENDING: usize = 1;
/// The late message is in the packet.
const FILLED: usize = 2;
/// The select dropped its operation without a message: receive again.
const ABANDONED: usize = 3;
/// `Packet::late` of a *sender's* packet: a `Select::send` case (or a
/// `select!` send arm) waiting without its message, which comes only once
/// the case is chosen. A receiver that selects it leaves its own packet in
/// `peer` and waits there for the message, as a receiver reserved by
/// `reserve_receiver` does.
const LATE_SENDER: usize = 4;

/// How a selected receiver's message arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// With the selection: the usual hand-off.
    OnTime,
    /// Later, from a `Select::send` reservation, whose sender synchronized
    /// with the receiver's context just before (racecheck: acquire again).
    Late,
    /// The reservation was given up: nothing came; receive again.
    Abandoned,
}

/// The hand-over cell a parked operation owns.
pub(crate) struct Packet<T> {
    msg: UnsafeCell<Option<T>>,
    /// For a receiver: whether its message came with the selection, or
    /// comes later from a reservation (`select.rs`). For a sender:
    /// [`LATE_SENDER`] if it has no message yet.
    late: AtomicUsize,
    /// A late sender's packet: the receiver that selected it, which waits
    /// in its own packet for the message. Written under the lock before
    /// the selecting CAS, which publishes it to the sender.
    peer: UnsafeCell<Option<LateSend<T>>>,
}

impl<T> Packet<T> {
    fn new(msg: Option<T>) -> Self {
        Packet { msg: UnsafeCell::new(msg), late: AtomicUsize::new(ON_TIME), peer: UnsafeCell::new(None) }
    }

    /// Called by a receiver once a peer selected it: waits for a message
    /// that a reservation brings late.
    fn wait_for_message(&self) -> Arrival {
        // Acquire: pairs with the Release store of FILLED after the message
        // was put (ON_TIME and PENDING came with the selecting CAS, which
        // the waiter's wait already acquired).
        let mut late = self.late.load(Ordering::Acquire);
        while late == PENDING {
            // The reservation unparks us after it stores FILLED or
            // ABANDONED; an early or stray unpark only loops.
            crate::sync::thread::park();
            late = self.late.load(Ordering::Acquire);
        }
        match late {
            ON_TIME => Arrival::OnTime,
            FILLED => Arrival::Late,
            _ => Arrival::Abandoned,
        }
    }

    /// Moves the message out of the packet.
    ///
    /// # Safety
    /// The caller has the packet to itself: it holds the channel lock while
    /// the packet's owner is listed, or it is the owner and no peer can
    /// reach the packet any more.
    unsafe fn take(&self) -> Option<T> {
        // SAFETY: exclusive access, per this function's contract.
        self.msg.with_mut(|p| unsafe { (*p).take() })
    }

    /// Moves a message into the packet; same contract as `take`.
    unsafe fn put(&self, msg: Option<T>) {
        // SAFETY: exclusive access, per this function's contract.
        self.msg.with_mut(|p| unsafe { *p = msg })
    }
}

/// A listed entry's packet.
///
/// # Safety
/// The entry must have been registered by this channel with a `Packet<T>`,
/// and be still listed (or just removed by the caller under the lock).
pub(super) unsafe fn packet<T>(entry: &Entry) -> &Packet<T> {
    // SAFETY: per the contract, the pointer is a live `Packet<T>`.
    unsafe { &*(entry.packet as *const Packet<T>) }
}

/// What a receiver got from a parked sender.
enum Taken<T> {
    /// The message, taken from the sender's packet.
    Msg(T),
    /// A late sender, selected: its message comes into the receiver's own
    /// packet once the select that owns the sender brings it.
    Late,
}

/// Which list a parked operation waits on.
#[derive(Clone, Copy)]
enum Side {
    Send,
    Recv,
}

struct Inner {
    senders: Waker,
    receivers: Waker,
    /// Selects watching for a receiver to wait (`Select::send`, which has
    /// no message to list yet, and `ready` on a send): woken, all of them,
    /// whenever a receiver lists itself. See `select.rs`.
    send_watchers: Waker,
    /// Selects watching for a sender to wait (`ready` on a receive).
    recv_watchers: Waker,
    closed: bool,
}

impl Inner {
    /// A waiter of `side` was just listed: the opposite operation may go
    /// now, so wake the selects watching for that.
    fn waiter_listed(&mut self, side: Side) {
        match side {
            Side::Send => self.recv_watchers.notify_watchers(),
            Side::Recv => self.send_watchers.notify_watchers(),
        }
    }
}

/// A rendezvous channel.
pub(crate) struct Channel<T> {
    inner: Mutex<Inner>,
    _marker: PhantomData<T>,
}

// SAFETY: messages only move between threads, through packets, under the
// lock; `T: Send` is what that needs.
unsafe impl<T: Send> Send for Channel<T> {}
// SAFETY: a shared `&Channel<T>` only moves whole messages between threads,
// through packets, under the lock, and never hands out a `&T`: `T: Send`
// suffices.
unsafe impl<T: Send> Sync for Channel<T> {}

impl<T> Channel<T> {
    pub(crate) fn new() -> Self {
        Channel {
            inner: Mutex::new(Inner {
                senders: Waker::new(),
                receivers: Waker::new(),
                send_watchers: Waker::new(),
                recv_watchers: Waker::new(),
                closed: false,
            }),
            _marker: PhantomData,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Under the lock: hands `msg` to a parked receiver. Gives it back if
    /// none is parked.
    fn give_to_receiver(inner: &mut Inner, msg: T) -> Result<Entry, T> {
        let mut msg = Some(msg);
        let entry = inner.receivers.try_select_with(|entry, step| {
            // SAFETY: we hold the lock and the entry is listed (the closure
            // runs only on listed entries).
            let packet = unsafe { packet::<T>(entry) };
            match step {
                Step::Prepare => {
                    entry.cx.sync_with_waiter();
                    // SAFETY: we hold the lock while the packet's owner is
                    // listed, so the packet is ours alone.
                    unsafe { packet.put(msg.take()) }
                }
                // SAFETY: the owner is still listed (an undone selection
                // leaves it so) and we hold the lock: the packet is ours.
                Step::Undo => msg = unsafe { packet.take() },
            }
        });
        entry.ok_or_else(|| msg.take().expect("message kept when no receiver took it"))
    }

    /// Under the lock: takes a message from a parked sender, or, if the
    /// oldest sender still waiting has no message yet (a select's late
    /// send), selects it and leaves it `mine` to deliver into: the caller
    /// then waits there (`Packet::wait_for_message`) after unlocking.
    /// `me` is the caller's context, which the late sender wakes.
    fn take_from_sender(inner: &mut Inner, mine: &Packet<T>, me: &Context) -> Option<(Entry, Taken<T>)> {
        let mut msg = None;
        let mut late = false;
        let entry = inner.senders.try_select_with(|entry, step| {
            // SAFETY: we hold the lock and the entry is listed.
            let packet = unsafe { packet::<T>(entry) };
            // Set when the sender listed itself, under the lock we hold.
            let is_late = packet.late.load(Ordering::Relaxed) == LATE_SENDER;
            match (step, is_late) {
                (Step::Prepare, false) => {
                    entry.cx.sync_with_waiter();
                    // SAFETY: we hold the lock while the packet's owner is
                    // listed, so the packet is ours alone.
                    msg = unsafe { packet.take() };
                    late = false;
                }
                (Step::Undo, false) => {
                    // SAFETY: the owner is still listed (an undone selection
                    // leaves it so) and we hold the lock: the packet is ours.
                    unsafe { packet.put(msg.take()) }
                }
                (Step::Prepare, true) => {
                    entry.cx.sync_with_waiter();
                    // Ours alone: the caller's packet is listed nowhere.
                    mine.late.store(PENDING, Ordering::Relaxed);
                    let peer = LateSend::new(mine, me.clone());
                    // SAFETY: under the lock, on a listed sender's packet,
                    // whose owner reads `peer` only once selected.
                    packet.peer.with_mut(|p| unsafe { *p = Some(peer) });
                    late = true;
                }
                (Step::Undo, true) => {
                    // SAFETY: under the lock, on a listed sender's packet;
                    // its owner reads `peer` only once selected, and the
                    // selection is being undone, so it never was.
                    let peer = packet.peer.with_mut(|p| unsafe { (*p).take() });
                    // Not a real reservation: it must not announce ABANDONED.
                    std::mem::forget(peer);
                    mine.late.store(ON_TIME, Ordering::Relaxed);
                }
            }
        })?;
        if late {
            return Some((entry, Taken::Late));
        }
        Some((entry, Taken::Msg(msg.expect("a parked sender's packet holds its message"))))
    }

    /// Finishes a receive that `take_from_sender` paired with a sender:
    /// wakes the sender, then, for a late sender, waits in `mine` for its
    /// message. `None` if the late sender gave its operation up.
    fn finish_take(entry: Entry, taken: Taken<T>, mine: &Packet<T>, me: &Context) -> Option<T> {
        entry.cx.unpark();
        match taken {
            Taken::Msg(msg) => Some(msg),
            Taken::Late => match mine.wait_for_message() {
                Arrival::Late => {
                    // racecheck: the late sender synchronized with us just
                    // before it stored FILLED.
                    me.acquire_handoff();
                    // SAFETY: FILLED (acquired) says the message is in our
                    // packet, and the sender is done with it.
                    unsafe { mine.take() }
                }
                Arrival::Abandoned | Arrival::OnTime => None,
            },
        }
    }

    pub(crate) fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(TrySendError::Disconnected(msg));
        }
        match Self::give_to_receiver(&mut inner, msg) {
            Ok(entry) => {
                drop(inner);
                entry.cx.unpark();
                Ok(())
            }
            Err(msg) => Err(TrySendError::Full(msg)),
        }
    }

    #[track_caller]
    pub(crate) fn send(&self, msg: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(SendTimeoutError::Disconnected(msg));
        }
        let msg = match Self::give_to_receiver(&mut inner, msg) {
            Ok(entry) => {
                drop(inner);
                entry.cx.unpark();
                return Ok(());
            }
            Err(msg) => msg,
        };
        if let Some(deadline) = deadline {
            if Instant::now() >= deadline {
                return Err(SendTimeoutError::Timeout(msg));
            }
        }
        let mut packet = Packet::new(Some(msg));
        let sel = self.park(inner, Side::Send, &mut packet, deadline, std::panic::Location::caller());
        match sel {
            // A receiver took the message before selecting us.
            Selected::Operation(_) => Ok(()),
            Selected::Aborted | Selected::Disconnected | Selected::Waiting => {
                // SAFETY: `park` unlisted us, so no peer can reach the packet.
                let msg = unsafe { packet.take() }.expect("an unselected sender keeps its message");
                if sel == Selected::Aborted {
                    Err(SendTimeoutError::Timeout(msg))
                } else {
                    Err(SendTimeoutError::Disconnected(msg))
                }
            }
        }
    }

    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        Context::with(|me| {
            let mine = Packet::new(None);
            loop {
                let mut inner = self.lock();
                if inner.closed {
                    return Err(TryRecvError::Disconnected);
                }
                // racecheck: a late sender publishes into our context.
                me.publish_wait();
                let Some((entry, taken)) = Self::take_from_sender(&mut inner, &mine, me) else {
                    return Err(TryRecvError::Empty);
                };
                drop(inner);
                if let Some(msg) = Self::finish_take(entry, taken, &mine, me) {
                    return Ok(msg);
                }
                // A late sender gave up: its send never happened; look again.
                mine.late.store(ON_TIME, Ordering::Relaxed);
            }
        })
    }

    #[track_caller]
    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        let mine = Packet::new(None);
        loop {
            let mut inner = self.lock();
            if inner.closed {
                return Err(RecvTimeoutError::Disconnected);
            }
            let taken = Context::with(|me| {
                me.publish_wait();
                Self::take_from_sender(&mut inner, &mine, me)
            });
            if let Some((entry, taken)) = taken {
                drop(inner);
                if let Some(msg) = Context::with(|me| Self::finish_take(entry, taken, &mine, me)) {
                    return Ok(msg);
                }
                // A late sender gave up: look again.
                mine.late.store(ON_TIME, Ordering::Relaxed);
                continue;
            }
            if let Some(deadline) = deadline {
                if Instant::now() >= deadline {
                    return Err(RecvTimeoutError::Timeout);
                }
            }
            let mut packet = Packet::<T>::new(None);
            let sel = self.park(inner, Side::Recv, &mut packet, deadline, std::panic::Location::caller());
            return match sel {
                Selected::Operation(_) => {
                    match packet.wait_for_message() {
                        Arrival::OnTime => {}
                        // A late message's sender synchronized with us just
                        // before it stored FILLED; take that in too.
                        Arrival::Late => Context::with(|cx| cx.acquire_handoff()),
                        // A reservation was given up: nothing came.
                        Arrival::Abandoned => continue,
                    }
                    // SAFETY: the sender that selected us is done with the
                    // packet; its CAS (or the FILLED store) published the
                    // message it put there.
                    Ok(unsafe { packet.take() }.expect("a selected receiver's packet holds a message"))
                }
                Selected::Aborted => Err(RecvTimeoutError::Timeout),
                Selected::Disconnected | Selected::Waiting => Err(RecvTimeoutError::Disconnected),
            };
        }
    }

    /// Lists this thread's operation with its `packet` on `side`'s list,
    /// releases the lock, and waits until a peer completes it, the channel
    /// closes, or `deadline` passes. Both sides park through here, so the
    /// racecheck hand-off edges, the deadlock report and the tracing events
    /// are the same for sends and receives. Unless a peer completed the
    /// operation, the entry is unlisted again before this returns, so the
    /// caller then has the packet to itself.
    fn park(
        &self,
        mut inner: MutexGuard<'_, Inner>,
        side: Side,
        packet: &mut Packet<T>,
        deadline: Option<Instant>,
        at: &'static std::panic::Location<'static>,
    ) -> Selected {
        let (op, reason) = match side {
            Side::Send => ("send", "chan send"),
            Side::Recv => ("recv", "chan receive"),
        };
        Context::with(|cx| {
            let oper = Operation::hook(packet);
            cx.publish_wait();
            let list = match side {
                Side::Send => &mut inner.senders,
                Side::Recv => &mut inner.receivers,
            };
            list.register_with_packet(oper, packet as *mut Packet<T> as *mut (), cx);
            inner.waiter_listed(side);
            drop(inner);
            let _blocked = race::blocking(deadline, reason, at);
            let wait = trace::parking(cx, at, || trace::Park {
                id: self as *const Self as usize,
                op,
                flavor: "zero",
                capacity: Some(0),
                len: 0,
            });
            let sel = cx.wait_until(deadline, true);
            trace::woke(wait, trace::outcome_of_handoff(sel, true));
            if let Selected::Operation(_) = sel {
                cx.acquire_handoff();
            } else {
                let mut inner = self.lock();
                match side {
                    Side::Send => inner.senders.unregister(oper),
                    Side::Recv => inner.receivers.unregister(oper),
                };
            }
            sel
        })
    }

    /// Closes the channel and wakes every parked operation; true if this
    /// call closed it.
    pub(crate) fn close(&self) -> bool {
        let mut inner = self.lock();
        if inner.closed {
            return false;
        }
        inner.closed = true;
        inner.senders.disconnect();
        inner.receivers.disconnect();
        inner.send_watchers.disconnect();
        inner.recv_watchers.disconnect();
        true
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }
}

// How a `select` takes part in this channel.
pub(crate) mod select;
