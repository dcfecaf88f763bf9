//! Go's `sudog` and `waitq`: the record of a thread parked on a channel, and
//! the FIFO of such records that `hchan.sendq` and `hchan.recvq` are.
//!
//! Invariants this file keeps, and every caller relies on:
//!
//! - A `WaitQ` lives inside its channel's lock, so `&mut WaitQ` means the
//!   lock is held. Every link (`first`, `last`, `next`, `prev`) is read and
//!   written only under that lock.
//! - A sudog is linked in at most one queue, and only while its owner waits.
//! - **A linked sudog is alive.** It sits in its owner's stack frame (as Go's
//!   `ep` does; the sudog itself is there too, where Go takes one from a
//!   per-P cache), and the owner leaves that frame only after one of:
//!   1. a peer selected it: the peer had already unlinked it, under the
//!      lock, before its CAS;
//!   2. the owner took the lock and unlinked itself (`remove`).
//!
//!   So whoever holds the lock may dereference any linked sudog.
//! - A peer touches a sudog only under the lock and never after its
//!   selecting CAS succeeds: from that instant the owner may return and the
//!   sudog be gone. Everything the peer still needs (the context to wake) it
//!   copies out before the CAS; the value and `success` it writes before the
//!   CAS, which publishes them.
//!
//! Where Go differs: its parked goroutine cannot give up, so `dequeue` only
//! needs the `selectDone` CAS for select sudogs and `send`/`recv` copy the
//! value afterwards. Our waiters can time out at any moment, so every sudog
//! is won by the same CAS on its thread's [`Context`], and the value must be
//! in place before that CAS: `dequeue` moves it, and moves it back if the
//! CAS is lost.

use std::cell::Cell;
use std::ptr;

use crate::race::SyncClock;

use crate::context::{Context, Operation, Selected};
use crate::sync::atomic::{AtomicUsize, Ordering};
use crate::sync::UnsafeCell;
use crate::waker::Step;

/// `Sudog::arrival` of a receiver: the value came with the selecting CAS.
pub(crate) const ON_TIME: usize = 0;
/// A late send reserved this receiver; the value comes later.
pub(crate) const PENDING: usize = 1;
/// The late value is in the receiver's slot.
pub(crate) const FILLED: usize = 2;
/// The late send was given up: receive again.
pub(crate) const ABANDONED: usize = 3;

/// How the peer that wins a parked waiter meets it, as racecheck sees it
/// (the rules are in `race.rs`): the edges are those of the same two
/// operations done without parking.
#[derive(Clone, Copy)]
pub(crate) enum Meet<'a> {
    /// An unbuffered rendezvous: an edge both ways (Go's `racesync`).
    Rendezvous,
    /// A hand-off on a buffered channel, pretending to go through this
    /// buffer slot: the peer notifies it for itself, then for the waiter
    /// (Go's `racenotify(c, i, nil)` and `racenotify(c, i, sg)`).
    Slot(&'a SyncClock),
    /// The peer's past to the waiter only: a hand-off on an unbounded
    /// channel (a send happens before its receive, nothing more), or a
    /// close (Go's `raceacquireg` on the threads `closechan` wakes).
    OneWay,
    /// The peer puts the waiter's value into this buffer slot on the
    /// waiter's behalf (a freed reserved slot taken by a parked sender):
    /// the slot is notified for the waiter only, as if it had sent.
    ForWaiter(&'a SyncClock),
}

impl Meet<'_> {
    /// Before the CAS that selects the waiter `cx`.
    fn prepare(self, cx: &Context) {
        match self {
            Meet::Rendezvous => cx.sync_with_waiter(),
            Meet::Slot(slot) => {
                crate::race::notify(slot);
                cx.notify_for_waiter(slot);
            }
            Meet::OneWay => cx.deliver_to_waiter(),
            Meet::ForWaiter(slot) => cx.notify_for_waiter(slot),
        }
    }
}

