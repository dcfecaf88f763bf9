//! Go's `selectgo`, the part that happens inside one channel.
//!
//! A select case on an hchan channel is a `sudog` with `is_select` set,
//! queued on `sendq` or `recvq` like a parked `chansend`/`chanrecv`; a
//! sending case's `elem` holds its message. Every case of one select shares
//! the selecting thread's context, so when peers race to complete different
//! cases, the CAS in `dequeue` lets exactly one win (Go's `selectDone`); a
//! loser's value goes back into its `elem` and that sudog stays unlinked.
//! After waking, the select unlinks every sudog still queued (Go's pass 3)
//! and reads the winner's `success` to tell a completion from `closechan`.
//!
//! The sudog and its `elem` live in a heap-allocated [`SelectSudog`] owned
//! by the select's case, which stays put until the case is unlinked again,
//! so the waitq invariant ("a linked sudog is alive") holds.
//!
//! Locking: a select whose cases are all on hchan channels does as Go's
//! `sellock`: it takes every channel's lock in address order (its
//! `lockorder`), queues all its sudogs, and unlocks; pass 3 relocks them all
//! the same way. [`HeldLock`] carries those locks. A select that mixes in
//! other flavors takes each channel's lock in turn instead (as crossbeam
//! does); the shared context's CAS decides the winner either way.

use super::{meet, HChan, LatePeer, Locked, Meet, Sudog};
use crate::context::{Context, Operation};
use crate::sync::atomic::Ordering;
use crate::sync::{MutexGuard, UnsafeCell};

/// One channel's lock, held by a select that locks all its channels at
/// once (Go's `sellock`). Type-erased, so that one select can hold the
/// locks of channels of different element types; only the cases of the
/// channel it belongs to (checked by `chan`) look inside.
pub(crate) trait HeldLock {
    /// The channel whose lock this is.
    fn chan(&self) -> *const ();
    /// The state the lock guards, as an untyped pointer.
    fn state(&mut self) -> *mut ();
}

struct Held<'a, T> {
    chan: *const (),
    guard: MutexGuard<'a, Locked<T>>,
}

impl<T> HeldLock for Held<'_, T> {
    fn chan(&self) -> *const () {
        self.chan
    }

    fn state(&mut self) -> *mut () {
        &mut *self.guard as *mut Locked<T> as *mut ()
    }
}

/// What `reserve_send` set aside.
pub(crate) enum Reserve<T> {
    /// A buffer slot (or, unbounded, room that the ring makes by growing).
    Room,
    /// A parked receiver of an unbuffered channel, waiting for the message.
    Receiver(LatePeer<T>),
    /// The channel is closed: the send will fail.
    Closed,
    /// No room and no receiver now.
    NotReady,
}

/// What queuing a select case did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Enqueue {
    /// Queued; a peer will complete it or `closechan` will wake it.
    Queued,
    /// The operation could go now; nothing queued.
    Ready,
    /// Not queued: the opposite queue holds this thread's own sudog (the
    /// same select both sends and receives on this channel). Queuing too
    /// would break "one of sendq and recvq is empty", and the two cannot
    /// meet, so the select looks again later instead.
    OwnOpposite,
}

/// The sudog of one select case, with its value slot.
pub(crate) struct SelectSudog<T> {
    elem: UnsafeCell<Option<T>>,
    sg: Option<Sudog<T>>,
}

impl<T> SelectSudog<T> {
    pub(crate) fn new() -> Self {
        SelectSudog { elem: UnsafeCell::new(None), sg: None }
    }

    /// Moves the value out of `elem`.
    ///
    /// # Safety
    /// The sudog is not linked (never was, was unlinked by the owner under
    /// the lock, or was dequeued by a peer that then selected its case).
    pub(crate) unsafe fn take(&self) -> Option<T> {
        // SAFETY: no peer can reach `elem`, per the contract.
        self.elem.with_mut(|p| unsafe { (*p).take() })
    }

    /// Go's `success`, as the peer that selected this case left it.
    pub(crate) fn success(&self) -> bool {
        self.sg.as_ref().is_some_and(|sg| sg.success())
    }

    /// For a receiving case that a peer selected: waits for a late send's
    /// value; false if that send was given up (the select goes on).
    pub(crate) fn wait_for_value(&self) -> bool {
        self.sg.as_ref().map_or(true, |sg| sg.wait_for_arrival() != super::ABANDONED)
    }

    /// For a late sending case that a receiver selected: where that
    /// receiver waits for the message.
    pub(crate) fn take_peer(&self) -> Option<LatePeer<T>> {
        self.sg.as_ref().and_then(|sg| sg.take_peer())
    }
}

