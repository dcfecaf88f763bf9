//! Go's `runtime/chan.go`: `hchan`, `makechan`, `chansend`, `chanrecv`,
//! `closechan`, kept in Go's order and under Go's names.
//!
//! Invariants, all of them about state guarded by `lock`:
//!
//! - At least one of `sendq` and `recvq` is empty. (Go's one exception, a
//!   goroutine selecting on both ends of an unbuffered channel, needs
//!   select, which this port does not have yet.)
//! - Buffered: `qcount > 0` implies `recvq` is empty, and `qcount <
//!   dataqsiz` implies `sendq` is empty. Unbuffered: `qcount == 0`.
//!   Unbounded: `sendq` is always empty; the ring grows instead.
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

use racecheck::annotate::SyncClock;

use crate::context::{Context, Operation, Selected};
use crate::err::{RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};
use crate::race;
use crate::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::sync::{Mutex, MutexGuard, UnsafeCell};
use crate::trace;

use super::buf::Buf;
use super::waitq::{Sudog, WaitQ};
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
    /// Values written into `buf` over the channel's life (not in Go; lets
    /// the tests tell a direct hand-off from a trip through the buffer).
    buffered: u64,
    /// racecheck: one sync object per slot of a bounded buffer, Go's
    /// `chanbuf(c, i)` as seen by `racenotify`. Allocated only with
    /// detection on, at most [`MAX_RACESLOTS`] of them (slot `i` uses clock
    /// `i % len`: sharing a clock only adds edges, it never invents a
    /// race); empty when unbuffered or unbounded.
    raceslots: Box<[SyncClock]>,
    /// racecheck, unbounded only: senders release into it, receivers
    /// acquire it (send → receive, coarser than per message).
    racebuf: SyncClock,
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
// SAFETY: as above; no `&T` is ever shared between threads.
unsafe impl<T: Send> Sync for HChan<T> {}

/// The most per-slot racecheck clocks a bounded channel gets.
const MAX_RACESLOTS: usize = 1024;

impl<T> Locked<T> {
    /// racecheck's sync object for buffer slot `i`, if the buffer has them.
    #[inline]
    fn raceslot(&self, i: usize) -> Option<&SyncClock> {
        // Tested first, so that a channel without slot clocks (detection
        // off) pays no division on every operation.
        let n = self.raceslots.len();
        if n == 0 {
            return None;
        }
        self.raceslots.get(if i < n { i } else { i % n })
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
                buffered: 0,
                raceslots: (0..if racecheck::enabled() { dataqsiz.unwrap_or(0).min(MAX_RACESLOTS) } else { 0 })
                    .map(|_| SyncClock::new())
                    .collect(),
                racebuf: SyncClock::new(),
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
        if let Some(gp) = c.recvq.dequeue(Some(&mut ep), true) {
            // Go: "pretend we go through the buffer" at slot `recvx`, so the
            // hand-off counts toward the k-th receive → (k+C)-th send rule.
            if let Some(slot) = c.raceslot(c.recvx) {
                race::notify(slot);
            }
            send(c, gp);
            return Ok(());
        }
        let ep = ep.expect("dequeue gives the value back when no receiver took it");

        let qcount = self.qcount.load(Ordering::Relaxed);
        if qcount < c.buf.size() || self.dataqsiz.is_none() {
            if qcount == c.buf.size() {
                let recvx = c.recvx;
                // SAFETY: the `qcount` slots from `recvx` are the full ones
                // (invariant).
                unsafe { c.buf.grow(recvx, qcount) };
                c.recvx = 0;
                c.sendx = qcount;
            }
            // Room: `sendx` is the empty slot after the last value.
            let sendx = c.sendx;
            match c.raceslot(sendx) {
                Some(slot) => race::notify(slot),
                None => c.racebuf.release_merge(),
            }
            c.buf.put(sendx, ep);
            c.sendx = c.buf.next(sendx);
            c.buffered += 1;
            // Release, not SeqCst: Go writes `qcount` plainly under the
            // lock; the lock-free fast paths (`full`, `empty`) need only
            // what the lock and the `closed` store already order (see
            // docs/hchan.md). A SeqCst store is a locked instruction on
            // x86, a third of the cost of an uncontended operation.
            self.qcount.store(qcount + 1, Ordering::Release);
            c.recv_watchers.notify_watchers();
            self.check(&c);
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

        let mut c = self.lock();
        let qcount = self.qcount.load(Ordering::Relaxed);
        if self.closed.load(Ordering::Relaxed) {
            if qcount == 0 {
                return Err(Fail::Closed);
            }
            // Closed but not drained: fall through to the buffer. (A closed
            // channel has no parked senders.)
        } else {
            let mut ep = None;
            if let Some(gp) = c.sendq.dequeue(Some(&mut ep), true) {
                let v = ep.expect("a parked sender's slot holds its value");
                return Ok(recv(self, c, v, gp));
            }
        }

        if qcount > 0 {
            let recvx = c.recvx;
            // SAFETY: `qcount > 0`, so slot `recvx` is full (invariant);
            // advancing `recvx` and lowering `qcount` marks it empty.
            let v = unsafe { c.buf.take(recvx) };
            match c.raceslot(recvx) {
                Some(slot) => race::notify(slot),
                None => c.racebuf.acquire(),
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
        Context::with(|cx| {
            let mut elem = UnsafeCell::new(None);
            let oper = Operation::hook(&mut elem);
            let mysg = Sudog::new(cx, oper, &elem, self.id());
            cx.publish_wait();
            // SAFETY: as in `chansend`: we leave only once selected (already
            // unlinked) or after unlinking ourselves under the lock.
            unsafe { c.recvq.enqueue(&mysg) };
            c.send_watchers.notify_watchers();
            drop(c);
            let sel = self.gopark(cx, &mysg, deadline, "recv", "chan receive", at);
            self.after_park(&mysg, sel, |c| &mut c.recvq).map(|()| {
                // SAFETY: the sender that selected us wrote the slot before
                // its CAS, which our wait observed (Acquire); it will not
                // touch it again.
                let v = elem.with_mut(|p| unsafe { (*p).take() });
                v.expect("a receiver completed by a sender has a value")
            })
        })
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
        while let Some(gp) = c.recvq.dequeue(None, false) {
            glist.push(gp);
        }
        while let Some(gp) = c.sendq.dequeue(None, false) {
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
            assert!(qcount == c.buf.size() || c.sendq.is_empty(), "room in the buffer with senders parked");
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
/// Unbuffered: `v` is the value. Buffered: the ring is full (a sender
/// was parked), so take the value at its head and put `v` at its tail,
/// which is the same slot; FIFO order is kept, `qcount` does not change.
fn recv<T>(hc: &HChan<T>, mut c: MutexGuard<'_, Locked<T>>, v: T, gp: Context) -> T {
    let out = if hc.dataqsiz == Some(0) {
        v
    } else {
        let recvx = c.recvx;
        // SAFETY: the ring is full (a sender was parked; invariant), so
        // slot `recvx` holds the oldest value. We refill it at once.
        let head = unsafe { c.buf.take(recvx) };
        // Go's two `racenotify` calls on slot `recvx`: `dequeue` already
        // gave us the parked sender's past, so this one call carries both
        // its value's and our own history to the slot.
        if let Some(slot) = c.raceslot(recvx) {
            race::notify(slot);
        }
        c.buf.put(recvx, v);
        c.buffered += 1;
        c.recvx = c.buf.next(recvx);
        c.sendx = c.recvx;
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
