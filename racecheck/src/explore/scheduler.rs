//! The turn: how real OS threads are made to follow one PCT schedule.
//!
//! The program's threads keep running on their own OS threads. At every
//! scheduling point (a racecheck operation) a thread asks for the *turn*;
//! only the thread holding it goes on, the others wait, each on its own
//! condition variable, so that a hand-over wakes exactly one thread. The holder keeps it until, at one of its points, the policy
//! (`pct.rs`) prefers another runnable thread, or until it blocks; it then
//! names the next holder itself. So between two points exactly one
//! thread of the run executes, and the order of the points is the
//! schedule's.
//!
//! What the scheduler keeps true:
//!
//! - Only the holder takes steps and names the next holder, except in the
//!   fallback below. A thread that is not the holder and reaches a point
//!   waits there.
//! - A thread about to block gives the turn away first, so a wait never
//!   keeps the others from running. Waits whose end the scheduler sees
//!   (a racecheck lock freed, a thread finished, a condvar notified, an
//!   unpark through racecheck or `schedule::unparking`) make the waiter
//!   runnable at that very step, which keeps a seed's schedule the same
//!   from run to run. Waits it cannot see end (a deadline, a sleep, std's
//!   own primitives inside `Barrier` and `WaitGroup`) make the thread
//!   runnable when the OS wakes it, which is timing and so not replayed
//!   exactly.
//! - The fallback: a thread waiting for the turn that sees no step and no
//!   hand-over for [`PATIENCE`] concludes that the holder is stuck where the
//!   scheduler cannot see (blocked in a std lock, a long computation, I/O),
//!   marks it *detached*, and names a new holder among the threads that wait.
//!   A holder on its way (just spawned, or woken from a park) is given
//!   [`TRANSIT_PATIENCE`] times longer: it only waits for a CPU.
//!   The detached thread runs on unscheduled until its next point, where it
//!   queues like the others. So the scheduler can slow a program down by
//!   `PATIENCE` per invisible wait, never hang it. A thread blocked on a
//!   racecheck lock also tries the lock again every `PATIENCE`, in case it
//!   was freed by a thread outside the run.
//! - A thread that takes [`RUN_LIMIT`] steps in a row while others wait
//!   for the turn is demoted below all of them: a spin loop on racecheck
//!   atomics lets the thread it waits for run.
//! - When the run is over (`done`), every wait and point returns at once:
//!   threads left behind run free.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use super::locked::{Locked, Waited, Wakes};
use super::pct::{Pct, Rng, Seed};
use crate::clock::VClock;

/// How long a waiting thread lets the holder go without a step before it
/// takes the turn away from it.
pub(crate) const PATIENCE: Duration = Duration::from_millis(50);

/// How many `PATIENCE`s the others give a holder that is on its way (just
/// spawned, or woken from a park, and not yet back in the scheduler): it
/// is not stuck, only waiting for a CPU, which on a loaded machine can take
/// longer than `PATIENCE`, and taking the turn from it would change the
/// schedule that a seed names.
pub(crate) const TRANSIT_PATIENCE: u32 = 40;

/// How many steps in a row a thread may take while others wait for the
/// turn before it is demoted as a spinner.
pub(crate) const RUN_LIMIT: u32 = 10_000;

/// What a blocked thread waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// A racecheck `Mutex` or `RwLock` (by the address of its clock) to be
    /// freed.
    Lock(usize),
    /// A racecheck `Condvar` (by address) to be notified.
    Cond(usize),
    /// The thread with this racecheck id to finish.
    Join(u32),
    /// Every thread of this `thread::scope` to finish.
    Scope(usize),
    /// An unpark (racecheck's `Thread::unpark`, or a primitive's
    /// `schedule::unparking`), or the OS, to end a park.
    Park,
    /// The OS to end a wait the scheduler cannot see into.
    Os,
    /// Every other thread of the run to finish or block (the closure has
    /// returned).
    End,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Runnable,
    Blocked(Wait),
    Finished,
}