/// One thread waiting on one channel (Go's `sudog`).
pub(crate) struct Sudog<T> {
    /// Go's `g`: the parked thread, through its waiting context.
    cx: Context,
    /// What a peer selects `cx` with; Go reports the winning sudog through
    /// `gp.param`, we through the context's select word.
    oper: Operation,
    /// Go's `elem`: the owner's value slot, on its stack. A sender's holds
    /// its message until a receiver takes it; a receiver's is empty until a
    /// sender fills it.
    elem: *const UnsafeCell<Option<T>>,
    /// Go's `success`: true if a peer completed the operation, false if
    /// `closechan` woke it. Written by the peer before its CAS.
    success: Cell<bool>,
    /// Go's `isSelect`: the owner waits on several operations at once, so a
    /// lost CAS may also mean another operation of it won.
    is_select: bool,
    /// Not in Go: a sender without its value yet, a select's send whose
    /// message comes with `SelectedOperation::send` (unbuffered channels
    /// only). A receiver that selects it leaves a [`LatePeer`] in `peer`
    /// and waits for the value there.
    late_sender: bool,
    /// A receiver's: how its value arrives (`ON_TIME`, or `PENDING` until
    /// a late send that reserved it brings the value: `FILLED`, or gives up:
    /// `ABANDONED`). Written by a peer before its CAS, then by the late
    /// send's owner.
    arrival: AtomicUsize,
    /// A late sender's: where the receiver that selected it waits for the
    /// value. Written under the lock before the selecting CAS.
    peer: Cell<Option<LatePeer<T>>>,
    /// Go's `c`: the channel this sudog waits on, so that a select can find
    /// its way back to each channel it queued on.
    c: *const (),
    next: Cell<*const Sudog<T>>,
    prev: Cell<*const Sudog<T>>,
}

impl<T> Sudog<T> {
    /// A sudog for the calling thread's context `cx`, waiting as `oper` with
    /// its value slot `elem`, on the channel at `c`.
    pub(crate) fn new(cx: &Context, oper: Operation, elem: &UnsafeCell<Option<T>>, c: *const ()) -> Self {
        Sudog {
            cx: cx.clone(),
            oper,
            elem,
            success: Cell::new(false),
            is_select: false,
            late_sender: false,
            arrival: AtomicUsize::new(ON_TIME),
            peer: Cell::new(None),
            c,
            next: Cell::new(ptr::null()),
            prev: Cell::new(ptr::null()),
        }
    }

    /// Whether a peer completed the operation (false: closed). Read it only
    /// once the context was selected with this sudog's operation.
    pub(crate) fn success(&self) -> bool {
        self.success.get()
    }

    /// The channel this sudog waits on.
    pub(crate) fn chan(&self) -> *const () {
        self.c
    }

    /// A receiver selected by a late send waits here until the value comes
    /// (`FILLED`) or the send is given up (`ABANDONED`); returns which, or
    /// `ON_TIME` if the value came with the selection. Call only once the
    /// context was selected with this sudog's operation.
    pub(crate) fn wait_for_arrival(&self) -> usize {
        wait_for_arrival(&self.arrival)
    }

    /// A late sender's peer, left by the receiver that selected it. Call
    /// only once the context was selected with this sudog's operation.
    pub(crate) fn take_peer(&self) -> Option<LatePeer<T>> {
        self.peer.take()
    }

    /// Swaps the owner's value slot with `local`.
    ///
    /// # Safety
    /// The caller holds the lock of the queue this sudog is linked in (or
    /// was unlinked from by the caller, under the same hold of the lock), and
    /// has not yet selected the sudog's context.
    pub(crate) unsafe fn exchange(&self, local: &mut Option<T>) {
        // SAFETY: the sudog is alive and its owner is still in its frame
        // (module invariant: it cannot leave before being selected, which
        // has not happened, or before taking the lock, which we hold). The
        // owner reads its slot only after being selected or after re-taking
        // the lock, so nobody else touches the slot now.
        unsafe { (*self.elem).with_mut(|slot| ptr::swap(slot, local)) }
    }
}

/// A FIFO of parked sudogs (Go's `waitq`), linked through the sudogs.
pub(crate) struct WaitQ<T> {
    first: *const Sudog<T>,
    last: *const Sudog<T>,
}

impl<T> WaitQ<T> {
    pub(crate) fn new() -> Self {
        WaitQ { first: ptr::null(), last: ptr::null() }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_null()
    }

