//! A thread's waiting context: what a blocked operation parks on.
//!
//! Every thread that has to block gets one `Context`, reused across its
//! blocking operations (one allocation per thread, not per wait). A context
//! is registered in a channel's waiter list together with an [`Operation`]
//! id; a thread that makes progress possible *selects* the context by moving
//! its `select` word from `WAITING` to that operation (or to `ABORTED` /
//! `DISCONNECTED`) with a single compare-and-swap, then unparks it. Because
//! the word can leave `WAITING` only once per wait, at most one peer ever
//! completes an operation on behalf of a waiting thread, which is what makes
//! rendezvous hand-off and, later, `select` exactly-once.

use std::sync::Arc;
use std::time::Instant;

use crate::sync::atomic::{AtomicUsize, Ordering};
use crate::sync::thread::{self, Thread};
use crate::sync::Backoff;

const WAITING: usize = 0;
const ABORTED: usize = 1;
const DISCONNECTED: usize = 2;

/// Identifies one blocked operation of one thread.
///
/// It is the address of something on the waiting thread's stack that lives
/// for the whole wait, so two operations waiting at the same time can never
/// share an id, and the id is never one of the reserved small values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Operation(usize);

impl Operation {
    /// The id of an operation whose wait is anchored at `anchor`.
    pub(crate) fn hook<A>(anchor: &mut A) -> Operation {
        let addr = anchor as *mut A as usize;
        // A live stack object is never at address 0, 1 or 2 (those pages are
        // never mapped); zero-sized anchors would be, so forbid them.
        assert!(std::mem::size_of::<A>() > 0, "operation anchors must not be zero-sized");
        debug_assert!(addr > DISCONNECTED);
        Operation(addr)
    }
}

/// How a wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Selected {
    /// Still waiting.
    Waiting,
    /// The waiter gave up (deadline passed, or it found the operation ready
    /// itself right after registering).
    Aborted,
    /// The channel was closed or lost its other side while we waited.
    Disconnected,
    /// A peer completed, or made possible, this operation.
    Operation(Operation),
}

impl From<usize> for Selected {
    fn from(raw: usize) -> Selected {
        match raw {
            WAITING => Selected::Waiting,
            ABORTED => Selected::Aborted,
            DISCONNECTED => Selected::Disconnected,
            oper => Selected::Operation(Operation(oper)),
        }
    }
}

impl From<Selected> for usize {
    fn from(sel: Selected) -> usize {
        match sel {
            Selected::Waiting => WAITING,
            Selected::Aborted => ABORTED,
            Selected::Disconnected => DISCONNECTED,
            Selected::Operation(Operation(oper)) => oper,
        }
    }
}

/// A handle on a thread's waiting context; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Context {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    select: AtomicUsize,
    thread: Thread,
    thread_id: usize,
    /// racecheck: the waiter's past, published when it starts to wait
    /// (see [`Context::publish_wait`]).
    published: crate::race::SyncClock,
    /// racecheck: what the peers that complete this waiter's operation
    /// leave for it to take in when it wakes.
    handoff: crate::race::SyncClock,
    /// The timeline's id for the current wait, 0 when no timeline records
    /// (see `observe/timeline.rs`). Not part of the synchronization, so a
    /// std atomic even under loom.
    flow: std::sync::atomic::AtomicUsize,
}

impl Context {
    fn new() -> Context {
        Context {
            inner: Arc::new(Inner {
                select: AtomicUsize::new(WAITING),
                thread: thread::current(),
                thread_id: current_thread_id(),
                published: crate::race::SyncClock::new(),
                handoff: crate::race::SyncClock::new(),
                flow: std::sync::atomic::AtomicUsize::new(0),
            }),
        }
    }

    /// Runs `f` with this thread's context, reset to `WAITING`.
    ///
    /// The context is cached in a thread-local; a nested call (which only a
    /// `Drop` impl running inside a wait could cause) gets a fresh one.
    pub(crate) fn with<R>(f: impl FnOnce(&Context) -> R) -> R {
        #[cfg(not(loom))]
        {
            use std::cell::Cell;
            thread_local! {
                static CONTEXT: Cell<Option<Context>> = Cell::new(Some(Context::new()));
            }
            let mut f = Some(f);
            let mut run = |cx: &Context| {
                cx.reset();
                let f = f.take().expect("called once");
                f(cx)
            };
            CONTEXT
                .try_with(|slot| match slot.take() {
                    Some(cx) => {
                        let res = run(&cx);
                        slot.set(Some(cx));
                        res
                    }
                    None => run(&Context::new()),
                })
                .unwrap_or_else(|_| run(&Context::new()))
        }
        #[cfg(loom)]
        {
            let cx = Context::new();
            f(&cx)
        }
    }