/// One thread of the run.
struct Rec {
    tid: u32,
    std: Option<ThreadId>,
    priority: i64,
    status: Status,
    /// Inside a scheduler wait (so it notices the turn at once).
    waiting: bool,
    /// Stuck outside the scheduler's sight: never named holder until it
    /// reaches a point again.
    detached: bool,
    /// Spawned, or woken from a park, and not yet back in the scheduler.
    in_transit: bool,
    /// An unpark arrived while the thread was not parked.
    token: bool,
    /// The `thread::scope` it belongs to.
    scope: Option<usize>,
    /// Arrival order on a condvar, for FIFO `notify_one`.
    ticket: u64,
    /// What a join of this thread acquires.
    final_clock: Option<Arc<Mutex<VClock>>>,
    /// Where the thread waits, with the scheduler's lock.
    wake: Arc<Condvar>,
}

impl Rec {
    fn is_candidate(&self) -> bool {
        self.status == Status::Runnable && !self.detached
    }
}

struct State {
    pct: Pct,
    threads: Vec<Rec>,
    turn: Option<usize>,
    done: bool,
    /// Steps taken by holders: PCT's step count.
    steps: u64,
    /// Bumped at every step and every hand-over: what waiters watch for
    /// signs of life.
    moves: u64,
    /// The thread that took the last steps and how many in a row.
    run: (usize, u32),
    tickets: u64,
    /// Data races seen by threads of this run (reported or deduplicated).
    races: usize,
    /// Threads to wake once the lock is released: woken under the lock,
    /// they would block on it at once.
    to_wake: Vec<Arc<Condvar>>,
    /// Random draws for the program's primitives (`select!`'s order),
    /// apart from the priorities' so that they do not shift those.
    draws: Rng,
}

impl Wakes for State {
    fn to_wake(&mut self) -> &mut Vec<Arc<Condvar>> {
        &mut self.to_wake
    }
}

/// One run under one seed.
pub(crate) struct Scheduler {
    seed: Seed,
    state: Mutex<State>,
}

/// How a scheduler-level wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Woken {
    /// The awaited event happened and this thread holds the turn.
    Event,
    /// `PATIENCE` or the deadline passed; the thread is still blocked (for
    /// a poll) or holds the turn (after a deadline).
    Timeout,
    /// The run is over: nothing is scheduled any more.
    Done,
}

impl Scheduler {
    pub(crate) fn new(seed: Seed) -> Scheduler {
        Scheduler {
            seed,
            state: Mutex::new(State {
                pct: Pct::new(seed),
                threads: Vec::new(),
                turn: None,
                done: false,
                steps: 0,
                moves: 0,
                run: (usize::MAX, 0),
                tickets: 0,
                races: 0,
                to_wake: Vec::new(),
                draws: Rng::new(seed.0 ^ 0x5e1e_c7ed_d1ce_0000),
            }),
        }
    }

    pub(crate) fn seed(&self) -> Seed {
        self.seed
    }

