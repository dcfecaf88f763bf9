//! std's own threads: their spawn and join as happens-before edges, with
//! no change to the program.
//!
//! On Linux with glibc (dynamically linked, the default), with the cargo
//! feature `std-threads` (on by default), racecheck defines `pthread_create`,
//! `pthread_join` and `pthread_detach` itself, as ThreadSanitizer's
//! interceptors do. A definition in the executable comes before the C
//! library's, so `std::thread` (and any other code in the process) calls
//! ours, and ours calls the C library's through `dlsym(RTLD_NEXT, ...)`:
//!
//! - `pthread_create` takes a snapshot of the parent's clock (the fork
//!   edge) and starts the thread through a trampoline that hands the
//!   snapshot to the child before its start routine runs;
//! - when the start routine returns, the trampoline releases the child's
//!   final clock into a clock kept for its `pthread_t`;
//! - `pthread_join` acquires that clock once the C library's join returns
//!   (the join edge), and `pthread_detach` forgets it.
//!
//! The child gets its detector state lazily, at its first hook, as any
//! thread racecheck did not spawn; its name is then std's. A thread that
//! never touches racecheck costs a clock copy and no thread slot: its final
//! clock is simply what it inherited.
//!
//! With detection off, each call is a pass-through after one relaxed load.
//! Threads spawned through `racecheck::thread` (and racecheck's own
//! watchdog) pass through untouched: they have their edges already.
//!
//! What this cannot see: the end of `std::thread::scope`, which does not
//! join its threads through `pthread_join` but waits for a counter that
//! each thread decrements before its start routine returns (an explicit
//! `join` of a scoped handle is seen); and std's other synchronization
//! (`Mutex`, `Condvar`, atomics, ...), which uses futexes and atomics
//! directly. Reports involving such threads say so (see `report.rs`).

use std::cell::Cell;

thread_local! {
    /// Set while a racecheck spawn calls into std, which brings it here.
    static BYPASS: Cell<bool> = const { Cell::new(false) };
}

/// Runs `spawn` (a std spawn made by racecheck itself) without the
/// interposition: the thread gets its edges from racecheck's own spawn.
pub(crate) fn bypass<R>(spawn: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            let _ = BYPASS.try_with(|b| b.set(self.0));
        }
    }
    let _reset = Reset(BYPASS.try_with(|b| b.replace(true)).unwrap_or(false));
    spawn()
}

/// Whether std's spawn and join are seen in this build.
pub(crate) const SEEN: bool =
    cfg!(all(feature = "std-threads", target_os = "linux", target_env = "gnu", not(target_feature = "crt-static")));

