//! `std::thread` with the happens-before edges of thread life: a spawn
//! orders the parent's past before the child's start, a join (explicit, or
//! the implicit joins at the end of a scope) orders the child's whole life
//! before the joiner's future, and an `unpark` orders the unparker's past
//! before the return of the `park` it wakes.
//!
//! Every thread spawned here records its name and its creation site
//! (through `#[track_caller]`) for reports. The API mirrors `std::thread`:
//! replacing `std::thread` with `racecheck::thread` is a one-line change.
//! On Linux racecheck also sees the spawn and join of threads started with
//! `std::thread` itself, but not the implicit join at the end of
//! `std::thread::scope`, which [`scope`] here does see.
//!
//! Under [`explore`](crate::explore()) spawns, joins, parks, unparks,
//! sleeps and yields are scheduling points; a spawned thread joins its
//! parent's run, a join or the end of a scope waits in the scheduler until
//! the threads it waits for have finished, and `yield_now` lets every
//! other runnable thread of the run go first.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::panic::Location;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

pub use std::thread::{available_parallelism, panicking, AccessError, LocalKey, Result, ThreadId};

use crate::clock::VClock;
use crate::config::enabled;
use crate::runtime::{self, ThreadInfo};

/// A handle to a thread, as `std::thread::Thread`, whose `unpark` is a
/// release that the woken `park` acquires.
#[derive(Clone)]
pub struct Thread {
    inner: std::thread::Thread,
    info: Option<Arc<ThreadInfo>>,
}

impl Thread {
    /// The thread's std id.
    pub fn id(&self) -> ThreadId {
        self.inner.id()
    }

    /// The thread's name, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.inner.name()
    }

    /// Wakes the thread if it is parked (or makes its next `park` return at
    /// once). Everything the caller did before is ordered before the return
    /// of that `park`.
    pub fn unpark(&self) {
        if enabled() {
            if let Some(info) = &self.info {
                runtime::release_merge(&info.park_clock);
            }
            crate::explore::point();
            crate::explore::unparking(&self.inner);
        }
        self.inner.unpark();
    }

    /// The std handle inside.
    pub fn as_std(&self) -> &std::thread::Thread {
        &self.inner
    }
}

impl fmt::Debug for Thread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// The calling thread's handle.
pub fn current() -> Thread {
    let info = if enabled() { runtime::current_info() } else { None };
    Thread { inner: std::thread::current(), info }
}

/// Blocks until this thread is unparked (or spuriously). Acquires what every
/// `unpark` of this thread so far released.
pub fn park() {
    if enabled() {
        crate::explore::park_wait(std::thread::park);
    } else {
        std::thread::park();
    }
    after_park();
}

/// As [`park`], giving up after `dur`.
pub fn park_timeout(dur: Duration) {
    if enabled() {
        crate::explore::park_wait(|| std::thread::park_timeout(dur));
    } else {
        std::thread::park_timeout(dur);
    }
    after_park();
}

/// Puts the current thread to sleep for at least `dur`, as
/// `std::thread::sleep`. Under [`explore`](crate::explore()) the other
/// threads of the run go on meanwhile. A sleep orders nothing.
pub fn sleep(dur: Duration) {
    if enabled() {
        crate::explore::os_wait(|| std::thread::sleep(dur));
    } else {
        std::thread::sleep(dur);
    }
}

/// Offers the CPU to other threads, as `std::thread::yield_now`. Under
/// [`explore`](crate::explore()) it is a scheduling point at which every
/// other runnable thread of the run goes first, so a wait loop that yields
/// lets the thread it waits for run.
pub fn yield_now() {
    if enabled() {
        crate::explore::yield_point();
    }
    std::thread::yield_now();
}

fn after_park() {
    if enabled() {
        if let Some(info) = runtime::current_info() {
            runtime::acquire(&info.park_clock);
        }
    }
}

/// The clock a finished thread leaves for whoever joins it.
type FinalClock = Arc<Mutex<VClock>>;

/// Ends the detector's view of a spawned thread when its body returns or
/// unwinds: the join edge is released, the slot freed.
struct FinishGuard {
    final_clock: FinalClock,
    scope_clock: Option<FinalClock>,
}