    #[cfg_attr(loom, allow(dead_code))]
    fn reset(&self) {
        self.inner.flow.store(crate::observe::next_flow(), std::sync::atomic::Ordering::Relaxed);
        self.inner.select.store(WAITING, Ordering::Release);
    }

    /// Moves the context from `WAITING` to `sel`; fails with the current
    /// selection if someone got there first.
    ///
    /// AcqRel: a peer that wins publishes what it wrote for us (a message in
    /// our packet) with the release half; the acquire half lets an aborting
    /// waiter see such writes of a peer that beat it.
    ///
    /// A peer that wins while a timeline records marks the wake-up on its
    /// own track. It reads the wait's flow id before its CAS: every peer
    /// selects a context it found listed, under the lock of that list, so
    /// the id is the one of the wait it selects.
    pub(crate) fn try_select(&self, sel: Selected) -> Result<(), Selected> {
        let flow = self.inner.flow.load(std::sync::atomic::Ordering::Relaxed);
        let res = self
            .inner
            .select
            .compare_exchange(WAITING, sel.into(), Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(Selected::from);
        if flow != 0 && res.is_ok() && sel != Selected::Aborted {
            crate::observe::record_wake(flow);
        }
        res
    }

    /// The timeline's id for the current wait (0 when none records).
    pub(crate) fn flow(&self) -> usize {
        self.inner.flow.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The current selection (Acquire: pairs with the winner's CAS).
    pub(crate) fn selected(&self) -> Selected {
        Selected::from(self.inner.select.load(Ordering::Acquire))
    }

    /// racecheck, waiter side: publishes the waiter's past before its
    /// registration becomes visible to peers (call it under the lock that
    /// guards the registration). A peer then uses it with
    /// [`Context::sync_with_waiter`], [`Context::notify_for_waiter`] or
    /// [`Context::deliver_to_waiter`], and the waiter takes in the result
    /// with [`Context::acquire_handoff`]. One relaxed load when detection is
    /// off.
    #[inline]
    pub(crate) fn publish_wait(&self) {
        // No peer of an earlier wait touches the context any more (each
        // works under the lock that guards the registration, and the
        // registration is gone), so what it left can go.
        self.inner.handoff.reset();
        self.inner.published.release();
    }

    /// racecheck, peer side, for a rendezvous (an unbuffered channel):
    /// called by the thread that is about to complete this waiter's
    /// operation, before the selecting CAS, so the waiter sees the peer's
    /// past and the peer the waiter's (Go's `racesync`).
    #[inline]
    pub(crate) fn sync_with_waiter(&self) {
        self.inner.published.acquire();
        self.inner.handoff.release_merge();
    }

    /// racecheck, peer side, for a hand-off that pretends to go through a
    /// buffer slot (Go's `racenotify(c, i, sg)`): after the peer notified
    /// `slot` for itself, notifies it for the waiter, whose past is what it
    /// published when it parked: the slot gets that past, and what the slot
    /// held is left for the waiter to acquire when it wakes. The peer
    /// learns nothing of the waiter. Under the lock that guards the
    /// waiter's registration, before the selecting CAS.
    #[inline]
    pub(crate) fn notify_for_waiter(&self, slot: &crate::race::SyncClock) {
        slot.release_acquire_for(&self.inner.published, &self.inner.handoff);
    }

    /// racecheck, peer side, for an edge from the peer to the waiter only
    /// (a hand-off on an unbounded channel, a close): the waiter will take
    /// in the peer's past, and the peer learns nothing of the waiter's.
    #[inline]
    pub(crate) fn deliver_to_waiter(&self) {
        self.inner.handoff.release_merge();
    }

    /// racecheck, waiter side: after a peer selected this context, takes in
    /// what the peer left for it.
    #[inline]
    pub(crate) fn acquire_handoff(&self) {
        self.inner.handoff.acquire();
    }

    /// Wakes the thread owning this context.
    pub(crate) fn unpark(&self) {
        #[cfg(not(loom))]
        crate::race::unparking(&self.inner.thread);
        self.inner.thread.unpark();
    }

    /// Id of the thread owning this context.
    pub(crate) fn thread_id(&self) -> usize {
        self.inner.thread_id
    }

    /// Waits until the context is selected or `deadline` passes.
    ///
    /// With `patient`, first waits actively for the whole [`Patience`]
    /// budget: the rendezvous flavor registers at once, and its peer on
    /// another core usually answers within a microsecond, far sooner than a
    /// park/unpark round trip (a futex wait, a wake-up, often a context
    /// switch) completes. The buffered flavors have
    /// already been patient before registering (while registered, every peer
    /// operation takes the slow notify path), so they only spin briefly.
    /// Then parks. On deadline it tries to abort; if a peer selected it in
    /// the meantime, that selection wins and is returned.
    pub(crate) fn wait_until(&self, deadline: Option<Instant>, patient: bool) -> Selected {
        if patient && !crate::race::exploring() {
            let mut patience = Patience::new();
            loop {
                let sel = self.selected();
                if sel != Selected::Waiting {
                    return sel;
                }
                if deadline.is_some_and(|d| Instant::now() >= d) || !patience.wait() {
                    break;
                }
            }
        } else if !crate::race::exploring() {
            // A few short spins catch a peer that is about to notify.
            let backoff = Backoff::new();
            for _ in 0..4 {
                let sel = self.selected();
                if sel != Selected::Waiting {
                    return sel;
                }
                backoff.spin();
            }
        }
        loop {
            let sel = self.selected();
            if sel != Selected::Waiting {
                return sel;
            }
            match deadline {
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return match self.try_select(Selected::Aborted) {
                            Ok(()) => Selected::Aborted,
                            Err(sel) => sel,
                        };
                    }
                    crate::race::park(|| park_timeout(deadline - now));
                }
                None => crate::race::park(thread::park),
            }
        }
    }
}

/// Active waiting before a thread parks: a short exponential spin, then
/// yielding the CPU until a time budget is spent.
///
/// Parking and waking a thread costs tens of microseconds, while a peer running on
/// another core answers in well under a microsecond, so a waiter that parks
/// at once loses badly on hand-offs. Spinning for long burns a core that
/// another thread may need when threads outnumber cores; yielding does not
/// (the scheduler runs whoever is ready, and an idle core returns at once).
/// So: spin up to [`SPIN_STEPS`] doublings (a few microseconds; skipped when the
/// process may use only one CPU), then yield until [`YIELD_BUDGET`] has
/// passed since the first yield, then give up (park). On one CPU a ring
/// lets only one thread per side be patient at a time (see
/// [`crate::waker::SyncWaker::start_yielding`]): yields among several
/// waiters of one side would mostly hand the CPU to each other.
pub(crate) struct Patience {
    step: u32,
    #[cfg_attr(loom, allow(dead_code))]
    yield_until: Option<Instant>,
}

/// Doublings of the spin phase: 2^0 + ... + 2^(SPIN_STEPS-1) spin hints.
#[cfg_attr(loom, allow(dead_code))]
const SPIN_STEPS: u32 = 7;

/// How long the yield phase lasts, comparable to one park/unpark round trip.
#[cfg_attr(loom, allow(dead_code))]
const YIELD_BUDGET: std::time::Duration = std::time::Duration::from_micros(20);

impl Patience {
    pub(crate) fn new() -> Self {
        Patience { step: 0, yield_until: None }
    }

