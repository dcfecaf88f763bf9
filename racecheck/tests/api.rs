//! The wrappers behave as their std counterparts do: values, poisoning,
//! timeouts, leaders, counts. These run in-process with whatever
//! `RACECHECK` the test run has; none of them races.

use std::time::Duration;

use racecheck::cell::{RaceCell, UnsafeCell};
use racecheck::sync::atomic::{AtomicBool, AtomicI32, AtomicIsize, AtomicPtr, Ordering};
use racecheck::sync::{Arc, Barrier, Condvar, Mutex, Once, OnceLock, RwLock, TryLockError, WaitGroup};
use racecheck::thread;

#[test]
fn mutex_poisons_like_std() {
    let lock = Arc::new(Mutex::new(1));
    let lock2 = lock.clone();
    let _ = thread::spawn(move || {
        let _g = lock2.lock().unwrap();
        panic!("poison it");
    })
    .join();
    assert!(lock.is_poisoned());
    let guard = lock.lock().unwrap_err().into_inner();
    assert_eq!(*guard, 1);
    drop(guard);
    let mut lock = Arc::try_unwrap(lock).unwrap();
    assert_eq!(*lock.get_mut().unwrap_err().into_inner(), 1);
}

#[test]
fn try_lock_would_block_while_held() {
    let lock = Mutex::new(0);
    let held = lock.lock().unwrap();
    assert!(matches!(lock.try_lock(), Err(TryLockError::WouldBlock)));
    drop(held);
    *lock.try_lock().unwrap() += 2;
    assert_eq!(lock.into_inner().unwrap(), 2);
}

#[test]
fn rwlock_shares_reads_and_excludes_writes() {
    let lock = RwLock::new(vec![1]);
    let a = lock.read().unwrap();
    let b = lock.try_read().unwrap();
    assert!(matches!(lock.try_write(), Err(TryLockError::WouldBlock)));
    assert_eq!(a.len() + b.len(), 2);
    drop((a, b));
    lock.try_write().unwrap().push(2);
    assert_eq!(lock.into_inner().unwrap(), vec![1, 2]);
}

#[test]
fn condvar_timeouts_report_like_std() {
    let lock = Mutex::new(false);
    let cv = Condvar::new();
    let (guard, result) = cv.wait_timeout(lock.lock().unwrap(), Duration::from_millis(5)).unwrap();
    assert!(result.timed_out());
    let (guard, result) = cv.wait_timeout_while(guard, Duration::from_millis(5), |ready| !*ready).unwrap();
    assert!(result.timed_out());
    drop(guard);
    *lock.lock().unwrap() = true;
    let (guard, result) = cv.wait_timeout_while(lock.lock().unwrap(), Duration::from_secs(5), |ready| !*ready).unwrap();
    assert!(!result.timed_out());
    assert!(*guard);
}

#[test]
fn condvar_notify_all_wakes_every_waiter() {
    let state = Arc::new((Mutex::new(0u32), Condvar::new()));
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let state = state.clone();
            thread::spawn(move || {
                let guard = state.0.lock().unwrap();
                let _guard = state.1.wait_while(guard, |go| *go == 0).unwrap();
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(20));
    *state.0.lock().unwrap() = 1;
    state.1.notify_all();
    for w in waiters {
        w.join().unwrap();
    }
}

#[test]
fn barrier_has_one_leader_per_generation() {
    let barrier = Arc::new(Barrier::new(3));
    let leaders: usize = (0..3)
        .map(|_| {
            let barrier = barrier.clone();
            thread::spawn(move || (0..4).filter(|_| barrier.wait().is_leader()).count())
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .sum();
    assert_eq!(leaders, 4);
    assert!(Barrier::new(1).wait().is_leader());
}

#[test]
fn once_runs_once_and_force_recovers_from_a_panic() {
    let once = Once::new();
    let calls = RaceCell::new(0);
    once.call_once(|| calls.set(calls.get() + 1));
    once.call_once(|| calls.set(calls.get() + 1));
    assert_eq!(calls.get(), 1);
    assert!(once.is_completed());

    let poisoned = Once::new();
    let _ = std::panic::catch_unwind(|| poisoned.call_once(|| panic!("first try fails")));
    assert!(!poisoned.is_completed());
    poisoned.call_once_force(|state| assert!(state.is_poisoned()));
    assert!(poisoned.is_completed());
}

#[test]
fn once_lock_sets_once() {
    let mut cell = OnceLock::new();
    assert_eq!(cell.get(), None);
    assert_eq!(cell.set(1), Ok(()));
    assert_eq!(cell.set(2), Err(2));
    assert_eq!(*cell.get_or_init(|| 3), 1);
    *cell.get_mut().unwrap() += 10;
    assert_eq!(cell.take(), Some(11));
    assert_eq!(OnceLock::from(5).into_inner(), Some(5));
}

#[test]
fn wait_group_waits_for_every_clone() {
    let wg = WaitGroup::new();
    let done = Arc::new(racecheck::sync::atomic::AtomicUsize::new(0));
    for _ in 0..4 {
        let (wg, done) = (wg.clone(), done.clone());
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(5));
            done.fetch_add(1, Ordering::Release);
            drop(wg);
        });
    }
    assert!(format!("{wg:?}").contains("count"));
    wg.wait();
    assert_eq!(done.load(Ordering::Acquire), 4);
}

