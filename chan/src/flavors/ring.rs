//! The default flavor for `bounded(n)`, `n >= 1`: a lock-free ring buffer.
//!
//! This is Dmitry Vyukov's bounded MPMC queue: every slot carries a *stamp*
//! saying which lap of the ring it is ready for, and `head`/`tail` are
//! positions that encode a lap and an index. A sender claims the slot at
//! `tail` with one CAS when the slot's stamp says "free in this lap", writes
//! the message, then stamps the slot "full". A receiver mirrors that at
//! `head`. There is no lock and no allocation after construction; `head` and
//! `tail` sit on separate cache lines so senders and receivers do not share
//! one. The design, every ordering and the waiting protocol are argued in
//! `docs/ring.md`.
//!
//! Positions: `lap * one_lap + index`, where `one_lap` is a power of two
//! above `cap` and the bit below it (`mark_bit`) is free; `tail` carries the
//! *closed* mark in that bit.
//!
//! A slot that a peer has claimed but not yet finished is never waited on by
//! the `try_` operations: one still being written reads as empty, one still
//! being read reads as full. The peer notifies when it finishes, so a
//! blocking operation that parked on that answer is woken.

use std::mem::MaybeUninit;
use std::time::Instant;

use crate::race::SyncClock;
use crossbeam_utils::CachePadded;

use crate::context::{spinning_can_help, Context, Operation, Patience, Selected};
use crate::err::{RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};
use crate::race;
use crate::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use crate::sync::thread::{self, Thread};
use crate::sync::{Backoff, UnsafeCell};
use crate::trace;
use crate::waker::SyncWaker;

/// One cell of the ring.
struct Slot<T> {
    /// `tail` value that may write the slot, or `head + 1` once written.
    stamp: AtomicUsize,
    msg: UnsafeCell<MaybeUninit<T>>,
}

/// How many times a receive looks again, spinning briefly, at a slot that
/// its sender is writing before it answers "empty" (`claim_recv`).
const MID_WRITE_SPINS: u32 = 4;

/// A pass word (`Channel::passes`): the receiver has claimed the position and is finding out
/// whether the message arrived before it gave up.
const CHECKING: usize = 1;
/// The message is the receiver's: it arrived in time.
const TAKEN: usize = 2;
/// The receiver went past: the sender takes its message back and sends it
/// again.
const PASSED: usize = 3;

/// A message the active sender leaves, on one CPU, for the next receiver
/// that frees a slot to send in its place (see `Channel::offer`). It lives
/// on the sender's stack.
struct Offer<T> {
    msg: UnsafeCell<Option<T>>,
    /// [`POSTED`] until a receiver that took the offer has sent the message
    /// ([`SENT`]) or given it back ([`RETURNED`]); [`WAITING`] while the
    /// sender waits parked for that.
    state: AtomicUsize,
    /// The sender, which the receiver unparks if it found it [`WAITING`].
    sender: Thread,
}

const POSTED: usize = 0;
const SENT: usize = 1;
const RETURNED: usize = 2;
const WAITING: usize = 3;

/// The outcome of trying to claim a slot.
enum Claim {
    /// The slot at this position is ours to write (send) or read (receive).
    Slot(usize),
    /// Full (send) or empty (receive), counting slots a peer has not
    /// finished yet.
    WouldBlock,
    /// Closed (send), or closed and drained (receive).
    Closed,
}

/// A bounded lock-free channel.
pub(crate) struct Channel<T> {
    head: CachePadded<AtomicUsize>,
    tail: CachePadded<AtomicUsize>,
    buffer: Box<[Slot<T>]>,
    /// Per slot, a receiver passing it while its sender writes it (see
    /// `pass_unwritten`): 0, or the position's lap with the mark bit and
    /// one of [`CHECKING`], [`TAKEN`], [`PASSED`] in the index bits. Only
    /// the slot's receiver and sender of that lap touch it. Apart from the
    /// slots, so that a slot stays a stamp and a message (as many per
    /// cache line as without it), and so that the line a sender reads on
    /// every send is one that nobody writes in the common case.
    passes: Box<[AtomicUsize]>,
    /// racecheck's sync object for each slot (see `race.rs`); empty when
    /// detection is off.
    clocks: Box<[SyncClock]>,
    cap: usize,
    one_lap: usize,
    mark_bit: usize,
    senders: SyncWaker,
    receivers: SyncWaker,
    /// One CPU only: the active sender's [`Offer`], or null. Only the
    /// active sender (one at a time, `SyncWaker::start_yielding`) puts a
    /// pointer here, and it takes it back, or sees the offer settled, before
    /// it returns; a receiver that swaps it out owns the offer until it
    /// settles it (`SENT` or `RETURNED`).
    offer: AtomicPtr<Offer<T>>,
}

// SAFETY: messages move between threads through the slots, so `T: Send` is
// needed and sufficient; every slot access is guarded by the stamp protocol
// (one claimant per slot per lap), and the rest is atomics and locks.
unsafe impl<T: Send> Send for Channel<T> {}
// SAFETY: `&Channel<T>` lets a thread send and receive: whole messages move
// from one thread to another through the stamped slots (one claimant per
// slot per lap), and no `&T` is ever handed out, so `T: Send` suffices and
// `T: Sync` is not required.
unsafe impl<T: Send> Sync for Channel<T> {}