    /// How many sudogs are linked (walks the queue).
    pub(crate) fn len(&self) -> usize {
        let mut n = 0;
        let mut sgp = self.first;
        while !sgp.is_null() {
            n += 1;
            // SAFETY: linked sudogs are alive and `&self` is under the lock.
            sgp = unsafe { (*sgp).next.get() };
        }
        n
    }

    /// Links `sg` at the back.
    ///
    /// # Safety
    /// The caller owns `sg` and keeps it alive, in place, until it has been
    /// unlinked again, either by a peer's `dequeue` that selected it or by
    /// its own `remove` under the lock; it does not touch `sg` meanwhile
    /// except to read `success` once selected.
    pub(crate) unsafe fn enqueue(&mut self, sg: &Sudog<T>) {
        sg.next.set(ptr::null());
        sg.prev.set(self.last);
        if self.last.is_null() {
            self.first = sg;
        } else {
            // SAFETY: `last` is linked, hence alive; we hold the lock.
            unsafe { (*self.last).next.set(sg) };
        }
        self.last = sg;
    }

    /// Unlinks the first sudog; the queue must not be empty.
    fn unlink_first(&mut self) -> *const Sudog<T> {
        let sgp = self.first;
        // SAFETY: `first` is linked, hence alive; we hold the lock.
        let sg = unsafe { &*sgp };
        let next = sg.next.get();
        self.first = next;
        if next.is_null() {
            self.last = ptr::null();
        } else {
            // SAFETY: `next` is linked, hence alive.
            unsafe { (*next).prev.set(ptr::null()) };
        }
        sg.next.set(ptr::null());
        sg.prev.set(ptr::null());
        sgp
    }

