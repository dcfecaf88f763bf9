//! Schedule exploration: runs a closure many times, each under a different
//! seeded schedule, with detection on, so that races hidden behind a lucky
//! interleaving show up. See [`explore`](crate::explore()) for the contract
//! and the guarantee.
//!
//! - `pct.rs`: the policy (PCT) and the seeds that name schedules;
//! - `scheduler.rs`: the turn that makes real threads follow a schedule;
//! - `locked.rs`: its lock, which sends the wake-ups after unlocking;
//! - `hooks.rs`: what racecheck's types call at their scheduling points.

mod hooks;
mod locked;
mod pct;
mod scheduler;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

pub(crate) use hooks::{
    begin, cond_notify, cond_wait, current_seed, exploring, finish, in_exploration, os_wait, park_wait, point,
    race_seen, random, settle, spawn_failed, spawning, unlocked, unparking, wait_join, wait_lock, wait_scope,
    yield_point, Child,
};
use pct::{Rng, Seed, MAX_HORIZON};
use scheduler::Scheduler;

/// How long the end of a run waits for threads the closure left running.
const LEFTOVER_WAIT: Duration = Duration::from_secs(1);

/// Runs `f` `iterations` times with race detection on, each time under a
/// different seeded schedule, and reports every data race found in any of
/// them.
///
/// `f` spawns threads through [`racecheck::thread`](crate::thread) and
/// synchronizes through racecheck's types and the `chan` channels, as a
/// program checked with `RACECHECK=1` does. Its threads run on real OS
/// threads, but only one of them at a time between two *scheduling points*
/// (every racecheck lock, unlock, atomic operation and fence, checked
/// access, spawn, join, park, unpark, sleep and yield, and every `chan`
/// channel operation), and a schedule decides which one goes at each
/// point.
///
/// Detection is on for the threads of the exploration even when the
/// process was started without `RACECHECK`, and only for them, so an
/// exploring test can share a test binary with tests that do not explore.
/// Each race is reported once, in the usual format, with one more line
/// naming the schedule that first showed it:
///
/// ```text
/// Schedule: seed=8436191730115313665 of racecheck::explore (replay it alone with RACECHECK_OPTIONS=seed=8436191730115313665)
/// ```
///
/// # When races are found
///
/// As loom's and shuttle's checks do, `explore` panics once it has run
/// every schedule, if any of them showed a data race (new or already
/// reported), so the test that called it fails, and the message names the
/// first such seed. As with `RACECHECK=1`, the process also prints
/// `Found N data race(s)` at exit and exits with status 66 (or `exitcode`),
/// as Go's test binaries do. If `f` itself panics, `explore` prints the
/// seed of that schedule and lets the panic go on.
///
/// # Replaying a schedule
///
/// `RACECHECK_OPTIONS=seed=S` makes every `explore` call run the single
/// schedule `S`, whatever `iterations` says. A seed names its schedule
/// completely (depth, horizon and random draws), so replaying it takes the
/// same scheduling decisions; the run is the same when every wait in it is
/// one the scheduler sees end (racecheck's locks, condvar, joins, parks and
/// the `chan` channels; `select!`'s random choices come from the seed too),
/// and may differ where real time decides (deadlines, sleeps, waits inside
/// `Barrier`, `WaitGroup`, `mpsc`, or std's own types).
///
/// # What is guaranteed: PCT
///
/// The schedules are those of PCT (Burckhardt, Kothari, Musuvathi and
/// Nagarakatte, *A Randomized Scheduler with Probabilistic Guarantees of
/// Finding Bugs*, ASPLOS 2010). Each thread gets a random priority; the
/// highest-priority thread that can run runs; at `d - 1` random steps the
/// running thread drops below all others. Iteration `i` uses depth
/// `d = 1 + i % 3` and draws its change points among the first `k` steps,
/// `k` being the most steps an earlier iteration of the call took.
///
/// Say a race is of depth `d` when it shows in every run in which some `d`
/// ordering constraints between steps hold (a lock taken by one thread
/// before another: depth 1; a thread preempted between a load and its CAS
/// while another completes: depth 2). For a program of at most `n` threads
/// and `k` steps, each iteration of depth `d` shows such a race with
/// probability at least `1/(n·k^(d-1))`, and `iterations` iterations miss it
/// with probability at most `(1 - 1/(n·k^(d-1)))^⌊iterations/3⌋`, for
/// `d ≤ 3`. The bound assumes the scheduler is in control: it weakens when a
/// thread spins for more than 10,000 steps while others wait (it is then
/// demoted, as a `yield_now` demotes it, so that the run moves), and where
/// the fallback below takes over.
///
/// # Never hanging
///
/// A thread that has to wait gives its turn away first. A wait racecheck
/// cannot see (a std lock, I/O, a long computation with no racecheck
/// operation) keeps the turn; after 50 ms without a step the other threads
/// take it back and the waiting thread goes on unscheduled until its next
/// point. A schedule can thus cost 50 ms per such wait, and is then not
/// replayed exactly, but never hangs; a program that deadlocks under a
/// schedule deadlocks as it would without `explore`, and racecheck's
/// deadlock report applies. Threads that `f` leaves running are scheduled
/// until none of them can run (all finished or blocked), for at most a
/// second, and joined; any still running or blocked then go on
/// unscheduled.
///
/// # What to put in `f`
///
/// Create the state the threads share inside `f`: each iteration should
/// start afresh. `chan` channels in particular must be created inside `f`,
/// since a channel made while detection was off has no clocks for its
/// slots. `f` runs on the calling thread, so panics and `#[should_panic]`
/// work as usual; `explore` cannot be nested.
///
/// ```
/// use racecheck::cell::RaceCell;
/// use racecheck::sync::{Arc, Mutex};
///
/// // Both writes are under the lock: no schedule shows a race.
/// racecheck::explore(50, || {
///     let data = Arc::new(Mutex::new(RaceCell::new(0)));
///     let other = data.clone();
///     let t = racecheck::thread::spawn(move || other.lock().unwrap().set(1));
///     data.lock().unwrap().set(2);
///     t.join().unwrap();
/// });
/// ```
///
/// # Panics
///
/// When any schedule showed a data race, after all have run; when `f`
/// panics; when called from inside an exploration.
#[track_caller]
pub fn explore<F>(iterations: usize, f: F)
where
    F: Fn() + Send + Sync + 'static,
{
    crate::config::enable_for_exploration();
    assert!(!in_exploration(), "racecheck::explore cannot run inside another exploration");
    let _active = hooks::Active::enter();
    let replay = crate::config::options().seed.map(Seed);
    let runs = if replay.is_some() { 1 } else { iterations };
    let mut random = Rng::new(random_base());
    let (tid, std_id) = (crate::runtime::current_info().map_or(0, |info| info.tid), std::thread::current().id());
    let mut horizon = 1;
    let mut racy_runs = 0;
    let mut first_racy = None;
    for i in 0..runs {
        let seed = replay.unwrap_or_else(|| Seed::new(1 + (i % 3) as u32, horizon, random.next_u64()));
        let run = Arc::new(Scheduler::new(seed));
        let index = run.add_thread(tid, Some(std_id), None, None);
        hooks::join_run(run.clone(), index);
        let outcome = panic::catch_unwind(AssertUnwindSafe(&f));
        if let Err(panic) = outcome {
            run.abandon();
            hooks::leave_run();
            eprintln!(
                "racecheck: explore: the closure panicked under schedule seed={seed}; \
                 replay it alone with RACECHECK_OPTIONS=seed={seed}"
            );
            panic::resume_unwind(panic);
        }
        let finished = run.end(index, LEFTOVER_WAIT);
        hooks::leave_run();
        // The threads the closure did not join are joined now, so that the
        // next run's accesses are ordered after theirs.
        for clock in &finished {
            crate::runtime::acquire(clock);
        }
        horizon = horizon.max(run.steps()).min(MAX_HORIZON);
        if run.races() > 0 {
            racy_runs += 1;
            first_racy.get_or_insert(seed);
        }
    }
    if let Some(seed) = first_racy {
        panic!(
            "racecheck::explore: data races in {racy_runs} of {runs} schedules, the first in seed={seed} \
             (replay it alone with RACECHECK_OPTIONS=seed={seed})"
        );
    }
}

/// A fresh random start for a call's seeds.
fn random_base() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher
        .write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    hasher.write_u32(std::process::id());
    hasher.finish()
}