impl<T> Channel<T> {
    /// A ring with room for `cap` messages (`cap >= 1`).
    pub(crate) fn with_capacity(cap: usize) -> Self {
        assert!(cap > 0, "capacity must be positive");
        assert!(cap <= usize::MAX / 4, "capacity too large");
        // At least 4: a pass word keeps a state of two bits below it.
        let mark_bit = (cap + 1).next_power_of_two().max(4);
        let one_lap = mark_bit * 2;
        let buffer = Self::new_buffer(cap);
        // Before any handle exists: every `write` relies on it.
        crate::barrier::init();
        Channel {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            buffer,
            passes: (0..cap).map(|_| AtomicUsize::new(0)).collect(),
            clocks: race::slot_clocks(cap),
            cap,
            one_lap,
            mark_bit,
            // See `with_skip_limit` for why a quarter of the capacity.
            senders: SyncWaker::with_skip_limit(cap / 4),
            receivers: SyncWaker::new(),
            offer: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// The slots, slot `i` stamped "free in lap 0" (`i`), built in place on
    /// the heap: a slot of a large message built on the stack first would
    /// overflow it.
    #[cfg(not(loom))]
    fn new_buffer(cap: usize) -> Box<[Slot<T>]> {
        let layout = std::alloc::Layout::array::<Slot<T>>(cap).expect("capacity too large");
        // SAFETY: `cap > 0` and a slot holds an `AtomicUsize`: not zero-sized.
        let raw = unsafe { std::alloc::alloc_zeroed(layout) } as *mut Slot<T>;
        if raw.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        for i in 0..cap {
            // SAFETY: `i < cap`, inside the allocation; all zeros is a valid
            // slot (an empty message cell, stamp 0) and only the stamp is
            // set to its index, in place.
            unsafe { (*raw.add(i)).stamp.store(i, Ordering::Relaxed) };
        }
        // SAFETY: `cap` initialized slots in an allocation of exactly the
        // layout of `[Slot<T>; cap]`, from the global allocator.
        unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(raw, cap)) }
    }

    /// Under loom the cells and atomics carry the model's state, which all
    /// zeros is not; the models' messages are small.
    #[cfg(loom)]
    fn new_buffer(cap: usize) -> Box<[Slot<T>]> {
        (0..cap).map(|i| Slot { stamp: AtomicUsize::new(i), msg: UnsafeCell::new(MaybeUninit::uninit()) }).collect()
    }

    #[inline]
    fn slot(&self, pos: usize) -> &Slot<T> {
        // The index part of a position is always below `cap`.
        &self.buffer[pos & (self.mark_bit - 1)]
    }

    /// The pass word of the slot at `pos`.
    #[inline]
    fn pass(&self, pos: usize) -> &AtomicUsize {
        &self.passes[pos & (self.mark_bit - 1)]
    }

    /// The position after `pos`, wrapping to the next lap at the end.
    #[inline]
    fn next(&self, pos: usize) -> usize {
        let index = pos & (self.mark_bit - 1);
        if index + 1 < self.cap {
            pos + 1
        } else {
            (pos & !(self.one_lap - 1)).wrapping_add(self.one_lap)
        }
    }

    /// Claims the slot at `tail` for writing.
    #[inline]
    fn claim_send(&self) -> Claim {
        let backoff = Backoff::new();
        let mut tail = self.tail.load(Ordering::Relaxed);
        loop {
            if tail & self.mark_bit != 0 {
                return Claim::Closed;
            }
            let stamp = self.slot(tail).stamp.load(Ordering::Acquire);
            if stamp == tail {
                // Free in this lap. SeqCst so that the claim takes part in the
                // total order the waiter protocol reasons about.
                match self.tail.compare_exchange_weak(tail, self.next(tail), Ordering::SeqCst, Ordering::Relaxed) {
                    Ok(_) => return Claim::Slot(tail),
                    Err(current) => {
                        tail = current;
                        backoff.spin();
                    }
                }
            } else if (stamp & !self.mark_bit).wrapping_add(self.one_lap) == tail + 1 {
                // The slot still holds the previous lap's message (or the
                // hole of an abandoned reservation, see `select.rs`): the
                // ring is full, or a receiver is still reading it. Either way no
                // sender can claim it now (and `tail` cannot have moved on),
                // so this is an honest "full".
                return Claim::WouldBlock;
            } else if (stamp & !self.mark_bit).wrapping_add(self.one_lap) == tail {
                // The previous lap's sender claimed this slot and has not
                // finished writing it (or a select reserved it, stamp
                // `pos | mark_bit`, and has not sent yet). `tail` went a
                // whole lap past that claim, so every slot is taken: full.
                // Waiting for that sender here would make `try_send` wait
                // on a descheduled peer.
                return Claim::WouldBlock;
            } else {
                // Another sender claimed this slot; catch up.
                backoff.spin();
                tail = self.tail.load(Ordering::Relaxed);
            }
        }
    }

    /// Writes `msg` into a slot just claimed by `claim_send`, publishes it
    /// and wakes a parked receiver. Gives `msg` back if a receiver passed
    /// the slot meanwhile (see [`fill`](Self::fill)): the caller sends it
    /// again, in a new slot.
    ///
    /// # Safety
    /// `tail` must come from a successful `claim_send` and be used once.
    #[inline]
    unsafe fn write(&self, tail: usize, msg: T) -> Result<(), T> {
        // SAFETY: forwarded from the caller.
        unsafe { self.fill(tail, tail, msg) }?;
        // The change a parked receiver waits for began with our claim, a
        // SeqCst CAS of `tail` that its re-check (`can_recv`) reads with a
        // SeqCst load; so no fence (docs/ring.md, section 4).
        self.receivers.notify_after_seqcst_change();
        Ok(())
    }