    /// Takes the oldest sudog whose thread can still be won, wins it, and
    /// returns its context for the caller to wake (Go's `dequeue`, which
    /// also skips the sudogs whose `selectDone` CAS fails).
    ///
    /// `local` must not meet a late sender: buffered channels queue none,
    /// and receivers of an unbuffered one use [`WaitQ::dequeue_with`].
    ///
    /// Before the CAS it sets the sudog's `success` and, if `local` is given,
    /// swaps the sudog's value slot with it: a sender passes its message (it
    /// lands in a receiver's slot), a receiver passes `None` (it gets the
    /// sender's message), `closechan` passes nothing. The CAS then publishes
    /// both. A sudog whose CAS fails gets its slot back and stays unlinked,
    /// as in Go: its owner gave up (timed out) or, in a select, won
    /// elsewhere, and will find itself unlinked when it takes the lock.
    ///
    /// Returns `None`, with `local` as it was, when no sudog could be won.
    /// The caller should wake the returned context after unlocking.
    #[inline]
    pub(crate) fn dequeue<'m>(
        &mut self,
        local: Option<&mut Option<T>>,
        success: bool,
        meet: impl FnOnce() -> Meet<'m>,
    ) -> Option<Context> {
        // The empty queue, the usual case of a buffered channel, without a
        // call, and without working out how a waiter would be met.
        if self.first.is_null() {
            return None;
        }
        self.dequeue_slow(local, success, meet())
    }

    /// `dequeue` when the queue has a sudog.
    #[inline(never)]
    fn dequeue_slow(&mut self, mut local: Option<&mut Option<T>>, success: bool, meet: Meet<'_>) -> Option<Context> {
        self.dequeue_with(success, meet, |sg, _step| {
            if let Some(local) = local.as_deref_mut() {
                debug_assert!(!sg.late_sender, "a late sender has no value to swap");
                // SAFETY: lock held, just unlinked by us, not selected (on
                // `Undo`: its owner gave up but must take the lock, which we
                // hold, before it leaves its frame).
                unsafe { sg.exchange(local) };
            }
        })
    }

    /// [`WaitQ::dequeue`] with the hand-over in the caller's hands:
    /// `hand_over` runs with [`Step::Prepare`] on each candidate, under the
    /// lock and before the selecting CAS (which publishes what it wrote),
    /// and with [`Step::Undo`] if the candidate could not be won. `meet`
    /// says what racecheck's edges with the waiter are.
    pub(crate) fn dequeue_with(
        &mut self,
        success: bool,
        meet: Meet<'_>,
        mut hand_over: impl FnMut(&Sudog<T>, Step),
    ) -> Option<Context> {
        while !self.first.is_null() {
            let sgp = self.unlink_first();
            // SAFETY: just unlinked by us under the lock and not yet
            // selected, so its owner is still waiting in its frame.
            let sg = unsafe { &*sgp };
            hand_over(sg, Step::Prepare);
            sg.success.set(success);
            // Copy out what we need after the CAS: once it succeeds the
            // owner may return and `sg` be gone.
            let cx = sg.cx.clone();
            let oper = sg.oper;
            let is_select = sg.is_select;
            // racecheck: the hand-off's (or the close's) edges with the
            // waiter, published by the CAS below.
            meet.prepare(&cx);
            match cx.try_select(Selected::Operation(oper)) {
                Ok(()) => return Some(cx),
                Err(lost_to) => {
                    // racecheck: what `prepare` did stays. The peer may have
                    // learned the waiter's past (a rendezvous), and a slot
                    // holds the waiter's past until the peer notifies it
                    // again (it goes on to the next waiter or to the buffer,
                    // both through this slot): edges that can hide a race
                    // but never invent one.
                    // A plain wait has one operation, so only its own
                    // timeout can beat us.
                    debug_assert!(is_select || lost_to == Selected::Aborted, "lost to {lost_to:?}");
                    // The owner gave up but must take the lock, which we
                    // hold, before it leaves its frame.
                    hand_over(sg, Step::Undo);
                    sg.success.set(false);
                }
            }
        }
        None
    }

    /// Unlinks `sg` if it is still linked (Go's `dequeueSudoG`); returns
    /// whether it was. An owner that gave up calls this under the lock
    /// before leaving its frame.
    ///
    /// # Safety
    /// `sg` was enqueued on this queue (it may have been unlinked since).
    pub(crate) unsafe fn remove(&mut self, sg: &Sudog<T>) -> bool {
        let sgp: *const Sudog<T> = sg;
        let prev = sg.prev.get();
        let next = sg.next.get();
        if !prev.is_null() {
            // SAFETY: the neighbours of a linked sudog are linked, hence
            // alive; we hold the lock.
            unsafe { (*prev).next.set(next) };
        } else if self.first == sgp {
            self.first = next;
        } else {
            // Unlinked sudogs have no `prev` and are not `first`.
            return false;
        }
        if next.is_null() {
            self.last = prev;
        } else {
            // SAFETY: the neighbours of a linked sudog are linked, hence
            // alive (their owners keep them until unlinked); we hold the
            // lock.
            unsafe { (*next).prev.set(prev) };
        }
        sg.next.set(ptr::null());
        sg.prev.set(ptr::null());
        true
    }
}

impl<T> Sudog<T> {
    /// A sudog for one case of a select (Go's `isSelect`): the owner waits on
    /// several channels with the same context, so a peer may lose the
    /// selecting CAS because another case won, not only to a timeout.
    pub(crate) fn new_select(cx: &Context, oper: Operation, elem: &UnsafeCell<Option<T>>, c: *const ()) -> Self {
        Sudog { is_select: true, ..Sudog::new(cx, oper, elem, c) }
    }

    /// A select's sending case without its value yet (see `late_sender`).
    pub(crate) fn new_late_sender(cx: &Context, oper: Operation, elem: &UnsafeCell<Option<T>>, c: *const ()) -> Self {
        Sudog { late_sender: true, ..Sudog::new_select(cx, oper, elem, c) }
    }

    /// Whether this is a sender without its value yet.
    pub(crate) fn is_late_sender(&self) -> bool {
        self.late_sender
    }

    /// Under the lock, before selecting this late sender: leaves it `peer`.
    pub(crate) fn set_peer(&self, peer: Option<LatePeer<T>>) -> Option<LatePeer<T>> {
        self.peer.replace(peer)
    }

