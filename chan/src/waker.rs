//! Lists of threads waiting on a channel, and how they are woken.
//!
//! [`Waker`] is the plain list, used under a lock the caller already holds
//! (the rendezvous flavor). [`SyncWaker`] adds its own lock plus an
//! `is_empty` flag, so that the lock-free flavors can ask "does anyone
//! wait?" with one load and touch the lock only when the answer is yes.
//!
//! No wake-up is lost because both sides of the race put a `SeqCst` fence
//! between their write and their read (the classic Dekker pattern):
//!
//! - a waiter registers (writes `is_empty = false`), fences, then re-checks
//!   the channel state;
//! - a thread that changed the channel state (wrote a slot stamp) fences,
//!   then reads `is_empty`.
//!
//! In the single total order of `SeqCst` fences one fence comes first, so
//! either the waiter's re-check sees the new state (and it does not park),
//! or the notifier sees the registration (and wakes it). A notifier whose
//! state change was itself a `SeqCst` read-modify-write that the waiter
//! re-checks may instead read `is_empty` with a `SeqCst` load and skip the
//! fence ([`SyncWaker::notify_after_seqcst_change`]).

use crate::context::{current_thread_id, Context, Operation, Selected};
use crate::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use crate::sync::Mutex;

/// One waiting operation.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The operation's id.
    pub(crate) oper: Operation,
    /// Flavor-specific data the waiter exposes to its peer (the rendezvous
    /// flavor's message packet); null when unused.
    pub(crate) packet: *mut (),
    /// The waiting thread's context.
    pub(crate) cx: Context,
}

/// Which half of a hand-over [`Waker::try_select_with`] asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Move the message before trying to select the waiter.
    Prepare,
    /// The waiter had already given up: move it back.
    Undo,
}

/// A list of waiting operations, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Waker {
    selectors: Vec<Entry>,
}

impl Waker {
    pub(crate) fn new() -> Self {
        Waker { selectors: Vec::new() }
    }

    /// Adds a waiting operation.
    pub(crate) fn register_with_packet(&mut self, oper: Operation, packet: *mut (), cx: &Context) {
        self.selectors.push(Entry { oper, packet, cx: cx.clone() });
    }

    /// Removes a waiting operation, if it is still listed.
    pub(crate) fn unregister(&mut self, oper: Operation) -> Option<Entry> {
        let pos = self.selectors.iter().position(|e| e.oper == oper)?;
        Some(self.selectors.remove(pos))
    }

    /// Selects and removes the oldest waiter of another thread that is still
    /// waiting. `hand_over` runs with [`Step::Prepare`] on each candidate
    /// before the selecting CAS (the rendezvous flavor moves the message
    /// through the waiter's packet there, so the CAS publishes it), and with
    /// [`Step::Undo`] if the candidate turned out to be no longer waiting.
    ///
    /// The caller unparks the returned entry's thread, ideally after
    /// releasing its lock.
    pub(crate) fn try_select_with(&mut self, mut hand_over: impl FnMut(&Entry, Step)) -> Option<Entry> {
        let me = current_thread_id();
        let mut i = 0;
        while i < self.selectors.len() {
            let entry = &self.selectors[i];
            if entry.cx.thread_id() != me {
                hand_over(entry, Step::Prepare);
                if entry.cx.try_select(Selected::Operation(entry.oper)).is_ok() {
                    return Some(self.selectors.remove(i));
                }
                hand_over(entry, Step::Undo);
            }
            i += 1;
        }
        None
    }

    /// Selects the oldest waiter still waiting, as [`Waker::try_select_with`]
    /// without a packet.
    pub(crate) fn try_select(&mut self) -> Option<Entry> {
        self.try_select_with(|_, _| {})
    }

    /// Wakes every waiter of another thread, selecting each with its own
    /// operation, and unlists them all: for *watchers* (a select that only
    /// wants to know when an operation may go), where a wake-up takes
    /// nothing from anyone, so all of them may have it. A watcher whose
    /// select already won elsewhere fails the CAS and is dropped from the
    /// list all the same; it unlists itself anyway when it runs.
    #[inline]
    pub(crate) fn notify_watchers(&mut self) {
        // Nobody watches, the usual case, without a call.
        if !self.selectors.is_empty() {
            self.notify_watchers_slow();
        }
    }

    #[inline(never)]
    fn notify_watchers_slow(&mut self) {
        let me = current_thread_id();
        self.selectors.retain(|entry| {
            if entry.cx.thread_id() == me {
                return true;
            }
            if entry.cx.try_select(Selected::Operation(entry.oper)).is_ok() {
                entry.cx.unpark();
            }
            false
        });
    }

