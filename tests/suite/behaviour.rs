// The behaviour suite, shared by every flavor: the including file defines a
// module `flavor` exposing `bounded` and `unbounded`. Each test covers the
// capacity classes 0, 1, n and unbounded where the behaviour applies.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use chan::{Receiver, RecvError, RecvTimeoutError, SendError, SendTimeoutError, Sender, TryRecvError, TrySendError};

const MS: Duration = Duration::from_millis(1);

/// Runs `$body` with `$s`, `$r` bound to a fresh channel of each class.
macro_rules! each_class {
    (|$s:ident, $r:ident, $cap:ident| $body:block) => {
        for $cap in [Some(0usize), Some(1), Some(16), None] {
            let ($s, $r) = match $cap {
                Some(n) => flavor::bounded(n),
                None => flavor::unbounded(),
            };
            $body
        }
    };
}

/// Runs `$body` with each class that buffers (1, n, unbounded).
macro_rules! each_buffered {
    (|$s:ident, $r:ident, $cap:ident| $body:block) => {
        for $cap in [Some(1usize), Some(16), None] {
            let ($s, $r) = match $cap {
                Some(n) => flavor::bounded(n),
                None => flavor::unbounded(),
            };
            $body
        }
    };
}

/// Sends `n` messages from another thread, then lets the sender go.
fn spawn_sender<T: Send + 'static>(s: Sender<T>, msgs: Vec<T>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        for m in msgs {
            s.send(m).unwrap();
        }
    })
}

#[test]
fn smoke_every_class() {
    each_class!(|s, r, cap| {
        let h = spawn_sender(s, vec![1, 2, 3]);
        assert_eq!(r.recv(), Ok(1), "cap {cap:?}");
        assert_eq!(r.recv(), Ok(2));
        assert_eq!(r.recv(), Ok(3));
        h.join().unwrap();
        assert_eq!(r.recv(), Err(RecvError));
    });
}

#[test]
fn capacity_reported() {
    each_class!(|s, r, cap| {
        let _: &Sender<u8> = &s;
        assert_eq!(s.capacity(), cap);
        assert_eq!(r.capacity(), cap);
    });
}

#[test]
fn order_kept_per_sender() {
    each_class!(|s, r, cap| {
        let n = 2_000;
        let handles: Vec<_> = (0..3)
            .map(|id| {
                let s = s.clone();
                thread::spawn(move || {
                    for i in 0..n {
                        s.send((id, i)).unwrap();
                    }
                })
            })
            .collect();
        drop(s);
        let mut next = [0; 3];
        for (id, i) in r.iter() {
            assert_eq!(i, next[id], "sender {id} out of order, cap {cap:?}");
            next[id] += 1;
        }
        assert_eq!(next, [n; 3]);
        for h in handles {
            h.join().unwrap();
        }
    });
}

#[test]
fn dropping_receivers_fails_sends_with_the_message() {
    each_class!(|s, r, cap| {
        let r2 = r.clone();
        drop(r);
        assert!(!s.is_closed(), "one receiver is left, cap {cap:?}");
        drop(r2);
        assert!(s.is_closed());
        assert_eq!(s.send(String::from("kept")), Err(SendError(String::from("kept"))));
        assert_eq!(s.try_send(String::from("x")), Err(TrySendError::Disconnected(String::from("x"))));
        assert_eq!(s.send_timeout(String::from("y"), MS), Err(SendTimeoutError::Disconnected(String::from("y"))));
    });
}

