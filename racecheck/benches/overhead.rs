//! What the wrappers cost: with detection off against the std types (the
//! target is within 5%), and with detection on per instrumented operation.
//!
//! ```text
//! cargo bench -p racecheck --bench overhead               # off vs std
//! RACECHECK=1 cargo bench -p racecheck --bench overhead   # on
//! ```
//!
//! Each group names the mode it ran in (`off` or `on`), so both runs can be
//! kept side by side; `docs/racecheck.md` records the figures.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};

fn mode() -> &'static str {
    if racecheck::enabled() {
        "on"
    } else {
        "off"
    }
}

fn mutex(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("mutex_lock_unlock/{}", mode()));
    let std_lock = std::sync::Mutex::new(0u64);
    let rc_lock = racecheck::sync::Mutex::new(0u64);
    group.bench_function("std", |b| b.iter(|| *black_box(&std_lock).lock().unwrap() += 1));
    group.bench_function("racecheck", |b| b.iter(|| *black_box(&rc_lock).lock().unwrap() += 1));
    group.finish();
}

fn rwlock(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("rwlock_read/{}", mode()));
    let std_lock = std::sync::RwLock::new(1u64);
    let rc_lock = racecheck::sync::RwLock::new(1u64);
    group.bench_function("std", |b| b.iter(|| *black_box(&std_lock).read().unwrap()));
    group.bench_function("racecheck", |b| b.iter(|| *black_box(&rc_lock).read().unwrap()));
    group.finish();
}

fn atomics(c: &mut Criterion) {
    use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
    let mut group = c.benchmark_group(format!("atomic/{}", mode()));
    let std_atomic = std::sync::atomic::AtomicU64::new(0);
    let rc_atomic = racecheck::sync::atomic::AtomicU64::new(0);
    group.bench_function("std_fetch_add_relaxed", |b| b.iter(|| black_box(&std_atomic).fetch_add(1, Relaxed)));
    group.bench_function("racecheck_fetch_add_relaxed", |b| b.iter(|| black_box(&rc_atomic).fetch_add(1, Relaxed)));
    group.bench_function("std_store_release_load_acquire", |b| {
        b.iter(|| {
            let a = black_box(&std_atomic);
            a.store(1, Release);
            a.load(Acquire)
        })
    });
    group.bench_function("racecheck_store_release_load_acquire", |b| {
        b.iter(|| {
            let a = black_box(&rc_atomic);
            a.store(1, racecheck::sync::atomic::Ordering::Release);
            a.load(racecheck::sync::atomic::Ordering::Acquire)
        })
    });
    group.finish();
}

fn arc(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("arc_clone_drop/{}", mode()));
    let std_arc = std::sync::Arc::new(5u64);
    let rc_arc = racecheck::sync::Arc::new(5u64);
    group.bench_function("std", |b| b.iter(|| black_box(std_arc.clone())));
    group.bench_function("racecheck", |b| b.iter(|| black_box(rc_arc.clone())));
    group.finish();
}

fn cells(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("cell_access/{}", mode()));
    // RaceCell has no std twin; a Mutex around the value is the nearest.
    let std_mutex = std::sync::Mutex::new(0u64);
    let race_cell = racecheck::cell::RaceCell::new(0u64);
    let unsafe_cell = racecheck::cell::UnsafeCell::new(0u64);
    let std_unsafe = std::cell::UnsafeCell::new(0u64);
    group.bench_function("std_mutex_get_set", |b| {
        b.iter(|| {
            let mut v = black_box(&std_mutex).lock().unwrap();
            *v += 1;
        })
    });
    group.bench_function("racecell_get_set", |b| {
        b.iter(|| {
            let cell = black_box(&race_cell);
            cell.set(cell.get() + 1);
        })
    });
    group.bench_function("std_unsafecell_read_write", |b| {
        b.iter(|| {
            let cell = black_box(&std_unsafe);
            // SAFETY: single-threaded benchmark, no other reference exists.
            unsafe { *cell.get() += 1 }
        })
    });
    group.bench_function("racecheck_unsafecell_read_write", |b| {
        b.iter(|| {
            let cell = black_box(&unsafe_cell);
            // SAFETY: single-threaded benchmark, no other reference exists.
            let v = cell.with(|p| unsafe { *p });
            // SAFETY: as above.
            cell.with_mut(|p| unsafe { *p = v + 1 });
        })
    });
    group.finish();
}

criterion_group!(benches, mutex, rwlock, atomics, arc, cells);
criterion_main!(benches);
