//! Go's `runtime/chan.go`: `hchan`, `makechan`, `chansend`, `chanrecv`,
//! `closechan`, kept in Go's order and under Go's names.
//!
//! Invariants, all of them about state guarded by `lock`:
//!
//! - At least one of `sendq` and `recvq` is empty. (Go's one exception is
//!   a goroutine selecting on both ends of an unbuffered channel; our
//!   select does not queue the second end then, see `Enqueue::OwnOpposite`.)
//! - Buffered: `qcount > 0` implies `recvq` is empty, and `qcount +
//!   reserved < dataqsiz` implies `sendq` is empty (`reserved`, not in Go,
//!   counts slots held for a select's send whose message is still to come;
//!   see `chan/select.rs`). Unbuffered: `qcount == 0`. Unbounded: `sendq`
//!   is always empty; the ring grows instead.
//! - The `qcount` slots from `recvx` on (wrapping) hold values; the others
//!   are empty; `sendx == (recvx + qcount) % buf.size()`.
//! - `closed` only goes from false to true, under the lock. Once it is set
//!   both queues are empty and stay empty: `closechan` drained them and
//!   nobody parks on a closed channel.
//! - Every linked sudog is alive (see `waitq.rs`): a waiter that gives up
//!   unlinks itself under the lock before leaving.
//! - No user code runs under the lock: values are only moved while it is
//!   held, never dropped or cloned, so a panicking `Drop` cannot poison it
//!   and a `Drop` that uses a channel cannot deadlock on it.
//!
//! A waiter's value is never lost or duplicated because it moves only under
//! the lock and only between two owners that both know it: the waiter's
//! slot and the peer's local (`WaitQ::dequeue`), published by the CAS that
//! decides who completed the wait, and moved back if that CAS is lost.
//!
//! `qcount` and `closed` are also read without the lock, by the
//! non-blocking fast paths and `len`, as Go reads them; they are atomics
//! (sequentially consistent, as Go's `atomic` package is) written only
//! under the lock.

use std::time::Instant;

use crate::race::SyncClock;

use crate::context::{Context, Operation, Selected};
use crate::err::{RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};
use crate::race;
use crate::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::sync::{Mutex, MutexGuard, UnsafeCell};
use crate::trace;

use super::buf::Buf;
pub(crate) use super::waitq::LatePeer;
use super::waitq::{wait_for_arrival, Meet, Sudog, WaitQ, ABANDONED, FILLED, ON_TIME};
use crate::waker::Step;
use crate::waker::Waker;

/// Go's `hchan`.
pub(crate) struct HChan<T> {
    /// Total values in the ring. Written under `lock`, read anywhere.
    qcount: AtomicUsize,
    /// The capacity: `Some(0)` unbuffered, `Some(n)` a fixed ring of `n`,
    /// `None` unbounded (the ring's size is then `buf.size()`, which grows).
    dataqsiz: Option<usize>,
    /// Go's `closed`. Written under `lock`, read anywhere.
    closed: AtomicBool,
    /// Go's `lock`, and the fields it guards.
    lock: Mutex<Locked<T>>,
}

/// The part of `hchan` only touched under its lock.
pub(crate) struct Locked<T> {
    buf: Buf<T>,
    /// Go's `sendx`: the slot the next buffered send writes.
    sendx: usize,
    /// Go's `recvx`: the slot the next buffered receive reads.
    recvx: usize,
    /// Go's `recvq`: parked receivers.
    recvq: WaitQ<T>,
    /// Go's `sendq`: parked senders.
    sendq: WaitQ<T>,
    /// Not in Go: buffer slots held for a select's send that has been
    /// chosen and brings its message later (`SelectedOperation::send`).
    /// They count as full for room, and as empty for receivers.
    reserved: usize,
    /// Values written into `buf` over the channel's life (not in Go; lets
    /// the tests tell a direct hand-off from a trip through the buffer).
    buffered: u64,
    /// racecheck: one sync object per slot of the buffer, Go's
    /// `chanbuf(c, i)` as seen by `racenotify`, allocated only with
    /// detection on (then always `buf.size()` of them; empty when off, and
    /// when unbuffered). An unbounded channel's move with their values
    /// when the ring grows.
    raceslots: Box<[SyncClock]>,
    /// Not in Go: selects that only watch for a send to become possible
    /// (`Select::ready`, and a `Select::send` case, which has no value to
    /// queue a sudog with). Woken, all of them, when room appears or a
    /// receiver parks; see `chan/select.rs`.
    send_watchers: Waker,
    /// Not in Go: selects watching for a receive to become possible, woken
    /// when a value is buffered or a sender parks.
    recv_watchers: Waker,
}

