//! Atomics with the C++11/Rust memory model as Miri implements it (after
//! Lidbury & Donaldson, POPL 2017), so that orderings are honoured:
//!
//! - every atomic location keeps a *sync clock*;
//! - a `Release` (or stronger) store sets it to the storing thread's clock;
//!   a `Relaxed` store sets it to the thread's *release-fence clock*, i.e.
//!   it publishes only what a preceding `fence(Release)` published;
//! - a read-modify-write joins into it instead of replacing it, which keeps
//!   release sequences alive through RMWs of any ordering;
//! - an `Acquire` (or stronger) load joins the sync clock into the thread's
//!   clock; a `Relaxed` load joins it into the thread's *acquire-fence
//!   clock*, which a later `fence(Acquire)` makes effective;
//! - `fence(SeqCst)` also acts as a read-modify-write on one global clock,
//!   so that SeqCst fences are totally ordered.
//!
//! Go and ThreadSanitizer treat atomics as sequentially consistent or ignore
//! fences; both miss a `Relaxed` store that was meant to publish data, which
//! this model reports, with no report for correct Release/Acquire code.
//!
//! When detection is on, the atomic operation and the clock update happen
//! under a small per-location lock, so the clock always matches the value
//! the operation read or wrote. Every operation and fence is a scheduling
//! point for [`explore`](crate::explore()), taken before that lock.
//! Atomics themselves are never reported as racing: only the plain
//! accesses they order or fail to order are.

use std::fmt;
use std::sync::{Mutex, PoisonError};

pub use std::sync::atomic::{compiler_fence, Ordering};

use crate::clock::VClock;
use crate::config::enabled;
use crate::lazy_clock::LazyClock;
use crate::runtime::{with_current, ThreadState};

fn is_acquire(order: Ordering) -> bool {
    matches!(order, Ordering::Acquire | Ordering::AcqRel | Ordering::SeqCst)
}

fn is_release(order: Ordering) -> bool {
    matches!(order, Ordering::Release | Ordering::AcqRel | Ordering::SeqCst)
}

/// The detector side of one atomic location.
struct LocationClock {
    clock: LazyClock,
}

impl LocationClock {
    const fn new() -> LocationClock {
        LocationClock { clock: LazyClock::new() }
    }

    #[cold]
    #[inline(never)]
    fn load_slow<R>(&self, order: Ordering, op: impl FnOnce() -> R) -> R {
        crate::explore::point();
        let sync = self.clock.get().lock().unwrap_or_else(PoisonError::into_inner);
        let value = op();
        with_current(|t| observe(t, &sync, order));
        value
    }

    #[cold]
    #[inline(never)]
    fn store_slow<R>(&self, order: Ordering, op: impl FnOnce() -> R) -> R {
        crate::explore::point();
        let mut sync = self.clock.get().lock().unwrap_or_else(PoisonError::into_inner);
        let value = op();
        with_current(|t| {
            if is_release(order) {
                t.release_into(&mut sync);
            } else {
                sync.assign(&t.fence_release);
            }
        });
        value
    }

    #[cold]
    #[inline(never)]
    fn rmw_slow<R>(&self, order: Ordering, op: impl FnOnce() -> R) -> R {
        crate::explore::point();
        let mut sync = self.clock.get().lock().unwrap_or_else(PoisonError::into_inner);
        let value = op();
        with_current(|t| {
            observe(t, &sync, order);
            publish_merge(t, &mut sync, order);
        });
        value
    }

    #[cold]
    #[inline(never)]
    fn cas_slow<V>(&self, success: Ordering, failure: Ordering, op: impl FnOnce() -> Result<V, V>) -> Result<V, V> {
        crate::explore::point();
        let mut sync = self.clock.get().lock().unwrap_or_else(PoisonError::into_inner);
        let result = op();
        with_current(|t| match result {
            Ok(_) => {
                observe(t, &sync, success);
                publish_merge(t, &mut sync, success);
            }
            Err(_) => observe(t, &sync, failure),
        });
        result
    }
}

impl Default for LocationClock {
    fn default() -> Self {
        LocationClock::new()
    }
}

/// Runs an atomic operation: straight through when detection is off, and
/// through the location's slow path when on. The operation is written
/// twice so that, off, no closure is built: the fast path is the std
/// operation plus one load and branch on the global flag.
macro_rules! hook {
    ($self:ident, $slow:ident($($order:expr),+), $op:expr) => {
        if enabled() {
            $self.sync.$slow($($order),+, || $op)
        } else {
            $op
        }
    };
}

/// The load half: what the location published becomes the thread's now
/// (acquire) or later, at its next acquire fence (relaxed).
fn observe(t: &mut ThreadState, sync: &VClock, order: Ordering) {
    if is_acquire(order) {
        t.acquire_from(sync);
    } else {
        t.fence_acquire.join(sync);
    }
}