#[cfg(all(feature = "std-threads", target_os = "linux", target_env = "gnu", not(target_feature = "crt-static")))]
mod interpose {
    use std::cell::Cell;
    use std::collections::HashMap;
    use std::ffi::{c_char, c_int, c_void};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex, PoisonError};

    use libc::{pthread_attr_t, pthread_t};

    use super::BYPASS;
    use crate::clock::VClock;
    use crate::config::enabled;
    use crate::runtime;

    type StartRoutine = extern "C" fn(*mut c_void) -> *mut c_void;
    /// Our trampoline may let a forced unwind (`pthread_exit`,
    /// cancellation) through, so that its guard still runs; the C
    /// library's `pthread_create` takes it as any start routine (the two
    /// ABIs pass arguments alike).
    type Trampoline = extern "C-unwind" fn(*mut c_void) -> *mut c_void;
    type CreateFn = unsafe extern "C" fn(*mut pthread_t, *const pthread_attr_t, Trampoline, *mut c_void) -> c_int;
    type PassCreateFn = unsafe extern "C" fn(*mut pthread_t, *const pthread_attr_t, StartRoutine, *mut c_void) -> c_int;
    type JoinFn = unsafe extern "C" fn(pthread_t, *mut *mut c_void) -> c_int;
    type DetachFn = unsafe extern "C" fn(pthread_t) -> c_int;

    /// The C library's function called `name` (NUL-terminated), looked up
    /// once behind ours.
    fn real(cache: &AtomicUsize, name: &'static [u8]) -> usize {
        let mut f = cache.load(Ordering::Acquire);
        if f == 0 {
            // SAFETY: `name` is a NUL-terminated symbol name, and
            // RTLD_NEXT asks for the next definition after this object's,
            // the C library's.
            f = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr() as *const c_char) } as usize;
            if f == 0 {
                // Without the real function nothing can go on: say which.
                let _ = std::io::Write::write_all(
                    &mut std::io::stderr(),
                    b"racecheck: cannot find the C library's thread functions; aborting\n",
                );
                std::process::abort();
            }
            cache.store(f, Ordering::Release);
        }
        f
    }

    fn real_create() -> usize {
        static REAL: AtomicUsize = AtomicUsize::new(0);
        real(&REAL, b"pthread_create\0")
    }

    fn real_join() -> JoinFn {
        static REAL: AtomicUsize = AtomicUsize::new(0);
        let f = real(&REAL, b"pthread_join\0");
        // SAFETY: `f` is the C library's `pthread_join`, of this type.
        unsafe { std::mem::transmute::<usize, JoinFn>(f) }
    }

    fn real_detach() -> DetachFn {
        static REAL: AtomicUsize = AtomicUsize::new(0);
        let f = real(&REAL, b"pthread_detach\0");
        // SAFETY: `f` is the C library's `pthread_detach`, of this type.
        unsafe { std::mem::transmute::<usize, DetachFn>(f) }
    }

    /// The final clocks of threads started here, until joined or detached.
    static FINAL: Mutex<Option<HashMap<pthread_t, FinalClock>>> = Mutex::new(None);

    type FinalClock = Arc<Mutex<VClock>>;

    /// What the trampoline hands the child.
    struct Start {
        routine: StartRoutine,
        arg: *mut c_void,
        inherited: VClock,
        creation_stack: backtrace::Backtrace,
        final_clock: FinalClock,
    }

    /// `pthread_create`, as the C library's, with the fork edge.
    ///
    /// # Safety
    /// As the C library's: `thread` is writable, `attr` null or valid.
    #[no_mangle]
    pub unsafe extern "C" fn pthread_create(
        thread: *mut pthread_t,
        attr: *const pthread_attr_t,
        routine: StartRoutine,
        arg: *mut c_void,
    ) -> c_int {
        let real = real_create();
        if !enabled() || BYPASS.try_with(Cell::get).unwrap_or(true) {
            // SAFETY: the C library's `pthread_create`, with the caller's
            // arguments, which the caller vouched for.
            return unsafe { std::mem::transmute::<usize, PassCreateFn>(real)(thread, attr, routine, arg) };
        }
        let final_clock: FinalClock = Arc::new(Mutex::new(VClock::new()));
        let start = Box::new(Start {
            routine,
            arg,
            inherited: runtime::fork_clock_if_started(),
            // Unresolved: symbols are looked up only if a report shows it.
            creation_stack: backtrace::Backtrace::new_unresolved(),
            final_clock: final_clock.clone(),
        });
        let start = Box::into_raw(start);
        // SAFETY: the C library's `pthread_create`; `trampoline` takes the
        // box it is given back exactly once, and `attr`/`thread` are the
        // caller's, which the caller vouched for.
        let rc =
            unsafe { std::mem::transmute::<usize, CreateFn>(real)(thread, attr, trampoline, start as *mut c_void) };
        if rc != 0 {
            // SAFETY: no thread was started, so the box is still ours.
            drop(unsafe { Box::from_raw(start) });
            return rc;
        }
        // SAFETY: on success the C library wrote the new thread's id.
        let id = unsafe { *thread };
        finals().get_or_insert_with(HashMap::new).insert(id, final_clock);
        rc
    }

    fn finals() -> std::sync::MutexGuard<'static, Option<HashMap<pthread_t, FinalClock>>> {
        // Single inserts and removals: consistent even after a panic.
        FINAL.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Ends a std thread's view in the detector however its start routine
    /// ends: returning, or a forced unwind.
    struct Finish(FinalClock);

    impl Drop for Finish {
        fn drop(&mut self) {
            runtime::finish_std_thread(&self.0);
        }
    }

    extern "C-unwind" fn trampoline(start: *mut c_void) -> *mut c_void {
        // SAFETY: `pthread_create` passed a box made for this thread, and
        // this is its only use.
        let start = unsafe { Box::from_raw(start as *mut Start) };
        let Start { routine, arg, inherited, creation_stack, final_clock } = *start;
        runtime::begin_std_thread(inherited, creation_stack);
        let _finish = Finish(final_clock);
        routine(arg)
    }

    /// `pthread_join`, as the C library's, with the join edge.
    ///
    /// # Safety
    /// As the C library's.
    #[no_mangle]
    pub unsafe extern "C" fn pthread_join(thread: pthread_t, retval: *mut *mut c_void) -> c_int {
        // SAFETY: the C library's, with the caller's arguments.
        let rc = unsafe { real_join()(thread, retval) };
        if rc == 0 {
            let final_clock = finals().as_mut().and_then(|m| m.remove(&thread));
            if let Some(final_clock) = final_clock {
                runtime::acquire_if_known(&final_clock);
            }
        }
        rc
    }

    /// `pthread_detach`, as the C library's: nobody will join the thread,
    /// so its final clock is dropped.
    ///
    /// # Safety
    /// As the C library's.
    #[no_mangle]
    pub unsafe extern "C" fn pthread_detach(thread: pthread_t) -> c_int {
        // SAFETY: the C library's, with the caller's argument.
        let rc = unsafe { real_detach()(thread) };
        if rc == 0 {
            let _ = finals().as_mut().and_then(|m| m.remove(&thread));
        }
        rc
    }
}
