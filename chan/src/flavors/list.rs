//! The default flavor for `unbounded()`: a lock-free linked list of blocks.
//!
//! Messages live in blocks of `BLOCK_CAP` slots linked front to back.
//! `tail` is where senders claim slots, `head` where receivers do; each is a
//! position (a slot counter, shifted left by one to leave a flag bit) plus
//! the block that position falls in. A claim is one CAS on the position.
//! Positions run in laps of `LAP = BLOCK_CAP + 1`; the extra offset
//! `BLOCK_CAP` means "this block is used up, the next is being linked in".
//!
//! Flag bits: in `tail`, `MARK_BIT` means closed. In `head`, `HAS_NEXT`
//! means senders already moved to a later block, so receivers need not read
//! `tail` until the end of this block.
//!
//! # Freeing blocks
//!
//! A block is retired as soon as every one of its slots has been
//! *finished* (read, or given up, see below), by whichever thread finishes
//! last. The receiver that finishes the last slot starts `destroy`, which
//! walks the other slots: a slot not yet finished gets a `DESTROY` bit and
//! the walk stops; the thread that later finishes that slot sees the bit and
//! carries on from the next slot. So exactly one thread retires each block,
//! after no claim can reach it again: receivers and writing senders never
//! dereference a block before a successful claim. The one exception is a
//! sender helping to move `tail` (below), which is why retiring defers the
//! free through crossbeam-epoch. Whatever is still linked when the channel
//! is dropped is freed by `Drop`.
//!
//! # Never waiting on a half-finished peer
//!
//! A receiver that claimed a slot whose sender has not finished writing it
//! spins a few dozen nanoseconds, then *skips* the slot: it sets `SKIP` and
//! moves on. The sender then finds `SKIP` when it marks its write, takes its
//! message back, finishes the slot on the receiver's behalf, and sends
//! again in a new slot. So `try_recv` never waits for a descheduled sender.
//! A receiver that claims the last slot of a block links the next block
//! itself if the sender has not yet done so, so receivers never wait on the
//! block hand-over either. Receivers that see `head` parked on the block-end
//! offset report "empty"; the receiver moving `head` on notifies waiters.
//! Senders that see `tail` at a block end *help*: they link the next block
//! if needed and move `tail` on themselves (each step a forward-only CAS),
//! instead of waiting for the sender that claimed the block's last slot.
//! Helping needs a pointer to a block no claim protects, so block frees go
//! through crossbeam-epoch and helpers pin it; the fast path never pins
//! (one pin per retired block, one per help).

use std::mem::MaybeUninit;
use std::ptr;
use std::time::Instant;

use crate::race::SyncClock;
use crossbeam_utils::CachePadded;

use crate::context::{Context, Operation, Patience, Selected};
use crate::err::{RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};
use crate::race;
use crate::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use crate::sync::{Backoff, UnsafeCell};
use crate::trace;
use crate::waker::SyncWaker;

const WRITE: usize = 1;
const READ: usize = 2;
const DESTROY: usize = 4;
const SKIP: usize = 8;

// Under loom a block holds three messages, so small models cross blocks.
const LAP: usize = if cfg!(loom) { 4 } else { 32 };
const BLOCK_CAP: usize = LAP - 1;
const SHIFT: usize = 1;
const MARK_BIT: usize = 1;
const HAS_NEXT: usize = 1;

/// How many spin steps a receiver gives a sender that is mid-write before
/// it skips the slot.
const WRITE_GRACE_SPINS: u32 = if cfg!(loom) { 1 } else { 32 };

struct Slot<T> {
    msg: UnsafeCell<MaybeUninit<T>>,
    state: AtomicUsize,
}

struct Block<T> {
    next: AtomicPtr<Block<T>>,
    /// Slot counter (position >> SHIFT) of the first slot; written before
    /// the block is published and never again.
    start: usize,
    slots: [Slot<T>; BLOCK_CAP],
    /// racecheck: a clock per slot, released by its sender and acquired
    /// by its receiver (an unbounded channel only orders send before
    /// receive); empty when detection is off.
    clocks: Box<[SyncClock]>,
}

impl<T> Block<T> {
    /// A fresh block, built in place on the heap: a block of large messages
    /// (31 times a 1 MiB message) built on the stack first would overflow
    /// it. Once per block, and out of line, so that the send and receive
    /// paths that may call it stay small.
    #[cfg(not(loom))]
    #[cold]
    #[inline(never)]
    fn new() -> Box<Block<T>> {
        let layout = std::alloc::Layout::new::<Block<T>>();
        // SAFETY: a `Block` holds at least one `AtomicUsize`, so the layout
        // is not zero-sized.
        let raw = unsafe { std::alloc::alloc_zeroed(layout) } as *mut Block<T>;
        if raw.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        // SAFETY: `raw` is a fresh allocation of `Block<T>`'s layout. All
        // zeros is a valid `next` (null), `start` (0) and slot (an empty
        // message cell, state 0: neither written nor read); `clocks` is
        // the one field for which it is not, and it is written here before
        // the box is made.
        unsafe {
            ptr::addr_of_mut!((*raw).clocks).write(race::slot_clocks(BLOCK_CAP));
            Box::from_raw(raw)
        }
    }

