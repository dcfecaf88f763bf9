//! Per-thread detector state and the registry of thread slots.
//!
//! Every thread the detector sees owns a *slot*, its index in all vector
//! clocks, and a *thread id* `T<n>` used in reports. Ids are never reused;
//! slots are, as in ThreadSanitizer, so that a program that starts and joins
//! threads one after another keeps its clocks short and its memory flat.
//!
//! Slot reuse keeps one invariant: a slot's moments only grow. When a thread
//! ends, the registry remembers the last moment it reached; the next occupant
//! starts one past it. Anything the old occupant did is then at or below that
//! moment, so a thread that joined the old occupant (and so knows its final
//! moment) orders all of its accesses, while a thread that did not still sees
//! them as concurrent. The one approximation is in the other direction: the
//! new occupant, and any thread that synchronizes with it, is taken to know
//! the old occupant's past as well. That can hide a race, never invent one.
//! To keep such hidden races rare, a freed slot waits in a FIFO quarantine
//! until `QUARANTINE` other threads have ended (TSan quarantines its thread
//! ids the same way): a race between a thread and one that started long
//! after it ended is the only kind this can hide.
//!
//! Threads spawned through `racecheck::thread` get their state when they
//! start, with the fork edge from their parent; any other thread (the main
//! thread, a test harness's worker) gets it lazily at its first hook.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::clock::{Moment, Slot, VClock};

/// How many finished threads the registry keeps describing for reports.
/// Older ones are still identified by id in a report, without name or
/// creation site.
const FINISHED_KEPT: usize = 1024;

/// Of those, how many keep their creation stack (about a kilobyte each);
/// older ones keep only the creation site.
const STACKS_KEPT: usize = 64;

/// How many freed slots wait before the oldest is handed out again.
const QUARANTINE: usize = 64;

/// What reports say about a thread.
#[derive(Debug)]
pub(crate) struct ThreadInfo {
    /// The `T<n>` number.
    pub(crate) tid: u32,
    /// The std name of the thread, if it has one.
    pub(crate) name: Option<String>,
    /// Where `racecheck::thread` spawned it; `None` for threads that were
    /// not spawned through it.
    pub(crate) created_at: Option<&'static Location<'static>>,
    /// Started by `std::thread` (or any `pthread_create` but racecheck's),
    /// seen through the interposition of `std_threads.rs`: its spawn and
    /// join are edges, and `creation_stack` says where it was spawned.
    pub(crate) std_spawned: bool,
    /// Whether a test harness started it (decided by a report, from the
    /// creation stack).
    pub(crate) spawned_by_harness: std::sync::OnceLock<bool>,
    /// The spawning thread's stack at the spawn, resolved only if a report
    /// needs it; dropped once the thread is long finished.
    pub(crate) creation_stack: Mutex<Option<backtrace::Backtrace>>,
    /// Set when the thread's body has returned.
    pub(crate) finished: AtomicBool,
    /// Released by `unpark`, acquired by `park`.
    pub(crate) park_clock: Mutex<VClock>,
}

impl ThreadInfo {
    pub(crate) fn new(
        name: Option<String>,
        created_at: Option<&'static Location<'static>>,
        creation_stack: Option<backtrace::Backtrace>,
    ) -> Arc<ThreadInfo> {
        let tid = {
            let mut registry = registry();
            registry.next_tid += 1;
            registry.next_tid
        };
        Arc::new(ThreadInfo {
            tid,
            name,
            created_at,
            std_spawned: false,
            spawned_by_harness: std::sync::OnceLock::new(),
            creation_stack: Mutex::new(creation_stack),
            finished: AtomicBool::new(false),
            park_clock: Mutex::new(VClock::new()),
        })
    }

    /// The name as reports print it.
    pub(crate) fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or("<unnamed>")
    }
}