// SAFETY: values move between threads, through the ring and the sudogs'
// slots, always whole and under the lock, so `T: Send` is what that needs.
// The raw pointers in the wait queues point at sudogs that are only touched
// under the lock, or by their owner once no peer can reach them any more
// (see `waitq.rs`).
unsafe impl<T: Send> Send for HChan<T> {}
// SAFETY: a shared `&HChan<T>` only moves whole values between threads, under
// the lock (or through a sudog its owner no longer shares), and never hands
// out a `&T`: `T: Send` suffices.
unsafe impl<T: Send> Sync for HChan<T> {}

impl<T> Locked<T> {
    /// racecheck's sync object for buffer slot `i`, if the buffer has them.
    #[inline]
    fn raceslot(&self, i: usize) -> Option<&SyncClock> {
        self.raceslots.get(i)
    }

    /// After `buf.grow` moved the `qcount` values from `recvx` on to slots
    /// `0..qcount`: moves their slot clocks the same way (each holds its
    /// value's sender's past) and gives the new slots fresh ones.
    fn grow_raceslots(&mut self, recvx: usize, qcount: usize) {
        if !crate::race::enabled() {
            return;
        }
        let mut old = std::mem::take(&mut self.raceslots).into_vec();
        let size = old.len();
        let mut grown: Vec<SyncClock> = (0..self.buf.size()).map(|_| SyncClock::new()).collect();
        for (j, clock) in grown.iter_mut().take(qcount).enumerate() {
            *clock = std::mem::take(&mut old[(recvx + j) % size]);
        }
        self.raceslots = grown.into_boxed_slice();
    }
}

/// How a peer meets a parked waiter of a channel with capacity `dataqsiz`
/// whose hand-off pretends to go through slot `slot` (see `race.rs`).
fn meet(dataqsiz: Option<usize>, slot: Option<&SyncClock>) -> Meet<'_> {
    match (dataqsiz, slot) {
        (Some(0), _) => Meet::Rendezvous,
        (Some(_), Some(slot)) => Meet::Slot(slot),
        // Unbounded; or detection off, where no meeting does anything.
        _ => Meet::OneWay,
    }
}

/// A receiver's own place for a late sender's value, when the receiver is
/// the one that found the sender (it is not parked, so it has no sudog of
/// its own to be filled).
struct LateCell<T> {
    elem: UnsafeCell<Option<T>>,
    arrival: AtomicUsize,
}

impl<T> LateCell<T> {
    fn new() -> Self {
        LateCell { elem: UnsafeCell::new(None), arrival: AtomicUsize::new(ON_TIME) }
    }

    /// Where the late sender delivers, for the receiver with context `cx`;
    /// marks the cell `PENDING`.
    fn peer(&self, cx: Context) -> LatePeer<T> {
        LatePeer::new(&self.elem, &self.arrival, cx)
    }

    /// Back to `ON_TIME`, for a pairing that did not happen.
    fn reset(&self) {
        self.arrival.store(ON_TIME, Ordering::Relaxed);
    }

