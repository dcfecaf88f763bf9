//! The paths that make `chan::hchan` Go's channel rather than just another
//! channel: direct hand-off to a parked receiver, a receiver on a full
//! buffer pulling the first parked sender's value in, `closechan` waking
//! everybody, and waiters that time out without losing or duplicating a
//! value.
//!
//! `chan::hchan::probe` reads the channel's `qcount`, queue lengths and a
//! count of values ever written into the buffer, under its lock (checking
//! its invariants on the way); the tests poll it to know that a thread is
//! parked instead of sleeping and hoping.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use chan::hchan::{self, Probe};
use chan::{RecvError, RecvTimeoutError, SendError, SendTimeoutError, Sender, TryRecvError};

fn probe<T>(s: &Sender<T>) -> Probe {
    hchan::probe(s).expect("an hchan channel")
}

/// Waits until the channel's state satisfies `ready`.
fn wait_for<T>(s: &Sender<T>, what: &str, ready: impl Fn(Probe) -> bool) {
    let start = Instant::now();
    while !ready(probe(s)) {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out waiting for {what}: {:?}", probe(s));
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn probe_is_only_for_hchan() {
    let (s, _r) = chan::bounded::<i32>(1);
    assert_eq!(hchan::probe(&s), None);
}

#[test]
fn send_to_a_parked_receiver_skips_the_buffer() {
    for cap in [Some(1), Some(4), None] {
        let (s, r) = match cap {
            Some(n) => hchan::bounded(n),
            None => hchan::unbounded(),
        };
        let h = thread::spawn(move || {
            let v = r.recv();
            (v, r)
        });
        wait_for(&s, "a parked receiver", |p| p.recvq == 1);
        s.send(42).unwrap();
        // The value went into the receiver's slot: the buffer was never
        // written, and nobody is queued any more.
        assert_eq!(probe(&s), Probe { qcount: 0, recvq: 0, sendq: 0, buffered: 0 }, "cap {cap:?}");
        let (got, r) = h.join().unwrap();
        assert_eq!(got, Ok(42));
        // With no receiver parked, the same send does go through the buffer.
        s.send(43).unwrap();
        assert_eq!(probe(&s), Probe { qcount: 1, recvq: 0, sendq: 0, buffered: 1 });
        assert_eq!(r.recv(), Ok(43));
    }
}

#[test]
fn try_send_to_a_parked_receiver_skips_the_buffer() {
    // On a full-capacity-1 channel with a parked receiver, two non-blocking
    // sends both succeed: the first one is handed over, so the buffer is
    // still free for the second.
    let (s, r) = hchan::bounded(1);
    let r2 = r.clone();
    let h = thread::spawn(move || r2.recv());
    wait_for(&s, "a parked receiver", |p| p.recvq == 1);
    assert_eq!(s.try_send(1), Ok(()));
    assert_eq!(s.try_send(2), Ok(()));
    assert_eq!(probe(&s), Probe { qcount: 1, recvq: 0, sendq: 0, buffered: 1 });
    assert_eq!(h.join().unwrap(), Ok(1));
    assert_eq!(r.recv(), Ok(2));
}

#[test]
fn receive_from_a_full_buffer_takes_the_first_parked_senders_value() {
    let (s, r) = hchan::bounded(2);
    s.send(1).unwrap();
    s.send(2).unwrap();
    let first = {
        let s = s.clone();
        thread::spawn(move || s.send(3))
    };
    wait_for(&s, "the first parked sender", |p| p.sendq == 1);
    let second = {
        let s = s.clone();
        thread::spawn(move || s.send(4))
    };
    wait_for(&s, "the second parked sender", |p| p.sendq == 2);

    assert_eq!(r.recv(), Ok(1));
    // In the same critical section the first sender's value moved into the
    // freed slot: the buffer is full again and only the second still waits.
    assert_eq!(probe(&s), Probe { qcount: 2, recvq: 0, sendq: 1, buffered: 3 });
    assert_eq!(first.join().unwrap(), Ok(()));
    assert!(!second.is_finished());

    assert_eq!(r.recv(), Ok(2));
    assert_eq!(probe(&s), Probe { qcount: 2, recvq: 0, sendq: 0, buffered: 4 });
    assert_eq!(second.join().unwrap(), Ok(()));
    assert_eq!(r.try_iter().collect::<Vec<_>>(), [3, 4]);
}

#[test]
fn unbuffered_receive_takes_straight_from_the_parked_sender() {
    let (s, r) = hchan::bounded(0);
    let h = {
        let s = s.clone();
        thread::spawn(move || s.send(String::from("direct")))
    };
    wait_for(&s, "a parked sender", |p| p.sendq == 1);
    assert_eq!(r.try_recv(), Ok(String::from("direct")));
    assert_eq!(h.join().unwrap(), Ok(()));
    assert_eq!(probe(&s), Probe { qcount: 0, recvq: 0, sendq: 0, buffered: 0 });
}

#[test]
fn close_wakes_every_parked_sender_with_its_value() {
    for cap in [0, 2] {
        let (s, r) = hchan::bounded(cap);
        for i in 0..cap {
            s.send(i).unwrap();
        }
        let handles: Vec<_> = (0..3)
            .map(|k| {
                let s = s.clone();
                thread::spawn(move || s.send(100 + k))
            })
            .collect();
        wait_for(&s, "three parked senders", |p| p.sendq == 3);
        assert!(s.close());
        assert_eq!(probe(&s).sendq, 0, "closechan empties sendq");
        let mut back: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap().unwrap_err().into_inner()).collect();
        back.sort();
        assert_eq!(back, [100, 101, 102], "cap {cap}");
        // What was buffered before the close is still delivered, then the
        // channel reports closed.
        assert_eq!(r.iter().collect::<Vec<_>>(), (0..cap).collect::<Vec<_>>());
        assert_eq!(r.try_recv(), Err(TryRecvError::Disconnected));
    }
}

#[test]
fn close_wakes_every_parked_receiver() {
    for cap in [Some(0), Some(2), None] {
        let (s, r) = match cap {
            Some(n) => hchan::bounded::<u8>(n),
            None => hchan::unbounded(),
        };
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let r = r.clone();
                thread::spawn(move || r.recv())
            })
            .collect();
        wait_for(&s, "three parked receivers", |p| p.recvq == 3);
        assert!(s.close());
        assert_eq!(probe(&s).recvq, 0, "closechan empties recvq");
        for h in handles {
            assert_eq!(h.join().unwrap(), Err(RecvError), "cap {cap:?}");
        }
        assert_eq!(s.send(1), Err(SendError(1)));
    }
}