struct Registry {
    next_tid: u32,
    /// For every slot ever handed out: the last moment its previous occupant
    /// reached (zero for a slot never used).
    slot_last: Vec<Moment>,
    free_slots: VecDeque<Slot>,
    running: BTreeMap<u32, Arc<ThreadInfo>>,
    finished: VecDeque<Arc<ThreadInfo>>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    next_tid: 0,
    slot_last: Vec::new(),
    free_slots: VecDeque::new(),
    running: BTreeMap::new(),
    finished: VecDeque::new(),
});

fn registry() -> MutexGuard<'static, Registry> {
    // The registry's data stays consistent across a panic in a holder (all
    // updates are single assignments), so a poisoned lock is still usable.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How many thread slots exist (each is one entry in every vector clock).
pub(crate) fn slots_allocated() -> usize {
    registry().slot_last.len()
}

/// Looks up a thread by id for a report.
pub(crate) fn thread_info(tid: u32) -> Option<Arc<ThreadInfo>> {
    let registry = registry();
    if let Some(info) = registry.running.get(&tid) {
        return Some(info.clone());
    }
    registry.finished.iter().find(|i| i.tid == tid).cloned()
}

/// The detector's view of one running thread.
pub(crate) struct ThreadState {
    pub(crate) slot: Slot,
    pub(crate) clock: VClock,
    /// What a later acquire fence will acquire (joined by relaxed loads).
    pub(crate) fence_acquire: VClock,
    /// What a relaxed store publishes (set by release fences).
    pub(crate) fence_release: VClock,
    pub(crate) info: Arc<ThreadInfo>,
}

impl ThreadState {
    /// The present moment of this thread.
    #[inline]
    pub(crate) fn now(&self) -> Moment {
        self.clock.get(self.slot)
    }

    /// A release: `sync := C_t`, then a fresh moment.
    pub(crate) fn release_into(&mut self, sync: &mut VClock) {
        sync.assign(&self.clock);
        self.clock.tick(self.slot);
    }

    /// A release that continues a chain: `sync ⊔= C_t`, then a fresh moment.
    pub(crate) fn release_merge_into(&mut self, sync: &mut VClock) {
        sync.join(&self.clock);
        self.clock.tick(self.slot);
    }

    /// An acquire: `C_t ⊔= sync`.
    pub(crate) fn acquire_from(&mut self, sync: &VClock) {
        self.clock.join(sync);
    }
}

/// Gives a starting thread its slot. `inherited` is the fork edge (the
/// parent's clock at the spawn), empty for threads found lazily.
fn start_thread(info: Arc<ThreadInfo>, inherited: VClock) -> ThreadState {
    let mut registry = registry();
    let reused = if registry.free_slots.len() > QUARANTINE { registry.free_slots.pop_front() } else { None };
    let slot = match reused {
        Some(slot) => slot,
        None => {
            let slot = registry.slot_last.len() as Slot;
            registry.slot_last.push(0);
            slot
        }
    };
    let start = registry.slot_last[slot as usize] + 1;
    registry.running.insert(info.tid, info.clone());
    drop(registry);
    let mut clock = inherited;
    clock.set(slot, start);
    ThreadState { slot, clock, fence_acquire: VClock::new(), fence_release: VClock::new(), info }
}

/// Gives the slot back and keeps the thread's description for reports.
fn end_thread(state: &ThreadState) {
    state.info.finished.store(true, Ordering::Relaxed);
    let mut registry = registry();
    registry.slot_last[state.slot as usize] = state.now();
    registry.free_slots.push_back(state.slot);
    if let Some(info) = registry.running.remove(&state.info.tid) {
        if registry.finished.len() == FINISHED_KEPT {
            registry.finished.pop_front();
        }
        registry.finished.push_back(info);
        let count = registry.finished.len();
        if count > STACKS_KEPT {
            let old = &registry.finished[count - 1 - STACKS_KEPT];
            old.creation_stack.lock().unwrap_or_else(PoisonError::into_inner).take();
        }
    }
}

/// The thread-local holder: ends the thread in the registry when the thread
/// goes away, for threads that were not ended explicitly.
struct Holder(RefCell<Option<ThreadState>>);

impl Drop for Holder {
    fn drop(&mut self) {
        if let Some(state) = self.0.get_mut().take() {
            end_thread(&state);
        }
    }
}

