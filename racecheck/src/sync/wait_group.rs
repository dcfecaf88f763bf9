//! `WaitGroup`, as in `crossbeam_utils::sync`: every clone's drop (Go's
//! `Done`) happens before the `wait` it unblocks.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use crate::clock::VClock;
use crate::config::enabled;
use crate::runtime::with_current;

/// Waits for a group of threads to finish, as
/// `crossbeam_utils::sync::WaitGroup`: each thread holds a clone and drops
/// it when done; `wait` consumes one handle and blocks until every other
/// clone is dropped.
///
/// ```
/// use racecheck::cell::RaceCell;
/// use racecheck::sync::{Arc, WaitGroup};
///
/// let data = Arc::new(RaceCell::new(0));
/// let wg = WaitGroup::new();
/// {
///     let (wg, data) = (wg.clone(), data.clone());
///     racecheck::thread::spawn(move || {
///         data.set(5);
///         drop(wg); // Done: ordered before the Wait below returns
///     });
/// }
/// wg.wait();
/// assert_eq!(data.get(), 5);
/// ```
pub struct WaitGroup {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    cvar: Condvar,
}

struct State {
    count: usize,
    /// Every finished member's release, merged.
    done: VClock,
}

impl Default for WaitGroup {
    fn default() -> Self {
        WaitGroup::new()
    }
}

impl WaitGroup {
    /// A group with one member, this handle.
    pub fn new() -> WaitGroup {
        WaitGroup {
            inner: Arc::new(Inner { state: Mutex::new(State { count: 1, done: VClock::new() }), cvar: Condvar::new() }),
        }
    }

    /// Leaves the group (as a drop) and blocks until every other member has
    /// left; everything they did is then ordered before the caller's future.
    #[track_caller]
    pub fn wait(self) {
        if enabled() {
            crate::explore::point();
        }
        let inner = self.inner.clone();
        drop(self);
        let mut state = inner.state.lock().unwrap_or_else(PoisonError::into_inner);
        while state.count > 0 {
            state = crate::deadlock::blocked_in("wait group wait", std::panic::Location::caller(), || {
                crate::explore::os_wait(|| inner.cvar.wait(state).unwrap_or_else(PoisonError::into_inner))
            });
        }
        if enabled() {
            with_current(|t| t.acquire_from(&state.done));
        }
    }
}

impl Drop for WaitGroup {
    fn drop(&mut self) {
        let mut state = self.inner.state.lock().unwrap_or_else(PoisonError::into_inner);
        if enabled() {
            with_current(|t| t.release_merge_into(&mut state.done));
        }
        state.count -= 1;
        if state.count == 0 {
            self.inner.cvar.notify_all();
        }
    }
}

impl Clone for WaitGroup {
    /// A new member of the group.
    fn clone(&self) -> WaitGroup {
        let mut state = self.inner.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.count += 1;
        WaitGroup { inner: self.inner.clone() }
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.inner.state.lock().unwrap_or_else(PoisonError::into_inner).count;
        f.debug_struct("WaitGroup").field("count", &count).finish()
    }
}