    /// Under loom the cells and atomics carry the model's state, which all
    /// zeros is not; the models' messages are small.
    #[cfg(loom)]
    fn new() -> Box<Block<T>> {
        Box::new(Block {
            next: AtomicPtr::new(ptr::null_mut()),
            start: 0,
            slots: std::array::from_fn(|_| Slot {
                msg: UnsafeCell::new(MaybeUninit::uninit()),
                state: AtomicUsize::new(0),
            }),
            clocks: race::slot_clocks(BLOCK_CAP),
        })
    }

    /// The next block, linking `spare` (or a fresh block) if none is linked
    /// yet. Whoever links first wins; a losing `spare` is returned unused.
    ///
    /// # Safety
    /// `this` must be live (the caller holds a claimed, unfinished slot).
    unsafe fn next_or_link(this: *const Block<T>, spare: &mut Option<Box<Block<T>>>) -> *mut Block<T> {
        // SAFETY: live, per the contract.
        let next = unsafe { &(*this).next };
        let current = next.load(Ordering::Acquire);
        if !current.is_null() {
            return current;
        }
        let mut new = spare.take().unwrap_or_else(Block::new);
        // SAFETY: live, per the contract; `start` never changes.
        new.start = unsafe { (*this).start } + LAP;
        let new = Box::into_raw(new);
        match next.compare_exchange(ptr::null_mut(), new, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => new,
            Err(current) => {
                // SAFETY: `new` came from Box::into_raw above and was never
                // published.
                *spare = Some(unsafe { Box::from_raw(new) });
                current
            }
        }
    }

    /// Frees the block once every slot from `start` on is finished; if one
    /// is not, leaves a `DESTROY` note for its finisher and returns.
    ///
    /// # Safety
    /// Called once per block by the finisher of the last slot (with `start
    /// == 0`), or by a finisher that found `DESTROY` on its slot (with the
    /// following index). No slot below `start` may be unfinished.
    unsafe fn destroy(this: *mut Block<T>, start: usize) {
        // The last slot is skipped: its finisher is the one that started the
        // walk.
        for i in start..BLOCK_CAP - 1 {
            // SAFETY: the block is live until this walk frees it.
            let slot = unsafe { &(*this).slots[i] };
            // `fetch_add` sets the bit as `fetch_or` would (only this walk
            // ever sets DESTROY on a slot) in one `lock xadd` instead of a
            // compare-exchange loop.
            if slot.state.load(Ordering::Acquire) & READ == 0
                && slot.state.fetch_add(DESTROY, Ordering::AcqRel) & READ == 0
            {
                // That slot's finisher continues the walk.
                return;
            }
        }
        // SAFETY: every slot is finished, so no thread holds a claim on the
        // block and none can reach it through a claim again; we retire it
        // exactly once.
        unsafe { Block::retire(this) };
    }

    /// Frees a block no claim can reach any more, once no sender that may
    /// be helping to move `tail` (see `Channel::help_advance_tail`) can
    /// still hold a pointer to it: the free is deferred through
    /// crossbeam-epoch, and helpers pin the epoch.
    ///
    /// # Safety
    /// Called once per block, after its last slot is finished.
    unsafe fn retire(this: *mut Block<T>) {
        #[cfg(not(loom))]
        {
            let guard = crossbeam_epoch::pin();
            // SAFETY: the block is unreachable for new readers (it is behind
            // `head`, and `tail` left it before its last slot could be
            // written), the only late readers are pinned helpers, which the
            // epoch waits for; the block holds no live message, so freeing
            // it on whichever thread collects the garbage drops no `T`.
            unsafe { guard.defer_unchecked(move || drop(Box::from_raw(this))) };
        }
        #[cfg(loom)]
        {
            // loom models are tiny; their few blocks are leaked rather than
            // modelling the epoch collector.
            let _ = this;
        }
    }