    /// Waits for the late sender: its value, or `None` if it gave up (the
    /// cell is then reset for another try).
    fn wait(&self) -> Option<T> {
        if wait_for_arrival(&self.arrival) != FILLED {
            self.reset();
            return None;
        }
        // racecheck: the sender synchronized with our context just before
        // it stored FILLED.
        Context::with(|cx| cx.acquire_handoff());
        // SAFETY: FILLED (acquired) says the value is in the cell, and the
        // sender is done with it.
        self.elem.with_mut(|p| unsafe { (*p).take() })
    }
}

/// Why an operation did not complete.
pub(crate) enum Fail {
    /// Not possible now (non-blocking), or not before the deadline.
    NotReady,
    /// The channel is closed (for a receive: and drained).
    Closed,
}

/// A snapshot of a channel's state, for tests (`hchan::probe`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    /// Values in the buffer (Go's `qcount`).
    pub qcount: usize,
    /// Threads parked to receive (`recvq`).
    pub recvq: usize,
    /// Threads parked to send (`sendq`).
    pub sendq: usize,
    /// Values ever written into the buffer.
    pub buffered: u64,
}

impl<T> HChan<T> {
    /// Go's `makechan`: the whole ring of a bounded channel is allocated
    /// here; an unbounded one starts empty and grows on demand.
    pub(crate) fn new(dataqsiz: Option<usize>) -> Self {
        HChan {
            qcount: AtomicUsize::new(0),
            dataqsiz,
            closed: AtomicBool::new(false),
            lock: Mutex::new(Locked {
                buf: Buf::with_size(dataqsiz.unwrap_or(0)),
                sendx: 0,
                recvx: 0,
                recvq: WaitQ::new(),
                sendq: WaitQ::new(),
                reserved: 0,
                buffered: 0,
                raceslots: (0..if crate::race::enabled() { dataqsiz.unwrap_or(0) } else { 0 })
                    .map(|_| SyncClock::new())
                    .collect(),
                send_watchers: Waker::new(),
                recv_watchers: Waker::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Locked<T>> {
        // No user code runs under the lock, so a poisoned lock only means a
        // panic in our own bookkeeping-free moves; the state is consistent.
        self.lock.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn id(&self) -> *const () {
        self as *const Self as *const ()
    }

    /// Whether a value could be buffered now: a fixed ring with a slot
    /// neither full nor reserved, or an unbounded one (which grows).
    fn has_room(&self, c: &Locked<T>) -> bool {
        match self.dataqsiz {
            None => true,
            Some(n) => self.qcount.load(Ordering::Relaxed) + c.reserved < n,
        }
    }

    /// Go's `full`: whether a send would block, judged without the lock.
    ///
    /// Go answers for an unbuffered channel by peeking at `recvq.first`;
    /// ours lives inside the lock, so here an unbuffered channel is never
    /// judged full and its non-blocking send takes the lock to look.
    fn full(&self) -> bool {
        match self.dataqsiz {
            Some(0) | None => false,
            Some(n) => self.qcount.load(Ordering::SeqCst) == n,
        }
    }

    /// Go's `empty`: whether a receive would block, judged without the
    /// lock; unbuffered channels are left to the locked path, as in `full`.
    fn empty(&self) -> bool {
        match self.dataqsiz {
            Some(0) => false,
            _ => self.qcount.load(Ordering::SeqCst) == 0,
        }
    }

    /// Go's `chansend`: hands `ep` to a parked receiver, else buffers it,
    /// else (if `block`) parks until a receiver takes it, the channel
    /// closes, or `deadline` passes. On failure the value comes back.
    #[track_caller]
    fn chansend(&self, ep: T, block: bool, deadline: Option<Instant>) -> Result<(), (Fail, T)> {
        // Fast path: a non-blocking send on an open, full channel fails
        // without the lock. As in Go, `closed` is read before `full`: if both
        // answers held at their reads, there was a moment when the channel
        // was open and full, and failing then is a correct answer.
        if !block && !self.closed.load(Ordering::SeqCst) && self.full() {
            return Err((Fail::NotReady, ep));
        }

        let mut c = self.lock();
        if self.closed.load(Ordering::Relaxed) {
            // Go panics here; we give the value back.
            return Err((Fail::Closed, ep));
        }

        // A parked receiver means the buffer is empty (invariant): the value
        // goes straight into the receiver's slot and never touches `buf`.
        let mut ep = Some(ep);
        let locked = &mut *c;
        // racecheck, buffered: Go's "pretend we go through the buffer" at
        // slot `recvx`, so that the hand-off counts toward the k-th receive
        // → (k+C)-th send rule and gives no receive → send edge.
        let (raceslots, recvx) = (&locked.raceslots, locked.recvx);
        if let Some(gp) = locked.recvq.dequeue(Some(&mut ep), true, || meet(self.dataqsiz, raceslots.get(recvx))) {
            if !c.raceslots.is_empty() && self.dataqsiz.is_some() {
                // As Go with the race detector on: the next buffered value
                // goes to the slot after the one pretended through. The
                // buffer is empty (a receiver was parked), so any index is
                // as good for the values.
                c.recvx = c.buf.next(c.recvx);
                c.sendx = c.recvx;
            }
            send(c, gp);
            return Ok(());
        }
        let ep = ep.expect("dequeue gives the value back when no receiver took it");

        if self.has_room(&c) {
            self.buffer(&mut c, ep);
            return Ok(());
        }

        if !block {
            return Err((Fail::NotReady, ep));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err((Fail::NotReady, ep));
        }

        // Park on sendq with the value in a slot on our stack.
        let at = std::panic::Location::caller();
        Context::with(|cx| {
            let mut elem = UnsafeCell::new(Some(ep));
            let oper = Operation::hook(&mut elem);
            let mysg = Sudog::new(cx, oper, &elem, self.id());
            cx.publish_wait();
            // SAFETY: `mysg` stays in this frame until it is unlinked: we
            // return below only after being selected (the peer unlinked it
            // before selecting us) or after `remove` under the lock; nothing
            // between here and there can unwind.
            unsafe { c.sendq.enqueue(&mysg) };
            c.recv_watchers.notify_watchers();
            // Go's `gopark(chanparkcommit)`: unlock only once queued, so the
            // next thread to take the lock finds us.
            drop(c);
            let sel = self.gopark(cx, &mysg, deadline, "send", "chan send", at);
            self.after_park(&mysg, sel, |c| &mut c.sendq).map_err(|fail| {
                // SAFETY: we were not completed by a peer (or closechan left
                // our slot alone), and no peer can reach the slot any more.
                let ep = elem.with_mut(|p| unsafe { (*p).take() });
                (fail, ep.expect("a sender that did not complete keeps its value"))
            })
        })
    }

    /// Puts `ep` at the tail of the buffer, which has room (`has_room`, or a
    /// slot reserved for it), growing an unbounded ring that is full.
    fn buffer(&self, c: &mut Locked<T>, ep: T) {
        let qcount = self.qcount.load(Ordering::Relaxed);
        if qcount == c.buf.size() {
            debug_assert!(self.dataqsiz.is_none(), "only an unbounded ring grows");
            let recvx = c.recvx;
            // SAFETY: the `qcount` slots from `recvx` are the full ones
            // (invariant).
            unsafe { c.buf.grow(recvx, qcount) };
            c.grow_raceslots(recvx, qcount);
            c.recvx = 0;
            c.sendx = qcount;
        }
        // Room: `sendx` is the empty slot after the last value.
        let sendx = c.sendx;
        match (c.raceslot(sendx), self.dataqsiz) {
            (Some(slot), Some(_)) => race::notify(slot),
            // Unbounded: only this value's receiver is ordered after us.
            (Some(slot), None) => slot.release(),
            (None, _) => {}
        }
        c.buf.put(sendx, ep);
        c.sendx = c.buf.next(sendx);
        c.buffered += 1;
        // Release, not SeqCst: Go writes `qcount` plainly under the lock;
        // the lock-free fast paths (`full`, `empty`) need only what the lock
        // and the `closed` store already order (see docs/hchan.md). A SeqCst
        // store is a locked instruction on x86, a third of the cost of an
        // uncontended operation.
        self.qcount.store(qcount + 1, Ordering::Release);
        c.recv_watchers.notify_watchers();
        self.check(c);
    }

    /// Go's `chanrecv`: takes from a parked sender (through the buffer if
    /// it is full), else from the buffer, else (if `block`) parks until a
    /// sender hands it a value, the channel closes, or `deadline` passes.
    /// A closed channel is drained before it reports `Closed`.
    #[track_caller]
    fn chanrecv(&self, block: bool, deadline: Option<Instant>) -> Result<T, Fail> {
        // Fast path: a non-blocking receive on an empty channel fails
        // without the lock. Order matters, as in Go: `empty` is read before
        // `closed`. If the channel looked empty and was not closed, it was
        // empty and open at the first read (closing is permanent), so
        // "not ready" is honest. If it was closed, look again: a closed
        // channel gets no new values, so empty now means drained for good.
        if !block && self.empty() {
            if !self.closed.load(Ordering::SeqCst) {
                return Err(Fail::NotReady);
            }
            if self.empty() {
                return Err(Fail::Closed);
            }
        }
        // Where a late sender (unbuffered only) delivers if we select it.
        let late = LateCell::new();
        // Loops only when a late send that paired with us is given up.
        loop {
            let mut c = self.lock();
            let qcount = self.qcount.load(Ordering::Relaxed);
            if self.closed.load(Ordering::Relaxed) {
                if qcount == 0 {
                    return Err(Fail::Closed);
                }
                // Closed but not drained: fall through to the buffer. (A
                // closed channel has no parked senders.)
            } else {
                match self.take_from_sender(&mut c, &late) {
                    Some((gp, None)) => {
                        drop(c);
                        gp.unpark();
                        match late.wait() {
                            Some(v) => return Ok(v),
                            // The late send was given up: look again.
                            None => continue,
                        }
                    }
                    Some((gp, Some(v))) => return Ok(recv(self, c, v, gp)),
                    None => {}
                }
            }

            if qcount > 0 {
                let recvx = c.recvx;
                // SAFETY: `qcount > 0`, so slot `recvx` is full (invariant);
                // advancing `recvx` and lowering `qcount` marks it empty.
                let v = unsafe { c.buf.take(recvx) };
                match (c.raceslot(recvx), self.dataqsiz) {
                    (Some(slot), Some(_)) => race::notify(slot),
                    (Some(slot), None) => slot.acquire(),
                    (None, _) => {}
                }
                c.recvx = c.buf.next(recvx);
                // Release, as in `chansend`.
                self.qcount.store(qcount - 1, Ordering::Release);
                c.send_watchers.notify_watchers();
                self.check(&c);
                return Ok(v);
            }

            if !block || deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(Fail::NotReady);
            }

            // Park on recvq with an empty slot on our stack for the sender.
            let at = std::panic::Location::caller();
            let got = Context::with(|cx| {
                let mut elem = UnsafeCell::new(None);
                let oper = Operation::hook(&mut elem);
                let mysg = Sudog::new(cx, oper, &elem, self.id());
                cx.publish_wait();
                // SAFETY: `mysg` stays in this frame until it is unlinked:
                // we leave only once selected (the peer unlinked it first) or
                // after unlinking ourselves under the lock, and a late send
                // that selected us we wait for below; nothing in between can
                // unwind.
                unsafe { c.recvq.enqueue(&mysg) };
                c.send_watchers.notify_watchers();
                drop(c);
                let sel = self.gopark(cx, &mysg, deadline, "recv", "chan receive", at);
                self.after_park(&mysg, sel, |c| &mut c.recvq)?;
                match mysg.wait_for_arrival() {
                    // A select's late send reserved us, then gave up.
                    ABANDONED => return Ok(None),
                    // racecheck: a late value's sender synchronized with us
                    // again, just before FILLED.
                    FILLED => cx.acquire_handoff(),
                    _ => {}
                }
                // SAFETY: the sender that selected us (or filled us late)
                // wrote the slot before its CAS (or its FILLED store), which
                // we observed (Acquire); it will not touch it again.
                let v = elem.with_mut(|p| unsafe { (*p).take() });
                Ok(Some(v.expect("a receiver completed by a sender has a value")))
            })?;
            if let Some(v) = got {
                return Ok(v);
            }
        }
    }

    /// Under the lock: takes the value of the oldest parked sender that can
    /// still be won: `(sender, Some(value))`. An unbuffered channel's
    /// oldest sender may be a select's late send, still without its value:
    /// then it is selected with `late` as the place to deliver to, and
    /// `(sender, None)` tells the caller to wake it and wait there.
    fn take_from_sender(&self, c: &mut Locked<T>, late: &LateCell<T>) -> Option<(Context, Option<T>)> {
        // The common case, a buffer with no parked sender, needs no context.
        if c.sendq.is_empty() {
            return None;
        }
        let mut ep = None;
        let mut paired_late = false;
        let gp = Context::with(|me| {
            let (raceslots, recvx) = (&c.raceslots, c.recvx);
            // racecheck: a full buffer's head slot, which the parked
            // sender's value refills (see `recv`); an unbuffered channel's
            // late sender is met as any rendezvous.
            let meet = meet(self.dataqsiz, raceslots.get(recvx));
            c.sendq.dequeue_with(true, meet, |sg: &Sudog<T>, step| {
                if !sg.is_late_sender() {
                    // SAFETY: lock held; the sudog was just unlinked by us
                    // and not selected (or, on `Undo`, its owner gave up
                    // but must take the lock before leaving its frame).
                    unsafe { sg.exchange(&mut ep) };
                    return;
                }
                match step {
                    Step::Prepare => {
                        // racecheck: the late sender publishes into our
                        // context when it brings the value.
                        me.publish_wait();
                        if let Some(stale) = sg.set_peer(Some(late.peer(me.clone()))) {
                            stale.forget();
                        }
                        paired_late = true;
                    }
                    Step::Undo => {
                        if let Some(peer) = sg.set_peer(None) {
                            peer.forget();
                        }
                        late.reset();
                        paired_late = false;
                    }
                }
            })
        })?;
        if paired_late {
            return Some((gp, None));
        }
        Some((gp, Some(ep.expect("a parked sender's slot holds its value"))))
    }

    /// What a parked waiter does once `wait_until` returns `sel`: tells
    /// completion by a peer from `closechan`, or, if it gave up, unlinks its
    /// sudog (if no peer already did) so that it may leave its frame.
    fn after_park(
        &self,
        mysg: &Sudog<T>,
        sel: Selected,
        queue: impl FnOnce(&mut Locked<T>) -> &mut WaitQ<T>,
    ) -> Result<(), Fail> {
        match sel {
            // A peer dequeued and selected us: it completed the operation
            // (success) or closed the channel. Either way it unlinked us.
            Selected::Operation(_) => {
                if mysg.success() {
                    Ok(())
                } else {
                    Err(Fail::Closed)
                }
            }
            // Our deadline passed and our own CAS won, so no peer will ever
            // complete us; one may have unlinked us and given our slot back.
            // Take the lock so that no peer is still looking at our sudog.
            Selected::Aborted => {
                debug_assert_eq!(mysg.chan(), self.id());
                let mut c = self.lock();
                // SAFETY: `mysg` was enqueued on this queue of this channel.
                unsafe { queue(&mut c).remove(mysg) };
                Err(Fail::NotReady)
            }
            Selected::Waiting | Selected::Disconnected => {
                unreachable!("hchan selects its waiters only with their operation; wait_until returned {sel:?}")
            }
        }
    }

    /// Go's `gopark` for a queued sudog, with the lock already released:
    /// waits until a peer selects `cx`, the channel closes, or `deadline`
    /// passes, with the deadlock report's and the tracing events' view of
    /// the wait, and the racecheck hand-off edge of a completed operation.
    fn gopark(
        &self,
        cx: &Context,
        mysg: &Sudog<T>,
        deadline: Option<Instant>,
        op: &'static str,
        reason: &'static str,
        at: &'static std::panic::Location<'static>,
    ) -> Selected {
        let _blocked = race::blocking(deadline, reason, at);
        let wait = trace::parking(cx, at, || trace::Park {
            id: self.id() as usize,
            op,
            flavor: "hchan",
            capacity: self.dataqsiz,
            len: self.qcount.load(Ordering::Relaxed),
        });
        let sel = cx.wait_until(deadline, true);
        if let Selected::Operation(_) = sel {
            cx.acquire_handoff();
        }
        // `success` is only ours to read once a peer selected us.
        trace::woke(wait, trace::outcome_of_handoff(sel, matches!(sel, Selected::Operation(_)) && mysg.success()));
        sel
    }

    /// Go's `closechan`: marks the channel closed and wakes every parked
    /// thread, unsuccessful: receivers find their slot empty, senders still
    /// holding their value. Returns false if it was already closed.
    pub(crate) fn closechan(&self) -> bool {
        let mut c = self.lock();
        if self.closed.load(Ordering::Relaxed) {
            return false;
        }
        self.closed.store(true, Ordering::SeqCst);

        let mut glist = Vec::new();
        while let Some(gp) = c.recvq.dequeue(None, false, || Meet::OneWay) {
            glist.push(gp);
        }
        while let Some(gp) = c.sendq.dequeue(None, false, || Meet::OneWay) {
            glist.push(gp);
        }
        c.send_watchers.disconnect();
        c.recv_watchers.disconnect();
        self.check(&c);
        // Wake them only after unlocking, as Go does, so that they do not
        // wake straight into a held lock.
        drop(c);
        for gp in glist {
            gp.unpark();
        }
        true
    }

    /// Asserts the invariants in debug builds.
    fn check(&self, c: &Locked<T>) {
        if cfg!(debug_assertions) {
            let qcount = self.qcount.load(Ordering::Relaxed);
            assert!(c.sendq.is_empty() || c.recvq.is_empty(), "both queues occupied");
            assert!(qcount == 0 || c.recvq.is_empty(), "values buffered with receivers parked");
            assert!(
                self.dataqsiz.is_none() || qcount + c.reserved == c.buf.size() || c.sendq.is_empty(),
                "room in the buffer with senders parked"
            );
            assert!(
                qcount + c.reserved <= c.buf.size() || self.dataqsiz.is_none(),
                "more slots held than the ring has"
            );
            assert!(qcount <= c.buf.size());
            let size = c.buf.size();
            if size > 0 {
                // (recvx + qcount) % size, without overflowing on huge rings.
                let sendx = if c.recvx >= size - qcount { c.recvx - (size - qcount) } else { c.recvx + qcount };
                assert_eq!(c.sendx, sendx, "sendx out of step");
            }
        }
    }

    /// A snapshot for tests.
    pub(crate) fn probe(&self) -> Probe {
        let c = self.lock();
        self.check(&c);
        Probe {
            qcount: self.qcount.load(Ordering::Relaxed),
            recvq: c.recvq.len(),
            sendq: c.sendq.len(),
            buffered: c.buffered,
        }
    }

    // The flavor interface `channel.rs` dispatches to.

    pub(crate) fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        self.chansend(msg, false, None).map_err(|(fail, msg)| match fail {
            Fail::NotReady => TrySendError::Full(msg),
            Fail::Closed => TrySendError::Disconnected(msg),
        })
    }

    #[track_caller]
    pub(crate) fn send(&self, msg: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        self.chansend(msg, true, deadline).map_err(|(fail, msg)| match fail {
            Fail::NotReady => SendTimeoutError::Timeout(msg),
            Fail::Closed => SendTimeoutError::Disconnected(msg),
        })
    }

    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        self.chanrecv(false, None).map_err(|fail| match fail {
            Fail::NotReady => TryRecvError::Empty,
            Fail::Closed => TryRecvError::Disconnected,
        })
    }

    #[track_caller]
    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        self.chanrecv(true, deadline).map_err(|fail| match fail {
            Fail::NotReady => RecvTimeoutError::Timeout,
            Fail::Closed => RecvTimeoutError::Disconnected,
        })
    }

    pub(crate) fn close(&self) -> bool {
        self.closechan()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Go's `len(c)`: `qcount`, read without the lock.
    pub(crate) fn len(&self) -> usize {
        self.qcount.load(Ordering::SeqCst)
    }

    /// Go's `cap(c)`; `None` for unbounded.
    pub(crate) fn capacity(&self) -> Option<usize> {
        self.dataqsiz
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Full means no room in the buffer: always for unbuffered, never for
    /// unbounded.
    pub(crate) fn is_full(&self) -> bool {
        self.dataqsiz.is_some_and(|n| self.len() == n)
    }
}

/// Go's `send`, for a sender that found a parked receiver: `dequeue`
/// already moved the value into the receiver's slot and published it with
/// the CAS that won the receiver, so what is left is to unlock and wake it.
fn send<T>(c: MutexGuard<'_, Locked<T>>, gp: Context) {
    drop(c);
    // Go's `goready`.
    gp.unpark();
}

/// Go's `recv`, for a receiver that found a parked sender and took its
/// value `v` (moved out of the sender's slot by `dequeue`).
///
/// Unbuffered: `v` is the value. Buffered: a sender parks only when no
/// slot is free (`qcount + reserved == dataqsiz`), so take the value at
/// the head and put `v` at the tail; FIFO order is kept, `qcount` does not
/// change. With no slot reserved the ring is full and head and tail are the
/// same slot, as in Go. If every slot is reserved (`qcount == 0`), `v` is
/// the oldest value there is and goes straight to the receiver.
fn recv<T>(hc: &HChan<T>, mut c: MutexGuard<'_, Locked<T>>, v: T, gp: Context) -> T {
    let out = if hc.dataqsiz == Some(0) || hc.qcount.load(Ordering::Relaxed) == 0 {
        v
    } else {
        let recvx = c.recvx;
        // SAFETY: `qcount > 0`, so slot `recvx` holds the oldest value.
        let head = unsafe { c.buf.take(recvx) };
        // Go's two `racenotify` calls on slot `recvx` were made by
        // `dequeue` before it won the sender (`Meet::Slot`): ours took in
        // the head value's sender, the sender's left it our past.
        c.recvx = c.buf.next(recvx);
        let sendx = c.sendx;
        if sendx != recvx {
            // Reserved slots lie between, so the value goes to the tail,
            // not to the head slot `dequeue` notified: its receiver must
            // find the sender's past in this one.
            if let Some(slot) = c.raceslot(sendx) {
                gp.notify_for_waiter(slot);
            }
        }
        c.buf.put(sendx, v);
        c.buffered += 1;
        c.sendx = c.buf.next(sendx);
        head
    };
    hc.check(&c);
    drop(c);
    // Go's `goready`.
    gp.unpark();
    out
}

impl<T> Drop for HChan<T> {
    fn drop(&mut self) {
        // `&mut self`: no handle is left, so no thread waits or holds the
        // lock, and the buffered values can be dropped here.
        let qcount = self.qcount.load(Ordering::Relaxed);
        let c = self.lock.get_mut().unwrap_or_else(|e| e.into_inner());
        debug_assert!(c.recvq.is_empty() && c.sendq.is_empty());
        let mut recvx = c.recvx;
        for _ in 0..qcount {
            // SAFETY: the `qcount` slots from `recvx` are full (invariant);
            // each is taken once and dropped.
            drop(unsafe { c.buf.take(recvx) });
            recvx = c.buf.next(recvx);
        }
    }
}

// How a `select` takes part in this channel (Go's `selectgo`).
pub(crate) mod select;