    /// Writes `msg` into a claimed slot whose stamp is `from` (`tail`, or
    /// `tail | mark_bit` for a reservation) and stamps it written; no
    /// wake-up. Gives the message back, with the slot freed for the next
    /// lap, if a receiver went past the slot before the message arrived
    /// (`pass_unwritten`): the caller then sends again.
    ///
    /// A plain send stamps with a store and then looks at the slot's pass
    /// word, with the light side of an asymmetric barrier between the two:
    /// a receiver that passes the slot writes that word, runs the heavy
    /// side, then looks at the stamp, so one of the two sees the other
    /// (`barrier.rs`). The fast path pays a compiler fence and one load of
    /// the slot it already holds, where a compare-exchange of the stamp
    /// would stall every send on the line the receiver polls. A
    /// reservation stamps with a compare-exchange: its slot may hold a
    /// receiver's hole instead (`select.rs`).
    ///
    /// # Safety
    /// As for [`write`](Self::write), or a reservation (`select.rs`).
    #[inline]
    unsafe fn fill(&self, tail: usize, from: usize, msg: T) -> Result<(), T> {
        let slot = self.slot(tail);
        // SAFETY: the claim gave this thread the only right to the slot's
        // cell until it is stamped written or freed, and the slot is empty
        // (its stamp said so).
        slot.msg.with_mut(|p| unsafe { p.write(MaybeUninit::new(msg)) });
        race::notify_slot(&self.clocks, tail & (self.mark_bit - 1));
        let published = if from == tail {
            // Release: the receiver that acquires this stamp sees the
            // message.
            slot.stamp.store(tail + 1, Ordering::Release);
            crate::barrier::light();
            // Acquire: a receiver's verdict (TAKEN, PASSED) comes after
            // everything it did to the slot.
            let word = self.pass(tail).load(Ordering::Acquire);
            word & !(self.mark_bit - 1) != self.pass_key(tail) || self.settle_pass(tail)
        } else {
            slot.stamp.compare_exchange(from, tail + 1, Ordering::AcqRel, Ordering::Relaxed).is_ok()
        };
        if published {
            return Ok(());
        }
        // SAFETY: the receiver went past the slot: nobody reads the cell;
        // it is still ours, and we take our message back.
        let msg = slot.msg.with(|p| unsafe { p.read().assume_init() });
        self.free_passed_slot(tail);
        Err(msg)
    }

    /// The pass word's position part for `pos`: its lap, with the mark bit
    /// (never set in a position) so that it is never 0.
    #[inline]
    fn pass_key(&self, pos: usize) -> usize {
        (pos & !(self.one_lap - 1)) | self.mark_bit
    }

    /// A plain send found that a receiver is passing, or has passed, its
    /// slot at `tail` (already stamped written): whether the message was
    /// delivered. A receiver still checking is answered for: the message
    /// is there now, so the sender records TAKEN itself, and the receiver,
    /// whose own verdict then fails, reads it.
    #[cold]
    #[inline(never)]
    fn settle_pass(&self, tail: usize) -> bool {
        let pass = self.pass(tail);
        let key = self.pass_key(tail);
        loop {
            let word = pass.load(Ordering::Acquire);
            match word & (self.mark_bit - 1) {
                CHECKING => {
                    // Release: the receiver that fails its verdict on this
                    // sees the stamp we stored.
                    if pass.compare_exchange(word, key | TAKEN, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                        return true;
                    }
                }
                TAKEN => return true,
                _ => return false,
            }
        }
    }

    /// The second of a slot's two parties to leave it without a message (a
    /// sender whose slot was passed, or the receiver of a reservation's
    /// hole) frees it for the next lap's sender, and wakes a sender that may
    /// wait for that slot.
    #[cold]
    #[inline(never)]
    fn free_passed_slot(&self, pos: usize) {
        // Release: the next lap's sender sees that we are done with the
        // cell.
        self.slot(pos).stamp.store(pos.wrapping_add(self.one_lap), Ordering::Release);
        // A plain store, not a SeqCst claim: notify with the fence.
        self.senders.notify();
    }