/// The store half of a read-modify-write: continues the release sequence.
fn publish_merge(t: &mut ThreadState, sync: &mut VClock, order: Ordering) {
    if is_release(order) {
        t.release_merge_into(sync);
    } else {
        sync.join(&t.fence_release);
    }
}

/// A memory fence, as `std::sync::atomic::fence`, with its effect on the
/// detector: an acquire fence makes effective what earlier relaxed loads
/// read; a release fence lets later relaxed stores publish the thread's
/// past; a SeqCst fence does both and is ordered with every other SeqCst
/// fence.
///
/// ```
/// use racecheck::sync::atomic::{fence, AtomicBool, Ordering};
///
/// let ready = AtomicBool::new(false);
/// fence(Ordering::Release);
/// ready.store(true, Ordering::Relaxed); // publishes what the fence did
/// if ready.load(Ordering::Relaxed) {
///     fence(Ordering::Acquire); // ... and this makes it visible
/// }
/// ```
#[inline]
pub fn fence(order: Ordering) {
    std::sync::atomic::fence(order);
    if enabled() {
        fence_slow(order);
    }
}

#[cold]
#[inline(never)]
fn fence_slow(order: Ordering) {
    crate::explore::point();
    static SEQ_CST: Mutex<VClock> = Mutex::new(VClock::new());
    with_current(|t| {
        if is_acquire(order) {
            let pending = std::mem::take(&mut t.fence_acquire);
            t.acquire_from(&pending);
            t.fence_acquire = pending;
        }
        if order == Ordering::SeqCst {
            let mut global = SEQ_CST.lock().unwrap_or_else(PoisonError::into_inner);
            t.acquire_from(&global);
            global.join(&t.clock);
        }
        if is_release(order) {
            t.fence_release.assign(&t.clock);
            t.clock.tick(t.slot);
        }
    });
}

