//! Each wrapper's off path, one operation a million times, for counting
//! instructions with callgrind: unlike times, the counts repeat exactly
//! on a shared, loaded machine, so two builds can be compared op by op.
//!
//! ```text
//! cargo bench -p racecheck --bench instructions --no-run
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/deps/instructions-<hash> mutex
//! ```
//!
//! The argument names the operation (`mutex`, `rwlock`, `cell`, `atomic`,
//! `fetch_add`, `unsafecell`, `arc`; none: only start-up, to subtract).
//! `cargo bench` runs them all once and prints the time of each.
//! `docs/racecheck.md` records the counts against the previous build.

use std::hint::black_box;
use std::time::Instant;

use racecheck::sync::atomic::{AtomicU64, Ordering};

const N: u64 = 1_000_000;

fn run(op: &str) -> bool {
    match op {
        "mutex" => {
            let m = racecheck::sync::Mutex::new(0u64);
            for _ in 0..N {
                *black_box(&m).lock().unwrap() += 1;
            }
        }
        "rwlock" => {
            let m = racecheck::sync::RwLock::new(0u64);
            for _ in 0..N {
                black_box(*black_box(&m).read().unwrap());
            }
        }
        "cell" => {
            let c = racecheck::cell::RaceCell::new(0u64);
            for _ in 0..N {
                let c = black_box(&c);
                c.set(c.get() + 1);
            }
        }
        "atomic" => {
            let a = AtomicU64::new(0);
            for _ in 0..N {
                let a = black_box(&a);
                a.store(1, Ordering::Release);
                black_box(a.load(Ordering::Acquire));
            }
        }
        "fetch_add" => {
            let a = AtomicU64::new(0);
            for _ in 0..N {
                black_box(black_box(&a).fetch_add(1, Ordering::Relaxed));
            }
        }
        "unsafecell" => {
            let c = racecheck::cell::UnsafeCell::new(0u64);
            for _ in 0..N {
                let c = black_box(&c);
                // SAFETY: one thread, and no reference to the contents
                // outlives its closure.
                let v = c.with(|p| unsafe { *p });
                // SAFETY: as above.
                c.with_mut(|p| unsafe { *p = v + 1 });
            }
        }
        "arc" => {
            let a = racecheck::sync::Arc::new(5u64);
            for _ in 0..N {
                black_box(black_box(&a).clone());
            }
        }
        _ => return false,
    }
    true
}

fn main() {
    let ops = ["mutex", "rwlock", "cell", "atomic", "fetch_add", "unsafecell", "arc"];
    match std::env::args().skip(1).find(|a| !a.starts_with("--")) {
        Some(op) if !run(&op) => {
            eprintln!("unknown operation `{op}`; one of {ops:?}");
            std::process::exit(2);
        }
        Some(_) => {}
        None if std::env::args().any(|a| a == "--bench") => {
            for op in ops {
                let start = Instant::now();
                run(op);
                println!("{op}: {:.2} ns per operation", start.elapsed().as_nanos() as f64 / N as f64);
            }
        }
        None => {}
    }
}
