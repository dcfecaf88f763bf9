// Drop accounting, shared by every flavor: the including file defines a
// module `flavor` exposing `bounded` and `unbounded`.
//
// `Counted` values record their creation and drop in per-test counters, so
// a test can assert that every message was dropped exactly once: none
// leaked in a dropped channel, none dropped twice, none dropped by a failed
// send (which must hand the message back intact).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use chan::{SendTimeoutError, TrySendError};

#[derive(Default, Debug)]
struct Counts {
    made: AtomicUsize,
    dropped: AtomicUsize,
}

impl Counts {
    fn live(&self) -> usize {
        self.made.load(Ordering::SeqCst) - self.dropped.load(Ordering::SeqCst)
    }
}

/// A message with a heap payload that counts its drops.
#[derive(Debug)]
struct Counted {
    id: usize,
    payload: Box<[u8; 32]>,
    counts: Arc<Counts>,
    dropped: bool,
}

impl Counted {
    fn new(id: usize, counts: &Arc<Counts>) -> Self {
        counts.made.fetch_add(1, Ordering::SeqCst);
        Counted { id, payload: Box::new([id as u8; 32]), counts: counts.clone(), dropped: false }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        assert!(!self.dropped, "message {} dropped twice", self.id);
        assert!(self.payload.iter().all(|&b| b == self.id as u8), "message {} corrupted", self.id);
        self.dropped = true;
        self.counts.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

fn classes() -> Vec<Option<usize>> {
    vec![Some(1), Some(3), Some(16), Some(100), None]
}

fn make<T>(cap: Option<usize>) -> (chan::Sender<T>, chan::Receiver<T>) {
    match cap {
        Some(n) => flavor::bounded(n),
        None => flavor::unbounded(),
    }
}

#[test]
fn buffered_messages_dropped_once_when_last_handle_goes() {
    for cap in classes() {
        // Several fill levels and ring/block offsets: partly drained, wrapped.
        for (fill, drain) in [(0, 0), (1, 0), (3, 1), (16, 5), (100, 37), (250, 100)] {
            let counts = Arc::new(Counts::default());
            let (s, r) = make(cap);
            let room = cap.unwrap_or(usize::MAX);
            let mut sent = 0;
            for i in 0..fill {
                if sent == room {
                    // Make room so the ring wraps.
                    drop(r.recv().unwrap());
                }
                s.send(Counted::new(i, &counts)).unwrap();
                sent = s.len();
            }
            for _ in 0..drain.min(s.len()) {
                drop(r.recv().unwrap());
            }
            let left = s.len();
            assert_eq!(counts.live(), left, "cap {cap:?} fill {fill}");
            drop(s);
            assert_eq!(counts.live(), left, "closing must not drop buffered messages");
            drop(r);
            assert_eq!(counts.live(), 0, "cap {cap:?} fill {fill}: leaked");
        }
    }
}

#[test]
fn receivers_dropped_first_still_frees_everything() {
    for cap in classes() {
        let counts = Arc::new(Counts::default());
        let (s, r) = make(cap);
        for i in 0..cap.unwrap_or(40).min(40) {
            s.send(Counted::new(i, &counts)).unwrap();
        }
        drop(r);
        let back = s.send(Counted::new(999, &counts)).unwrap_err().into_inner();
        assert_eq!(back.id, 999);
        drop(back);
        drop(s);
        assert_eq!(counts.live(), 0, "cap {cap:?}");
    }
}

#[test]
fn failed_sends_return_the_message_intact() {
    let counts = Arc::new(Counts::default());
    for cap in [0, 1, 4] {
        let (s, r) = flavor::bounded(cap);
        for i in 0..cap {
            s.send(Counted::new(i, &counts)).unwrap();
        }
        match s.try_send(Counted::new(10, &counts)) {
            Err(TrySendError::Full(m)) => assert_eq!(m.id, 10),
            other => panic!("expected Full, got {other:?}"),
        }
        match s.send_timeout(Counted::new(11, &counts), Duration::from_millis(5)) {
            Err(SendTimeoutError::Timeout(m)) => assert_eq!(m.id, 11),
            other => panic!("expected Timeout, got {other:?}"),
        }
        assert!(s.close());
        match s.send(Counted::new(12, &counts)) {
            Err(e) => assert_eq!(e.into_inner().id, 12),
            Ok(()) => panic!("send after close succeeded"),
        }
        match s.try_send(Counted::new(13, &counts)) {
            Err(TrySendError::Disconnected(m)) => assert_eq!(m.id, 13),
            other => panic!("expected Disconnected, got {other:?}"),
        }
        assert_eq!(counts.live(), cap, "only the buffered messages are alive");
        drop((s, r));
    }
    let (s, r) = flavor::unbounded();
    drop(r);
    assert_eq!(s.try_send(Counted::new(20, &counts)).unwrap_err().into_inner().id, 20);
    assert_eq!(counts.live(), 0);
}

#[test]
fn blocked_senders_get_their_messages_back_on_close() {
    for cap in [0, 2] {
        let counts = Arc::new(Counts::default());
        let (s, r) = flavor::bounded(cap);
        for i in 0..cap {
            s.send(Counted::new(i, &counts)).unwrap();
        }
        let handles: Vec<_> = (0..3)
            .map(|k| {
                let s = s.clone();
                let counts = counts.clone();
                thread::spawn(move || s.send(Counted::new(100 + k, &counts)).unwrap_err().into_inner().id)
            })
            .collect();
        thread::sleep(Duration::from_millis(20));
        s.close();
        let mut ids: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        ids.sort();
        assert_eq!(ids, [100, 101, 102]);
        assert_eq!(r.iter().count(), cap);
        drop((s, r));
        assert_eq!(counts.live(), 0, "cap {cap}");
    }
}

#[test]
fn concurrent_traffic_then_drop_accounts_for_everything() {
    for cap in [Some(0), Some(1), Some(8), None] {
        let counts = Arc::new(Counts::default());
        let (s, r) = make(cap);
        let received = Arc::new(AtomicUsize::new(0));
        let producers: Vec<_> = (0..3)
            .map(|p| {
                let s = s.clone();
                let counts = counts.clone();
                thread::spawn(move || {
                    for i in 0..2_000 {
                        if s.send(Counted::new(p * 10_000 + i, &counts)).is_err() {
                            break;
                        }
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let r = r.clone();
                let received = received.clone();
                thread::spawn(move || {
                    // Each consumer stops early, leaving messages behind.
                    for m in r.iter().take(1_500) {
                        drop(m);
                        received.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for c in consumers {
            c.join().unwrap();
        }
        // Unblock producers stuck on a full channel, then account.
        drop(r);
        for p in producers {
            p.join().unwrap();
        }
        drop(s);
        assert_eq!(counts.live(), 0, "cap {cap:?}");
        assert_eq!(received.load(Ordering::SeqCst), 3_000);
    }
}