    /// Under the lock, before selecting this receiver for a late send:
    /// marks it `PENDING` (`ON_TIME` to undo), and returns where the value
    /// goes.
    pub(crate) fn reserve_for_late_send(&self, step: Step) -> Option<LatePeer<T>> {
        match step {
            Step::Prepare => {
                // Published to the receiver by the selecting CAS.
                self.arrival.store(PENDING, Ordering::Relaxed);
                Some(LatePeer { elem: self.elem, arrival: &self.arrival, cx: self.cx.clone() })
            }
            Step::Undo => {
                self.arrival.store(ON_TIME, Ordering::Relaxed);
                None
            }
        }
    }
}

/// Waits while `arrival` is `PENDING`; returns what it became.
pub(crate) fn wait_for_arrival(arrival: &AtomicUsize) -> usize {
    // Acquire: pairs with the Release store of FILLED after the value was
    // put (ON_TIME and PENDING came with the selecting CAS, which the
    // waiter's wait already acquired).
    let mut now = arrival.load(Ordering::Acquire);
    while now == PENDING {
        // The late send unparks us after it stores FILLED or ABANDONED;
        // an early or stray unpark only loops.
        crate::sync::thread::park();
        now = arrival.load(Ordering::Acquire);
    }
    now
}

/// A receiver owed a value by a late send: its value slot, its arrival
/// word, and its context to wake. The receiver stays in place, waiting in
/// [`wait_for_arrival`], until `FILLED` or `ABANDONED`.
pub(crate) struct LatePeer<T> {
    elem: *const UnsafeCell<Option<T>>,
    arrival: *const AtomicUsize,
    cx: Context,
}

// SAFETY: a `LatePeer` moves one `T` to the receiver's thread (hence `T:
// Send`); its pointers are used only for that hand-over, which the
// receiver waits for.
unsafe impl<T: Send> Send for LatePeer<T> {}

impl<T> LatePeer<T> {
    /// Where a receiver that is not parked (it found the late sender
    /// itself) waits: `elem` and `arrival` are its own, marked `PENDING`.
    pub(crate) fn new(elem: &UnsafeCell<Option<T>>, arrival: &AtomicUsize, cx: Context) -> Self {
        arrival.store(PENDING, Ordering::Relaxed);
        LatePeer { elem, arrival, cx }
    }

    /// Delivers `v` and wakes the receiver.
    pub(crate) fn fill(mut self, v: T) {
        // racecheck: the send happens now; the receiver acquires again when
        // it sees FILLED.
        self.cx.sync_with_waiter();
        // SAFETY: the receiver keeps its slot in place while PENDING and
        // does not touch it before FILLED; nobody else can reach it.
        unsafe { (*self.elem).with_mut(|p| *p = Some(v)) };
        self.settle(FILLED);
    }

    /// Stores `outcome` (Release: the receiver sees the value with
    /// `FILLED`) and wakes the receiver; the peer is spent.
    fn settle(&mut self, outcome: usize) {
        let arrival = std::mem::replace(&mut self.arrival, ptr::null());
        if !arrival.is_null() {
            // SAFETY: still PENDING (not settled before), so the receiver
            // keeps the word in place.
            unsafe { (*arrival).store(outcome, Ordering::Release) };
            self.cx.unpark();
        }
    }

    /// Drops the peer without settling it: for a hand-over whose selecting
    /// CAS failed, which the receiver never saw.
    pub(crate) fn forget(mut self) {
        self.arrival = ptr::null();
    }
}

impl<T> Drop for LatePeer<T> {
    /// Given up without a value: the receiver receives again.
    fn drop(&mut self) {
        self.settle(ABANDONED);
    }
}