#[test]
fn arc_counts_unwraps_and_clones_on_write() {
    let a = Arc::new(String::from("x"));
    let b = a.clone();
    assert_eq!(Arc::strong_count(&a), 2);
    assert!(Arc::ptr_eq(&a, &b));
    let a = Arc::try_unwrap(a).unwrap_err();
    drop(b);
    let mut a = a;
    Arc::make_mut(&mut a).push('y');
    let mut c = a.clone();
    Arc::make_mut(&mut c).push('z'); // shared: clones first
    assert_eq!((a.as_str(), c.as_str()), ("xy", "xyz"));
    let weak = Arc::downgrade(&a);
    assert_eq!((Arc::weak_count(&a), weak.strong_count()), (1, 1));
    assert_eq!(weak.upgrade().as_deref().map(String::as_str), Some("xy"));
    assert_eq!(Arc::into_inner(a), Some("xy".to_owned()));
    assert!(weak.upgrade().is_none());
    assert!(racecheck::sync::Weak::<u8>::new().upgrade().is_none());
}

#[test]
fn atomics_compute_like_std() {
    let a = AtomicI32::new(5);
    assert_eq!(a.fetch_add(3, Ordering::SeqCst), 5);
    assert_eq!(a.fetch_sub(1, Ordering::AcqRel), 8);
    assert_eq!(a.fetch_max(10, Ordering::Relaxed), 7);
    assert_eq!(a.fetch_min(-1, Ordering::Relaxed), 10);
    assert_eq!(a.swap(4, Ordering::Relaxed), -1);
    assert_eq!(a.compare_exchange(4, 6, Ordering::AcqRel, Ordering::Acquire), Ok(4));
    assert_eq!(a.compare_exchange(4, 7, Ordering::AcqRel, Ordering::Acquire), Err(6));
    assert_eq!(a.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| Some(v * 2)), Ok(6));
    assert_eq!(a.load(Ordering::Relaxed), 12);
    let b = AtomicBool::new(true);
    assert!(b.fetch_and(false, Ordering::Relaxed));
    assert!(!b.fetch_or(true, Ordering::Relaxed));
    assert!(b.fetch_xor(true, Ordering::Relaxed));
    assert!(!b.into_inner());
    let small = racecheck::sync::atomic::AtomicU8::new(250);
    assert_eq!(small.fetch_add(10, Ordering::Relaxed), 250);
    assert_eq!(small.load(Ordering::Relaxed), 4);
    let mut n = AtomicIsize::new(-3);
    *n.get_mut() += 1;
    assert_eq!(n.into_inner(), -2);
    let mut x = 1;
    let p = AtomicPtr::new(&mut x as *mut i32);
    assert_eq!(p.load(Ordering::Acquire), &mut x as *mut i32);
    assert!(AtomicPtr::<u8>::default().load(Ordering::Relaxed).is_null());
}

#[test]
fn cells_hold_values() {
    let mut cell = RaceCell::new(vec![1, 2]);
    cell.with_mut(|v| v.push(3));
    assert_eq!(cell.with(|v| v.len()), 3);
    cell.get_mut().push(4);
    assert_eq!(format!("{cell:?}"), "RaceCell([1, 2, 3, 4])");
    assert_eq!(cell.into_inner(), vec![1, 2, 3, 4]);

    let mut raw = UnsafeCell::new(1);
    *raw.get_mut() += 1;
    // SAFETY: no other reference to the contents exists.
    assert_eq!(raw.with(|p| unsafe { *p }), 2);
    assert_eq!(raw.into_inner(), 2);
}

#[test]
fn threads_have_names_and_handles() {
    let h = thread::Builder::new()
        .name("named".to_owned())
        .stack_size(256 * 1024)
        .spawn(|| thread::current().name().map(str::to_owned))
        .unwrap();
    assert_eq!(h.thread().name(), Some("named"));
    assert_eq!(h.join().unwrap().as_deref(), Some("named"));
    let value = thread::scope(|s| {
        let h = thread::Builder::new().name("scoped".to_owned()).spawn_scoped(s, || 7).unwrap();
        assert_eq!(h.thread().name(), Some("scoped"));
        h.join().unwrap()
    });
    assert_eq!(value, 7);
    let panicked = thread::spawn(|| panic!("boom")).join();
    assert!(panicked.is_err());
}

#[test]
fn wrappers_stay_small() {
    use std::mem::size_of;
    // An unused clock is one null pointer.
    assert_eq!(size_of::<racecheck::annotate::SyncClock>(), size_of::<usize>());
    assert_eq!(size_of::<racecheck::sync::atomic::AtomicU64>(), size_of::<u64>() + size_of::<usize>());
    assert_eq!(size_of::<racecheck::sync::Mutex<u64>>(), size_of::<std::sync::Mutex<u64>>() + size_of::<usize>());
}

#[test]
fn mpsc_behaves_like_std() {
    use racecheck::sync::mpsc::{self, RecvTimeoutError, TryRecvError, TrySendError};
    let (tx, rx) = mpsc::sync_channel(1);
    tx.try_send(1).unwrap();
    assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1]);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx.recv_timeout(Duration::from_millis(5)), Err(RecvTimeoutError::Timeout));
    drop(rx);
    assert_eq!(tx.send(3).unwrap_err().0, 3);

    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    tx.send("a").unwrap();
    tx2.send("b").unwrap();
    drop((tx, tx2));
    assert_eq!(rx.into_iter().collect::<Vec<_>>(), ["a", "b"]);
}
