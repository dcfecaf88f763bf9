//! What racecheck's own types call to take part in an exploration: each
//! thread of a run knows its run (a thread-local *membership*), and every
//! hook asks it first. A process that runs no exploration pays one relaxed
//! load of [`ACTIVE`] per hook, and only on paths where detection is
//! already on.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::pct::Seed;
use super::scheduler::{Scheduler, Wait, Woken};
use crate::clock::VClock;

/// Explorations running in the process.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

/// A thread's place in a run.
#[derive(Clone)]
struct Member {
    run: Arc<Scheduler>,
    index: usize,
}

thread_local! {
    static MEMBER: RefCell<Option<Member>> = const { RefCell::new(None) };
}

/// Counts an exploration as running while it lives.
pub(crate) struct Active(());

impl Active {
    pub(crate) fn enter() -> Active {
        ACTIVE.fetch_add(1, Ordering::SeqCst);
        Active(())
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        ACTIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether an exploration runs in the process: the one test the hooks
/// below make inline, so that the code of a channel or lock operation
/// that inlines them stays as it was without them.
#[inline(always)]
fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed) != 0
}

/// The current thread's run, if it belongs to one.
fn member() -> Option<Member> {
    if !active() {
        return None;
    }
    MEMBER.try_with(|m| m.try_borrow().ok().and_then(|m| m.clone())).ok().flatten()
}

fn set_member(member: Option<Member>) {
    crate::config::set_exploring(member.is_some());
    let _ = MEMBER.try_with(|m| {
        if let Ok(mut m) = m.try_borrow_mut() {
            *m = member;
        }
    });
}

/// Whether the current thread belongs to a run (finished or not): detection
/// is on for it.
pub(crate) fn in_exploration() -> bool {
    MEMBER.try_with(|m| m.try_borrow().map(|m| m.is_some()).unwrap_or(true)).unwrap_or(false)
}

/// Makes the current thread thread `index` of `run`.
pub(crate) fn join_run(run: Arc<Scheduler>, index: usize) {
    set_member(Some(Member { run, index }));
}

/// The current thread leaves its run.
pub(crate) fn leave_run() {
    set_member(None);
}

/// A scheduling point.
#[inline]
pub(crate) fn point() {
    if active() {
        point_slow();
    }
}

#[cold]
#[inline(never)]
fn point_slow() {
    if let Some(m) = member() {
        m.run.point(m.index, false);
    }
}

/// A scheduling point at which the thread lets every other runnable thread
/// go first (`thread::yield_now`).
pub(crate) fn yield_point() {
    if let Some(m) = member() {
        m.run.point(m.index, true);
    }
}

/// A thread about to be spawned by a member, and its place in the run.
#[derive(Clone)]
pub(crate) struct Child(Member);

/// Registers a thread the current thread is about to spawn: `tid` is its
/// racecheck id, `scope` the `thread::scope` it belongs to, `final_clock`
/// what joining it acquires.
pub(crate) fn spawning(tid: u32, scope: Option<usize>, final_clock: &Arc<Mutex<VClock>>) -> Option<Child> {
    let m = member()?;
    let index = m.run.add_thread(tid, None, scope, Some(final_clock.clone()));
    Some(Child(Member { run: m.run, index }))
}

/// In the new thread: joins the run and waits for its first turn.
pub(crate) fn begin(child: Child) {
    let Child(m) = child;
    set_member(Some(m.clone()));
    m.run.begin(m.index);
}

/// The spawn failed: the thread never runs.
pub(crate) fn spawn_failed(child: Child) {
    let Child(m) = child;
    m.run.finish(m.index);
}

/// The current spawned thread's body is over: it leaves the run, waking
/// its joiners and handing the turn on.
pub(crate) fn finish() {
    if let Some(m) = member() {
        m.run.finish(m.index);
    }
    leave_run();
}

/// Before joining the thread with racecheck id `tid`: waits in the
/// scheduler until it has finished.
pub(crate) fn wait_join(tid: u32) {
    if let Some(m) = member() {
        if m.run.has_thread(tid) {
            m.run.point(m.index, false);
            m.run.block(m.index, Wait::Join(tid), None, false);
        }
    }
}