impl Drop for FinishGuard {
    fn drop(&mut self) {
        runtime::finish_spawned(&self.final_clock);
        if let Some(scope_clock) = &self.scope_clock {
            let mine = self.final_clock.lock().unwrap_or_else(PoisonError::into_inner);
            scope_clock.lock().unwrap_or_else(PoisonError::into_inner).join(&mine);
        }
        // Last: the joiners the scheduler wakes now find the clocks ready.
        crate::explore::finish();
    }
}

/// What a spawn prepares when detection is on.
struct Fork {
    info: Arc<ThreadInfo>,
    inherited: VClock,
    final_clock: FinalClock,
    /// The thread's place in the spawner's exploration, if it explores.
    child: Option<crate::explore::Child>,
}

impl Fork {
    /// `scope` is the key of the `thread::scope` the thread belongs to.
    fn new(name: Option<String>, site: &'static Location<'static>, scope: Option<usize>) -> Fork {
        // Unwinding without resolving symbols costs microseconds; symbols
        // are looked up only if a report shows this thread.
        let stack = backtrace::Backtrace::new_unresolved();
        // The spawn is a scheduling point; it comes before the fork edge.
        crate::explore::point();
        let inherited = runtime::fork_clock();
        let final_clock = Arc::new(Mutex::new(VClock::new()));
        let info = ThreadInfo::new(name, Some(site), Some(stack));
        let child = crate::explore::spawning(info.tid, scope, &final_clock);
        Fork { info, inherited, final_clock, child }
    }

    /// Wraps the thread body so that it starts with the fork edge (and its
    /// first turn, when exploring) and ends with the join edge. Also gives
    /// back the exploration place, for [`spawn_failed`].
    fn wrap<F, T>(
        self,
        scope_clock: Option<FinalClock>,
        f: F,
    ) -> (impl FnOnce() -> T, FinalClock, Arc<ThreadInfo>, Option<crate::explore::Child>)
    where
        F: FnOnce() -> T,
    {
        let Fork { info, inherited, final_clock, child } = self;
        let body_info = info.clone();
        let body_clock = final_clock.clone();
        let body_child = child.clone();
        let body = move || {
            if let Some(child) = body_child {
                crate::explore::begin(child);
            }
            runtime::begin_spawned(body_info, inherited);
            let _finish = FinishGuard { final_clock: body_clock, scope_clock };
            f()
        };
        (body, final_clock, info, child)
    }
}

/// Takes a thread that could not be spawned out of its exploration, and
/// passes the error on.
fn spawn_failed(child: Option<crate::explore::Child>, error: io::Error) -> io::Error {
    if let Some(child) = child {
        crate::explore::spawn_failed(child);
    }
    error
}

/// Waits, when exploring, until the scheduler has seen the thread finish.
fn wait_for(thread: &Thread) {
    if let Some(info) = &thread.info {
        crate::explore::wait_join(info.tid);
    }
}

fn join_edge(final_clock: &Option<FinalClock>) {
    if let Some(clock) = final_clock {
        runtime::acquire(clock);
    }
}

/// Thread factory, as `std::thread::Builder`.
#[derive(Debug)]
pub struct Builder {
    inner: std::thread::Builder,
    name: Option<String>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// A builder with no name and the default stack size.
    pub fn new() -> Builder {
        Builder { inner: std::thread::Builder::new(), name: None }
    }

    /// Names the thread; reports show the name next to its id.
    pub fn name(self, name: String) -> Builder {
        Builder { inner: self.inner.name(name.clone()), name: Some(name) }
    }

    /// Sets the stack size.
    pub fn stack_size(self, size: usize) -> Builder {
        Builder { inner: self.inner.stack_size(size), name: self.name }
    }

    /// Spawns a thread; the caller's place becomes its creation site.
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        if !enabled() {
            let inner = self.inner.spawn(f)?;
            return Ok(JoinHandle::new(inner, None, None));
        }
        let (body, final_clock, info, child) = Fork::new(self.name, Location::caller(), None).wrap(None, f);
        let inner = crate::std_threads::bypass(|| self.inner.spawn(body)).map_err(|e| spawn_failed(child, e))?;
        Ok(JoinHandle::new(inner, Some(final_clock), Some(info)))
    }

    /// Spawns a scoped thread; the caller's place becomes its creation site.
    #[track_caller]
    pub fn spawn_scoped<'scope, 'env, F, T>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        f: F,
    ) -> io::Result<ScopedJoinHandle<'scope, T>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        if !enabled() {
            let inner = self.inner.spawn_scoped(&scope.inner, f)?;
            return Ok(ScopedJoinHandle::new(inner, None, None));
        }
        let scope_clock = scope_clock(scope.key());
        let (body, final_clock, info, child) =
            Fork::new(self.name, Location::caller(), Some(scope.key())).wrap(scope_clock, f);
        let inner = crate::std_threads::bypass(|| self.inner.spawn_scoped(&scope.inner, body))
            .map_err(|e| spawn_failed(child, e))?;
        Ok(ScopedJoinHandle::new(inner, Some(final_clock), Some(info)))
    }
}