/// What a std thread started through the interposition of `std_threads.rs`
/// brings from its parent, until its first hook makes its state.
struct Pending {
    inherited: VClock,
    creation_stack: backtrace::Backtrace,
}

thread_local! {
    static CURRENT: Holder = const { Holder(RefCell::new(None)) };
    static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
}

/// Runs `f` on this thread's detector state, creating it on first use.
/// Returns `None` when the state cannot be reached: during thread teardown,
/// or from inside another hook of the same thread.
pub(crate) fn with_current<R>(f: impl FnOnce(&mut ThreadState) -> R) -> Option<R> {
    CURRENT
        .try_with(|holder| {
            let mut slot = holder.0.try_borrow_mut().ok()?;
            let state = slot.get_or_insert_with(start_found_thread);
            Some(f(state))
        })
        .ok()
        .flatten()
}

/// The state of a thread racecheck did not spawn, at its first hook: with
/// the fork edge a std spawn brought, if any.
fn start_found_thread() -> ThreadState {
    let std_thread = std::thread::current();
    let name = std_thread.name().map(str::to_owned);
    match PENDING.try_with(|p| p.borrow_mut().take()).ok().flatten() {
        Some(Pending { inherited, creation_stack }) => {
            let mut info = ThreadInfo::new(name, None, Some(creation_stack));
            if let Some(info) = Arc::get_mut(&mut info) {
                info.std_spawned = true;
            }
            start_thread(info, inherited)
        }
        None => start_thread(ThreadInfo::new(name, None, None), VClock::new()),
    }
}

/// A std thread is starting (before its start routine, which sets up
/// std's view of it): it has the parent's clock at the spawn,
/// `inherited`, and the parent's stack there. Its state is made at its
/// first hook.
#[cfg_attr(
    not(all(feature = "std-threads", target_os = "linux", target_env = "gnu", not(target_feature = "crt-static"))),
    allow(dead_code)
)]
pub(crate) fn begin_std_thread(inherited: VClock, creation_stack: backtrace::Backtrace) {
    let _ = PENDING.try_with(|p| *p.borrow_mut() = Some(Pending { inherited, creation_stack }));
}

/// A std thread's start routine ended: its final clock goes into
/// `final_clock` for the join (what it inherited, if it never touched
/// racecheck), and its slot is freed.
#[cfg_attr(
    not(all(feature = "std-threads", target_os = "linux", target_env = "gnu", not(target_feature = "crt-static"))),
    allow(dead_code)
)]
pub(crate) fn finish_std_thread(final_clock: &Mutex<VClock>) {
    let pending = PENDING.try_with(|p| p.borrow_mut().take()).ok().flatten();
    if let Some(pending) = pending {
        *final_clock.lock().unwrap_or_else(PoisonError::into_inner) = pending.inherited;
        return;
    }
    finish_spawned(final_clock);
}

/// The fork edge of a std spawn: a snapshot of the current thread's clock,
/// as [`fork_clock`], without making a state for a thread that has none
/// (it then passes on what it inherited, if anything).
#[cfg_attr(
    not(all(feature = "std-threads", target_os = "linux", target_env = "gnu", not(target_feature = "crt-static"))),
    allow(dead_code)
)]
pub(crate) fn fork_clock_if_started() -> VClock {
    let started = CURRENT.try_with(|holder| holder.0.try_borrow().map(|s| s.is_some()).unwrap_or(false));
    if started.unwrap_or(false) {
        return fork_clock();
    }
    PENDING.try_with(|p| p.borrow().as_ref().map(|p| p.inherited.clone())).ok().flatten().unwrap_or_default()
}

/// A join edge from a clock that may be empty: acquires it unless there is
/// nothing to take in, so that a thread that never touched racecheck does
/// not get a state for it.
#[cfg_attr(
    not(all(feature = "std-threads", target_os = "linux", target_env = "gnu", not(target_feature = "crt-static"))),
    allow(dead_code)
)]
pub(crate) fn acquire_if_known(sync: &Mutex<VClock>) {
    if *sync.lock().unwrap_or_else(PoisonError::into_inner) != VClock::new() {
        acquire(sync);
    }
}