    /// Marks slot `offset` finished and frees the block if it was the last.
    ///
    /// # Safety
    /// The caller holds the claim on slot `offset` and must not touch the
    /// block afterwards.
    unsafe fn finish(this: *mut Block<T>, offset: usize) {
        if offset + 1 == BLOCK_CAP {
            // SAFETY: we finished the last slot: we start the walk.
            unsafe { Block::destroy(this, 0) };
        } else {
            // SAFETY: live until we mark our slot finished.
            let slot = unsafe { &(*this).slots[offset] };
            // READ is set once per slot, by its one finisher: `fetch_add`
            // sets it as `fetch_or` would, without a compare-exchange loop.
            if slot.state.fetch_add(READ, Ordering::AcqRel) & DESTROY != 0 {
                // SAFETY: the walk stopped at our slot and waits for us.
                unsafe { Block::destroy(this, offset + 1) };
            }
        }
    }
}

struct Position<T> {
    index: AtomicUsize,
    block: AtomicPtr<Block<T>>,
}

/// What `claim_recv` found.
enum RecvClaim<T> {
    Msg(T),
    Empty,
    Closed,
}

/// An unbounded lock-free channel.
pub(crate) struct Channel<T> {
    head: CachePadded<Position<T>>,
    tail: CachePadded<Position<T>>,
    receivers: SyncWaker,
}

// SAFETY: messages move between threads through the slots, which the claim
// protocol gives to one thread at a time; `T: Send` is what that needs.
unsafe impl<T: Send> Send for Channel<T> {}
// SAFETY: a shared `&Channel<T>` only moves whole messages between threads,
// each slot given to one thread at a time by the claim protocol, and never
// hands out a `&T`: `T: Send` suffices.
unsafe impl<T: Send> Sync for Channel<T> {}

impl<T> Channel<T> {
    pub(crate) fn new() -> Self {
        Channel {
            head: CachePadded::new(Position { index: AtomicUsize::new(0), block: AtomicPtr::new(ptr::null_mut()) }),
            tail: CachePadded::new(Position { index: AtomicUsize::new(0), block: AtomicPtr::new(ptr::null_mut()) }),
            receivers: SyncWaker::new(),
        }
    }