    /// The spin phase alone: spins a little and returns true, or false once
    /// the spin phase is over (at once on one CPU, and under loom). For a
    /// waiter whose next step costs its peers, not only itself (a select
    /// about to list itself), where yielding for long would not pay.
    pub(crate) fn spin(&mut self) -> bool {
        #[cfg(loom)]
        {
            false
        }
        #[cfg(not(loom))]
        {
            if self.step < SPIN_STEPS && spinning_can_help() && !crate::race::exploring() {
                for _ in 0..1u32 << self.step {
                    std::hint::spin_loop();
                }
                self.step += 1;
                return true;
            }
            false
        }
    }

    /// Waits a little; false once the budget is spent and the caller should
    /// park.
    pub(crate) fn wait(&mut self) -> bool {
        #[cfg(loom)]
        {
            self.step += 1;
            loom::thread::yield_now();
            self.step <= 2
        }
        #[cfg(not(loom))]
        {
            if self.spin() {
                return true;
            }
            if crate::race::exploring() {
                // The peer runs only once this thread parks.
                return false;
            }
            let now = Instant::now();
            if now >= *self.yield_until.get_or_insert(now + YIELD_BUDGET) {
                return false;
            }
            std::thread::yield_now();
            true
        }
    }
}

/// Whether the thread we wait for may run while we spin. False where the
/// caller would take the CPU from it: in a process confined to one CPU
/// (say, under `taskset -c 0`), and for a thread pinned to a CPU that
/// another waiting thread is pinned to as well. There `Patience` goes
/// straight to yielding, and a ring lets only one thread per side wait
/// actively (see [`crate::waker::SyncWaker::start_yielding`]).
///
/// Affinity is per thread, so the answer is too ([`cpus`]): a program
/// whose threads each run pinned to a core of their own (thread-per-core)
/// has every one of them allowed a single CPU, yet its peers run on other
/// cores, so one process-wide answer taken from any one thread would send
/// all its hand-offs down the slower one-CPU path (`docs/ring.md`, "On one
/// CPU", has the figures). Every
/// caller reads the answer once per decision, and any answer is safe: it
/// only chooses between spinning and yielding, and for the ring which
/// waiters may be active.
///
/// Under loom it is false, so the models check the one-CPU protocol, which
/// is the one with more steps.
#[cfg(loom)]
pub(crate) fn spinning_can_help() -> bool {
    false
}

/// See the loom version above.
#[cfg(not(loom))]
#[inline]
pub(crate) fn spinning_can_help() -> bool {
    cpus::spinning_can_help()
}

/// Which CPUs the threads that have waited may run on, for
/// [`spinning_can_help`]. A thread records its affinity the first time it
/// asks and takes it back when it exits; the answer for a thread that may
/// use several CPUs is yes, and for one pinned to a single CPU it is yes
/// when no other recorded thread is pinned to that CPU and some recorded
/// thread may run elsewhere.
#[cfg(not(loom))]
mod cpus {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