/// Starts the detector state of a thread spawned through
/// `racecheck::thread`, with the fork edge from its parent.
pub(crate) fn begin_spawned(info: Arc<ThreadInfo>, inherited: VClock) {
    let state = start_thread(info, inherited);
    let _ = CURRENT.try_with(|holder| {
        if let Ok(mut slot) = holder.0.try_borrow_mut() {
            if let Some(old) = slot.replace(state) {
                end_thread(&old);
            }
        }
    });
}

/// Ends a spawned thread's state right after its body: releases into
/// `final_clock` (the join edge) and frees the slot.
pub(crate) fn finish_spawned(final_clock: &Mutex<VClock>) {
    let _ = CURRENT.try_with(|holder| {
        if let Ok(mut slot) = holder.0.try_borrow_mut() {
            if let Some(mut state) = slot.take() {
                let mut sync = final_clock.lock().unwrap_or_else(PoisonError::into_inner);
                state.release_into(&mut sync);
                drop(sync);
                end_thread(&state);
            }
        }
    });
}

/// Acquires `sync` into the current thread.
pub(crate) fn acquire(sync: &Mutex<VClock>) {
    with_current(|t| {
        let sync = sync.lock().unwrap_or_else(PoisonError::into_inner);
        t.acquire_from(&sync);
    });
}

/// Releases the current thread into `sync`, replacing what it held.
pub(crate) fn release(sync: &Mutex<VClock>) {
    with_current(|t| {
        let mut sync = sync.lock().unwrap_or_else(PoisonError::into_inner);
        t.release_into(&mut sync);
    });
}

/// Releases the current thread into `sync`, keeping what it held.
pub(crate) fn release_merge(sync: &Mutex<VClock>) {
    with_current(|t| {
        let mut sync = sync.lock().unwrap_or_else(PoisonError::into_inner);
        t.release_merge_into(&mut sync);
    });
}

/// Go's `racereleaseacquire` on `sync`: the object takes the current
/// thread's past in place of what it held, and the thread takes in what it
/// held; then a fresh moment.
pub(crate) fn release_acquire(sync: &Mutex<VClock>) {
    with_current(|t| {
        let mut sync = sync.lock().unwrap_or_else(PoisonError::into_inner);
        t.clock.release_store_acquire(&mut sync);
        t.clock.tick(t.slot);
    });
}

/// A snapshot of the current thread's clock to carry along an edge (a
/// spawn, a message); ticks the thread so that what it does afterwards is
/// not covered.
pub(crate) fn fork_clock() -> VClock {
    with_current(|t| {
        let snapshot = t.clock.clone();
        t.clock.tick(t.slot);
        snapshot
    })
    .unwrap_or_default()
}

/// The current thread's description.
pub(crate) fn current_info() -> Option<Arc<ThreadInfo>> {
    with_current(|t| t.info.clone())
}

/// A detached thread state for unit tests of the rules: it has a slot and
/// an id but lives in no thread-local.
#[cfg(test)]
pub(crate) fn test_thread(inherited: VClock) -> ThreadState {
    start_thread(ThreadInfo::new(None, None, None), inherited)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reused_slot_starts_past_its_last_occupant() {
        let a = start_thread(ThreadInfo::new(None, None, None), VClock::new());
        let mut a = a;
        a.clock.tick(a.slot);
        a.clock.tick(a.slot);
        let last = a.now();
        let slot = a.slot;
        end_thread(&a);
        // The slot comes back after the quarantine; other tests may start
        // threads concurrently, so allow for them.
        for _ in 0..(QUARANTINE + 256) {
            let b = start_thread(ThreadInfo::new(None, None, None), VClock::new());
            if b.slot == slot {
                assert!(b.now() > last);
                end_thread(&b);
                return;
            }
            end_thread(&b);
        }
        panic!("slot {slot} was never handed out again");
    }
}