    /// Sends `msg`; never blocks for room (there is always room), only for
    /// the few instructions another sender needs to link a new block.
    #[inline]
    pub(crate) fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        self.push(msg).map_err(TrySendError::Disconnected)
    }

    #[inline]
    pub(crate) fn send(&self, msg: T, _deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        self.push(msg).map_err(SendTimeoutError::Disconnected)
    }

    /// Sends `msg`, or gives it back if the channel is closed.
    #[inline]
    fn push(&self, msg: T) -> Result<(), T> {
        // Fast path: 30 sends in 31 claim a slot inside the current block,
        // with nothing to allocate or link; everything else (the block's
        // last slot, a block end, the first block, a closed channel, a lost
        // race, a skipped slot) goes to `push_slow`. The block pointer is
        // loaded after the index and validated by the CAS on the index, as
        // in `send_once`: `tail.block` moves on only after `tail.index`
        // reached the block end, and the index never goes back.
        let tail = self.tail.index.load(Ordering::Acquire);
        let block = self.tail.block.load(Ordering::Acquire);
        let offset = (tail >> SHIFT) % LAP;
        if tail & MARK_BIT == 0
            && offset + 1 < BLOCK_CAP
            && !block.is_null()
            && self
                .tail
                .index
                .compare_exchange_weak(tail, tail + (1 << SHIFT), Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
        {
            // SAFETY: our CAS claimed slot `offset` of `block`, which is live
            // while the claim is unfinished.
            match unsafe { self.write(block, offset, msg) } {
                SendOnce::Sent => return Ok(()),
                SendOnce::Skipped(m) | SendOnce::Closed(m) => return self.push_slow(m),
            }
        }
        self.push_slow(msg)
    }

    /// `push` for everything but the fast path.
    #[cold]
    #[inline(never)]
    fn push_slow(&self, mut msg: T) -> Result<(), T> {
        loop {
            match self.send_once(msg) {
                SendOnce::Sent => return Ok(()),
                SendOnce::Closed(m) => return Err(m),
                // A receiver skipped our slot; send again in a new one.
                SendOnce::Skipped(m) => msg = m,
            }
        }
    }

    fn send_once(&self, msg: T) -> SendOnce<T> {
        let backoff = Backoff::new();
        let mut tail = self.tail.index.load(Ordering::Acquire);
        let mut block = self.tail.block.load(Ordering::Acquire);
        let mut spare: Option<Box<Block<T>>> = None;
        loop {
            if tail & MARK_BIT != 0 {
                return SendOnce::Closed(msg);
            }
            let offset = (tail >> SHIFT) % LAP;
            if offset == BLOCK_CAP {
                // The sender of this block's last slot is moving `tail` to
                // the next block. Help it instead of waiting for it: it may
                // have been descheduled right there.
                self.help_advance_tail(tail, &mut spare);
                backoff.spin();
                tail = self.tail.index.load(Ordering::Acquire);
                block = self.tail.block.load(Ordering::Acquire);
                continue;
            }
            if offset + 1 == BLOCK_CAP && spare.is_none() {
                // Allocate before claiming, so the claim-to-link window stays
                // short.
                spare = Some(Block::new());
            }
            if block.is_null() {
                // The very first send installs the first block.
                match self.install_first_block(&mut spare) {
                    Some(new) => block = new,
                    None => {
                        tail = self.tail.index.load(Ordering::Acquire);
                        block = self.tail.block.load(Ordering::Acquire);
                        continue;
                    }
                }
            }
            let new_tail = tail + (1 << SHIFT);
            match self.tail.index.compare_exchange_weak(tail, new_tail, Ordering::SeqCst, Ordering::Acquire) {
                Ok(_) => {
                    if offset + 1 == BLOCK_CAP {
                        // We took the last slot: move `tail` to the next block
                        // (which a fast receiver may have linked already).
                        // SAFETY: our slot is claimed and unfinished, so the
                        // block is live.
                        unsafe { self.advance_tail(block, new_tail, &mut spare) };
                    }
                    // SAFETY: we own slot `offset` of a live block.
                    return unsafe { self.write(block, offset, msg) };
                }
                Err(current) => {
                    tail = current;
                    block = self.tail.block.load(Ordering::Acquire);
                    backoff.spin();
                }
            }
        }
    }

    /// Installs the channel's first block; `None` if another sender did.
    ///
    /// `head.block` is set first, and decides which installer wins; then
    /// `tail.block`, by the winner or by any sender that finds it still
    /// null. Senders claim slots only once `tail.block` is set, so a
    /// receiver that sees a claim also sees `head.block`.
    #[cold]
    #[inline(never)]
    fn install_first_block(&self, spare: &mut Option<Box<Block<T>>>) -> Option<*mut Block<T>> {
        let mut first = spare.take().unwrap_or_else(Block::new);
        first.start = 0;
        let new = Box::into_raw(first);
        match self.head.block.compare_exchange(ptr::null_mut(), new, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {
                // Release: a sender that loads this pointer sees `head.block`
                // set before it, and so does whoever reads that sender's
                // claim.
                let _ = self.tail.block.compare_exchange(ptr::null_mut(), new, Ordering::Release, Ordering::Relaxed);
                Some(new)
            }
            Err(winner) => {
                // SAFETY: `new` was never published.
                *spare = Some(unsafe { Box::from_raw(new) });
                // The winner may be stalled before it sets `tail.block`:
                // set it for it (a no-op if it got there first).
                let _ = self.tail.block.compare_exchange(ptr::null_mut(), winner, Ordering::Release, Ordering::Relaxed);
                None
            }
        }
    }

    /// Moves `tail` from the end of `block` to the next block: links the
    /// next block if nobody has, points `tail.block` at it, then steps
    /// `tail.index` off the block-end offset (keeping the closed mark).
    /// Idempotent, so the sender of the last slot and any number of helpers
    /// may run it at once; each step is a CAS that only moves forward.
    ///
    /// # Safety
    /// `block` is live and is the block whose end `end` (a `tail` value at a
    /// block-end offset) denotes.
    #[cold]
    #[inline(never)]
    unsafe fn advance_tail(&self, block: *mut Block<T>, end: usize, spare: &mut Option<Box<Block<T>>>) {
        // SAFETY: live, per the contract.
        let next = unsafe { Block::next_or_link(block, spare) };
        // Fails only if someone already moved `tail.block` on; the Acquire
        // of a failure still makes that newer pointer visible to us, so the
        // index step below publishes a block pointer at least as new.
        let _ = self.tail.block.compare_exchange(block, next, Ordering::AcqRel, Ordering::Acquire);
        self.step_tail_off_block_end(end);
    }

    /// Steps `tail.index` from the block end `end` to the next block's first
    /// slot, unless someone already did.
    fn step_tail_off_block_end(&self, end: usize) {
        let mut current = self.tail.index.load(Ordering::Acquire);
        while current & !MARK_BIT == end & !MARK_BIT {
            match self.tail.index.compare_exchange_weak(
                current,
                current + (1 << SHIFT),
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => current = now,
            }
        }
    }

    /// A sender found `tail` (the value `tail`) on a block end: finish the
    /// move to the next block on behalf of the sender that claimed the last
    /// slot, so that no sender ever waits for a descheduled one.
    #[cold]
    fn help_advance_tail(&self, tail: usize, spare: &mut Option<Box<Block<T>>>) {
        // Pin before loading the block pointer: a block is freed through the
        // epoch, so one loaded while pinned stays allocated until we unpin.
        #[cfg(not(loom))]
        let _guard = crossbeam_epoch::pin();
        let block = self.tail.block.load(Ordering::Acquire);
        if self.tail.index.load(Ordering::SeqCst) & !MARK_BIT != tail & !MARK_BIT || block.is_null() {
            return; // Already moved on.
        }
        // While `tail.index` sits on this block end, `tail.block` is either
        // the ending block or, if its sender got that far, the next one.
        // SAFETY: loaded from `tail.block` while pinned, so allocated;
        // `start` is immutable after publication.
        let start = unsafe { (*block).start };
        if start + BLOCK_CAP == tail >> SHIFT {
            // SAFETY: `block` is the block ending at `tail`, and allocated
            // (pinned); linking and moving only touch its `next` field.
            unsafe { self.advance_tail(block, tail, spare) };
        } else {
            self.step_tail_off_block_end(tail);
        }
    }

    /// Writes into a claimed slot and publishes it.
    ///
    /// # Safety
    /// The caller holds the claim on slot `offset` of the live `block`.
    #[inline]
    unsafe fn write(&self, block: *mut Block<T>, offset: usize, msg: T) -> SendOnce<T> {
        // SAFETY: live while our claim is unfinished.
        let slot = unsafe { &(*block).slots[offset] };
        // SAFETY: the slot is ours until we set WRITE.
        slot.msg.with_mut(|p| unsafe { p.write(MaybeUninit::new(msg)) });
        if crate::race::enabled() {
            // SAFETY: live while our claim is unfinished.
            if let Some(clock) = unsafe { &(*block).clocks }.get(offset) {
                clock.release();
            }
        }
        // Release publishes the message; Acquire sees a receiver's SKIP.
        // Only this sender sets WRITE, once: `fetch_add` sets the bit as
        // `fetch_or` would, in one `lock xadd` rather than a compare-exchange
        // loop that a receiver setting SKIP or DESTROY could make retry.
        let prev = slot.state.fetch_add(WRITE, Ordering::AcqRel);
        if prev & SKIP == 0 {
            // Our claim of `tail` was a SeqCst CAS, and a parked receiver
            // re-checks `tail` with a SeqCst load (`can_recv`), so no fence
            // is needed (see `notify_after_seqcst_change`).
            self.receivers.notify_after_seqcst_change();
            return SendOnce::Sent;
        }
        // The receiver gave up on us: take the message back, finish the slot
        // on its behalf, and let the caller send again.
        // SAFETY: a skipped slot is never read; the message is still ours.
        let msg = slot.msg.with(|p| unsafe { p.read().assume_init() });
        // SAFETY: we hold the claim and do not touch the block afterwards.
        unsafe { Block::finish(block, offset) };
        SendOnce::Skipped(msg)
    }

    /// One attempt at receiving; never waits on another thread.
    fn claim_recv(&self) -> RecvClaim<T> {
        let backoff = Backoff::new();
        let mut head = self.head.index.load(Ordering::Acquire);
        let mut block = self.head.block.load(Ordering::Acquire);
        loop {
            let offset = (head >> SHIFT) % LAP;
            if offset == BLOCK_CAP {
                // The receiver of this block's last slot is moving `head` to
                // the next block. Help it instead of answering "empty" (the
                // next block may hold messages) or waiting for it (it may
                // have been descheduled right there).
                self.help_advance_head(head);
                backoff.spin();
                head = self.head.index.load(Ordering::Acquire);
                block = self.head.block.load(Ordering::Acquire);
                continue;
            }
            let mut new_head = head + (1 << SHIFT);
            if new_head & HAS_NEXT == 0 {
                let tail = self.tail.index.load(Ordering::SeqCst);
                let tail_slot = normalized(tail);
                if head >> SHIFT == tail_slot {
                    return if tail & MARK_BIT != 0 { RecvClaim::Closed } else { RecvClaim::Empty };
                }
                if (head >> SHIFT) / LAP != tail_slot / LAP {
                    // Senders are in a later block: every slot left in this
                    // one is claimed, so we need not look at `tail` again
                    // until the block ends.
                    new_head |= HAS_NEXT;
                }
            }
            if block.is_null() {
                // The first block is being installed. A sender installs it
                // (storing `head.block`) before its claim of `tail`, which
                // the SeqCst load above read: look again.
                block = self.head.block.load(Ordering::Acquire);
                if block.is_null() {
                    return RecvClaim::Empty;
                }
            }
            match self.head.index.compare_exchange_weak(head, new_head, Ordering::SeqCst, Ordering::Acquire) {
                Ok(_) => {
                    if offset + 1 == BLOCK_CAP {
                        // SAFETY: our claimed slot keeps the block live, and
                        // `new_head` is the block end we moved `head` to.
                        unsafe { self.advance_head(block, new_head) };
                    }
                    // SAFETY: we own slot `offset` of a live block.
                    match unsafe { self.read(block, offset) } {
                        Some(msg) => return RecvClaim::Msg(msg),
                        None => {
                            // Skipped a slot mid-write; look at the next one.
                            head = self.head.index.load(Ordering::Acquire);
                            block = self.head.block.load(Ordering::Acquire);
                        }
                    }
                }
                Err(current) => {
                    head = current;
                    block = self.head.block.load(Ordering::Acquire);
                    backoff.spin();
                }
            }
        }
    }

    /// Moves `head` from the end of `block` (where our claim of its last
    /// slot put it, as `end`) to the next block, linking that block if no
    /// sender has yet.
    ///
    /// # Safety
    /// The caller holds the claim on the last slot of the live `block`.
    #[cold]
    #[inline(never)]
    unsafe fn advance_head(&self, block: *mut Block<T>, end: usize) {
        let mut spare = None;
        // SAFETY: the caller's claimed slot keeps the block live.
        let next = unsafe { Block::next_or_link(block, &mut spare) };
        // Fails only if a helper already moved `head.block` on (to `next`).
        let _ = self.head.block.compare_exchange(block, next, Ordering::AcqRel, Ordering::Acquire);
        // SAFETY: `next` is live: its slots are unclaimed (head is at the
        // end of the block before it).
        unsafe { self.step_head_off_block_end(next, end) };
    }

    /// Steps `head.index` from the block end `end` to the first slot of
    /// `next`, unless someone already did, and wakes the receivers that
    /// may have parked on the block end. Both the receiver of a block's
    /// last slot and its helpers run this; the one CAS that succeeds moves
    /// the index, and only forward.
    ///
    /// # Safety
    /// `next` is the block after the one `end` ends, and live: `head.block`
    /// already points to it, and it is freed only behind `head`.
    unsafe fn step_head_off_block_end(&self, next: *mut Block<T>, end: usize) {
        // SAFETY: live, per the contract.
        let next_has_next = !unsafe { &(*next).next }.load(Ordering::Acquire).is_null();
        let mut next_index = (end & !HAS_NEXT).wrapping_add(1 << SHIFT);
        if next_has_next {
            next_index |= HAS_NEXT;
        }
        // Release: a receiver that reads the new index (Acquire) then loads
        // `head.block` sees `next`, stored or CASed in before this.
        let _ = self.head.index.compare_exchange(end, next_index, Ordering::SeqCst, Ordering::Relaxed);
        // Receivers that saw the block-end offset may have parked on it.
        self.receivers.notify();
    }

    /// A receiver found `head` (the value `end`) on a block end: finish the
    /// move to the next block on behalf of the receiver that claimed the
    /// block's last slot, so that no receiver waits for it or reports
    /// "empty" while the next block holds messages.
    #[cold]
    #[inline(never)]
    fn help_advance_head(&self, end: usize) {
        // Pin before loading the block pointer: blocks are freed through the
        // epoch, so one loaded while pinned stays allocated until we unpin.
        #[cfg(not(loom))]
        let _guard = crossbeam_epoch::pin();
        let block = self.head.block.load(Ordering::Acquire);
        if self.head.index.load(Ordering::SeqCst) != end || block.is_null() {
            return; // Already moved on.
        }
        // While `head.index` sits on this block end, `head.block` is the
        // ending block or, if its receiver got that far, the next one.
        // SAFETY: loaded while pinned, so allocated; `start` never changes.
        let start = unsafe { (*block).start };
        if start + BLOCK_CAP == end >> SHIFT {
            let mut spare = None;
            // SAFETY: allocated (pinned). Its last slot's receiver links the
            // next block before it finishes that slot, and the block is
            // retired only after that, so linking here only ever finds the
            // link or makes it while the block is in use.
            let next = unsafe { Block::next_or_link(block, &mut spare) };
            let _ = self.head.block.compare_exchange(block, next, Ordering::AcqRel, Ordering::Acquire);
            // SAFETY: `next` follows the ending block and `head.block`
            // points to it now; it is allocated while we are pinned.
            unsafe { self.step_head_off_block_end(next, end) };
        } else {
            // SAFETY: `block` is already the next block (see above),
            // allocated while we are pinned.
            unsafe { self.step_head_off_block_end(block, end) };
        }
    }

    /// Reads a claimed slot, or skips it if its sender is still writing.
    ///
    /// # Safety
    /// The caller holds the claim on slot `offset` of the live `block`, and
    /// must not touch the block afterwards.
    unsafe fn read(&self, block: *mut Block<T>, offset: usize) -> Option<T> {
        // SAFETY: live while our claim is unfinished.
        let slot = unsafe { &(*block).slots[offset] };
        if slot.state.load(Ordering::Acquire) & WRITE == 0 && !wait_for_write_or_skip(slot) {
            // The sender will finish the slot for us.
            return None;
        }
        // SAFETY: WRITE (acquired) says the message is there, and the claim
        // makes it ours.
        let msg = slot.msg.with(|p| unsafe { p.read().assume_init() });
        if crate::race::enabled() {
            // SAFETY: live while our claim is unfinished.
            if let Some(clock) = unsafe { &(*block).clocks }.get(offset) {
                clock.acquire();
            }
        }
        // SAFETY: we hold the claim and do not touch the block afterwards.
        unsafe { Block::finish(block, offset) };
        Some(msg)
    }

    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.claim_recv() {
            RecvClaim::Msg(msg) => Ok(msg),
            RecvClaim::Empty => Err(TryRecvError::Empty),
            RecvClaim::Closed => Err(TryRecvError::Disconnected),
        }
    }

    #[inline]
    #[track_caller]
    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        // Fast path inline: a message there on the first look.
        if let RecvClaim::Msg(msg) = self.claim_recv() {
            return Ok(msg);
        }
        trace::finished(self.recv_slow(deadline))
    }

    /// `recv` when the channel looked empty or closed: be patient, then
    /// park.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn recv_slow(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        loop {
            let mut patience = Patience::new();
            loop {
                match self.claim_recv() {
                    RecvClaim::Msg(msg) => return Ok(msg),
                    RecvClaim::Closed => return Err(RecvTimeoutError::Disconnected),
                    RecvClaim::Empty => {}
                }
                if deadline.is_some_and(|d| Instant::now() >= d) || !patience.wait() {
                    break;
                }
            }
            if let Some(deadline) = deadline {
                if Instant::now() >= deadline {
                    return Err(RecvTimeoutError::Timeout);
                }
            }
            self.park_until(deadline);
        }
    }

    #[cold]
    #[track_caller]
    fn park_until(&self, deadline: Option<Instant>) {
        let at = std::panic::Location::caller();
        let _blocked = race::blocking(deadline, "chan receive", at);
        Context::with(|cx| {
            trace::retrying(cx, at, || trace::Park {
                id: self as *const Self as usize,
                op: "recv",
                flavor: "list",
                capacity: None,
                len: self.len(),
            });
            let mut anchor = 0usize;
            let oper = Operation::hook(&mut anchor);
            self.receivers.register(oper, cx);
            if self.can_recv() {
                let _ = cx.try_select(Selected::Aborted);
            }
            let sel = cx.wait_until(deadline, false);
            match sel {
                Selected::Aborted | Selected::Disconnected => {
                    self.receivers.unregister(oper);
                }
                Selected::Operation(_) | Selected::Waiting => {}
            }
        });
    }

    /// Whether a receive may not block now. Conservative (it may say yes
    /// for a slot still being written); a yes only costs one more try. A
    /// `head` on a block end counts as the next block's first slot: the
    /// receive helps move it there (`help_advance_head`).
    fn can_recv(&self) -> bool {
        let head = self.head.index.load(Ordering::SeqCst);
        let tail = self.tail.index.load(Ordering::SeqCst);
        normalized(head) != normalized(tail) || tail & MARK_BIT != 0
    }

    pub(crate) fn len(&self) -> usize {
        loop {
            let tail = self.tail.index.load(Ordering::SeqCst);
            let head = self.head.index.load(Ordering::SeqCst);
            if self.tail.index.load(Ordering::SeqCst) == tail {
                let tail = normalized(tail);
                let head = normalized(head);
                let lap_diff = tail / LAP - head / LAP;
                let tail_off = tail % LAP;
                let head_off = head % LAP;
                return (lap_diff * BLOCK_CAP + tail_off).saturating_sub(head_off);
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        let head = self.head.index.load(Ordering::SeqCst);
        let tail = self.tail.index.load(Ordering::SeqCst);
        normalized(head) == normalized(tail)
    }

    /// Sets the closed mark and wakes every parked receiver; true if this
    /// call closed the channel.
    pub(crate) fn close(&self) -> bool {
        let tail = self.tail.index.fetch_or(MARK_BIT, Ordering::SeqCst);
        if tail & MARK_BIT == 0 {
            self.receivers.disconnect();
            true
        } else {
            false
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.tail.index.load(Ordering::SeqCst) & MARK_BIT != 0
    }
}

/// Gives the sender of a claimed slot a short grace to finish writing it:
/// true once it has (`WRITE`, acquired), false if we marked the slot `SKIP`
/// instead.
#[cold]
#[inline(never)]
fn wait_for_write_or_skip<T>(slot: &Slot<T>) -> bool {
    let mut spins = 0;
    let mut state = slot.state.load(Ordering::Acquire);
    while state & WRITE == 0 {
        if spins < WRITE_GRACE_SPINS {
            spins += 1;
            crate::sync::spin_loop();
            state = slot.state.load(Ordering::Acquire);
            continue;
        }
        match slot.state.compare_exchange_weak(state, state | SKIP, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return false,
            Err(current) => state = current,
        }
    }
    true
}

/// A position's slot counter with a block-end offset moved on to the first
/// slot of the next block. A receiver may link the next block and move
/// `head` there before the sender of the last slot has moved `tail` off the
/// block end; both then denote the same place.
fn normalized(pos: usize) -> usize {
    let slot = pos >> SHIFT;
    if slot % LAP == BLOCK_CAP {
        slot.wrapping_add(1)
    } else {
        slot
    }
}

enum SendOnce<T> {
    Sent,
    Skipped(T),
    Closed(T),
}

impl<T> Drop for Channel<T> {
    fn drop(&mut self) {
        // No handle is left, so no operation is in flight: every slot from
        // head to tail holds a written, unclaimed message, and every block
        // behind head has been freed by its last finisher.
        let mut head = self.head.index.load(Ordering::Relaxed) & !HAS_NEXT;
        let tail = self.tail.index.load(Ordering::Relaxed) & !MARK_BIT;
        let mut block = self.head.block.load(Ordering::Relaxed);
        while head != tail {
            let offset = (head >> SHIFT) % LAP;
            if offset < BLOCK_CAP {
                // SAFETY: a written message nobody else can reach; dropped
                // once.
                unsafe { (*block).slots[offset].msg.with_mut(|p| (*p).assume_init_drop()) };
            } else {
                // SAFETY: we are done with this block and its successor is
                // linked (tail is beyond it).
                let next = unsafe { (*block).next.load(Ordering::Relaxed) };
                // SAFETY: the block is reachable only from here now.
                drop(unsafe { Box::from_raw(block) });
                block = next;
            }
            head = head.wrapping_add(1 << SHIFT);
        }
        // Free the block head stopped in and anything linked after it.
        while !block.is_null() {
            // SAFETY: `drop` has `&mut self`, so no other thread can reach
            // the blocks; `block` is non-null and not freed yet (each block
            // is freed once, after its `next` is read).
            let next = unsafe { (*block).next.load(Ordering::Relaxed) };
            // SAFETY: the block came from `Box::into_raw`, and nothing
            // reaches it any more: `next` is read, and we move past it.
            drop(unsafe { Box::from_raw(block) });
            block = next;
        }
    }
}

// How a `select` takes part in this channel.
pub(crate) mod select;

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{Channel, BLOCK_CAP, LAP, SHIFT};
    use crate::err::TryRecvError;
    use crate::sync::atomic::Ordering;

    #[test]
    fn receivers_help_a_stalled_receiver_move_head_to_the_next_block() {
        let ch = Channel::new();
        for i in 0..40 {
            ch.try_send(i).unwrap();
        }
        for i in 0..BLOCK_CAP - 1 {
            assert_eq!(ch.try_recv(), Ok(i));
        }
        // A receiver claims the block's last slot, then stalls before it
        // moves `head` to the next block.
        let head = ch.head.index.load(Ordering::Relaxed);
        let block = ch.head.block.load(Ordering::Relaxed);
        assert_eq!((head >> SHIFT) % LAP, BLOCK_CAP - 1);
        let end = head + (1 << SHIFT);
        ch.head.index.store(end, Ordering::Relaxed);
        // The next block's messages are there: another receiver gets them
        // instead of "empty", without waiting for the stalled one.
        assert_eq!(ch.try_recv(), Ok(BLOCK_CAP));
        assert!(ch.can_recv_now());
        // The stalled receiver finishes: its move is already done.
        // SAFETY: it holds the claim on the last slot of `block`, with `end`
        // the value its claim put in `head`.
        unsafe {
            ch.advance_head(block, end);
            assert_eq!(ch.read(block, BLOCK_CAP - 1), Some(BLOCK_CAP - 1));
        }
        for i in BLOCK_CAP + 1..40 {
            assert_eq!(ch.try_recv(), Ok(i));
        }
        assert_eq!(ch.try_recv(), Err(TryRecvError::Empty));
    }
}