    /// Tells every waiter the channel is closed, and wakes it. Entries stay
    /// listed; each waiter removes its own when it wakes.
    pub(crate) fn disconnect(&mut self) {
        for entry in &self.selectors {
            if entry.cx.try_select(Selected::Disconnected).is_ok() {
                entry.cx.unpark();
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.selectors.is_empty()
    }
}

/// A [`Waker`] with its own lock and a lock-free "anyone waiting?" flag.
///
/// When the process may use only one CPU it also keeps track of the one
/// thread of its side that waits *actively* (yielding the CPU and retrying,
/// see [`SyncWaker::start_yielding`]); a notify then leaves the parked
/// waiters asleep, a few times in a row at most, since the active one will
/// take what the notifier made possible.
#[derive(Debug)]
pub(crate) struct SyncWaker {
    inner: Mutex<Waker>,
    is_empty: AtomicBool,
    /// A thread of this side is in its active wait (one CPU only).
    yielder: AtomicBool,
    /// Notifies in a row that left the parked waiters to the active one.
    skipped: AtomicUsize,
    /// How many notifies in a row may do so (at least [`SKIP_LIMIT`]).
    skip_limit: usize,
}

/// How many notifies in a row may leave the parked waiters asleep because
/// a thread waits actively, at least. Past it one is woken anyway, so a
/// parked thread is not starved by an active one that keeps winning.
const SKIP_LIMIT: usize = 32;

impl SyncWaker {
    pub(crate) fn new() -> Self {
        Self::with_skip_limit(SKIP_LIMIT)
    }

    /// A waker whose notifies may leave parked waiters asleep up to `limit`
    /// times in a row (never fewer than [`SKIP_LIMIT`]) while a thread of
    /// its side waits actively. The ring's senders pass a quarter of its
    /// capacity: on one CPU a receiver drains much of a full
    /// `bounded(1024)` in one time slice, and waking a parked sender every
    /// 32 messages of it costs a context switch each; a limit of the whole
    /// capacity leaves a parked sender asleep for up to a whole lap, which
    /// slows `mpmc` down. A parked sender waits at most about a quarter lap of the ring.
    pub(crate) fn with_skip_limit(limit: usize) -> Self {
        SyncWaker {
            inner: Mutex::new(Waker::new()),
            is_empty: AtomicBool::new(true),
            yielder: AtomicBool::new(false),
            skipped: AtomicUsize::new(0),
            skip_limit: limit.max(SKIP_LIMIT),
        }
    }

    /// One CPU: makes the caller this side's active waiter, unless another
    /// thread already is (false: the caller should park at once).
    ///
    /// With one CPU a waiter that yields hands the CPU to whichever thread
    /// the scheduler picks; with several waiters of one side (four senders
    /// on a full ring) that is mostly another waiter that cannot proceed
    /// either, and each message then costs a round of useless switches and
    /// a park and an unpark. One active waiter per side, the others parked,
    /// leaves the CPU to the thread that can answer.
    pub(crate) fn start_yielding(&self) -> bool {
        !self.yielder.load(Ordering::Relaxed)
            && self.yielder.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }

    /// Whether someone is parked here (a hint: it may change at once).
    pub(crate) fn has_waiters(&self) -> bool {
        !self.is_empty.load(Ordering::Relaxed)
    }

    /// Ends the active wait begun by a successful
    /// [`start_yielding`](Self::start_yielding). `ready` says whether one
    /// more operation of this side could proceed now; if it could and
    /// someone is parked, one of them is woken, since a notifier may have
    /// left them asleep for us (see `notify_slow`).
    ///
    /// No wake-up is lost: we clear the flag, fence, then call `ready`; a
    /// notifier changes the channel, fences, then reads the flag. Of the
    /// two fences one comes first in their total order: either `ready`
    /// sees the change, or the notifier sees the flag clear and wakes a
    /// parked waiter itself. A notifier without a fence
    /// ([`notify_after_seqcst_change`](Self::notify_after_seqcst_change))
    /// reads the flag with a `SeqCst` load after its `SeqCst` change, and
    /// `ready` must re-check that change with a `SeqCst` load: if both
    /// missed, `ready`'s load precedes the change in the total order, the
    /// change precedes the flag load, and the flag load, reading the flag
    /// from before our store, precedes our fence, which precedes `ready`'s
    /// load: a cycle.
    ///
    /// The flag passes with Release/Acquire, so whatever the last active
    /// waiter did (the ring's sender withdrawing its offer) happens before
    /// the next one starts.
    pub(crate) fn stop_yielding(&self, ready: impl FnOnce() -> bool) {
        self.yielder.store(false, Ordering::Release);
        fence(Ordering::SeqCst);
        if !self.is_empty.load(Ordering::Relaxed) && ready() {
            self.wake_one();
        }
    }

    /// Registers a waiting operation, then fences so that the caller's
    /// re-check of the channel state is ordered after the registration.
    pub(crate) fn register(&self, oper: Operation, cx: &Context) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.register_with_packet(oper, std::ptr::null_mut(), cx);
        self.is_empty.store(false, Ordering::Relaxed);
        drop(inner);
        fence(Ordering::SeqCst);
    }

    /// Removes a waiting operation if it is still listed.
    pub(crate) fn unregister(&self, oper: Operation) -> Option<Entry> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let entry = inner.unregister(oper);
        self.is_empty.store(inner.is_empty(), Ordering::Relaxed);
        entry
    }