/// Spawns a thread, as `std::thread::spawn`; the caller's place becomes its
/// creation site in reports.
///
/// ```
/// use racecheck::cell::RaceCell;
/// use racecheck::sync::Arc;
///
/// let data = Arc::new(RaceCell::new(0));
/// let writer = {
///     let data = data.clone();
///     racecheck::thread::spawn(move || data.set(1))
/// };
/// writer.join().unwrap(); // the join orders the write before the read
/// assert_eq!(data.get(), 1);
/// ```
#[track_caller]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new().spawn(f).unwrap_or_else(|e| panic!("failed to spawn thread: {e}"))
}

/// What a std join handle offers, for [`Handle`] to build both of ours on.
trait StdHandle {
    type Output;
    fn std_thread(&self) -> &std::thread::Thread;
    fn join(self) -> Result<Self::Output>;
}

impl<T> StdHandle for std::thread::JoinHandle<T> {
    type Output = T;
    fn std_thread(&self) -> &std::thread::Thread {
        self.thread()
    }
    fn join(self) -> Result<T> {
        self.join()
    }
}

impl<'scope, T> StdHandle for std::thread::ScopedJoinHandle<'scope, T> {
    type Output = T;
    fn std_thread(&self) -> &std::thread::Thread {
        self.thread()
    }
    fn join(self) -> Result<T> {
        self.join()
    }
}

/// A std join handle with what racecheck adds: the thread's racecheck
/// handle and the clock its end publishes, taken in by `join`. Shared by
/// [`JoinHandle`] and [`ScopedJoinHandle`].
struct Handle<H> {
    inner: H,
    thread: Thread,
    final_clock: Option<FinalClock>,
}

impl<H: StdHandle> Handle<H> {
    fn new(inner: H, final_clock: Option<FinalClock>, info: Option<Arc<ThreadInfo>>) -> Self {
        let thread = Thread { inner: inner.std_thread().clone(), info };
        Handle { inner, thread, final_clock }
    }

    fn join(self, at: &'static Location<'static>) -> Result<H::Output> {
        let Handle { inner, thread, final_clock } = self;
        let result = crate::deadlock::blocked_in("join", at, || {
            wait_for(&thread);
            inner.join()
        });
        join_edge(&final_clock);
        result
    }
}

/// An owned permission to join a thread, as `std::thread::JoinHandle`.
pub struct JoinHandle<T>(Handle<std::thread::JoinHandle<T>>);

impl<T> JoinHandle<T> {
    fn new(inner: std::thread::JoinHandle<T>, final_clock: Option<FinalClock>, info: Option<Arc<ThreadInfo>>) -> Self {
        JoinHandle(Handle::new(inner, final_clock, info))
    }

    /// Waits for the thread to finish; its whole life is then ordered
    /// before the caller's future.
    #[track_caller]
    pub fn join(self) -> Result<T> {
        self.0.join(Location::caller())
    }

    /// The thread's handle.
    pub fn thread(&self) -> &Thread {
        &self.0.thread
    }

    /// Whether the thread's body has returned. This is not a join: it
    /// orders nothing.
    pub fn is_finished(&self) -> bool {
        self.0.inner.is_finished()
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").finish_non_exhaustive()
    }
}

/// Clocks of the scopes now open, keyed by the address of their std scope.
/// Each scoped thread merges its final clock in when it ends; the scope's
/// owner acquires the sum after the implicit joins.
static SCOPES: Mutex<Option<HashMap<usize, FinalClock>>> = Mutex::new(None);

fn scope_clock(key: usize) -> Option<FinalClock> {
    let scopes = SCOPES.lock().unwrap_or_else(PoisonError::into_inner);
    scopes.as_ref().and_then(|m| m.get(&key).cloned())
}

