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
            // It cannot fail once registered; if it somehow did, the light
            // side would be unprotected, and that must not pass silently.
            assert_eq!(membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), 0, "membarrier failed after registration");
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