impl<T> WaitQ<T> {
    /// Whether a sudog of a thread other than the caller is linked and can
    /// still be selected. A select never pairs with its own sudogs (a
    /// thread cannot meet itself), nor with one whose context is already
    /// selected (Go's `dequeue` skips those too, when its `selectDone` CAS
    /// fails), so it ignores both when it asks whether a case could go now.
    pub(crate) fn has_waiter_of_other_thread(&self) -> bool {
        let me = crate::context::current_thread_id();
        let mut sgp = self.first;
        while !sgp.is_null() {
            // SAFETY: linked sudogs are alive and `&self` is under the lock.
            let sg = unsafe { &*sgp };
            if sg.cx.thread_id() != me && sg.cx.selected() == crate::context::Selected::Waiting {
                return true;
            }
            sgp = sg.next.get();
        }
        false
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A value slot, the operation id anchored at it, and a sudog for `cx`.
    macro_rules! waiter {
        ($cx:expr, $slot:ident, $sg:ident, $init:expr) => {
            let mut $slot = UnsafeCell::new($init);
            let oper = Operation::hook(&mut $slot);
            let $sg = Sudog::new($cx, oper, &$slot, ptr::null());
        };
    }

    fn take<T>(slot: &UnsafeCell<Option<T>>) -> Option<T> {
        // SAFETY: the sudog using this slot is unlinked; the test thread is
        // the only one around.
        slot.with_mut(|p| unsafe { (*p).take() })
    }

    #[test]
    fn dequeue_skips_a_waiter_that_gave_up_and_gives_the_value_to_the_next() {
        Context::with(|gave_up| {
            // A nested `with` hands out a second, independent context.
            Context::with(|waiting| {
                waiter!(gave_up, slot_a, a, None::<String>);
                waiter!(waiting, slot_b, b, None::<String>);
                let mut q = WaitQ::new();
                // SAFETY: `a` and `b` outlive `q`'s use of them and are
                // unlinked (checked below) before they go.
                unsafe {
                    q.enqueue(&a);
                    q.enqueue(&b);
                }
                assert_eq!(q.len(), 2);
                gave_up.try_select(Selected::Aborted).unwrap();

                let mut local = Some(String::from("v"));
                let woken = q.dequeue(Some(&mut local), true, || Meet::OneWay).expect("the live waiter is won");
                assert_eq!(local, None, "the value left the caller once");
                assert_eq!(waiting.selected(), Selected::Operation(b.oper));
                assert!(b.success());
                assert_eq!(take(&slot_b).as_deref(), Some("v"));
                // The one that gave up got its slot back untouched and is
                // unlinked, as Go's dequeue leaves a lost select sudog.
                assert_eq!(gave_up.selected(), Selected::Aborted);
                assert!(!a.success());
                assert_eq!(take(&slot_a), None);
                assert!(q.is_empty());
                // SAFETY: `a` was enqueued on `q`.
                assert!(!unsafe { q.remove(&a) }, "already unlinked");
                drop(woken);
            })
        })
    }

    #[test]
    fn dequeue_gives_the_value_back_when_nobody_can_be_won() {
        Context::with(|gave_up| {
            waiter!(gave_up, slot, sg, Some(1u8));
            let mut q = WaitQ::new();
            // SAFETY: `sg` outlives `q`'s use of it.
            unsafe { q.enqueue(&sg) };
            gave_up.try_select(Selected::Aborted).unwrap();
            // A receiver trying to take from a sender that gave up.
            let mut local = None;
            assert!(q.dequeue(Some(&mut local), true, || Meet::OneWay).is_none());
            assert_eq!(local, None);
            assert_eq!(take(&slot), Some(1), "the sender keeps its value");
            assert!(q.is_empty());
        })
    }

    #[test]
    fn remove_unlinks_from_anywhere_and_keeps_fifo_order() {
        Context::with(|cx| {
            waiter!(cx, s1, a, None::<u8>);
            waiter!(cx, s2, b, None::<u8>);
            waiter!(cx, s3, c, None::<u8>);
            let mut q = WaitQ::new();
            // SAFETY: all three outlive `q`'s use of them.
            unsafe {
                q.enqueue(&a);
                q.enqueue(&b);
                q.enqueue(&c);
                assert!(q.remove(&b));
                assert!(!q.remove(&b));
                assert_eq!(q.len(), 2);
                assert!(q.remove(&c));
                assert!(q.remove(&a));
            }
            assert!(q.is_empty());
            // SAFETY: all three are unlinked again and still outlive `q`'s
            // use of them; they are re-linked in a new order.
            unsafe {
                q.enqueue(&c);
                q.enqueue(&a);
            }
            let first = q.dequeue(None, false, || Meet::OneWay).expect("c is still waiting");
            assert_eq!(first.selected(), Selected::Operation(c.oper));
            let _ = (&s1, &s2, &s3);
        })
    }
}