#[test]
fn dropping_senders_drains_then_disconnects() {
    each_buffered!(|s, r, cap| {
        s.send(1).unwrap();
        let _ = s.try_send(2);
        let s2 = s.clone();
        drop(s);
        assert!(!r.is_closed(), "one sender left, cap {cap:?}");
        drop(s2);
        assert!(r.is_closed());
        let got: Vec<i32> = r.try_iter().collect();
        assert!(!got.is_empty() && got[0] == 1);
        assert_eq!(r.try_recv(), Err(TryRecvError::Disconnected));
        assert_eq!(r.recv(), Err(RecvError));
        assert_eq!(r.recv_timeout(MS), Err(RecvTimeoutError::Disconnected));
    });
    let (s, r) = flavor::bounded::<i32>(0);
    drop(s);
    assert_eq!(r.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(r.recv(), Err(RecvError));
}

#[test]
fn blocked_receiver_wakes_when_senders_go() {
    each_class!(|s, r, cap| {
        let h = thread::spawn(move || r.recv());
        thread::sleep(10 * MS);
        drop(s);
        assert_eq!(h.join().unwrap(), Err::<i32, _>(RecvError), "cap {cap:?}");
    });
}

#[test]
fn blocked_sender_wakes_when_receivers_go() {
    for cap in [0, 1, 16] {
        let (s, r) = flavor::bounded(cap);
        for i in 0..cap {
            s.send(i).unwrap();
        }
        let h = thread::spawn(move || s.send(99));
        thread::sleep(10 * MS);
        drop(r);
        assert_eq!(h.join().unwrap(), Err(SendError(99)), "cap {cap}");
    }
}

#[test]
fn close_returns_true_once_and_drains() {
    each_buffered!(|s, r, cap| {
        s.send(10).unwrap();
        assert!(!r.is_closed());
        assert!(s.close(), "cap {cap:?}");
        assert!(!s.close());
        assert!(s.clone().is_closed());
        assert!(r.is_closed());
        assert_eq!(s.send(11), Err(SendError(11)));
        assert_eq!(s.try_send(12), Err(TrySendError::Disconnected(12)));
        assert_eq!(r.recv(), Ok(10));
        assert_eq!(r.recv(), Err(RecvError));
        assert_eq!(r.try_recv(), Err(TryRecvError::Disconnected));
    });
    let (s, r) = flavor::bounded::<i32>(0);
    assert!(s.close());
    assert!(!s.close());
    assert_eq!(s.send(1), Err(SendError(1)));
    assert_eq!(r.recv(), Err(RecvError));
}

#[test]
fn close_wakes_blocked_receivers() {
    each_class!(|s, r, cap| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let r = r.clone();
                thread::spawn(move || r.recv())
            })
            .collect();
        thread::sleep(10 * MS);
        assert!(s.close());
        for h in handles {
            assert_eq!(h.join().unwrap(), Err::<u8, _>(RecvError), "cap {cap:?}");
        }
    });
}

#[test]
fn close_wakes_blocked_senders_with_their_messages() {
    for cap in [0, 1, 16] {
        let (s, _r) = flavor::bounded(cap);
        for i in 0..cap {
            s.send(i).unwrap();
        }
        let handles: Vec<_> = (0..3)
            .map(|k| {
                let s = s.clone();
                thread::spawn(move || s.send(100 + k))
            })
            .collect();
        thread::sleep(10 * MS);
        assert!(s.close());
        let mut back: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap().unwrap_err().into_inner()).collect();
        back.sort();
        assert_eq!(back, [100, 101, 102], "cap {cap}");
    }
}

#[test]
fn recv_timeout_on_empty() {
    each_class!(|s, r, cap| {
        let start = Instant::now();
        assert_eq!(r.recv_timeout(20 * MS), Err::<i32, _>(RecvTimeoutError::Timeout), "cap {cap:?}");
        assert!(start.elapsed() >= 20 * MS);
        drop(s);
    });
}

#[test]
fn recv_timeout_gets_a_late_message() {
    each_class!(|s, r, cap| {
        let h = thread::spawn(move || {
            thread::sleep(10 * MS);
            s.send(7).unwrap();
        });
        assert_eq!(r.recv_timeout(Duration::from_secs(10)), Ok(7), "cap {cap:?}");
        h.join().unwrap();
    });
}

#[test]
fn send_timeout_on_full() {
    for cap in [0, 1, 16] {
        let (s, r) = flavor::bounded(cap);
        for i in 0..cap {
            s.send(i).unwrap();
        }
        let start = Instant::now();
        assert_eq!(s.send_timeout(42, 20 * MS), Err(SendTimeoutError::Timeout(42)), "cap {cap}");
        assert!(start.elapsed() >= 20 * MS);
        assert_eq!(r.len(), cap);
    }
}

