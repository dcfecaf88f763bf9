//! Go's `fatal error: all goroutines are asleep - deadlock!`, for threads.
//! (Potential deadlocks, cycles in the lock order that this run did not
//! hit, are reported separately, as ThreadSanitizer's lock-order
//! inversions: see the crate documentation.)
//!
//! Blocking operations that racecheck hears about (the `chan` channels'
//! parks, the joins of [`thread`](crate::thread), and the waits of
//! [`sync`](crate::sync)'s `Mutex::lock`, `Condvar::wait`, `WaitGroup::wait`
//! and `Barrier::wait`) call
//! [`park`] before they wait with no deadline and [`unpark`] when they
//! wake. A watchdog thread, started at the first such park when detection
//! is on, looks every 100 ms at the parked threads. It reports a deadlock
//! when, for three looks in a row and with no park or wake in
//! between:
//!
//! - every live thread of the process (counted in `/proc/self/task`) but
//!   the watchdog is a thread that has called `park`, and
//! - each of those is still parked.
//!
//! It then prints each thread's name, the blocked operation and its source
//! location on stderr and ends the process with status 2, as Go does.
//!
//! What it cannot see: a thread blocked in anything that does not call
//! `park` (std's locks, condvars and joins, racecheck's `RwLock`, `Once`,
//! `OnceLock` and `mpsc`, the implicit join at the end of `thread::scope`,
//! I/O, a busy loop) counts as running. Such a thread, or
//! any thread racecheck never heard of, keeps the count of live threads
//! above the count of parked ones, so it can only hide a deadlock, never
//! cause a false report. The same goes for waits with a deadline, which are
//! never counted as parked. Without `/proc` (not Linux) no deadlock is ever
//! reported.

use std::collections::HashMap;
use std::io::Write;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, Once, OnceLock, PoisonError};
use std::time::Duration;

use crate::config::enabled;

/// How often the watchdog looks.
const POLL: Duration = Duration::from_millis(100);
/// How many consecutive looks must agree before a report: a thread that a
/// peer has just selected may still be marked parked for a moment.
const STABLE_POLLS: u32 = 3;

/// One thread that has parked at least once.
struct Sleeper {
    name: String,
    /// The operation and the caller's location while parked.
    parked: Option<(&'static str, &'static Location<'static>)>,
}

/// The threads racecheck knows to be parked in one of its blocking
/// operations, keyed by thread, for the deadlock watchdog.
#[derive(Default)]
struct ParkedThreads {
    threads: HashMap<usize, Sleeper>,
}

fn parked_threads() -> &'static Mutex<ParkedThreads> {
    static PARKED: OnceLock<Mutex<ParkedThreads>> = OnceLock::new();
    PARKED.get_or_init(Default::default)
}

/// Bumped on every park and wake, so the watchdog sees any movement.
static GENERATION: AtomicU64 = AtomicU64::new(0);
static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

/// This thread's entry on the board, removed when the thread exits.
struct Registration {
    id: usize,
}

impl Drop for Registration {
    fn drop(&mut self) {
        parked_threads().lock().unwrap_or_else(PoisonError::into_inner).threads.remove(&self.id);
        GENERATION.fetch_add(1, Ordering::SeqCst);
    }
}

thread_local! {
    static ME: Registration = {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let name = crate::runtime::with_current(|t| match &t.info.name {
            Some(name) => format!("T{} ({name})", t.info.tid),
            None => format!("T{}", t.info.tid),
        })
        .unwrap_or_else(|| std::thread::current().name().unwrap_or("<unnamed>").to_owned());
        parked_threads()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .threads
            .insert(id, Sleeper { name, parked: None });
        Registration { id }
    };
}

/// Tells the detector that the current thread is about to block, with no
/// deadline, in `op` (Go's wait reasons: `"chan receive"`, `"chan send"`,
/// ...) called at `at`. Pair it with [`unpark`] when the wait ends. One
/// relaxed load when detection is off.
#[inline]
pub fn park(op: &'static str, at: &'static Location<'static>) {
    if enabled() {
        set_parked(Some((op, at)));
    }
}

/// Tells the detector that the current thread's wait (see [`park`]) ended.
#[inline]
pub fn unpark() {
    if enabled() {
        set_parked(None);
    }
}

/// Runs the blocking call `wait` as a wait of `op` at `at`: [`park`]
/// before, [`unpark`] after, also if `wait` unwinds.
#[inline]
pub(crate) fn blocked_in<R>(op: &'static str, at: &'static Location<'static>, wait: impl FnOnce() -> R) -> R {
    struct Unpark;
    impl Drop for Unpark {
        fn drop(&mut self) {
            unpark();
        }
    }
    park(op, at);
    let _unpark = Unpark;
    wait()
}

#[cold]
#[inline(never)]
fn set_parked(parked: Option<(&'static str, &'static Location<'static>)>) {
    let _ = ME.try_with(|me| {
        if let Some(entry) = parked_threads().lock().unwrap_or_else(PoisonError::into_inner).threads.get_mut(&me.id) {
            entry.parked = parked;
        }
    });
    GENERATION.fetch_add(1, Ordering::SeqCst);
    if parked.is_some() {
        static WATCHDOG: Once = Once::new();
        WATCHDOG.call_once(|| {
            let _ = crate::std_threads::bypass(|| {
                std::thread::Builder::new().name("racecheck-deadlock".into()).spawn(watch)
            });
        });
    }
}

/// Live threads of this process, if the platform says.
fn live_threads() -> Option<usize> {
    std::fs::read_dir("/proc/self/task").ok().map(|dir| dir.count())
}

/// The report, if the board shows everybody asleep right now.
fn everybody_asleep() -> Option<String> {
    let board = parked_threads().lock().unwrap_or_else(PoisonError::into_inner);
    if board.threads.is_empty() || board.threads.values().any(|t| t.parked.is_none()) {
        return None;
    }
    // Every live thread but the watchdog must be one of ours, parked.
    if live_threads()? != board.threads.len() + 1 {
        return None;
    }
    let mut sleepers: Vec<_> = board.threads.values().collect();
    sleepers.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = String::from("fatal error: all threads are asleep - deadlock!\n");
    for sleeper in sleepers {
        if let Some((op, at)) = sleeper.parked {
            out.push_str(&format!(
                "\nthread {} [{op}]:\n  {}:{}:{}\n",
                sleeper.name,
                at.file(),
                at.line(),
                at.column()
            ));
        }
    }
    Some(out)
}

fn watch() {
    let mut stable = 0;
    let mut last = u64::MAX;
    loop {
        std::thread::sleep(POLL);
        let generation = GENERATION.load(Ordering::SeqCst);
        let report = everybody_asleep();
        // Count only looks with no park or wake since the previous one.
        stable = match report {
            Some(_) if generation == last && GENERATION.load(Ordering::SeqCst) == generation => stable + 1,
            _ => 0,
        };
        last = generation;
        if let (Some(report), true) = (report, stable >= STABLE_POLLS) {
            let _ = std::io::stdout().flush();
            let mut stderr = std::io::stderr().lock();
            let _ = stderr.write_all(report.as_bytes());
            let _ = stderr.flush();
            // SAFETY: ends the process at once with Go's status for a fatal
            // error; nothing is left to run: every other thread is blocked
            // for good.
            unsafe { libc::_exit(2) }
        }
    }
}