#[test]
fn a_timed_out_waiter_unlinks_itself() {
    for cap in [0, 1] {
        let (s, r) = hchan::bounded(cap);
        for i in 0..cap {
            s.send(i).unwrap();
        }
        assert_eq!(s.send_timeout(9, Duration::from_millis(5)), Err(SendTimeoutError::Timeout(9)));
        assert_eq!(probe(&s).sendq, 0, "cap {cap}");
        while r.try_recv().is_ok() {}
        assert_eq!(r.recv_timeout(Duration::from_millis(5)), Err(RecvTimeoutError::Timeout));
        assert_eq!(probe(&s).recvq, 0, "cap {cap}");
        // The channel still works both ways afterwards.
        let h = thread::spawn(move || r.recv());
        s.send(7).unwrap();
        assert_eq!(h.join().unwrap(), Ok(7));
    }
}

#[test]
fn unbounded_ring_grows_in_queue_order() {
    let (s, r) = hchan::unbounded();
    // Leave the ring wrapped (recvx > 0) when it has to grow, repeatedly.
    let mut next_in = 0;
    let mut next_out = 0;
    for round in 1..8 {
        for _ in 0..round * 5 {
            s.send(next_in).unwrap();
            next_in += 1;
        }
        for _ in 0..round * 3 {
            assert_eq!(r.recv(), Ok(next_out));
            next_out += 1;
        }
        assert_eq!(r.len(), next_in - next_out);
    }
    s.close();
    assert_eq!(r.iter().collect::<Vec<_>>(), (next_out..next_in).collect::<Vec<_>>());
}

/// Senders and receivers that all give up after a few microseconds, racing
/// peers that complete them: every value must end up exactly once either
/// received or handed back in a `Timeout` error.
#[test]
fn timeouts_never_lose_or_duplicate_a_value() {
    for cap in [Some(0), Some(1), Some(4), None] {
        let (s, r) = match cap {
            Some(n) => hchan::bounded::<usize>(n),
            None => hchan::unbounded(),
        };
        let per_sender = 2_000;
        let returned = Arc::new(Mutex::new(Vec::new()));
        let senders: Vec<_> = (0..3)
            .map(|id| {
                let s = s.clone();
                let returned = returned.clone();
                thread::spawn(move || {
                    for i in 0..per_sender {
                        let v = id * per_sender + i;
                        let wait = Duration::from_micros((i % 7) as u64 * 30);
                        match s.send_timeout(v, wait) {
                            Ok(()) => {}
                            Err(SendTimeoutError::Timeout(back)) => {
                                assert_eq!(back, v);
                                returned.lock().unwrap().push(back);
                            }
                            Err(e) => panic!("unexpected {e:?}"),
                        }
                    }
                })
            })
            .collect();
        let receivers: Vec<_> = (0..3)
            .map(|k| {
                let r = r.clone();
                thread::spawn(move || {
                    let mut got = Vec::new();
                    let mut n = 0u64;
                    loop {
                        n += 1;
                        match r.recv_timeout(Duration::from_micros((n + k) % 5 * 30)) {
                            Ok(v) => got.push(v),
                            Err(RecvTimeoutError::Timeout) => {}
                            Err(RecvTimeoutError::Disconnected) => return got,
                        }
                    }
                })
            })
            .collect();
        for h in senders {
            h.join().unwrap();
        }
        drop(s);
        let mut seen = HashSet::new();
        for h in receivers {
            for v in h.join().unwrap() {
                assert!(seen.insert(v), "{v} received twice, cap {cap:?}");
            }
        }
        for v in returned.lock().unwrap().iter() {
            assert!(seen.insert(*v), "{v} both received and returned, cap {cap:?}");
        }
        assert_eq!(seen.len(), 3 * per_sender, "values lost, cap {cap:?}");
    }
}

#[test]
fn zero_sized_values_in_a_huge_ring() {
    // Go's makechan allocates no buffer for zero-sized elements; neither do
    // we, so any capacity works, and the ring arithmetic must not overflow.
    let (s, r) = hchan::bounded::<()>(usize::MAX);
    for _ in 0..10 {
        s.send(()).unwrap();
    }
    assert_eq!(s.len(), 10);
    assert_eq!(s.capacity(), Some(usize::MAX));
    assert_eq!(r.try_iter().count(), 10);
    assert!(r.is_empty() && !r.is_full());
}