#[test]
fn send_timeout_completes_when_room_appears() {
    for cap in [0, 1, 16] {
        let (s, r) = flavor::bounded(cap);
        for i in 0..cap {
            s.send(i).unwrap();
        }
        let h = thread::spawn(move || {
            thread::sleep(10 * MS);
            r.iter().collect::<Vec<_>>()
        });
        assert_eq!(s.send_timeout(1000, Duration::from_secs(10)), Ok(()), "cap {cap}");
        drop(s);
        let got = h.join().unwrap();
        assert_eq!(got.last(), Some(&1000));
        assert_eq!(got.len(), cap + 1);
    }
}

#[test]
fn deadline_in_the_past() {
    let past = Instant::now() - Duration::from_millis(5);
    each_class!(|s, r, cap| {
        // Nothing ready: fails at once, message returned.
        if cap == Some(0) || cap == Some(1) && s.try_send(0).is_ok() || cap == Some(16) && (0..16).all(|i| s.try_send(i).is_ok()) {
            assert_eq!(s.send_deadline(5, past), Err(SendTimeoutError::Timeout(5)), "cap {cap:?}");
        }
        while r.try_recv().is_ok() {}
        assert_eq!(r.recv_deadline(past), Err(RecvTimeoutError::Timeout));
        // Ready: a past deadline still lets the operation happen.
        if cap != Some(0) {
            assert_eq!(s.send_deadline(6, past), Ok(()));
            assert_eq!(r.recv_deadline(past), Ok(6));
        }
    });
}

#[test]
fn iter_ends_on_close() {
    each_class!(|s, r, cap| {
        let h = thread::spawn(move || {
            for i in 0..100 {
                s.send(i).unwrap();
            }
            assert!(s.close());
            // Sends after close fail even though this sender is alive.
            assert_eq!(s.send(1000), Err(SendError(1000)));
        });
        assert_eq!(r.iter().collect::<Vec<_>>(), (0..100).collect::<Vec<_>>(), "cap {cap:?}");
        h.join().unwrap();
    });
}

#[test]
fn into_iter_and_for_loops() {
    each_class!(|s, r, cap| {
        let h = spawn_sender(s, (0..10).collect());
        let mut sum = 0;
        for x in &r {
            sum += x;
        }
        assert_eq!(sum, 45, "cap {cap:?}");
        h.join().unwrap();
        assert_eq!(r.into_iter().next(), None);
    });
}

#[test]
fn try_iter_takes_what_is_there() {
    each_buffered!(|s, r, cap| {
        for i in 0..cap.unwrap_or(5).min(5) {
            s.send(i).unwrap();
        }
        let got: Vec<_> = r.try_iter().collect();
        assert_eq!(got, (0..cap.unwrap_or(5).min(5)).collect::<Vec<_>>());
        assert_eq!(r.try_iter().next(), None);
    });
}

#[test]
fn len_and_fullness_edges() {
    for cap in [1usize, 2, 3, 16] {
        let (s, r) = flavor::bounded(cap);
        assert!(s.is_empty() && r.is_empty() && !s.is_full());
        assert_eq!(s.len(), 0);
        // Go around the ring a few times so every wrap position is checked.
        for round in 0..3 {
            for i in 0..cap {
                assert_eq!(s.len(), i, "cap {cap} round {round}");
                s.send(i).unwrap();
            }
            assert!(s.is_full() && r.is_full() && !s.is_empty());
            assert_eq!(r.len(), cap);
            assert_eq!(s.try_send(0), Err(TrySendError::Full(0)));
            for i in 0..cap {
                assert_eq!(r.recv(), Ok(i));
                assert_eq!(r.len(), cap - i - 1);
                assert!(!r.is_full());
            }
            assert!(r.is_empty());
            // Shift the start of the ring by one.
            s.send(9).unwrap();
            r.recv().unwrap();
        }
    }
    let (s, r) = flavor::unbounded();
    assert!(!s.is_full() && s.is_empty());
    for i in 0..100 {
        assert_eq!(r.len(), i);
        s.send(i).unwrap();
    }
    assert!(!s.is_full());
    for i in 0..100 {
        assert_eq!(s.len(), 100 - i);
        r.recv().unwrap();
    }
    assert!(r.is_empty());
    let (s, r) = flavor::bounded::<()>(0);
    assert!(s.is_empty() && s.is_full());
    assert_eq!(r.len(), 0);
}