    fn lock(&self) -> Locked<'_, State> {
        Locked::new(&self.state)
    }

    /// Whether the run is over.
    pub(crate) fn is_done(&self) -> bool {
        self.lock().done
    }

    /// Steps taken so far.
    pub(crate) fn steps(&self) -> u64 {
        self.lock().steps
    }

    /// A random number from the run's seed, drawn by the turn holder.
    pub(crate) fn random(&self) -> Option<u64> {
        let mut st = self.lock();
        (!st.done).then(|| st.draws.next_u64())
    }

    pub(crate) fn race_seen(&self) {
        self.lock().races += 1;
    }

    pub(crate) fn races(&self) -> usize {
        self.lock().races
    }

    /// Adds a thread; the first one added holds the turn.
    pub(crate) fn add_thread(
        &self,
        tid: u32,
        std: Option<ThreadId>,
        scope: Option<usize>,
        final_clock: Option<Arc<Mutex<VClock>>>,
    ) -> usize {
        let mut st = self.lock();
        let priority = st.pct.starting_priority();
        let index_is_child = !st.threads.is_empty();
        st.threads.push(Rec {
            tid,
            std,
            priority,
            status: Status::Runnable,
            waiting: false,
            detached: false,
            in_transit: index_is_child,
            token: false,
            scope,
            ticket: 0,
            final_clock,
            wake: Arc::new(Condvar::new()),
        });
        let index = st.threads.len() - 1;
        if index == 0 {
            st.turn = Some(0);
        }
        index
    }

    /// Whether the thread with racecheck id `tid` belongs to this run.
    pub(crate) fn has_thread(&self, tid: u32) -> bool {
        self.lock().threads.iter().any(|r| r.tid == tid)
    }

    /// A spawned thread starts: it waits for its first turn.
    pub(crate) fn begin(&self, me: usize) {
        let mut st = self.lock();
        st.threads[me].std = Some(std::thread::current().id());
        wait_for_turn(&mut st, me);
    }

    /// A scheduling point of thread `me`; `demote` for a yield.
    pub(crate) fn point(&self, me: usize, demote: bool) {
        let mut st = self.lock();
        if st.done {
            return;
        }
        if let Status::Blocked(_) = st.threads[me].status {
            st.threads[me].status = Status::Runnable;
        }
        match st.turn {
            Some(holder) if holder == me => {
                st.steps += 1;
                st.moves += 1;
                let step = st.steps;
                if let Some(priority) = st.pct.change_at(step) {
                    st.threads[me].priority = priority;
                }
                st.run = if st.run.0 == me { (me, st.run.1 + 1) } else { (me, 1) };
                if demote || (st.run.1 >= RUN_LIMIT && st.others_wait(me)) {
                    st.threads[me].priority = st.pct.demoted();
                    st.run.1 = 0;
                }
                let next = st.choose();
                if next == Some(me) {
                    return;
                }
                st.hand_to(next);
            }
            Some(_) => {}
            None => {
                let next = st.choose();
                st.hand_to(next);
            }
        }
        wait_for_turn(&mut st, me);
    }

    /// Thread `me` has finished.
    pub(crate) fn finish(&self, me: usize) {
        let mut st = self.lock();
        st.threads[me].status = Status::Finished;
        st.threads[me].waiting = false;
        let ready: Vec<usize> = (0..st.threads.len())
            .filter(|&i| match st.threads[i].status {
                Status::Blocked(wait @ (Wait::Join(_) | Wait::Scope(_))) => st.happened(wait),
                _ => false,
            })
            .collect();
        for i in ready {
            st.make_runnable(i);
        }
        st.wake_end();
        if st.turn == Some(me) || st.turn.is_none() {
            let next = st.choose();
            st.hand_to(next);
        }
    }

    /// Blocks `me` on `wait` and waits in the scheduler until the event
    /// (then it holds the turn), the deadline (then it holds the turn too),
    /// or, with `poll`, `PATIENCE` (then it is still blocked).
    pub(crate) fn block(&self, me: usize, wait: Wait, deadline: Option<Instant>, poll: bool) -> Woken {
        let mut st = self.lock();
        if st.done {
            return Woken::Done;
        }
        if st.happened(wait) {
            return Woken::Event;
        }
        if st.threads[me].status != Status::Blocked(wait) {
            st.set_blocked(me, wait);
        }
        st.threads[me].waiting = true;
        let wake = st.threads[me].wake.clone();
        loop {
            if st.done {
                st.threads[me].waiting = false;
                return Woken::Done;
            }
            if st.threads[me].status == Status::Runnable {
                wait_for_turn(&mut st, me);
                return Woken::Event;
            }
            let limit = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()).min(PATIENCE),
                None => PATIENCE,
            };
            if st.wait(&wake, limit) == Waited::TimedOut && st.threads[me].status != Status::Runnable && !st.done {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    st.threads[me].status = Status::Runnable;
                    wait_for_turn(&mut st, me);
                    return Woken::Timeout;
                }
                if poll {
                    st.threads[me].waiting = false;
                    return Woken::Timeout;
                }
            }
        }
    }

    /// Runs `os_wait`, a wait the OS ends, as a blocked thread: gives the
    /// turn away before and waits for it after. A parked thread with an
    /// unpark already delivered keeps the turn: `os_wait` returns at once.
    pub(crate) fn os_wait<R>(&self, me: usize, wait: Wait, os_wait: impl FnOnce() -> R) -> R {
        let mut st = self.lock();
        if st.done {
            drop(st);
            return os_wait();
        }
        if wait == Wait::Park && st.threads[me].token {
            // The unpark that set the token was followed by the OS unpark,
            // so the park below consumes it and returns: the OS and the
            // scheduler stay in step.
            st.threads[me].token = false;
            drop(st);
            return os_wait();
        }
        st.set_blocked(me, wait);
        drop(st);
        let result = os_wait();
        self.arrive(me);
        result
    }

    /// Thread `me` is back from a wait the scheduler did not end: it
    /// becomes runnable and waits for the turn.
    pub(crate) fn arrive(&self, me: usize) {
        let mut st = self.lock();
        if st.done {
            return;
        }
        if let Status::Blocked(_) = st.threads[me].status {
            st.threads[me].status = Status::Runnable;
            if st.turn.is_none() {
                let next = st.choose();
                st.hand_to(next);
            }
        }
        wait_for_turn(&mut st, me);
    }

    /// A racecheck lock at `addr` was freed: its waiters may try again.
    pub(crate) fn unlocked(&self, addr: usize) {
        self.wake(Wait::Lock(addr), false);
    }

    /// Condvar `addr` was notified: the longest waiter (or every waiter)
    /// wakes.
    pub(crate) fn notified(&self, addr: usize, all: bool) {
        self.wake(Wait::Cond(addr), !all);
    }

    /// The thread with OS id `thread` is being unparked.
    pub(crate) fn unparking(&self, thread: ThreadId) {
        let mut st = self.lock();
        if st.done {
            return;
        }
        let Some(i) = st.threads.iter().position(|r| r.std == Some(thread) && r.status != Status::Finished) else {
            return;
        };
        match st.threads[i].status {
            Status::Blocked(Wait::Park) => {
                st.make_runnable(i);
                st.threads[i].in_transit = true;
                st.wake_end();
                if st.turn.is_none() {
                    let next = st.choose();
                    st.hand_to(next);
                }
            }
            Status::Runnable => st.threads[i].token = true,
            _ => {}
        }
    }

    /// The closure of the run has returned on thread `me`: waits until
    /// every other thread has finished or blocked for good, then ends the
    /// run. Gives up after `PATIENCE` without a step, or after
    /// `give_up_after` in all, and says so. Returns the final clocks of the
    /// threads that finished, for the caller to join.
    pub(crate) fn end(&self, me: usize, give_up_after: Duration) -> Vec<Arc<Mutex<VClock>>> {
        let start = Instant::now();
        let mut gave_up = false;
        loop {
            let moves = self.lock().moves;
            match self.block(me, Wait::End, None, true) {
                Woken::Event | Woken::Done => break,
                Woken::Timeout => {
                    if self.lock().moves == moves || start.elapsed() >= give_up_after {
                        gave_up = true;
                        break;
                    }
                }
            }
        }
        let mut st = self.lock();
        if gave_up && st.threads.iter().any(|r| r.status == Status::Runnable) {
            eprintln!(
                "racecheck: explore: threads of schedule seed={} still run after the closure returned; \
                 they go on unscheduled",
                self.seed
            );
        }
        st.finish_run();
        st.threads.iter().filter(|r| r.status == Status::Finished).filter_map(|r| r.final_clock.clone()).collect()
    }

    /// Ends the run at once (the closure panicked).
    pub(crate) fn abandon(&self) {
        self.lock().finish_run();
    }

    /// Makes the threads blocked on `wait` runnable (only the one with the
    /// lowest ticket if `one`).
    fn wake(&self, wait: Wait, one: bool) {
        let mut st = self.lock();
        if st.done {
            return;
        }
        let mut woken: Vec<usize> =
            (0..st.threads.len()).filter(|&i| st.threads[i].status == Status::Blocked(wait)).collect();
        if one {
            woken.sort_by_key(|&i| st.threads[i].ticket);
            woken.truncate(1);
        }
        if woken.is_empty() {
            return;
        }
        for i in woken {
            st.make_runnable(i);
        }
        st.wake_end();
        if st.turn.is_none() {
            let next = st.choose();
            st.hand_to(next);
        }
    }
}

