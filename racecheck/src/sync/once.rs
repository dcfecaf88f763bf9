//! `Once` and `OnceLock`: the completed initialization happens before every
//! call that observes it, including the fast path that finds it done.

use std::fmt;

use crate::annotate::SyncClock;

pub use std::sync::OnceState;

/// A one-time initialization, as `std::sync::Once`.
///
/// ```
/// use racecheck::cell::RaceCell;
/// use racecheck::sync::Once;
///
/// static INIT: Once = Once::new();
/// static CONFIG: RaceCell<u32> = RaceCell::new(0);
///
/// fn config() -> u32 {
///     INIT.call_once(|| CONFIG.set(7));
///     CONFIG.get() // ordered after the initialization, on every path
/// }
/// assert_eq!(config(), 7);
/// ```
pub struct Once {
    done: SyncClock,
    inner: std::sync::Once,
}

impl Once {
    /// A `Once` that has not run.
    pub const fn new() -> Once {
        Once { done: SyncClock::new(), inner: std::sync::Once::new() }
    }

    /// Runs `f` if no call has completed yet; in every case, the completed
    /// call happens before this one returns.
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        self.inner.call_once(|| {
            f();
            self.done.release();
        });
        self.done.acquire();
    }

    /// As `call_once`, also running when an earlier call panicked.
    pub fn call_once_force<F: FnOnce(&OnceState)>(&self, f: F) {
        self.inner.call_once_force(|state| {
            f(state);
            self.done.release();
        });
        self.done.acquire();
    }

    /// Whether a call has completed; if so, it is ordered before the
    /// caller's future.
    pub fn is_completed(&self) -> bool {
        let done = self.inner.is_completed();
        if done {
            self.done.acquire();
        }
        done
    }
}

impl Default for Once {
    fn default() -> Self {
        Once::new()
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once").finish_non_exhaustive()
    }
}

/// A cell written once, as `std::sync::OnceLock`.
///
/// ```
/// use racecheck::sync::OnceLock;
///
/// static GREETING: OnceLock<String> = OnceLock::new();
/// assert_eq!(GREETING.get_or_init(|| "hello".to_owned()), "hello");
/// assert_eq!(GREETING.get().map(String::as_str), Some("hello"));
/// ```
pub struct OnceLock<T> {
    done: SyncClock,
    inner: std::sync::OnceLock<T>,
}

impl<T> OnceLock<T> {
    /// An empty cell.
    pub const fn new() -> OnceLock<T> {
        OnceLock { done: SyncClock::new(), inner: std::sync::OnceLock::new() }
    }

    /// The value, if initialized; its initialization is then ordered before
    /// the caller's future.
    pub fn get(&self) -> Option<&T> {
        let value = self.inner.get();
        if value.is_some() {
            self.done.acquire();
        }
        value
    }

    /// A mutable reference through exclusive ownership.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.inner.get_mut()
    }

    /// Initializes the cell with `value` unless it already is; returns the
    /// value back in that case.
    pub fn set(&self, value: T) -> Result<(), T> {
        let mut value = Some(value);
        self.get_or_init(|| match value.take() {
            Some(v) => v,
            None => unreachable!("the initializer runs at most once"),
        });
        match value {
            None => Ok(()),
            Some(v) => Err(v),
        }
    }

    /// The value, running `f` to produce it if the cell is empty. The
    /// release is made inside the initializer, before the value becomes
    /// visible to any other thread, so no observer can miss it.
    pub fn get_or_init<F: FnOnce() -> T>(&self, f: F) -> &T {
        let value = self.inner.get_or_init(|| {
            let value = f();
            self.done.release();
            value
        });
        self.done.acquire();
        value
    }

    /// Consumes the cell.
    pub fn into_inner(self) -> Option<T> {
        self.inner.into_inner()
    }

    /// Empties the cell through exclusive ownership.
    pub fn take(&mut self) -> Option<T> {
        self.inner.take()
    }
}

impl<T> Default for OnceLock<T> {
    fn default() -> Self {
        OnceLock::new()
    }
}

impl<T> From<T> for OnceLock<T> {
    fn from(value: T) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(value);
        cell
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OnceLock").field(&self.inner.get()).finish()
    }
}
