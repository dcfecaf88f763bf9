//! Annotations for synchronization the detector cannot see, in the manner of
//! ThreadSanitizer's `AnnotateHappensBefore`/`AnnotateHappensAfter` and its
//! memory-access annotations.
//!
//! Three ways in:
//!
//! - [`SyncClock`], an object to embed in your own synchronization
//!   primitive (a channel slot, a hand-off cell, a work queue): `release`
//!   where the primitive publishes, `acquire` where the other side observes
//!   the publication. This is the cheap form: the clock hangs off the
//!   object itself (one pointer, allocated at first use), and
//!   every call is one relaxed load when detection is off.
//! - [`Variable`], the same for a variable: `read` and `write` where your
//!   code reads and writes something racecheck cannot see.
//! - The address-keyed functions [`release`], [`acquire`], [`read`] and
//!   [`write()`], for code that cannot carry a field: their state lives in a
//!   global concurrent map keyed by address and is never freed, so use them
//!   for a bounded set of addresses.

use std::panic::Location;
use std::sync::{Mutex, OnceLock, PoisonError};

use dashmap::DashMap;

use crate::clock::VClock;
use crate::config::enabled;
use crate::lazy_clock::{LazyBox, LazyClock, SyncCell};
use crate::lock_order::{InGraph, Membership};
use crate::report::AccessKind;
use crate::runtime::{self, with_current};
use crate::shadow::Shadow;

/// A synchronization object for custom primitives: a vector clock that
/// releases publish into and acquires read from.
///
/// A `release` followed (in real time, as your primitive guarantees) by an
/// `acquire` on the same `SyncClock` is a happens-before edge: everything the
/// releasing thread did before `release` is ordered before everything the
/// acquiring thread does after `acquire`. For the edge to be sound, the
/// primitive must make the acquire observe the release, as a lock or a
/// flag with Release/Acquire ordering does.
///
/// With detection off each method is one relaxed load of a global flag, and
/// the object is one null pointer; the clock is allocated at first use.
///
/// ```
/// use racecheck::annotate::SyncClock;
/// use racecheck::cell::RaceCell;
/// use std::sync::atomic::{AtomicBool, Ordering};
///
/// // A one-shot hand-off built on a std atomic, annotated.
/// struct Slot {
///     ready: AtomicBool,
///     clock: SyncClock,
///     value: RaceCell<u32>,
/// }
/// let slot = Slot { ready: AtomicBool::new(false), clock: SyncClock::new(), value: RaceCell::new(0) };
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         slot.value.set(42);
///         slot.clock.release();
///         slot.ready.store(true, Ordering::Release);
///     });
///     while !slot.ready.load(Ordering::Acquire) {
///         std::hint::spin_loop();
///     }
///     slot.clock.acquire();
///     assert_eq!(slot.value.get(), 42);
/// });
/// ```
#[derive(Default)]
pub struct SyncClock {
    clock: LazyClock,
}

impl SyncClock {
    /// A clock nothing has been released into.
    pub const fn new() -> SyncClock {
        SyncClock { clock: LazyClock::new() }
    }

    /// Publishes the current thread's past, replacing what earlier releases
    /// published (a lock's unlock, a store that starts a new chain).
    #[inline]
    pub fn release(&self) {
        if enabled() {
            self.release_slow();
        }
    }

    /// Publishes the current thread's past in addition to what earlier
    /// releases published (read-unlocks of an RwLock, `WaitGroup::done`,
    /// a read-modify-write continuing a release sequence).
    #[inline]
    pub fn release_merge(&self) {
        if enabled() {
            self.release_merge_slow();
        }
    }

    /// Makes everything published so far happen before the current thread's
    /// future.
    #[inline]
    pub fn acquire(&self) {
        if enabled() {
            self.acquire_slow();
        }
    }

    /// Publishes the current thread's past in place of what earlier
    /// releases published, and takes that in: Go's `racereleaseacquire`
    /// (ThreadSanitizer's release-store-acquire), which Go's channels use on
    /// each buffer slot. Pass a baton through the object: the next thread to
    /// call it is ordered after this call, and this call after the previous
    /// one, but a thread two calls later is not ordered after this one
    /// unless the thread in between was.
    ///
    /// ```
    /// use racecheck::annotate::SyncClock;
    ///
    /// // One slot of a bounded queue: the sender that fills it and the
    /// // receiver that empties it each pass the baton on.
    /// let slot = SyncClock::new();
    /// slot.release_acquire(); // a send fills the slot
    /// slot.release_acquire(); // the receive that empties it
    /// ```
    #[inline]
    pub fn release_acquire(&self) {
        if enabled() {
            self.release_acquire_slow();
        }
    }