/// Waits until `me` holds the turn (or the run is over), taking the turn
/// from a holder that shows no sign of life for `PATIENCE`.
fn wait_for_turn(st: &mut Locked<'_, State>, me: usize) {
    st.threads[me].waiting = true;
    st.threads[me].detached = false;
    st.threads[me].in_transit = false;
    let wake = st.threads[me].wake.clone();
    // Consecutive `PATIENCE`s without a move.
    let mut stalled = 0;
    loop {
        if st.done || st.turn == Some(me) {
            break;
        }
        if st.turn.is_none() {
            let next = st.choose();
            st.hand_to(next);
            continue;
        }
        let seen = st.moves;
        let waited = st.wait(&wake, PATIENCE);
        if st.done || st.turn == Some(me) || waited != Waited::TimedOut || st.moves != seen {
            stalled = 0;
            continue;
        }
        stalled += 1;
        let Some(holder) = st.turn else {
            continue;
        };
        if st.threads[holder].in_transit && stalled < TRANSIT_PATIENCE {
            continue;
        }
        if !st.threads[holder].waiting {
            st.threads[holder].detached = true;
        }
        stalled = 0;
        let next = st.choose();
        st.hand_to(next);
    }
    st.threads[me].waiting = false;
}

impl State {
    /// The runnable thread with the highest priority.
    fn choose(&self) -> Option<usize> {
        (0..self.threads.len()).filter(|&i| self.threads[i].is_candidate()).max_by_key(|&i| self.threads[i].priority)
    }