macro_rules! atomic_int {
    ($(#[$doc:meta])* $name:ident, $int:ty) => {
        $(#[$doc])*
        #[derive(Default)]
        pub struct $name {
            sync: LocationClock,
            inner: std::sync::atomic::$name,
        }

        impl $name {
            /// A new atomic holding `value`.
            pub const fn new(value: $int) -> Self {
                $name { sync: LocationClock::new(), inner: std::sync::atomic::$name::new(value) }
            }

            /// Loads the value; `Acquire` or stronger synchronizes with the
            /// release that published it.
            #[inline]
            pub fn load(&self, order: Ordering) -> $int {
                hook!(self, load_slow(order), self.inner.load(order))
            }

            /// Stores a value; `Release` or stronger publishes the caller's past.
            #[inline]
            pub fn store(&self, value: $int, order: Ordering) {
                hook!(self, store_slow(order), self.inner.store(value, order))
            }

            /// Swaps the value (a read-modify-write).
            #[inline]
            pub fn swap(&self, value: $int, order: Ordering) -> $int {
                hook!(self, rmw_slow(order), self.inner.swap(value, order))
            }

            /// Compare-and-exchange, as std's.
            #[inline]
            pub fn compare_exchange(
                &self,
                current: $int,
                new: $int,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$int, $int> {
                hook!(self, cas_slow(success, failure), self.inner.compare_exchange(current, new, success, failure))
            }

            /// Compare-and-exchange that may fail spuriously, as std's.
            #[inline]
            pub fn compare_exchange_weak(
                &self,
                current: $int,
                new: $int,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$int, $int> {
                hook!(self, cas_slow(success, failure), self.inner.compare_exchange_weak(current, new, success, failure))
            }

            /// Applies `f` until it returns `None` or the exchange succeeds.
            pub fn fetch_update<F>(
                &self,
                set_order: Ordering,
                fetch_order: Ordering,
                mut f: F,
            ) -> Result<$int, $int>
            where
                F: FnMut($int) -> Option<$int>,
            {
                let mut prev = self.load(fetch_order);
                while let Some(next) = f(prev) {
                    match self.compare_exchange_weak(prev, next, set_order, fetch_order) {
                        Ok(x) => return Ok(x),
                        Err(actual) => prev = actual,
                    }
                }
                Err(prev)
            }

            atomic_int!(@rmw fetch_add, $int, "Adds, wrapping around.");
            atomic_int!(@rmw fetch_sub, $int, "Subtracts, wrapping around.");
            atomic_int!(@rmw fetch_and, $int, "Bitwise and.");
            atomic_int!(@rmw fetch_nand, $int, "Bitwise nand.");
            atomic_int!(@rmw fetch_or, $int, "Bitwise or.");
            atomic_int!(@rmw fetch_xor, $int, "Bitwise xor.");
            atomic_int!(@rmw fetch_max, $int, "Maximum.");
            atomic_int!(@rmw fetch_min, $int, "Minimum.");

            /// A mutable reference through exclusive ownership.
            pub fn get_mut(&mut self) -> &mut $int {
                self.inner.get_mut()
            }

            /// Consumes the atomic.
            pub fn into_inner(self) -> $int {
                self.inner.into_inner()
            }

            /// A raw pointer to the value (accesses through it are not
            /// checked).
            pub fn as_ptr(&self) -> *mut $int {
                self.inner.as_ptr()
            }
        }

        impl From<$int> for $name {
            fn from(value: $int) -> Self {
                $name::new(value)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.inner, f)
            }
        }
    };
    (@rmw $op:ident, $int:ty, $what:literal) => {
        #[doc = concat!($what, " A read-modify-write: it continues release sequences; returns the old value.")]
        #[inline]
        pub fn $op(&self, value: $int, order: Ordering) -> $int {
            hook!(self, rmw_slow(order), self.inner.$op(value, order))
        }
    };
}

atomic_int!(
    /// An `i8` shared between threads, as `std::sync::atomic::AtomicI8`.
    AtomicI8, i8
);
atomic_int!(
    /// An `i16` shared between threads, as `std::sync::atomic::AtomicI16`.
    AtomicI16, i16
);
atomic_int!(
    /// A `u8` shared between threads, as `std::sync::atomic::AtomicU8`.
    AtomicU8, u8
);
atomic_int!(
    /// A `u16` shared between threads, as `std::sync::atomic::AtomicU16`.
    AtomicU16, u16
);
atomic_int!(
    /// An `i32` shared between threads, as `std::sync::atomic::AtomicI32`.
    AtomicI32, i32
);
atomic_int!(
    /// An `i64` shared between threads, as `std::sync::atomic::AtomicI64`.
    AtomicI64, i64
);
atomic_int!(
    /// A `u32` shared between threads, as `std::sync::atomic::AtomicU32`.
    AtomicU32, u32
);
atomic_int!(
    /// A `u64` shared between threads, as `std::sync::atomic::AtomicU64`.
    AtomicU64, u64
);
atomic_int!(
    /// An `isize` shared between threads, as `std::sync::atomic::AtomicIsize`.
    AtomicIsize, isize
);
atomic_int!(
    /// A `usize` shared between threads, as `std::sync::atomic::AtomicUsize`.
    ///
    /// ```
    /// use racecheck::cell::RaceCell;
    /// use racecheck::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// static READY: AtomicUsize = AtomicUsize::new(0);
    /// static DATA: RaceCell<u64> = RaceCell::new(0);
    /// racecheck::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         DATA.set(42);
    ///         READY.store(1, Ordering::Release); // publishes the write
    ///     });
    ///     s.spawn(|| {
    ///         if READY.load(Ordering::Acquire) == 1 {
    ///             assert_eq!(DATA.get(), 42); // ordered: no race
    ///         }
    ///     });
    /// });
    /// ```
    AtomicUsize, usize
);

/// A `bool` shared between threads, as `std::sync::atomic::AtomicBool`.
#[derive(Default)]
pub struct AtomicBool {
    sync: LocationClock,
    inner: std::sync::atomic::AtomicBool,
}

impl AtomicBool {
    /// A new atomic holding `value`.
    pub const fn new(value: bool) -> Self {
        AtomicBool { sync: LocationClock::new(), inner: std::sync::atomic::AtomicBool::new(value) }
    }

    /// Loads the value; `Acquire` or stronger synchronizes with the release
    /// that published it.
    #[inline]
    pub fn load(&self, order: Ordering) -> bool {
        hook!(self, load_slow(order), self.inner.load(order))
    }

    /// Stores a value; `Release` or stronger publishes the caller's past.
    #[inline]
    pub fn store(&self, value: bool, order: Ordering) {
        hook!(self, store_slow(order), self.inner.store(value, order))
    }

    /// Swaps the value (a read-modify-write).
    #[inline]
    pub fn swap(&self, value: bool, order: Ordering) -> bool {
        hook!(self, rmw_slow(order), self.inner.swap(value, order))
    }

    /// Compare-and-exchange, as std's.
    #[inline]
    pub fn compare_exchange(
        &self,
        current: bool,
        new: bool,
        success: Ordering,
        failure: Ordering,
    ) -> Result<bool, bool> {
        hook!(self, cas_slow(success, failure), self.inner.compare_exchange(current, new, success, failure))
    }

    /// Compare-and-exchange that may fail spuriously, as std's.
    #[inline]
    pub fn compare_exchange_weak(
        &self,
        current: bool,
        new: bool,
        success: Ordering,
        failure: Ordering,
    ) -> Result<bool, bool> {
        hook!(self, cas_slow(success, failure), self.inner.compare_exchange_weak(current, new, success, failure))
    }

    /// Applies `f` until it returns `None` or the exchange succeeds.
    pub fn fetch_update<F>(&self, set_order: Ordering, fetch_order: Ordering, mut f: F) -> Result<bool, bool>
    where
        F: FnMut(bool) -> Option<bool>,
    {
        let mut prev = self.load(fetch_order);
        while let Some(next) = f(prev) {
            match self.compare_exchange_weak(prev, next, set_order, fetch_order) {
                Ok(x) => return Ok(x),
                Err(actual) => prev = actual,
            }
        }
        Err(prev)
    }

    atomic_int!(@rmw fetch_and, bool, "Logical and.");
    atomic_int!(@rmw fetch_nand, bool, "Logical nand.");
    atomic_int!(@rmw fetch_or, bool, "Logical or.");
    atomic_int!(@rmw fetch_xor, bool, "Logical xor.");

    /// A mutable reference through exclusive ownership.
    pub fn get_mut(&mut self) -> &mut bool {
        self.inner.get_mut()
    }

    /// Consumes the atomic.
    pub fn into_inner(self) -> bool {
        self.inner.into_inner()
    }
}

impl From<bool> for AtomicBool {
    fn from(value: bool) -> Self {
        AtomicBool::new(value)
    }
}

impl fmt::Debug for AtomicBool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// A raw pointer shared between threads, as `std::sync::atomic::AtomicPtr`.
pub struct AtomicPtr<T> {
    sync: LocationClock,
    inner: std::sync::atomic::AtomicPtr<T>,
}

impl<T> AtomicPtr<T> {
    /// A new atomic holding `ptr`.
    pub const fn new(ptr: *mut T) -> Self {
        AtomicPtr { sync: LocationClock::new(), inner: std::sync::atomic::AtomicPtr::new(ptr) }
    }

    /// Loads the pointer; `Acquire` or stronger synchronizes with the
    /// release that published it.
    #[inline]
    pub fn load(&self, order: Ordering) -> *mut T {
        hook!(self, load_slow(order), self.inner.load(order))
    }

    /// Stores a pointer; `Release` or stronger publishes the caller's past.
    #[inline]
    pub fn store(&self, ptr: *mut T, order: Ordering) {
        hook!(self, store_slow(order), self.inner.store(ptr, order))
    }

    /// Swaps the pointer (a read-modify-write).
    #[inline]
    pub fn swap(&self, ptr: *mut T, order: Ordering) -> *mut T {
        hook!(self, rmw_slow(order), self.inner.swap(ptr, order))
    }

    /// Compare-and-exchange, as std's.
    #[inline]
    pub fn compare_exchange(
        &self,
        current: *mut T,
        new: *mut T,
        success: Ordering,
        failure: Ordering,
    ) -> Result<*mut T, *mut T> {
        hook!(self, cas_slow(success, failure), self.inner.compare_exchange(current, new, success, failure))
    }

    /// Compare-and-exchange that may fail spuriously, as std's.
    #[inline]
    pub fn compare_exchange_weak(
        &self,
        current: *mut T,
        new: *mut T,
        success: Ordering,
        failure: Ordering,
    ) -> Result<*mut T, *mut T> {
        hook!(self, cas_slow(success, failure), self.inner.compare_exchange_weak(current, new, success, failure))
    }

    /// Applies `f` until it returns `None` or the exchange succeeds.
    pub fn fetch_update<F>(&self, set_order: Ordering, fetch_order: Ordering, mut f: F) -> Result<*mut T, *mut T>
    where
        F: FnMut(*mut T) -> Option<*mut T>,
    {
        let mut prev = self.load(fetch_order);
        while let Some(next) = f(prev) {
            match self.compare_exchange_weak(prev, next, set_order, fetch_order) {
                Ok(x) => return Ok(x),
                Err(actual) => prev = actual,
            }
        }
        Err(prev)
    }

    /// A mutable reference through exclusive ownership.
    pub fn get_mut(&mut self) -> &mut *mut T {
        self.inner.get_mut()
    }

    /// Consumes the atomic.
    pub fn into_inner(self) -> *mut T {
        self.inner.into_inner()
    }
}

impl<T> Default for AtomicPtr<T> {
    fn default() -> Self {
        AtomicPtr::new(std::ptr::null_mut())
    }
}

impl<T> From<*mut T> for AtomicPtr<T> {
    fn from(ptr: *mut T) -> Self {
        AtomicPtr::new(ptr)
    }
}

impl<T> fmt::Debug for AtomicPtr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}
