// The stress suite, shared by every flavor: the including file defines a
// module `flavor` exposing `bounded` and `unbounded`.
//
// Every capacity (0, 1, 2, 16, 1024, unbounded) under 1:1, 4:1, 1:4 and
// 4:4 producers:consumers. Each message is (producer, sequence number); a
// shared bitmap catches duplicates, per-consumer checks catch reordering
// within a producer, and the final count catches loss. Release builds send
// at least 1,000,000 messages per configuration; debug builds fewer.

use std::sync::atomic::{AtomicU8, Ordering};
use std::thread;

const MESSAGES: usize = if cfg!(debug_assertions) { 100_000 } else { 1_000_000 };

fn run(cap: Option<usize>, producers: usize, consumers: usize) {
    let (s, r) = match cap {
        Some(n) => flavor::bounded::<u64>(n),
        None => flavor::unbounded::<u64>(),
    };
    let per_producer = MESSAGES.div_ceil(producers);
    let seen: Vec<AtomicU8> = (0..per_producer * producers).map(|_| AtomicU8::new(0)).collect();
    let received = thread::scope(|scope| {
        for p in 0..producers {
            let s = s.clone();
            scope.spawn(move || {
                for i in 0..per_producer {
                    s.send(((p as u64) << 32) | i as u64).unwrap();
                }
            });
        }
        drop(s);
        let handles: Vec<_> = (0..consumers)
            .map(|_| {
                let r = r.clone();
                let seen = &seen;
                scope.spawn(move || {
                    let mut last = vec![-1i64; producers];
                    let mut count = 0usize;
                    for msg in r.iter() {
                        let p = (msg >> 32) as usize;
                        let i = (msg & 0xffff_ffff) as usize;
                        assert!(p < producers && i < per_producer, "message {msg:#x} was never sent");
                        assert!(i as i64 > last[p], "producer {p}: {i} after {} (cap {cap:?})", last[p]);
                        last[p] = i as i64;
                        let prev = seen[p * per_producer + i].fetch_add(1, Ordering::Relaxed);
                        assert_eq!(prev, 0, "message {p}/{i} received twice (cap {cap:?})");
                        count += 1;
                    }
                    count
                })
            })
            .collect();
        drop(r);
        handles.into_iter().map(|h| h.join().unwrap()).sum::<usize>()
    });
    assert_eq!(received, per_producer * producers, "messages lost (cap {cap:?}, {producers}:{consumers})");
    assert!(seen.iter().all(|b| b.load(Ordering::Relaxed) == 1));
}

macro_rules! stress_tests {
    ($($name:ident: $cap:expr;)*) => {
        $(
            mod $name {
                #[test]
                fn one_to_one() {
                    super::run($cap, 1, 1);
                }
                #[test]
                fn four_to_one() {
                    super::run($cap, 4, 1);
                }
                #[test]
                fn one_to_four() {
                    super::run($cap, 1, 4);
                }
                #[test]
                fn four_to_four() {
                    super::run($cap, 4, 4);
                }
            }
        )*
    };
}

stress_tests! {
    cap_0: Some(0);
    cap_1: Some(1);
    cap_2: Some(2);
    cap_16: Some(16);
    cap_1024: Some(1024);
    unbounded: None;
}