    /// Whether another thread waits for the turn.
    fn others_wait(&self, me: usize) -> bool {
        self.threads.iter().enumerate().any(|(i, r)| i != me && r.waiting && r.is_candidate())
    }

    /// Whether what `wait` waits for is already there (a join of a
    /// finished thread, a scope whose threads all finished).
    fn happened(&self, wait: Wait) -> bool {
        match wait {
            Wait::Join(tid) => self.threads.iter().any(|r| r.tid == tid && r.status == Status::Finished),
            Wait::Scope(key) => !self.threads.iter().any(|r| r.scope == Some(key) && r.status != Status::Finished),
            _ => false,
        }
    }

    fn set_blocked(&mut self, me: usize, wait: Wait) {
        self.threads[me].status = Status::Blocked(wait);
        if let Wait::Cond(_) = wait {
            self.tickets += 1;
            self.threads[me].ticket = self.tickets;
        }
        self.wake_end();
        if self.turn == Some(me) || self.turn.is_none() {
            let next = self.choose();
            self.hand_to(next);
        }
    }

    /// The closure's thread, waiting for the others to be done, may go
    /// once none of them can run.
    fn wake_end(&mut self) {
        let Some(ender) = self.threads.iter().position(|r| r.status == Status::Blocked(Wait::End)) else {
            return;
        };
        if !self.threads.iter().any(|r| r.status == Status::Runnable) {
            self.make_runnable(ender);
        }
    }

    /// A blocked thread may run again; if it waits in the scheduler, it
    /// hears of it.
    fn make_runnable(&mut self, i: usize) {
        self.threads[i].status = Status::Runnable;
        let wake = self.threads[i].wake.clone();
        self.to_wake.push(wake);
    }

    /// Names the next holder and wakes it.
    fn hand_to(&mut self, next: Option<usize>) {
        self.turn = next;
        self.moves += 1;
        if let Some(next) = next {
            let wake = self.threads[next].wake.clone();
            self.to_wake.push(wake);
        }
    }

    /// Ends the run: nothing is scheduled any more, and every waiting
    /// thread goes on.
    fn finish_run(&mut self) {
        self.done = true;
        self.turn = None;
        let all: Vec<_> = self.threads.iter().map(|r| r.wake.clone()).collect();
        self.to_wake.extend(all);
    }
}