    /// Go's `racereleaseacquireg`: [`release_acquire`](Self::release_acquire)
    /// done by the calling thread on behalf of a parked one. `published`
    /// holds what the parked thread released just before it went to sleep
    /// (its past); that past replaces what `self` held, and what `self`
    /// held is merged into `deliver`, for the parked thread to
    /// [`acquire`](Self::acquire) when it wakes. The calling thread's own
    /// clock is neither published nor changed.
    ///
    /// Each step holds one object's lock at a time. Two threads acting for
    /// the same parked thread at once (peers racing to complete one of its
    /// select cases) each merge into `deliver`: the parked thread may then
    /// take in more than the winner's share, which can hide a race but
    /// never invent one.
    ///
    /// ```
    /// use racecheck::annotate::SyncClock;
    ///
    /// let (slot, published, deliver) = (SyncClock::new(), SyncClock::new(), SyncClock::new());
    /// published.release(); // the waiter, before it parks
    /// slot.release_acquire(); // a peer, for itself
    /// slot.release_acquire_for(&published, &deliver); // ... and for the waiter
    /// deliver.acquire(); // the waiter, woken
    /// ```
    #[inline]
    pub fn release_acquire_for(&self, published: &SyncClock, deliver: &SyncClock) {
        if enabled() {
            self.release_acquire_for_slow(published, deliver);
        }
    }

    /// Forgets everything published (for a primitive that is reset).
    #[inline]
    pub fn reset(&self) {
        if enabled() {
            if let Some(clock) = self.clock.get_if_used() {
                clock.lock().unwrap_or_else(PoisonError::into_inner).clear();
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn release_slow(&self) {
        runtime::release(self.clock.get());
    }

    #[cold]
    #[inline(never)]
    fn release_merge_slow(&self) {
        runtime::release_merge(self.clock.get());
    }

    #[cold]
    #[inline(never)]
    fn acquire_slow(&self) {
        runtime::acquire(self.clock.get());
    }

    #[cold]
    #[inline(never)]
    fn release_acquire_slow(&self) {
        runtime::release_acquire(self.clock.get());
    }

    #[cold]
    #[inline(never)]
    fn release_acquire_for_slow(&self, published: &SyncClock, deliver: &SyncClock) {
        // One lock at a time, so that no two calls can deadlock whatever
        // objects they name.
        let past = lock_clock(published.clock.get()).clone();
        let held = std::mem::replace(&mut *lock_clock(self.clock.get()), past);
        lock_clock(deliver.clock.get()).join(&held);
    }

    /// The raw clock, for the crate's own wrappers.
    pub(crate) fn raw(&self) -> &Mutex<VClock> {
        self.clock.get()
    }

    /// The clock with its lock-order bookkeeping, for the crate's locks.
    pub(crate) fn cell(&self) -> &SyncCell {
        self.clock.cell()
    }
}

impl InGraph for SyncClock {
    fn membership(&self) -> &Membership {
        &self.cell().lock_order
    }
}

fn lock_clock(clock: &Mutex<VClock>) -> std::sync::MutexGuard<'_, VClock> {
    clock.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A variable that your code reads and writes by means racecheck does not
/// see, checked like a [`RaceCell`](crate::cell::RaceCell) without holding
/// the value: call [`read`](Self::read) and [`write`](Self::write) where
/// your code reads and writes it, and every pair of calls not ordered by
/// happens-before, at least one of them a write, is reported as a race.
///
/// This is Go's `racereadpc`/`racewritepc` on an object's own address: the
/// `chan` channels embed one and treat `close` as a write of the channel
/// and every send as a read of it, so a send not ordered with the close is
/// reported, as Go does.
///
/// With detection off each call is one relaxed load of a global flag, and
/// the object is one null pointer; the state is allocated at first use and
/// freed with the object.
///
/// ```
/// use racecheck::annotate::Variable;
///
/// struct Gate {
///     closed: std::sync::atomic::AtomicBool,
///     // The detector's view of `closed` as a plain variable.
///     checked: Variable,
/// }
/// let gate = Gate { closed: Default::default(), checked: Variable::new() };
/// gate.checked.read(); // a use that must not race with the close
/// gate.checked.write(); // the close
/// gate.closed.store(true, std::sync::atomic::Ordering::Release);
/// ```
#[derive(Default)]
pub struct Variable {
    shadow: LazyBox<Mutex<Shadow>>,
}

impl Variable {
    /// A variable nothing has accessed yet.
    pub const fn new() -> Variable {
        Variable { shadow: LazyBox::new() }
    }

    /// Checks a read of the variable by the current thread, at the
    /// caller's place.
    #[inline]
    #[track_caller]
    pub fn read(&self) {
        if enabled() {
            self.access(AccessKind::Read, Location::caller());
        }
    }

    /// Checks a write of the variable by the current thread, at the
    /// caller's place.
    #[inline]
    #[track_caller]
    pub fn write(&self) {
        if enabled() {
            self.access(AccessKind::Write, Location::caller());
        }
    }

    /// As [`read`](Self::read), with the place given.
    #[inline]
    pub fn read_at(&self, place: &'static Location<'static>) {
        if enabled() {
            self.access(AccessKind::Read, place);
        }
    }

    /// As [`write`](Self::write), with the place given.
    #[inline]
    pub fn write_at(&self, place: &'static Location<'static>) {
        if enabled() {
            self.access(AccessKind::Write, place);
        }
    }

    #[cold]
    #[inline(never)]
    fn access(&self, kind: AccessKind, place: &'static Location<'static>) {
        let addr = self as *const Variable as usize;
        let mut shadow = self.shadow.get().lock().unwrap_or_else(PoisonError::into_inner);
        with_current(|t| match kind {
            AccessKind::Read => shadow.read(t, addr, place),
            _ => shadow.write(t, addr, kind, place),
        });
    }
}

impl std::fmt::Debug for Variable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Variable").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for SyncClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncClock").finish_non_exhaustive()
    }
}