/// At the end of a `thread::scope` body: waits in the scheduler until every
/// thread of the scope has finished.
pub(crate) fn wait_scope(key: usize) {
    if let Some(m) = member() {
        m.run.point(m.index, false);
        m.run.block(m.index, Wait::Scope(key), None, false);
    }
}

/// A racecheck lock (named by `addr`) is held elsewhere: waits until it is
/// freed and this thread's turn comes, or `PATIENCE` passes. False when
/// the thread is not in a running exploration: the caller then blocks for
/// real.
pub(crate) fn wait_lock(addr: usize) -> bool {
    match member() {
        Some(m) => m.run.block(m.index, Wait::Lock(addr), None, true) != Woken::Done,
        None => false,
    }
}

/// Back from [`wait_lock`]'s poll with the lock taken: waits for the turn.
pub(crate) fn settle() {
    if let Some(m) = member() {
        m.run.arrive(m.index);
    }
}

/// A racecheck lock (named by `addr`) was freed.
pub(crate) fn unlocked(addr: usize) {
    if let Some(m) = member() {
        m.run.unlocked(addr);
    }
}

/// Whether the current thread is in a run that is not over: the waits of
/// racecheck's condvar then go through the scheduler.
#[inline]
pub(crate) fn exploring() -> bool {
    active() && exploring_slow()
}

#[cold]
#[inline(never)]
fn exploring_slow() -> bool {
    member().is_some_and(|m| !m.run.is_done())
}

/// Waits on condvar `addr` (its mutex already released) until notified,
/// `deadline`, or a spurious wake-up after `PATIENCE`. Returns whether the
/// deadline passed; `None` if the thread is not exploring.
pub(crate) fn cond_wait(addr: usize, deadline: Option<Instant>) -> Option<bool> {
    let m = member()?;
    match m.run.block(m.index, Wait::Cond(addr), deadline, true) {
        Woken::Event => Some(false),
        Woken::Timeout => {
            // A poll that found no notification is a spurious wake-up,
            // which condvars allow; it still waits for the turn.
            m.run.arrive(m.index);
            Some(deadline.is_some_and(|d| Instant::now() >= d))
        }
        Woken::Done => Some(false),
    }
}

/// Condvar `addr` is notified.
pub(crate) fn cond_notify(addr: usize, all: bool) {
    if let Some(m) = member() {
        m.run.notified(addr, all);
    }
}

/// Runs `wait`, a park of the current thread that an unpark ends.
#[inline]
pub(crate) fn park_wait<R>(wait: impl FnOnce() -> R) -> R {
    match if active() { member() } else { None } {
        Some(m) => m.run.os_wait(m.index, Wait::Park, wait),
        None => wait(),
    }
}

/// Runs `wait`, a wait only the OS ends (a sleep, a std condvar).
pub(crate) fn os_wait<R>(wait: impl FnOnce() -> R) -> R {
    match member() {
        Some(m) => m.run.os_wait(m.index, Wait::Os, wait),
        None => wait(),
    }
}

/// The thread `thread` is about to be unparked by the current thread.
#[inline]
pub(crate) fn unparking(thread: &std::thread::Thread) {
    if active() {
        unparking_slow(thread);
    }
}

#[cold]
#[inline(never)]
fn unparking_slow(thread: &std::thread::Thread) {
    if let Some(m) = member() {
        m.run.unparking(thread.id());
    }
}

/// A random number drawn from the current thread's schedule, if it
/// explores.
#[inline]
pub(crate) fn random() -> Option<u64> {
    if active() {
        random_slow()
    } else {
        None
    }
}

#[cold]
#[inline(never)]
fn random_slow() -> Option<u64> {
    member()?.run.random()
}

/// The current thread found a data race (reported or deduplicated).
pub(crate) fn race_seen() {
    if let Some(m) = member() {
        m.run.race_seen();
    }
}

/// The seed of the current thread's run.
pub(crate) fn current_seed() -> Option<Seed> {
    member().map(|m| m.run.seed())
}
