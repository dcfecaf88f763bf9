//! An asymmetric store-load barrier: [`light`] on a path taken by every
//! operation, [`heavy`] on a path taken rarely, such that of two threads
//! that each store one location and then load the other (the Dekker
//! pattern), one with `light` between its two accesses and the other with
//! `heavy`, at least one sees the other's store.
//!
//! On Linux `heavy` is `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`: the
//! kernel runs a full memory barrier on every CPU that runs a thread of
//! this process, so a `light` that is only a compiler fence suffices (the
//! technique of userspace RCU and of folly's asymmetric barriers). Where
//! that call is not available (another OS, an old kernel, valgrind, loom),
//! both sides are a `SeqCst` fence, which is the plain Dekker argument.
//!
//! Which of the two is used is decided once per process, by [`init`],
//! before any thread can rely on it: every ring calls `init` when it is
//! made, before its handles exist.

#[cfg(all(target_os = "linux", not(loom)))]
mod imp {
    use std::sync::atomic::{compiler_fence, fence, AtomicU8, Ordering};

    const UNDECIDED: u8 = 0;
    const MEMBARRIER: u8 = 1;
    const FENCE: u8 = 2;

    static MODE: AtomicU8 = AtomicU8::new(UNDECIDED);

    // From <linux/membarrier.h>.
    const MEMBARRIER_CMD_QUERY: libc::c_int = 0;
    const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
    const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;

    fn membarrier(cmd: libc::c_int) -> libc::c_long {
        // SAFETY: membarrier takes two integer arguments and touches no
        // memory of ours; an unknown command or an old kernel returns -1.
        unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0 as libc::c_int) }
    }

    #[cold]
    #[inline(never)]
    fn decide() -> u8 {
        let supported = membarrier(MEMBARRIER_CMD_QUERY);
        let mode = if supported >= 0
            && supported & libc::c_long::from(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0
            && membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0
        {
            MEMBARRIER
        } else {
            FENCE
        };
        // Racing callers may both ask the kernel; the first answer stays.
        match MODE.compare_exchange(UNDECIDED, mode, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => mode,
            Err(decided) => decided,
        }
    }

    pub(crate) fn init() {
        if MODE.load(Ordering::Acquire) == UNDECIDED {
            decide();
        }
    }

    #[inline(always)]
    pub(crate) fn light() {
        // `init` ran before any caller could reach here (see the module
        // doc), and the mode never changes after.
        if MODE.load(Ordering::Relaxed) == MEMBARRIER {
            compiler_fence(Ordering::SeqCst);
        } else {
            fence(Ordering::SeqCst);
        }
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn heavy() {
        fence(Ordering::SeqCst);
        if MODE.load(Ordering::Relaxed) == MEMBARRIER {
            // It does not fail once the process is registered. Should the
            // registration have been lost (the kernel keeps it across fork
            // and drops it at exec, which starts a new program anyway),
            // register again; if even that fails the light side would be
            // unprotected, and that must not pass silently.
            let ok = membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0
                || (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0
                    && membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0);
            assert!(ok, "membarrier failed after registration");
        }
        fence(Ordering::SeqCst);
    }
}

#[cfg(not(all(target_os = "linux", not(loom))))]
mod imp {
    use crate::sync::atomic::{fence, Ordering};

    pub(crate) fn init() {}

    #[inline(always)]
    pub(crate) fn light() {
        fence(Ordering::SeqCst);
    }

    pub(crate) fn heavy() {
        fence(Ordering::SeqCst);
    }
}

/// Decides, once per process, which barriers to use. Call before any
/// thread may run [`light`] or [`heavy`] for a given object.
pub(crate) use imp::init;

/// The cheap side, between a store and a load on a hot path: a compiler
/// fence where [`heavy`] is a process-wide barrier, else a `SeqCst` fence.
pub(crate) use imp::light;

/// The expensive side, between a store and a load on a rare path.
pub(crate) use imp::heavy;

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// The Dekker pattern the ring relies on: one thread stores `x` and
    /// loads `y` across `light`, the other stores `y` and loads `x` across
    /// `heavy`; in no round may both loads miss the other's store.
    #[test]
    fn one_side_always_sees_the_other() {
        const ROUNDS: usize = 20_000;
        super::init();
        struct Shared {
            x: AtomicUsize,
            y: AtomicUsize,
            round: AtomicUsize,
            done: AtomicUsize,
            seen_by_light: AtomicUsize,
        }
        let s = Arc::new(Shared {
            x: AtomicUsize::new(0),
            y: AtomicUsize::new(0),
            round: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            seen_by_light: AtomicUsize::new(0),
        });
        let wait = |a: &AtomicUsize, v: usize| {
            // Spin, so that both sides run at once (a yield would let one
            // finish its round before the other starts); yield now and then
            // in case the two share a CPU.
            let mut spins = 0u32;
            while a.load(Ordering::Acquire) < v {
                spins += 1;
                if spins % 1024 == 0 {
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            }
        };
        let light = {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                for r in 1..=ROUNDS {
                    wait(&s.round, r);
                    s.x.store(r, Ordering::Relaxed);
                    super::light();
                    let seen = s.y.load(Ordering::Relaxed);
                    s.seen_by_light.store(seen, Ordering::Relaxed);
                    s.done.fetch_add(1, Ordering::AcqRel);
                }
            })
        };
        for r in 1..=ROUNDS {
            s.round.store(r, Ordering::Release);
            s.y.store(r, Ordering::Relaxed);
            super::heavy();
            let seen_by_heavy = s.x.load(Ordering::Relaxed);
            wait(&s.done, r);
            let seen_by_light = s.seen_by_light.load(Ordering::Relaxed);
            assert!(seen_by_heavy == r || seen_by_light == r, "round {r}: neither side saw the other's store");
        }
        light.join().unwrap();
    }
}