    /// How many CPUs are told apart: a pinned thread's CPU counts modulo
    /// this (two threads pinned to CPUs 64 apart look like one CPU, which
    /// only makes them yield rather than spin).
    const CPUS: usize = 64;

    /// Recorded threads, alive, that may use several CPUs.
    static UNPINNED: AtomicUsize = AtomicUsize::new(0);
    /// Recorded threads, alive, pinned to one CPU.
    static ALL_PINNED: AtomicUsize = AtomicUsize::new(0);
    /// Recorded threads, alive, pinned to each CPU.
    static PINNED: [AtomicU32; CPUS] = [NONE_PINNED; CPUS];
    // A const to repeat, for the array above (an inline `const` block there
    // needs a newer compiler than our MSRV); each element is its own atomic.
    #[allow(clippy::declare_interior_mutable_const)]
    const NONE_PINNED: AtomicU32 = AtomicU32::new(0);

    /// What one thread may use.
    #[derive(Clone, Copy)]
    enum Affinity {
        /// Not recorded yet.
        Unknown,
        /// Several CPUs.
        Several,
        /// Exactly this CPU (modulo [`CPUS`]).
        Pinned(usize),
        /// One CPU, which one unknown (a CPU quota, or not Linux): the
        /// process counts as confined to it.
        One,
    }

    /// The calling thread's record; undone when the thread exits.
    struct Record(Cell<Affinity>);

    impl Drop for Record {
        fn drop(&mut self) {
            match self.0.get() {
                Affinity::Several => {
                    UNPINNED.fetch_sub(1, Ordering::Relaxed);
                }
                Affinity::Pinned(cpu) => {
                    PINNED[cpu].fetch_sub(1, Ordering::Relaxed);
                    ALL_PINNED.fetch_sub(1, Ordering::Relaxed);
                }
                Affinity::Unknown | Affinity::One => {}
            }
        }
    }

    thread_local! {
        static ME: Record = const { Record(Cell::new(Affinity::Unknown)) };
    }

    pub(super) fn spinning_can_help() -> bool {
        // A thread whose record is gone (it is exiting) asks as a new one
        // would, without recording.
        let me = ME.try_with(|me| me.0.get()).unwrap_or(Affinity::Unknown);
        match me {
            Affinity::Several => true,
            Affinity::One => false,
            Affinity::Pinned(cpu) => alone_with_company(cpu),
            Affinity::Unknown => record_this_thread(),
        }
    }

    /// For a thread pinned to `cpu`: no other recorded thread is pinned
    /// there, and one may run elsewhere.
    fn alone_with_company(cpu: usize) -> bool {
        // Alone on `cpu`, so any other pinned thread is pinned elsewhere.
        PINNED[cpu].load(Ordering::Relaxed) == 1
            && (UNPINNED.load(Ordering::Relaxed) > 0 || ALL_PINNED.load(Ordering::Relaxed) > 1)
    }