    /// Claims the slot at `head` for reading.
    ///
    /// Linearizable, and without waiting for any peer: "empty" means that
    /// at one moment during the call no message was written and unread,
    /// and a slot that a sender claimed but has not finished writing only
    /// counts as empty while no message after it is ready. If one is, the
    /// unfinished send has not happened yet as far as anyone can tell, so
    /// the receiver claims the slot and *passes* it instead of waiting
    /// (`pass_unwritten`: the late sender finds out, takes its message back
    /// and sends again) and moves on to the ready message. `docs/ring.md`
    /// gives the argument.
    #[inline]
    fn claim_recv(&self) -> Claim {
        let backoff = Backoff::new();
        let mut mid_write_spins = MID_WRITE_SPINS;
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            let stamp = self.slot(head).stamp.load(Ordering::Acquire);
            if stamp == head + 1 {
                // Written in this lap.
                match self.head.compare_exchange_weak(head, self.next(head), Ordering::SeqCst, Ordering::Relaxed) {
                    Ok(_) => return Claim::Slot(head),
                    Err(current) => {
                        head = current;
                        backoff.spin();
                    }
                }
            } else if stamp == (head + 1) | self.mark_bit {
                // A hole: a select reserved this slot for a send and was
                // dropped without sending (see `select.rs`). Step over it as
                // a receive that takes nothing, freeing the slot for the next
                // lap, and go on to the next slot.
                match self.head.compare_exchange_weak(head, self.next(head), Ordering::SeqCst, Ordering::Relaxed) {
                    Ok(_) => {
                        self.slot(head).stamp.store(head.wrapping_add(self.one_lap), Ordering::Release);
                        // Our change was the SeqCst claim of `head` above.
                        self.senders.notify_after_seqcst_change();
                        head = self.next(head);
                    }
                    Err(current) => {
                        head = current;
                        backoff.spin();
                    }
                }
            } else if stamp & !self.mark_bit == head || (stamp & !self.mark_bit).wrapping_add(self.one_lap) == head + 1
            {
                // Not written in this lap: empty; or a sender is mid-write,
                // or a select reserved the slot (stamp `head | mark_bit`)
                // and has not sent yet; or the previous lap's receiver of
                // this slot is still reading it (or stepping over its
                // hole), so `head` went a whole lap past that claim and no
                // sender can have claimed this one: empty.
                let tail = self.tail.load(Ordering::SeqCst);
                if tail & !self.mark_bit == head {
                    // Nothing claimed: empty, or closed and drained for good
                    // once the mark is set (a claim needs an unmarked tail).
                    return if tail & self.mark_bit != 0 { Claim::Closed } else { Claim::WouldBlock };
                }
                if stamp & !self.mark_bit != head {
                    return Claim::WouldBlock;
                }
                // A sender holds the slot. Waiting for it would make
                // `try_recv` wait on a thread that may be descheduled, and
                // answering "empty" is only honest while no message after
                // it is ready.
                if !self.written_between(head, tail) {
                    if self.head.load(Ordering::SeqCst) == head {
                        // Between our load of `tail` and now, `head` did not
                        // move, and no slot from `head` to `tail` was
                        // written (a written stamp stays until its slot is
                        // read, which moves `head`): at our load of `tail`
                        // the channel held no message.
                        if mid_write_spins == 0 {
                            return Claim::WouldBlock;
                        }
                        // The sender is most likely running and a few
                        // instructions from its stamp: a short, bounded spin
                        // (never a wait for a descheduled one) saves a
                        // caught-up receiver the slow path on every message.
                        mid_write_spins -= 1;
                        backoff.spin();
                    }
                } else if let Some(claim) = self.pass_unwritten(head, stamp) {
                    return claim;
                }
                head = self.head.load(Ordering::Relaxed);
            } else {
                // Another receiver took this slot; catch up.
                backoff.spin();
                head = self.head.load(Ordering::Relaxed);
            }
        }
    }

    /// Whether a slot strictly between positions `head` and `tail` holds a
    /// message written in its lap. At most `cap - 1` slots; only a receive
    /// that found the slot at `head` claimed but unwritten looks.
    #[cold]
    #[inline(never)]
    fn written_between(&self, head: usize, tail: usize) -> bool {
        let end = tail & !self.mark_bit;
        let mut pos = self.next(head);
        while pos != end {
            // A stamp stored before anything our `tail` load was ordered
            // after is seen here (coherence); one stored later is a send
            // that takes effect after that load.
            if self.slot(pos).stamp.load(Ordering::SeqCst) == pos + 1 {
                return true;
            }
            pos = self.next(pos);
        }
        false
    }

    /// The slot at `head` (stamp `stamp`) is claimed by a sender that has
    /// not written it, and a later message is ready: claims `head`, then
    /// settles with the slot's sender whether the message arrived in time
    /// (`Some(Slot)`: it is ours to read) or the position is passed (the
    /// sender takes its message back and sends again), and returns `None`
    /// for the caller to go on from the next slot. `None` too if another
    /// receiver moved `head` first.
    #[cold]
    #[inline(never)]
    fn pass_unwritten(&self, head: usize, stamp: usize) -> Option<Claim> {
        if self.head.compare_exchange(head, self.next(head), Ordering::SeqCst, Ordering::Relaxed).is_err() {
            return None;
        }
        // The position is ours now; the only other party is its sender.
        let slot = self.slot(head);
        let key = self.pass_key(head);
        let reserved = head | self.mark_bit;
        if stamp == reserved {
            return self.pass_reserved(head);
        }
        // The Dekker pair with `fill`: our word, the heavy barrier, then
        // its stamp; the sender's stamp, the light barrier, then our word.
        self.pass(head).store(key | CHECKING, Ordering::Relaxed);
        crate::barrier::heavy();
        let now = slot.stamp.load(Ordering::Acquire);
        let verdict = if now == head + 1 {
            TAKEN
        } else if now == reserved {
            // A `Select::send` reserved the slot meanwhile and did not see
            // our word: stop it as any reservation, at the stamp.
            match self.pass_reserved(head) {
                Some(_) => TAKEN,
                None => PASSED,
            }
        } else {
            PASSED
        };
        let verdict = match self.pass(head).compare_exchange(
            key | CHECKING,
            key | verdict,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => verdict,
            // The sender answered first: TAKEN (a plain send that found our
            // word after its stamp) or PASSED (a reservation giving up).
            Err(word) if word & !(self.mark_bit - 1) == key => word & (self.mark_bit - 1),
            // A later lap's word: our sender gave the slot up (PASSED) and
            // the slot moved on before we looked.
            Err(_) => PASSED,
        };
        (verdict == TAKEN).then_some(Claim::Slot(head))
    }

    /// Passes a slot that a `Select::send` has reserved (stamp `head |
    /// mark_bit`), whose position we have claimed: leaves a hole at the
    /// stamp, with a compare-exchange, since the reservation's late fill
    /// is one too (`select.rs`). `Some(Slot)` if the message came first.
    fn pass_reserved(&self, head: usize) -> Option<Claim> {
        let slot = self.slot(head);
        let hole = (head + 1) | self.mark_bit;
        match slot.stamp.compare_exchange(head | self.mark_bit, hole, Ordering::AcqRel, Ordering::Acquire) {
            // The late fill finds the hole, frees the slot and sends again.
            Ok(_) => None,
            Err(now) if now == head + 1 => Some(Claim::Slot(head)),
            // The select dropped its operation and left a hole for the
            // receiver of this position, which is us: free the slot.
            Err(now) if now == hole => {
                self.free_passed_slot(head);
                None
            }
            // The reservation saw us at its marking and gave the slot up.
            Err(_) => None,
        }
    }

    /// Reads the message out of a slot claimed by `claim_recv` and frees the
    /// slot for the next lap.
    ///
    /// # Safety
    /// `head` must come from a successful `claim_recv` and be used once.
    #[inline]
    unsafe fn read(&self, head: usize) -> T {
        let slot = self.slot(head);
        // SAFETY: the claim gave this thread the only right to the slot, and
        // the Acquire load of the stamp `head + 1` saw the sender's write.
        let msg = slot.msg.with(|p| unsafe { p.read().assume_init() });
        race::notify_slot(&self.clocks, head & (self.mark_bit - 1));
        // Release: the sender that claims the slot in the next lap sees that
        // we are done with it.
        slot.stamp.store(head.wrapping_add(self.one_lap), Ordering::Release);
        // As in `write`: our claim of `head` was a SeqCst CAS, which a
        // parked sender's re-check (`can_send`) reads with a SeqCst load.
        self.senders.notify_after_seqcst_change();
        // Null unless a sender waits actively on one CPU.
        if !self.offer.load(Ordering::Relaxed).is_null() {
            self.send_offered();
        }
        msg
    }

    /// Sends the active sender's offered message into the slot a receive
    /// just freed, so that the receiver finds it without the CPU going back
    /// to the sender first: on one CPU this halves the context switches per
    /// message of a full `bounded(1)`.
    #[cold]
    #[inline(never)]
    fn send_offered(&self) {
        // Acquire: pairs with the sender's Release swap that posted the
        // pointer, after it wrote the message into the offer.
        let ptr = self.offer.swap(std::ptr::null_mut(), Ordering::Acquire);
        if ptr.is_null() {
            return;
        }
        // SAFETY: a posted offer lives until its sender sees it settled, and
        // having swapped it out we own it until we settle it (the sender's
        // withdrawal CAS fails, and it waits for SENT or RETURNED).
        let offer = unsafe { &*ptr };
        // SAFETY: we own the offer (above); the sender does not touch the
        // cell until it sees RETURNED.
        let msg = offer.msg.with_mut(|p| unsafe { (*p).take() }).expect("a posted offer holds its message");
        let back = match self.claim_send() {
            // SAFETY: a fresh successful claim, used once.
            Claim::Slot(tail) => match unsafe { self.write(tail, msg) } {
                Ok(()) => return Self::settle(offer, SENT),
                Err(msg) => msg,
            },
            _ => msg,
        };
        // SAFETY: we still own the offer (its state is not settled yet), and
        // its sender does not touch the cell until it sees RETURNED.
        offer.msg.with_mut(|p| unsafe { *p = Some(back) });
        Self::settle(offer, RETURNED);
    }

    /// Gives a taken offer back to its sender with `outcome`, and unparks
    /// the sender if it parked waiting for that.
    fn settle(offer: &Offer<T>, outcome: usize) {
        // Cloned first: once the swap below is done the sender may return
        // and free the offer, so we do not touch it after.
        let sender = offer.sender.clone();
        // Release: the sender sees the message sent, or back in the cell.
        // A swap, like the sender's CAS to WAITING: one of the two comes
        // first, so either the sender does not park or we unpark it.
        if offer.state.swap(outcome, Ordering::Release) == WAITING {
            sender.unpark();
        }
    }

    /// One CPU, the active sender: offers `msg` to the receivers (see
    /// `send_offered`) and yields until a receiver has sent it, retrying the
    /// send itself after every yield, until `deadline` or its patience runs
    /// out. `None`: the message was sent; otherwise the message back with
    /// the last claim (which may be a slot to write, or `Closed`).
    fn offer_until_sent(&self, msg: T, deadline: Option<Instant>) -> Option<(T, Claim)> {
        let offer =
            Offer { msg: UnsafeCell::new(Some(msg)), state: AtomicUsize::new(POSTED), sender: thread::current() };
        let ptr = &offer as *const Offer<T> as *mut Offer<T>;
        // Release: a receiver that swaps the pointer out sees the message.
        // A swap, not a store: every change of `offer` is then a
        // read-modify-write, so they form one chain in which our withdrawal
        // CAS follows our post and fails only if a receiver's swap came in
        // between (with a plain store, loom finds an order in which a
        // receiver's swap reads the null from before our post).
        self.offer.swap(ptr, Ordering::Release);
        let mut patience = Patience::new();
        loop {
            let give_up = deadline.is_some_and(|d| Instant::now() >= d) || !patience.wait();
            // Withdraw the offer to retry ourselves; if a receiver took it,
            // wait until it has sent the message or given it back.
            if self.offer.compare_exchange(ptr, std::ptr::null_mut(), Ordering::Acquire, Ordering::Relaxed).is_err() {
                // Rare (a receiver holds the offer for one claim and one
                // write) and short. Parking rather than spinning gives loom
                // the edge from the receiver's unpark, without which it
                // explores a spin that never sees the store; WAITING tells
                // the receiver to unpark us, so that no unpark is left over
                // for a later park of this thread when we did not park.
                match offer.state.compare_exchange(POSTED, WAITING, Ordering::Acquire, Ordering::Acquire) {
                    Err(SENT) => return None,
                    Err(_) => {} // RETURNED
                    Ok(_) => loop {
                        thread::park();
                        // A wake-up before the receiver settled only loops.
                        match offer.state.load(Ordering::Acquire) {
                            SENT => return None,
                            RETURNED => break,
                            _ => {}
                        }
                    },
                }
            }
            // SAFETY: the offer is withdrawn or given back: no receiver can
            // reach it.
            let msg = offer.msg.with_mut(|p| unsafe { (*p).take() }).expect("an unsent offer holds its message");
            let claim = self.claim_send();
            if give_up || !matches!(claim, Claim::WouldBlock) {
                return Some((msg, claim));
            }
            // SAFETY: the offer is still withdrawn (it is posted again only
            // by the store and swap below), so no receiver can reach it.
            offer.msg.with_mut(|p| unsafe { *p = Some(msg) });
            offer.state.store(POSTED, Ordering::Relaxed);
            self.offer.swap(ptr, Ordering::Release);
        }
    }

    /// Whether a send may not block now: room, closed, or a receiver that
    /// has claimed the slot at `tail` and is still reading it. The last is
    /// why this is conservative (a yes may only cost one more try): a
    /// parked sender's re-check must count a receiver's claim of `head`,
    /// since that receiver notifies without a fence (docs/ring.md,
    /// section 4).
    fn can_send(&self) -> bool {
        let tail = self.tail.load(Ordering::SeqCst);
        if tail & self.mark_bit != 0 || self.slot(tail).stamp.load(Ordering::SeqCst) == tail {
            return true;
        }
        // Full means `head` is still a whole lap behind `tail`; if it has
        // moved on, the slot at `tail` is about to be free (or `tail` moved).
        self.head.load(Ordering::SeqCst).wrapping_add(self.one_lap) != tail
    }

    /// Whether a receive may not block now: a message or a hole at `head`,
    /// closed and drained, or a slot a sender has claimed and is still
    /// writing (conservative, as `can_send`: that sender notifies without
    /// a fence, so a parked receiver's re-check must count its claim of
    /// `tail`). A slot a select reserved counts as not ready: its sender may
    /// take any time, and notifies with a fence when it fills the slot or
    /// gives it up, so a receiver may park in front of it.
    fn can_recv(&self) -> bool {
        let head = self.head.load(Ordering::SeqCst);
        let stamp = self.slot(head).stamp.load(Ordering::SeqCst);
        // A hole counts: the receive that finds it steps over it and goes on.
        if stamp & !self.mark_bit == head + 1 {
            return true;
        }
        if stamp == head | self.mark_bit {
            return false;
        }
        // Claimed by a sender (`tail` past `head`), or closed and drained.
        let tail = self.tail.load(Ordering::SeqCst);
        tail & !self.mark_bit != head || tail & self.mark_bit != 0
    }

    pub(crate) fn try_send(&self, mut msg: T) -> Result<(), TrySendError<T>> {
        loop {
            match self.claim_send() {
                // SAFETY: a fresh successful claim, used once.
                Claim::Slot(tail) => match unsafe { self.write(tail, msg) } {
                    Ok(()) => return Ok(()),
                    // A receiver passed our slot: the send has not happened
                    // yet, so try again.
                    Err(back) => msg = back,
                },
                Claim::WouldBlock => return Err(TrySendError::Full(msg)),
                Claim::Closed => return Err(TrySendError::Disconnected(msg)),
            }
        }
    }

    #[inline]
    #[track_caller]
    pub(crate) fn send(&self, msg: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        // Fast path inline: a free slot, claimed on the first try.
        if let Claim::Slot(tail) = self.claim_send() {
            // SAFETY: a fresh successful claim, used once.
            match unsafe { self.write(tail, msg) } {
                Ok(()) => return Ok(()),
                Err(back) => return self.send_slow(back, deadline),
            }
        }
        trace::finished(self.send_slow(msg, deadline))
    }

    /// `send` when the ring looked full or closed: be patient, then park.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn send_slow(&self, mut msg: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        loop {
            // On one CPU only one sender at a time waits actively; the
            // others try once and park (see `SyncWaker::start_yielding`).
            let one_cpu = !spinning_can_help();
            let active = !one_cpu || self.senders.start_yielding();
            let offer = self.clocks.is_empty() && !self.senders.has_waiters() && !self.receivers.has_waiters();
            let claim = if one_cpu && active && offer {
                // Offer the message to the receivers while we wait. Not
                // with racecheck on: a receiver sending for us would publish
                // its own past instead of ours. Not with threads parked on
                // either side: with senders parked, a receiver frees the
                // slot again before we run, and stopping we would wake a
                // parked sender for a slot we are about to take ourselves,
                // which slows `bounded(1)` hand-offs down.
                match self.offer_until_sent(msg, deadline) {
                    None => {
                        self.senders.stop_yielding(|| self.can_send());
                        return Ok(());
                    }
                    Some((back, claim)) => {
                        msg = back;
                        claim
                    }
                }
            } else {
                let mut patience = Patience::new();
                loop {
                    match self.claim_send() {
                        Claim::WouldBlock => {}
                        claim => break claim,
                    }
                    if !active || deadline.is_some_and(|d| Instant::now() >= d) || !patience.wait() {
                        break Claim::WouldBlock;
                    }
                }
            };
            if one_cpu && active {
                self.senders.stop_yielding(|| self.can_send());
            }
            match claim {
                // SAFETY: a fresh successful claim, used once.
                Claim::Slot(tail) => match unsafe { self.write(tail, msg) } {
                    Ok(()) => return Ok(()),
                    Err(back) => {
                        // A receiver passed our slot: start over.
                        msg = back;
                        continue;
                    }
                },
                Claim::Closed => return Err(SendTimeoutError::Disconnected(msg)),
                Claim::WouldBlock => {}
            }
            if let Some(deadline) = deadline {
                if Instant::now() >= deadline {
                    return Err(SendTimeoutError::Timeout(msg));
                }
            }
            self.park_until(&self.senders, deadline, || self.can_send());
        }
    }

    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.claim_recv() {
            // SAFETY: a fresh successful claim, used once.
            Claim::Slot(head) => Ok(unsafe { self.read(head) }),
            Claim::WouldBlock => Err(TryRecvError::Empty),
            Claim::Closed => Err(TryRecvError::Disconnected),
        }
    }

    #[inline]
    #[track_caller]
    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        // Fast path inline: a written slot, claimed on the first try.
        if let Claim::Slot(head) = self.claim_recv() {
            // SAFETY: a fresh successful claim, used once.
            return Ok(unsafe { self.read(head) });
        }
        trace::finished(self.recv_slow(deadline))
    }

    /// `recv` when the ring looked empty or closed: be patient, then park.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn recv_slow(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        loop {
            // One active receiver at a time on one CPU, as in `send_slow`.
            let one_cpu = !spinning_can_help();
            let active = !one_cpu || self.receivers.start_yielding();
            let mut patience = Patience::new();
            let claim = loop {
                match self.claim_recv() {
                    Claim::WouldBlock => {}
                    claim => break claim,
                }
                if !active || deadline.is_some_and(|d| Instant::now() >= d) || !patience.wait() {
                    break Claim::WouldBlock;
                }
            };
            if one_cpu && active {
                self.receivers.stop_yielding(|| self.can_recv());
            }
            match claim {
                // SAFETY: a fresh successful claim, used once.
                Claim::Slot(head) => return Ok(unsafe { self.read(head) }),
                Claim::Closed => return Err(RecvTimeoutError::Disconnected),
                Claim::WouldBlock => {}
            }
            if let Some(deadline) = deadline {
                if Instant::now() >= deadline {
                    return Err(RecvTimeoutError::Timeout);
                }
            }
            self.park_until(&self.receivers, deadline, || self.can_recv());
        }
    }

    /// Registers in `waker`, re-checks `ready`, and parks until notified,
    /// closed, or `deadline`. The caller retries its operation afterwards.
    #[cold]
    #[track_caller]
    fn park_until(&self, waker: &SyncWaker, deadline: Option<Instant>, ready: impl Fn() -> bool) {
        let sending = std::ptr::eq(waker, &self.senders);
        let at = std::panic::Location::caller();
        let _blocked = race::blocking(deadline, if sending { "chan send" } else { "chan receive" }, at);
        Context::with(|cx| {
            trace::retrying(cx, at, || trace::Park {
                id: self as *const Self as usize,
                op: if sending { "send" } else { "recv" },
                flavor: "ring",
                capacity: Some(self.cap),
                len: self.len(),
            });
            let mut anchor = 0usize;
            let oper = Operation::hook(&mut anchor);
            waker.register(oper, cx);
            // The registration fenced; if the channel changed before it, we
            // see it here and do not park.
            if ready() {
                let _ = cx.try_select(Selected::Aborted);
                if !spinning_can_help() {
                    // The peer we would retry for may be mid-operation on
                    // our only CPU (`ready` counts a claimed slot): let it
                    // run, since a waiter that is not this side's active
                    // one retries without yielding.
                    thread::yield_now();
                }
            }
            let sel = cx.wait_until(deadline, false);
            match sel {
                Selected::Aborted | Selected::Disconnected => {
                    waker.unregister(oper);
                }
                // The notifier already removed our entry.
                Selected::Operation(_) | Selected::Waiting => {}
            }
        });
    }

    pub(crate) fn len(&self) -> usize {
        loop {
            let tail = self.tail.load(Ordering::SeqCst);
            let head = self.head.load(Ordering::SeqCst);
            // A consistent pair: tail did not move while we read head.
            if self.tail.load(Ordering::SeqCst) == tail {
                let tail = tail & !self.mark_bit;
                let hix = head & (self.mark_bit - 1);
                let tix = tail & (self.mark_bit - 1);
                return if hix < tix {
                    tix - hix
                } else if hix > tix {
                    self.cap - hix + tix
                } else if tail == head {
                    0
                } else {
                    self.cap
                };
            }
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    pub(crate) fn is_empty(&self) -> bool {
        let head = self.head.load(Ordering::SeqCst);
        let tail = self.tail.load(Ordering::SeqCst);
        tail & !self.mark_bit == head
    }

    pub(crate) fn is_full(&self) -> bool {
        let tail = self.tail.load(Ordering::SeqCst);
        let head = self.head.load(Ordering::SeqCst);
        head.wrapping_add(self.one_lap) == tail & !self.mark_bit
    }

    /// Sets the closed mark and wakes every waiter; true if this call closed
    /// the channel.
    pub(crate) fn close(&self) -> bool {
        let tail = self.tail.fetch_or(self.mark_bit, Ordering::SeqCst);
        if tail & self.mark_bit == 0 {
            self.senders.disconnect();
            self.receivers.disconnect();
            true
        } else {
            false
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.tail.load(Ordering::SeqCst) & self.mark_bit != 0
    }
}

impl<T> Drop for Channel<T> {
    fn drop(&mut self) {
        // No other handle exists, so nobody is writing or reading a slot any
        // more. The slots from head up to tail were all claimed by senders;
        // each holds a message unless it is a hole, or a reservation whose
        // `SelectedOperation` was leaked with `mem::forget` and so never
        // written. A written slot's stamp is its position plus one, without
        // the mark bit (holes and reservations carry it), so its index part
        // is `index + 1`.
        let head = self.head.load(Ordering::Relaxed);
        let len = self.len();
        let hix = head & (self.mark_bit - 1);
        for i in 0..len {
            let index = if hix + i < self.cap { hix + i } else { hix + i - self.cap };
            let stamp = self.buffer[index].stamp.load(Ordering::Relaxed);
            if stamp & self.mark_bit != 0 || stamp & (self.mark_bit - 1) != index + 1 {
                continue;
            }
            // SAFETY: the stamp says the slot was written in its lap and not
            // read (a read stamps the next lap, whose index part is `index`);
            // nobody else can touch it any more, and each is dropped once.
            self.buffer[index].msg.with_mut(|p| unsafe { (*p).assume_init_drop() });
        }
    }
}

// How a `select` takes part in this channel.
pub(crate) mod select;

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{Channel, Claim};
    use crate::err::{TryRecvError, TrySendError};

    /// A sender that has claimed a slot and not written it yet (as one
    /// descheduled between its claim and its write is).
    fn claim(ring: &Channel<i32>) -> usize {
        match ring.claim_send() {
            Claim::Slot(pos) => pos,
            _ => panic!("room expected"),
        }
    }

    #[test]
    fn an_unwritten_slot_alone_reads_as_empty_and_is_not_passed() {
        let ring = Channel::with_capacity(4);
        let late = claim(&ring);
        assert_eq!(ring.try_recv(), Err(TryRecvError::Empty));
        assert!(!ring.can_recv_now());
        // The late sender still owns its slot: its write goes through.
        // SAFETY: a fresh claim, used once.
        assert!(unsafe { ring.write(late, 1) }.is_ok());
        assert_eq!(ring.try_recv(), Ok(1));
    }

    #[test]
    fn a_receive_passes_an_unwritten_slot_when_a_later_message_is_ready() {
        let ring = Channel::with_capacity(4);
        let late = claim(&ring);
        ring.try_send(2).unwrap();
        assert!(ring.can_recv_now());
        // The message sent after the claim is taken: the claimed slot is
        // passed instead of waited for.
        assert_eq!(ring.try_recv(), Ok(2));
        assert_eq!(ring.try_recv(), Err(TryRecvError::Empty));
        // The late sender finds it passed and gets its message back...
        // SAFETY: a fresh claim, used once.
        assert_eq!(unsafe { ring.write(late, 1) }, Err(1));
        // ... and the slot is free again: the ring holds four messages.
        for i in 0..4 {
            ring.try_send(10 + i).unwrap();
        }
        assert_eq!(ring.try_send(14), Err(TrySendError::Full(14)));
        for i in 0..4 {
            assert_eq!(ring.try_recv(), Ok(10 + i));
        }
        assert_eq!(ring.try_recv(), Err(TryRecvError::Empty));
    }

    #[test]
    fn a_reservation_passed_before_it_is_marked_is_given_up() {
        // A `Select::send` claims a slot, and a receiver passes it before
        // the select stamps it reserved: the select must not take a slot
        // that head has already gone past, or its message would be lost.
        let ring = Channel::with_capacity(2);
        let late = claim(&ring);
        ring.try_send(2).unwrap();
        assert_eq!(ring.try_recv(), Ok(2));
        assert!(!ring.mark_reserved(late));
        // The slot was freed: a fresh reservation and a plain send fit.
        match ring.reserve_send() {
            super::select::Reserve::Slot(pos) => {
                // SAFETY: a fresh reservation, completed once.
                assert!(unsafe { ring.send_reserved(pos, 1) }.is_ok());
            }
            _ => panic!("room expected"),
        }
        ring.try_send(3).unwrap();
        assert_eq!(ring.try_recv(), Ok(1));
        assert_eq!(ring.try_recv(), Ok(3));
        assert_eq!(ring.try_recv(), Err(TryRecvError::Empty));
    }

    #[test]
    fn a_late_sender_resends_in_order_after_its_slot_was_passed() {
        let ring = Channel::with_capacity(2);
        let late = claim(&ring);
        ring.try_send(2).unwrap();
        assert_eq!(ring.try_recv(), Ok(2));
        // `try_send` retries in a fresh slot when its first one was passed.
        // SAFETY: a fresh claim, used once.
        let msg = unsafe { ring.write(late, 1) }.unwrap_err();
        ring.try_send(msg).unwrap();
        ring.try_send(3).unwrap();
        assert_eq!(ring.try_recv(), Ok(1));
        assert_eq!(ring.try_recv(), Ok(3));
        assert_eq!(ring.len(), 0);
    }
}