/// Size of the memory granule that the address-keyed `read`/`write` track.
const GRANULE: usize = 8;

fn sync_objects() -> &'static DashMap<usize, SyncClock> {
    static MAP: OnceLock<DashMap<usize, SyncClock>> = OnceLock::new();
    MAP.get_or_init(DashMap::new)
}

fn shadows() -> &'static DashMap<usize, Shadow> {
    static MAP: OnceLock<DashMap<usize, Shadow>> = OnceLock::new();
    MAP.get_or_init(DashMap::new)
}

/// Publishes the current thread's past on the sync object named by `addr`
/// (TSan's `AnnotateHappensBefore`). Successive releases on one address
/// accumulate, so that several threads may publish before one acquires.
///
/// ```
/// let flag = std::sync::atomic::AtomicBool::new(false);
/// racecheck::annotate::release(&flag);
/// flag.store(true, std::sync::atomic::Ordering::Release);
/// ```
#[inline]
pub fn release<T: ?Sized>(addr: *const T) {
    if enabled() {
        release_at(addr as *const u8 as usize);
    }
}

/// Acquires what was released on `addr` (TSan's `AnnotateHappensAfter`).
#[inline]
pub fn acquire<T: ?Sized>(addr: *const T) {
    if enabled() {
        acquire_at(addr as *const u8 as usize);
    }
}

/// Checks a read of `len` bytes at `addr`, as if it were a plain variable.
#[inline]
#[track_caller]
pub fn read<T: ?Sized>(addr: *const T, len: usize) {
    if enabled() {
        access_at(addr as *const u8 as usize, len, AccessKind::Read, Location::caller());
    }
}

/// Checks a write of `len` bytes at `addr`, as if it were a plain variable.
#[inline]
#[track_caller]
pub fn write<T: ?Sized>(addr: *const T, len: usize) {
    if enabled() {
        access_at(addr as *const u8 as usize, len, AccessKind::Write, Location::caller());
    }
}

#[cold]
#[inline(never)]
fn release_at(addr: usize) {
    let object = sync_objects().entry(addr).or_default();
    runtime::release_merge(object.raw());
}

#[cold]
#[inline(never)]
fn acquire_at(addr: usize) {
    if let Some(object) = sync_objects().get(&addr) {
        runtime::acquire(object.raw());
    }
}

#[cold]
#[inline(never)]
fn access_at(addr: usize, len: usize, kind: AccessKind, location: &'static Location<'static>) {
    crate::explore::point();
    let first = addr / GRANULE;
    let last = (addr + len.max(1) - 1) / GRANULE;
    with_current(|t| {
        for granule in first..=last {
            let mut shadow = shadows().entry(granule).or_default();
            // A race on several granules of one access is one pair of
            // places, so the report module prints it once.
            match kind {
                AccessKind::Read => shadow.read(t, addr, location),
                _ => shadow.write(t, addr, kind, location),
            };
        }
    });
}
