//! `Barrier`: every arrival of a generation happens before every departure
//! of that generation.
//!
//! Built, as std's is, from a mutex and a condition variable, so that the
//! clock of a generation is updated under the same lock that counts its
//! arrivals: the last arrival seals the generation's clock, and a thread of
//! that generation leaves only after acquiring it. The next generation
//! cannot be sealed before every thread of this one has left (it needs all
//! of them to arrive again), so one sealed clock at a time is enough.

use std::fmt;
use std::sync::{Condvar, Mutex, PoisonError};

use crate::clock::VClock;
use crate::config::enabled;
use crate::runtime::with_current;

/// A barrier for `n` threads, as `std::sync::Barrier`.
///
/// ```
/// use racecheck::cell::RaceCell;
/// use racecheck::sync::{Arc, Barrier};
///
/// let barrier = Arc::new(Barrier::new(2));
/// let cells = Arc::new([RaceCell::new(0), RaceCell::new(0)]);
/// let handles: Vec<_> = (0..2)
///     .map(|i| {
///         let (barrier, cells) = (barrier.clone(), cells.clone());
///         racecheck::thread::spawn(move || {
///             cells[i].set(i + 1);
///             barrier.wait();
///             // every write before the barrier is ordered before this read
///             cells[0].get() + cells[1].get()
///         })
///     })
///     .collect();
/// for h in handles {
///     assert_eq!(h.join().unwrap(), 3);
/// }
/// ```
pub struct Barrier {
    state: Mutex<State>,
    cvar: Condvar,
    num_threads: usize,
}

struct State {
    arrived: usize,
    generation: u64,
    /// Joined by every arrival of the current generation.
    arriving: VClock,
    /// The clock of the last sealed generation.
    sealed: VClock,
}

/// Returned by [`Barrier::wait`]: exactly one thread per generation is the
/// leader.
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// Whether this thread was the generation's leader (its last arrival).
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl fmt::Debug for BarrierWaitResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWaitResult").field("is_leader", &self.0).finish()
    }
}

impl Barrier {
    /// A barrier that releases its waiters when `n` have arrived. A barrier
    /// of zero or one lets every thread through at once.
    pub const fn new(n: usize) -> Barrier {
        Barrier {
            state: Mutex::new(State { arrived: 0, generation: 0, arriving: VClock::new(), sealed: VClock::new() }),
            cvar: Condvar::new(),
            num_threads: n,
        }
    }

    /// Blocks until `n` threads have called `wait`.
    #[track_caller]
    pub fn wait(&self) -> BarrierWaitResult {
        let on = enabled();
        if on {
            crate::explore::point();
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if on {
            with_current(|t| t.release_merge_into(&mut state.arriving));
        }
        let generation = state.generation;
        state.arrived += 1;
        let leader = state.arrived >= self.num_threads;
        if leader {
            state.arrived = 0;
            state.generation = state.generation.wrapping_add(1);
            if on {
                let State { arriving, sealed, .. } = &mut *state;
                std::mem::swap(arriving, sealed);
                arriving.clear();
            }
            self.cvar.notify_all();
        } else {
            while state.generation == generation {
                state = crate::deadlock::blocked_in("barrier wait", std::panic::Location::caller(), || {
                    crate::explore::os_wait(|| self.cvar.wait(state).unwrap_or_else(PoisonError::into_inner))
                });
            }
        }
        if on {
            with_current(|t| t.acquire_from(&state.sealed));
        }
        BarrierWaitResult(leader)
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier").field("num_threads", &self.num_threads).finish_non_exhaustive()
    }
}
