//! The ring's one-CPU waiting protocol (one active waiter per side, the
//! active sender's offer; `docs/ring.md`), exercised through the public API
//! in a process restricted to one CPU, as `taskset -c N` would start it.
//!
//! The protocol follows the CPUs the process's waiting threads may use,
//! and a thread that waited once has recorded its own, so this test has no
//! libtest harness (`harness = false` in Cargo.toml): it pins itself
//! before any channel exists (every thread it spawns inherits the one
//! CPU), then runs the scenarios on the main thread. Correctness only (every message once, per-sender order,
//! errors returned); no timing.

use std::thread;
use std::time::Duration;

/// Restricts the process to the CPU it is running on. False where the
/// system refuses (the scenarios then run unpinned, which is still a test).
fn pin_to_one_cpu() -> bool {
    // SAFETY: sched_getcpu takes no arguments; a zeroed cpu_set_t is a
    // valid empty set; CPU_SET and sched_setaffinity only read and write
    // that local set.
    unsafe {
        let cpu = libc::sched_getcpu();
        if cpu < 0 {
            return false;
        }
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu as usize, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// `senders` threads send `per` numbered messages each to `receivers`
/// threads over a `bounded(cap)`; every message arrives once, and each
/// sender's messages in order.
fn many_to_many(senders: usize, receivers: usize, cap: usize, per: usize) {
    let (s, r) = chan::bounded::<(usize, usize)>(cap);
    let producers: Vec<_> = (0..senders)
        .map(|id| {
            let s = s.clone();
            thread::spawn(move || (0..per).for_each(|i| s.send((id, i)).unwrap()))
        })
        .collect();
    drop(s);
    let consumers: Vec<_> = (0..receivers)
        .map(|_| {
            let r = r.clone();
            thread::spawn(move || {
                let mut last = vec![None::<usize>; senders];
                let mut got = Vec::new();
                for (id, i) in r.iter() {
                    assert!(last[id].map_or(true, |l| l < i), "sender {id}: {i} after {:?}", last[id]);
                    last[id] = Some(i);
                    got.push((id, i));
                }
                got
            })
        })
        .collect();
    drop(r);
    producers.into_iter().for_each(|h| h.join().unwrap());
    let mut all: Vec<_> = consumers.into_iter().flat_map(|h| h.join().unwrap()).collect();
    all.sort_unstable();
    let expected: Vec<_> = (0..senders).flat_map(|id| (0..per).map(move |i| (id, i))).collect();
    assert_eq!(all, expected, "{senders}:{receivers} bounded({cap}): every message exactly once");
}

/// A sender blocked on a full ring (offering its message) while the only
/// receiver goes away: the sends that returned `Ok` are the messages
/// received plus at most the one left in the ring; a failed send returns
/// its message.
fn receiver_leaves_while_sender_waits() {
    for round in 0..200 {
        let (s, r) = chan::bounded::<usize>(1);
        let sender = thread::spawn(move || {
            let mut sent = 0;
            for i in 0.. {
                match s.send(i) {
                    Ok(()) => sent += 1,
                    Err(e) => {
                        assert_eq!(e.into_inner(), i, "the failed send returns its message");
                        return sent;
                    }
                }
            }
            unreachable!()
        });
        let mut received = 0;
        for _ in 0..round % 7 {
            r.recv().unwrap();
            received += 1;
        }
        drop(r);
        let sent = sender.join().unwrap();
        assert!(sent == received || sent == received + 1, "round {round}: sent {sent}, received {received}");
    }
}

/// Deadlines still end the wait of an active waiter and of a parked one.
fn timeouts() {
    let (s, r) = chan::bounded::<u32>(1);
    s.send(1).unwrap();
    let s2 = s.clone();
    let waiting = thread::spawn(move || s2.send_timeout(2, Duration::from_millis(20)));
    assert!(s.send_timeout(3, Duration::from_millis(20)).is_err());
    assert!(waiting.join().unwrap().is_err());
    assert_eq!(r.recv(), Ok(1));
    assert!(r.recv_timeout(Duration::from_millis(20)).is_err());
}

/// `Select::send` reservations beside plain senders (some of them active
/// waiters offering their message): every message arrives once.
fn selecting_and_plain_senders() {
    const PER: u64 = 3_000;
    let (s, r) = chan::bounded::<u64>(1);
    let selecting: Vec<_> = (0..2u64)
        .map(|id| {
            let s = s.clone();
            thread::spawn(move || {
                for i in 0..PER {
                    let mut sel = chan::Select::new();
                    sel.send(&s);
                    sel.select().send(&s, id * PER + i).unwrap();
                }
            })
        })
        .collect();
    let plain: Vec<_> = (2..4u64)
        .map(|id| {
            let s = s.clone();
            thread::spawn(move || (0..PER).for_each(|i| s.send(id * PER + i).unwrap()))
        })
        .collect();
    drop(s);
    let mut got: Vec<u64> = r.iter().collect();
    for t in selecting.into_iter().chain(plain) {
        t.join().unwrap();
    }
    got.sort_unstable();
    assert_eq!(got, (0..4 * PER).collect::<Vec<_>>());
}

fn main() {
    let pinned = pin_to_one_cpu();
    println!("one_cpu: pinned to one CPU: {pinned}");
    for (senders, receivers) in [(1, 1), (4, 1), (1, 4), (4, 4)] {
        for cap in [1, 2, 16] {
            many_to_many(senders, receivers, cap, 5_000);
        }
    }
    receiver_leaves_while_sender_waits();
    timeouts();
    selecting_and_plain_senders();
    println!("one_cpu: ok");
}