    #[cold]
    fn record_this_thread() -> bool {
        // `available_parallelism` counts this thread's affinity mask and
        // the process's CPU quota; an error says nothing, so it counts as
        // several, as it always has.
        let affinity = if std::thread::available_parallelism().map_or(true, |n| n.get() > 1) {
            Affinity::Several
        } else {
            only_cpu().map_or(Affinity::One, |cpu| Affinity::Pinned(cpu % CPUS))
        };
        let recorded = ME.try_with(|me| me.0.set(affinity)).is_ok();
        match affinity {
            Affinity::Several => {
                if recorded {
                    UNPINNED.fetch_add(1, Ordering::Relaxed);
                }
                true
            }
            Affinity::Pinned(cpu) if recorded => {
                ALL_PINNED.fetch_add(1, Ordering::Relaxed);
                PINNED[cpu].fetch_add(1, Ordering::Relaxed);
                alone_with_company(cpu)
            }
            _ => false,
        }
    }

    /// The one CPU this thread may run on, if its affinity mask names
    /// exactly one (not when a quota alone limits the process to one).
    #[cfg(target_os = "linux")]
    fn only_cpu() -> Option<usize> {
        // SAFETY: a zeroed cpu_set_t is a valid empty set, and
        // sched_getaffinity writes at most its size into it; CPU_COUNT and
        // CPU_ISSET only read that local set.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0
                || libc::CPU_COUNT(&set) != 1
            {
                return None;
            }
            (0..libc::CPU_SETSIZE as usize).find(|&cpu| libc::CPU_ISSET(cpu, &set))
        }
    }

    /// Elsewhere the CPU is unknown: a thread confined to one counts as
    /// the whole process confined to it.
    #[cfg(not(target_os = "linux"))]
    fn only_cpu() -> Option<usize> {
        None
    }

    #[cfg(all(test, target_os = "linux"))]
    mod tests {
        use super::*;

        /// Runs `f` on a new thread pinned to `cpu`; None if the system
        /// refuses the pin.
        fn pinned<R: Send + 'static>(cpu: usize, f: impl FnOnce() -> R + Send + 'static) -> Option<R> {
            std::thread::spawn(move || {
                // SAFETY: a zeroed cpu_set_t is a valid empty set, which
                // CPU_SET and sched_setaffinity only read and write.
                let ok = unsafe {
                    let mut set: libc::cpu_set_t = std::mem::zeroed();
                    libc::CPU_SET(cpu, &mut set);
                    libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
                };
                ok.then(f)
            })
            .join()
            .unwrap()
        }

        #[test]
        fn a_pinned_thread_knows_its_cpu() {
            if let Some(found) = pinned(0, only_cpu) {
                assert_eq!(found, Some(0));
            }
        }

        /// The rule, on the process's counts: the test adds records by hand
        /// for CPU 63 and 62 (no test pins a thread there: this machine's
        /// CPUs count as themselves modulo 64, and the one-CPU test runs in
        /// a process of its own), then takes them back.
        #[test]
        fn pinned_threads_sharing_a_cpu_do_not_spin() {
            let add = |cpu: usize, n: u32| {
                PINNED[cpu].fetch_add(n, Ordering::Relaxed);
                ALL_PINNED.fetch_add(n as usize, Ordering::Relaxed);
            };
            let (cpu, elsewhere) = (CPUS - 1, CPUS - 2);
            add(cpu, 1);
            add(elsewhere, 1);
            assert!(alone_with_company(cpu), "alone on its CPU, company on another");
            add(cpu, 1);
            assert!(!alone_with_company(cpu), "two threads pinned to one CPU");
            PINNED[cpu].fetch_sub(2, Ordering::Relaxed);
            PINNED[elsewhere].fetch_sub(1, Ordering::Relaxed);
            ALL_PINNED.fetch_sub(3, Ordering::Relaxed);
        }
    }
}

#[cfg(not(loom))]
fn park_timeout(dur: std::time::Duration) {
    thread::park_timeout(dur)
}

#[cfg(loom)]
fn park_timeout(_dur: std::time::Duration) {
    // loom has no clock; models never use deadlines.
    thread::park()
}

/// A number unique to the calling thread among live threads, cheap to get.
pub(crate) fn current_thread_id() -> usize {
    #[cfg(not(loom))]
    {
        thread_local! {
            static ANCHOR: u8 = const { 0 };
        }
        ANCHOR.with(|anchor| anchor as *const u8 as usize)
    }
    #[cfg(loom)]
    {
        // loom's ThreadId has no integer form; hash it.
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        thread::current().id().hash(&mut hasher);
        hasher.finish() as usize
    }
}