/// A scope for spawning threads that borrow from the caller's stack, as
/// `std::thread::Scope`.
#[repr(transparent)]
pub struct Scope<'scope, 'env: 'scope> {
    inner: std::thread::Scope<'scope, 'env>,
    _invariant: PhantomData<&'scope mut &'scope ()>,
}

impl<'scope, 'env> Scope<'scope, 'env> {
    fn wrap(inner: &'scope std::thread::Scope<'scope, 'env>) -> &'scope Scope<'scope, 'env> {
        // SAFETY: `Scope` is `repr(transparent)` over the std scope (its
        // other field is a zero-sized marker), so both have the same layout
        // and the reference keeps the same lifetime and validity.
        unsafe { &*(inner as *const std::thread::Scope<'scope, 'env> as *const Scope<'scope, 'env>) }
    }

    fn key(&self) -> usize {
        &self.inner as *const std::thread::Scope<'scope, 'env> as usize
    }

    /// Spawns a scoped thread; the caller's place becomes its creation site.
    #[track_caller]
    pub fn spawn<F, T>(&'scope self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        Builder::new().spawn_scoped(self, f).unwrap_or_else(|e| panic!("failed to spawn thread: {e}"))
    }
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// Creates a scope for spawning scoped threads, as `std::thread::scope`.
/// Every thread spawned in it is joined before `scope` returns, and those
/// implicit joins are happens-before edges like explicit ones.
///
/// ```
/// use racecheck::cell::RaceCell;
///
/// let a = RaceCell::new(0);
/// let b = RaceCell::new(0);
/// racecheck::thread::scope(|s| {
///     s.spawn(|| a.set(1));
///     s.spawn(|| b.set(2));
/// });
/// assert_eq!(a.get() + b.get(), 3);
/// ```
#[track_caller]
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    if !enabled() {
        return std::thread::scope(|s| f(Scope::wrap(s)));
    }
    let at = std::panic::Location::caller();
    let clock: FinalClock = Arc::new(Mutex::new(VClock::new()));
    let mut registered = ScopeRegistration(None);
    let mut waiting = ScopeJoinWait(false);
    let result = std::thread::scope(|s| {
        let scope = Scope::wrap(s);
        let key = scope.key();
        SCOPES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert_with(HashMap::new)
            .insert(key, clock.clone());
        registered.0 = Some(key);
        let result = f(scope);
        // What follows is std's implicit join of every thread still running
        // in the scope: a wait the deadlock report should see.
        crate::deadlock::park("scope join", at);
        waiting.0 = true;
        crate::explore::wait_scope(key);
        result
    });
    drop(waiting);
    drop(registered);
    runtime::acquire(&clock);
    result
}

/// Ends the deadlock detector's view of a scope's implicit join once
/// `std::thread::scope` returns or unwinds.
struct ScopeJoinWait(bool);

impl Drop for ScopeJoinWait {
    fn drop(&mut self) {
        if self.0 {
            crate::deadlock::unpark();
        }
    }
}

/// Removes a scope's clock from `SCOPES` when the scope ends, also when it
/// ends by a panic.
struct ScopeRegistration(Option<usize>);

impl Drop for ScopeRegistration {
    fn drop(&mut self) {
        if let Some(key) = self.0 {
            let mut scopes = SCOPES.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(scopes) = scopes.as_mut() {
                scopes.remove(&key);
            }
        }
    }
}

/// An owned permission to join a scoped thread, as
/// `std::thread::ScopedJoinHandle`.
pub struct ScopedJoinHandle<'scope, T>(Handle<std::thread::ScopedJoinHandle<'scope, T>>);

impl<'scope, T> ScopedJoinHandle<'scope, T> {
    fn new(
        inner: std::thread::ScopedJoinHandle<'scope, T>,
        final_clock: Option<FinalClock>,
        info: Option<Arc<ThreadInfo>>,
    ) -> Self {
        ScopedJoinHandle(Handle::new(inner, final_clock, info))
    }

    /// Waits for the thread to finish; its whole life is then ordered
    /// before the caller's future.
    #[track_caller]
    pub fn join(self) -> Result<T> {
        self.0.join(Location::caller())
    }

    /// The thread's handle.
    pub fn thread(&self) -> &Thread {
        &self.0.thread
    }

    /// Whether the thread's body has returned (orders nothing).
    pub fn is_finished(&self) -> bool {
        self.0.inner.is_finished()
    }
}

impl<T> fmt::Debug for ScopedJoinHandle<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopedJoinHandle").finish_non_exhaustive()
    }
}