    /// Wakes one waiting thread, if any. Call after a change that may let a
    /// waiter proceed; the fast path is a fence and one load.
    #[inline]
    pub(crate) fn notify(&self) {
        fence(Ordering::SeqCst);
        if !self.is_empty.load(Ordering::Relaxed) {
            self.notify_slow();
        }
    }

    /// [`notify`](Self::notify) for a caller whose state change was a
    /// `SeqCst` read-modify-write that a waiter's re-check reads with a
    /// `SeqCst` load (a claim of `tail` by a send, which parked receivers
    /// re-check; on the ring also a claim of `head` by a receive, which
    /// parked senders re-check). There a `SeqCst` load of the flag does the
    /// fence's job: on x86 it is a plain load, where the fence is a locked
    /// instruction on every operation. The re-check must count a claimed,
    /// unfinished slot as ready (the waiter retries), since the change it
    /// reads is the claim, not the finished write.
    ///
    /// Why no wake-up is lost: call the waiter's registration `A`, its fence
    /// `F` and its re-check load `R`; the notifier's state change `C` and
    /// its load of the flag `B`. Suppose both miss: `R` reads a value from
    /// before `C`, so `R` precedes `C` in the single total order `S` of
    /// `SeqCst` operations and fences, and `F` (sequenced before `R`)
    /// precedes `R`, and `C` precedes `B` (sequenced before it): `F < B` in
    /// `S`. But `B` reads a value from before `A`, and `A` happens before
    /// the fence `F`, so `B < F` in `S` (C++20 [atomics.order]/4, the model
    /// Rust's atomics follow). Contradiction: one side sees the other.
    ///
    /// loom models `SeqCst` accesses as `AcqRel` (a documented limitation)
    /// and would report the lost wake-up this argument rules out, so under
    /// loom the fence stays.
    #[inline]
    pub(crate) fn notify_after_seqcst_change(&self) {
        #[cfg(loom)]
        fence(Ordering::SeqCst);
        if !self.is_empty.load(Ordering::SeqCst) {
            self.notify_slow();
        }
    }

    #[cold]
    fn notify_slow(&self) {
        // Read after the caller's fence, or after its `SeqCst` claim and
        // `is_empty` load; SeqCst for the latter, so that it takes part in
        // the argument of `stop_yielding` the way the fence would.
        if self.yielder.load(Ordering::SeqCst) && self.skipped.fetch_add(1, Ordering::Relaxed) < self.skip_limit {
            return;
        }
        self.wake_one();
    }

    /// Selects and wakes the oldest parked waiter, if any.
    fn wake_one(&self) {
        self.skipped.store(0, Ordering::Relaxed);
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let entry = inner.try_select();
        self.is_empty.store(inner.is_empty(), Ordering::Relaxed);
        drop(inner);
        if let Some(entry) = entry {
            entry.cx.unpark();
        }
    }

    /// Wakes every waiting thread with `Disconnected`.
    pub(crate) fn disconnect(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.disconnect();
    }
}

impl Waker {
    /// Whether a thread other than the caller waits here and can still be
    /// selected. A select asks this before listing itself: its own entries
    /// on the opposite list cannot be its partner, since a thread never
    /// completes an operation with itself, and neither can an entry whose
    /// context is already selected (a select that won on another channel,
    /// or gave up, and has not unlisted yet). Counting those sent every
    /// select that met one back to try its cases again, for nothing: with
    /// 16 selects on each side over 16 rendezvous channels, most listings
    /// met one.
    pub(crate) fn has_waiter_of_other_thread(&self) -> bool {
        let me = current_thread_id();
        self.selectors.iter().any(|e| e.cx.thread_id() != me && e.cx.selected() == Selected::Waiting)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The context of a thread of its own, selected first with `sel` if
    /// given (as a select that gave up, or won on another channel, is).
    fn other_thread_context(sel: Option<Selected>) -> Context {
        std::thread::spawn(move || {
            Context::with(|cx| {
                if let Some(sel) = sel {
                    cx.try_select(sel).unwrap();
                }
                cx.clone()
            })
        })
        .join()
        .unwrap()
    }

    #[test]
    fn a_selected_waiter_is_no_partner() {
        let mut anchor = 0u8;
        let oper = Operation::hook(&mut anchor);
        let mut waker = Waker::new();
        // Another thread's entries that nobody can pair with any more.
        waker.register_with_packet(oper, std::ptr::null_mut(), &other_thread_context(Some(Selected::Aborted)));
        let won = Selected::Operation(oper);
        waker.register_with_packet(oper, std::ptr::null_mut(), &other_thread_context(Some(won)));
        assert!(!waker.has_waiter_of_other_thread());
        // One still waiting is a partner.
        waker.register_with_packet(oper, std::ptr::null_mut(), &other_thread_context(None));
        assert!(waker.has_waiter_of_other_thread());
        // The caller's own entries never are.
        let mut own = Waker::new();
        Context::with(|cx| own.register_with_packet(oper, std::ptr::null_mut(), cx));
        assert!(!own.has_waiter_of_other_thread());
    }
}