#[test]
fn rendezvous_send_waits_for_the_receiver() {
    let (s, r) = flavor::bounded(0);
    assert_eq!(s.try_send(1), Err(TrySendError::Full(1)), "no receiver waiting");
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    let h = thread::spawn(move || {
        s.send(2).unwrap();
        d.store(1, Ordering::SeqCst);
    });
    thread::sleep(20 * MS);
    assert_eq!(done.load(Ordering::SeqCst), 0, "send returned before anyone received");
    assert_eq!(r.recv(), Ok(2));
    h.join().unwrap();
    assert_eq!(done.load(Ordering::SeqCst), 1);
}

#[test]
fn rendezvous_try_send_succeeds_with_a_waiting_receiver() {
    let (s, r) = flavor::bounded(0);
    let h = thread::spawn(move || r.recv());
    let start = Instant::now();
    loop {
        match s.try_send(5) {
            Ok(()) => break,
            Err(TrySendError::Full(_)) => {
                assert!(start.elapsed() < Duration::from_secs(10));
                thread::sleep(MS);
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(h.join().unwrap(), Ok(5));
}

#[test]
fn rendezvous_try_recv_takes_from_a_waiting_sender() {
    let (s, r) = flavor::bounded(0);
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
    let h = thread::spawn(move || s.send(3));
    let start = Instant::now();
    let got = loop {
        match r.try_recv() {
            Ok(v) => break v,
            Err(TryRecvError::Empty) => {
                assert!(start.elapsed() < Duration::from_secs(10));
                thread::sleep(MS);
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(got, 3);
    assert_eq!(h.join().unwrap(), Ok(()));
}

#[test]
fn zero_sized_messages() {
    each_class!(|s, r, cap| {
        let h = spawn_sender(s.clone(), vec![(); 1000]);
        for _ in 0..1000 {
            assert_eq!(r.recv(), Ok(()), "cap {cap:?}");
        }
        h.join().unwrap();
        if cap != Some(0) {
            s.send(()).unwrap();
            assert_eq!(r.len(), 1);
            assert_eq!(r.try_recv(), Ok(()));
        }
    });
}

#[test]
fn heap_payloads_arrive_intact() {
    each_class!(|s, r, cap| {
        let msgs: Vec<Vec<String>> = (0..200).map(|i| (0..i % 7).map(|j| format!("{i}-{j}")).collect()).collect();
        let h = spawn_sender(s, msgs.clone());
        let got: Vec<Vec<String>> = r.iter().collect();
        assert_eq!(got, msgs, "cap {cap:?}");
        h.join().unwrap();
    });
}

#[test]
fn same_channel() {
    each_class!(|s, r, cap| {
        let (s2, r2) = flavor::bounded::<i32>(1);
        assert!(s.same_channel(&s.clone()), "cap {cap:?}");
        assert!(r.same_channel(&r.clone()));
        assert!(!s.same_channel(&s2));
        assert!(!r.same_channel(&r2));
        let _: (&Sender<i32>, &Receiver<i32>) = (&s, &r);
    });
}

#[test]
fn many_receivers_share_the_work() {
    each_class!(|s, r, cap| {
        let n = 3_000;
        let total = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let r = r.clone();
                let total = total.clone();
                thread::spawn(move || {
                    for v in r.iter() {
                        total.fetch_add(v, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        drop(r);
        for i in 1..=n {
            s.send(i).unwrap();
        }
        drop(s);
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(total.load(Ordering::Relaxed), n * (n + 1) / 2, "cap {cap:?}");
    });
}