impl<T> HChan<T> {
    /// Takes this channel's lock for a select that locks several channels.
    pub(crate) fn lock_for_select(&self) -> Box<dyn HeldLock + '_> {
        Box::new(Held { chan: self.id(), guard: self.lock() })
    }

    /// Runs `f` under this channel's lock: the one in `held` if the caller
    /// holds it already, else taken here.
    fn with_lock<R>(&self, held: Option<&mut (dyn HeldLock + '_)>, f: impl FnOnce(&mut Locked<T>) -> R) -> R {
        match held {
            Some(held) => {
                assert_eq!(held.chan(), self.id(), "a select passed another channel's lock");
                // SAFETY: `held` is a `Held<T>` of this very channel (checked
                // above; a channel has one element type), so its state is our
                // `Locked<T>`, guarded by a lock the caller holds for us.
                f(unsafe { &mut *(held.state() as *mut Locked<T>) })
            }
            None => f(&mut self.lock()),
        }
    }

    /// Whether `chanrecv` would not block now (ignoring the caller's own
    /// parked senders, which cannot be its partner).
    pub(crate) fn can_recv_now(&self) -> bool {
        let c = self.lock();
        self.closed.load(Ordering::Relaxed)
            || self.qcount.load(Ordering::Relaxed) > 0
            || c.sendq.has_waiter_of_other_thread()
    }

    /// Whether `chansend` would not block now.
    pub(crate) fn can_send_now(&self) -> bool {
        let c = self.lock();
        self.closed.load(Ordering::Relaxed) || c.recvq.has_waiter_of_other_thread() || self.has_room(&c)
    }

    /// Not in Go: watches for a receive to become possible without queueing
    /// a sudog (`Select::ready`): true if it is possible now (nothing is
    /// listed then); otherwise a value buffered, a sender parking or the
    /// close selects `cx` with `oper`.
    pub(crate) fn watch_recv(&self, oper: Operation, cx: &Context) -> bool {
        let mut c = self.lock();
        if self.closed.load(Ordering::Relaxed)
            || self.qcount.load(Ordering::Relaxed) > 0
            || c.sendq.has_waiter_of_other_thread()
        {
            return true;
        }
        c.recv_watchers.register_with_packet(oper, std::ptr::null_mut(), cx);
        false
    }

    /// Not in Go: watches for a send to become possible (`Select::send`,
    /// `Select::ready`), as `watch_recv`: woken by room appearing, a
    /// receiver parking, or the close.
    pub(crate) fn watch_send(&self, oper: Operation, cx: &Context) -> bool {
        let mut c = self.lock();
        if self.closed.load(Ordering::Relaxed) || c.recvq.has_waiter_of_other_thread() || self.has_room(&c) {
            return true;
        }
        c.send_watchers.register_with_packet(oper, std::ptr::null_mut(), cx);
        false
    }

    pub(crate) fn unwatch_recv(&self, oper: Operation) {
        self.lock().recv_watchers.unregister(oper);
    }

    pub(crate) fn unwatch_send(&self, oper: Operation) {
        self.lock().send_watchers.unregister(oper);
    }

    /// Queues a receiving case on `recvq` (Go's pass 2), unless a receive
    /// could go now or this thread waits on `sendq` (see [`Enqueue`]).
    ///
    /// # Safety
    /// `slot` stays where it is, untouched, until `select_dequeue_recv`
    /// returned or a peer selected the context with `oper`.
    pub(crate) unsafe fn select_enqueue_recv(
        &self,
        held: Option<&mut (dyn HeldLock + '_)>,
        slot: &mut SelectSudog<T>,
        oper: Operation,
        cx: &Context,
    ) -> Enqueue {
        self.with_lock(held, |c| {
            if self.closed.load(Ordering::Relaxed)
                || self.qcount.load(Ordering::Relaxed) > 0
                || c.sendq.has_waiter_of_other_thread()
            {
                return Enqueue::Ready;
            }
            if !c.sendq.is_empty() {
                return Enqueue::OwnOpposite;
            }
            let sg: &Sudog<T> = slot.sg.insert(Sudog::new_select(cx, oper, &slot.elem, self.id()));
            // SAFETY: the caller keeps `slot` in place until it is unlinked.
            unsafe { c.recvq.enqueue(sg) };
            c.send_watchers.notify_watchers();
            Enqueue::Queued
        })
    }

    /// Queues a `Select::send` case of an unbuffered channel, which has no
    /// message yet, on `sendq` as a late sender (not in Go, whose select
    /// always has its values): a receiver that comes selects it and waits
    /// for the message, which `SelectedOperation::send` then brings. Unless
    /// a send could go now, or this thread waits on `recvq` (see
    /// [`Enqueue`]): then nothing is queued.
    ///
    /// # Safety
    /// As `select_enqueue_recv`.
    pub(crate) unsafe fn select_enqueue_late_send(
        &self,
        held: Option<&mut (dyn HeldLock + '_)>,
        slot: &mut SelectSudog<T>,
        oper: Operation,
        cx: &Context,
    ) -> Enqueue {
        debug_assert_eq!(self.dataqsiz, Some(0), "buffered channels watch for room instead");
        self.with_lock(held, |c| {
            if self.closed.load(Ordering::Relaxed) || c.recvq.has_waiter_of_other_thread() {
                return Enqueue::Ready;
            }
            if !c.recvq.is_empty() {
                return Enqueue::OwnOpposite;
            }
            let sg: &Sudog<T> = slot.sg.insert(Sudog::new_late_sender(cx, oper, &slot.elem, self.id()));
            // SAFETY: the caller keeps `slot` in place until it is unlinked.
            unsafe { c.sendq.enqueue(sg) };
            c.recv_watchers.notify_watchers();
            Enqueue::Queued
        })
    }

    /// `Select::send`, chosen: sets aside what lets `SelectedOperation::send`
    /// complete without blocking. A buffered (or unbounded) channel holds a
    /// slot (`reserved`); an unbuffered one selects a parked receiver, which
    /// waits for the message. `Closed` if the send will fail; `NotReady` if
    /// neither is possible now.
    pub(crate) fn reserve_send(&self) -> Reserve<T> {
        let mut c = self.lock();
        if self.closed.load(Ordering::Relaxed) {
            return Reserve::Closed;
        }
        if self.dataqsiz != Some(0) {
            if !self.has_room(&c) {
                return Reserve::NotReady;
            }
            c.reserved += 1;
            self.check(&c);
            return Reserve::Room;
        }
        let mut peer = None;
        // racecheck: as any rendezvous; the late send syncs again.
        let gp = c.recvq.dequeue_with(true, Meet::Rendezvous, |sg: &Sudog<T>, step| {
            let reserved = sg.reserve_for_late_send(step);
            if let Some(stale) = std::mem::replace(&mut peer, reserved) {
                stale.forget();
            }
        });
        match (gp, peer) {
            (Some(_), Some(peer)) => Reserve::Receiver(peer),
            (_, stale) => {
                if let Some(stale) = stale {
                    stale.forget();
                }
                Reserve::NotReady
            }
        }
    }

    /// Completes a `Reserve::Room`: the message goes to a receiver parked
    /// meanwhile (the buffer was empty then), else into the buffer. A
    /// reserved slot is delivered even if the channel was closed since, as
    /// a send that got in before the close.
    pub(crate) fn send_reserved_room(&self, msg: T) {
        let mut c = self.lock();
        if self.dataqsiz.is_some() {
            c.reserved -= 1;
        }
        let mut ep = Some(msg);
        let locked = &mut *c;
        // racecheck: as `chansend`'s hand-off to a parked receiver.
        let (raceslots, recvx) = (&locked.raceslots, locked.recvx);
        if let Some(gp) = locked.recvq.dequeue(Some(&mut ep), true, || meet(self.dataqsiz, raceslots.get(recvx))) {
            if !c.raceslots.is_empty() && self.dataqsiz.is_some() {
                c.recvx = c.buf.next(c.recvx);
                c.sendx = c.recvx;
            }
            drop(c);
            gp.unpark();
            return;
        }
        self.buffer(&mut c, ep.expect("dequeue gives the value back when no receiver took it"));
    }

    /// Gives a `Reserve::Room` up: the slot is free again, for the oldest
    /// parked sender if there is one (its value moves into the buffer, as a
    /// receive that frees a slot does in Go), else for anyone watching.
    pub(crate) fn abandon_reserved_room(&self) {
        let mut c = self.lock();
        if self.dataqsiz.is_none() {
            return;
        }
        c.reserved -= 1;
        let mut ep = None;
        let locked = &mut *c;
        // racecheck: the sender's value goes into slot `sendx` as if the
        // sender had put it there.
        let (raceslots, sendx) = (&locked.raceslots, locked.sendx);
        let meet = raceslots.get(sendx).map_or(Meet::OneWay, Meet::ForWaiter);
        if let Some(gp) = locked.sendq.dequeue(Some(&mut ep), true, || meet) {
            // `buffer` notifies slot `sendx` for us too: an edge from us to
            // the value's receiver, more than Go has, on a path Go lacks.
            self.buffer(&mut c, ep.expect("a parked sender's slot holds its value"));
            drop(c);
            gp.unpark();
            return;
        }
        c.send_watchers.notify_watchers();
        self.check(&c);
    }

    /// Go's pass 3 for a receiving case: unlinks its sudog if still queued.
    pub(crate) fn select_dequeue_recv(&self, held: Option<&mut (dyn HeldLock + '_)>, slot: &SelectSudog<T>) {
        if let Some(sg) = &slot.sg {
            // SAFETY: `sg` was enqueued on this channel's `recvq`.
            self.with_lock(held, |c| unsafe { c.recvq.remove(sg) });
        }
    }

    /// Go's pass 3 for a sending case: unlinks its sudog if still queued.
    pub(crate) fn select_dequeue_send(&self, held: Option<&mut (dyn HeldLock + '_)>, slot: &SelectSudog<T>) {
        if let Some(sg) = &slot.sg {
            // SAFETY: `sg` was enqueued on this channel's `sendq`.
            self.with_lock(held, |c| unsafe { c.sendq.remove(sg) });
        }
    }
}
