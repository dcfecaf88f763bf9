//! loom models of the default flavor's lock-free cores, and of select.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release --test loom`.
//! Under `--cfg loom` the channel's atomics, cells, locks and parking come
//! from loom (see `chan/src/sync.rs`), so these models explore the shipped
//! code. Each model is small (two or three threads, a few messages) and the
//! preemption bound keeps the whole file to a few minutes in CI.
#![cfg(loom)]

use chan::{RecvError, TryRecvError};
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

/// A thread whose result is collected by spinning on a flag rather than by
/// `join`: the channel may unpark a thread a moment after it stopped
/// waiting (harmless for std, where unparks may be spurious), and loom
/// treats such a stray unpark arriving during `join` as a broken model.
struct Task<R> {
    done: Arc<AtomicBool>,
    result: Arc<Mutex<Option<R>>>,
}

fn spawn<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Task<R> {
    let done = Arc::new(AtomicBool::new(false));
    let result = Arc::new(Mutex::new(None));
    let (d, res) = (done.clone(), result.clone());
    thread::spawn(move || {
        let r = f();
        *res.lock().unwrap() = Some(r);
        d.store(true, Ordering::Release);
    });
    Task { done, result }
}

impl<R> Task<R> {
    fn join(self) -> R {
        while !self.done.load(Ordering::Acquire) {
            thread::yield_now();
        }
        let r = self.result.lock().unwrap().take();
        r.expect("task stored its result")
    }
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

/// Receives with `try_recv` until the channel reports closed.
fn drain_with_try_recv(r: &chan::Receiver<u32>) -> Vec<u32> {
    let mut got = Vec::new();
    loop {
        match r.try_recv() {
            Ok(v) => got.push(v),
            Err(TryRecvError::Empty) => thread::yield_now(),
            Err(TryRecvError::Disconnected) => return got,
        }
    }
}

#[test]
fn ring_try_send_try_recv_close() {
    model(|| {
        let (s, r) = chan::bounded(2);
        let t = spawn(move || {
            let mut sent = Vec::new();
            for v in 1..=3 {
                if s.try_send(v).is_ok() {
                    sent.push(v);
                }
            }
            s.close();
            sent
        });
        let got = drain_with_try_recv(&r);
        let sent = t.join();
        assert_eq!(got, sent, "every accepted message arrives once, in order");
    });
}

#[test]
fn ring_blocking_park_and_wake() {
    model(|| {
        let (s, r) = chan::bounded(1);
        let t = spawn(move || {
            s.send(1).unwrap();
            // Full until the receiver takes 1: parks, must be woken.
            s.send(2).unwrap();
        });
        assert_eq!(r.recv(), Ok(1));
        assert_eq!(r.recv(), Ok(2));
        assert_eq!(r.recv(), Err(RecvError));
        t.join();
    });
}

#[test]
fn ring_two_senders_one_receiver() {
    model(|| {
        let (s, r) = chan::bounded(1);
        let s2 = s.clone();
        let a = spawn(move || s.send(1).unwrap());
        let b = spawn(move || s2.send(2).unwrap());
        let mut got = vec![r.recv().unwrap(), r.recv().unwrap()];
        got.sort();
        assert_eq!(got, [1, 2]);
        a.join();
        b.join();
    });
}

#[test]
fn close_wakes_a_parked_receiver() {
    model(|| {
        let (s, r) = chan::bounded::<u32>(1);
        let t = spawn(move || r.recv());
        s.close();
        assert_eq!(t.join(), Err(RecvError));
    });
}

#[test]
fn rendezvous_hand_off() {
    model(|| {
        let (s, r) = chan::bounded(0);
        let t = spawn(move || {
            s.send(7).unwrap();
            s.send(8).unwrap();
        });
        assert_eq!(r.recv(), Ok(7));
        assert_eq!(r.recv(), Ok(8));
        assert_eq!(r.recv(), Err(RecvError));
        t.join();
    });
}

#[test]
fn rendezvous_try_send_against_parked_receiver() {
    model(|| {
        let (s, r) = chan::bounded(0);
        let t = spawn(move || r.recv());
        // Either the receiver is parked and takes it, or it is not yet and
        // the message comes back; never both, never lost.
        let delivered = s.try_send(5).is_ok();
        s.close();
        let got = t.join();
        assert_eq!(got.ok(), delivered.then_some(5));
    });
}

#[test]
fn list_crosses_blocks_with_try_recv() {
    model(|| {
        // Under loom a block holds 3 messages: 4 sends cross into a second.
        let (s, r) = chan::unbounded();
        let t = spawn(move || {
            for v in 1..=4 {
                s.send(v).unwrap();
            }
        });
        let got = drain_with_try_recv(&r);
        assert_eq!(got, [1, 2, 3, 4]);
        t.join();
    });
}

#[test]
fn list_blocking_recv_with_two_senders() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(|| {
        let (s, r) = chan::unbounded();
        let s2 = s.clone();
        let a = spawn(move || {
            s.send(1).unwrap();
            s.send(2).unwrap();
        });
        let b = spawn(move || s2.send(10).unwrap());
        let mut got: Vec<u32> = r.iter().collect();
        let ones: Vec<u32> = got.iter().copied().filter(|&v| v < 10).collect();
        assert_eq!(ones, [1, 2], "per-sender order");
        got.sort();
        assert_eq!(got, [1, 2, 10]);
        a.join();
        b.join();
    });
}

#[test]
fn list_sender_helps_a_stalled_block_installer() {
    // Four messages from two senders cross the first (3-slot) block. When
    // the sender of the last slot is preempted between its claim and moving
    // `tail`, the other sender must finish the move for it, not wait.
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(|| {
        let (s, r) = chan::unbounded();
        let s2 = s.clone();
        let a = spawn(move || {
            // The third send takes the block's last slot: `a` moves `tail`.
            for v in 1..=3 {
                s.send(v).unwrap();
            }
        });
        let b = spawn(move || s2.send(11).unwrap());
        let got = drain_with_try_recv(&r);
        let from_a: Vec<u32> = got.iter().copied().filter(|&v| v < 10).collect();
        let from_b: Vec<u32> = got.iter().copied().filter(|&v| v > 10).collect();
        assert_eq!(from_a, [1, 2, 3]);
        assert_eq!(from_b, [11]);
        a.join();
        b.join();
    });
}

/// A select over two rendezvous channels, each with a blocked sender:
/// the select takes exactly one message, the other stays for a plain recv.
#[test]
fn select_over_two_rendezvous_senders() {
    model(|| {
        let (sa, ra) = chan::bounded::<u32>(0);
        let (sb, rb) = chan::bounded::<u32>(0);
        let ta = spawn(move || sa.send(1).is_ok());
        let tb = spawn(move || sb.send(2).is_ok());
        let first = chan::select_biased! {
            recv(ra) -> v => v.unwrap(),
            recv(rb) -> v => v.unwrap(),
        };
        let second = if first == 1 { rb.recv().unwrap() } else { ra.recv().unwrap() };
        assert_eq!(first + second, 3);
        assert!(ta.join() && tb.join());
    });
}

/// hchan: the select queues a sudog on both channels (under both locks,
/// in address order); the sender wins one and the select dequeues the other
/// (pass 3). One sender only: loom wakes a thread blocked on a mutex when
/// it is unparked, so a peer's late unpark landing while the select waits
/// for another sender's lock in pass 3 breaks the model though std is fine.
#[test]
fn select_over_hchan_with_one_sender() {
    model(|| {
        let (sa, ra) = chan::hchan::bounded::<u32>(0);
        let (sb, rb) = chan::hchan::bounded::<u32>(0);
        let ta = spawn(move || sa.send(1).is_ok());
        let got = chan::select_biased! {
            recv(rb) -> _ => 0,
            recv(ra) -> v => v.unwrap(),
        };
        assert_eq!(got, 1);
        assert!(ta.join());
        assert_eq!(chan::hchan::probe(&sb).map(|p| p.recvq), Some(0));
    });
}

/// A select parked on a ring channel and a rendezvous channel is woken by
/// the ring's notify (no lost wake-up across the register/re-check race).
#[test]
fn select_woken_by_ring_send() {
    model(|| {
        let (s, r) = chan::bounded::<u32>(1);
        let (_zs, zr) = chan::bounded::<u32>(0);
        let t = spawn(move || s.send(7).is_ok());
        let got = chan::select_biased! {
            recv(zr) -> _ => 0,
            recv(r) -> v => v.unwrap(),
        };
        assert_eq!(got, 7);
        assert!(t.join());
    });
}

/// `Select::send` on a ring reserves the slot at the select and writes it
/// later: a receiver that meets the reserved slot (empty to `try_recv`,
/// a park for `recv`) gets exactly the late message, and a plain
/// `try_send` racing with the reservation never takes the same slot.
#[test]
fn ring_reserved_send_reaches_a_blocking_receiver() {
    model(|| {
        let (s, r) = chan::bounded::<u32>(1);
        let s2 = s.clone();
        // The receiver hands its handle back, so the channel stays open.
        // loom's own `join` here, not `Task`: this thread never waits on the
        // channel, so no stray unpark can reach it, and a spinning join
        // beside a receiver that spins on the unfinished `try_send` (which
        // it must, see docs/ring.md, section 4) lets loom starve the sender
        // between two yielding threads without bound.
        let t = thread::spawn(move || (r.recv(), r));
        let other = thread::spawn(move || s2.try_send(9).is_ok());
        let mut sel = chan::Select::new();
        sel.send(&s);
        match sel.try_select() {
            Ok(op) => {
                op.send(&s, 4).unwrap();
                let other_sent = other.join().unwrap();
                // Capacity 1: the receiver takes one of them; the other, if
                // both went in, is still buffered.
                let (got, r) = t.join().unwrap();
                let rest = r.try_recv().ok();
                match got.unwrap() {
                    4 => assert_eq!(rest, other_sent.then_some(9)),
                    9 => assert_eq!(rest, Some(4)),
                    v => panic!("unexpected {v}"),
                }
            }
            Err(_) => {
                // The try_send took the only slot first.
                assert!(other.join().unwrap());
                assert_eq!(t.join().unwrap().0, Ok(9));
            }
        };
    });
}

/// `Select::send` on `bounded(0)` reserves a parked receiver and fills its
/// packet later (PENDING, then FILLED and an unpark): the receiver wakes
/// with exactly that message, whether it was still parked or had woken.
#[test]
fn rendezvous_reserved_send_fills_a_parked_receiver() {
    model(|| {
        let (s, r) = chan::bounded::<u32>(0);
        let t = spawn(move || r.recv());
        let mut sel = chan::Select::new();
        sel.send(&s);
        // Wait for the receiver to park, then reserve it.
        let op = loop {
            match sel.try_select() {
                Ok(op) => break op,
                Err(_) => thread::yield_now(),
            }
        };
        op.send(&s, 6).unwrap();
        assert_eq!(t.join(), Ok(6));
    });
}

/// Two threads each send, then `try_recv`: whatever the interleaving
/// (including one sender stopped between its claim and its write), each
/// `try_recv` finds a message, since its own is in the channel. The
/// receiver that finds the other sender's slot unwritten while its own
/// message is ready passes that slot; the late sender resends.
fn each_sends_then_try_recvs(s: chan::Sender<u32>, r: chan::Receiver<u32>) {
    let (s2, r2) = (s.clone(), r.clone());
    let t = spawn(move || {
        s2.send(2).unwrap();
        r2.try_recv().expect("own message in the channel")
    });
    s.send(1).unwrap();
    let mine = r.try_recv().expect("own message in the channel");
    let theirs = t.join();
    let mut got = [mine, theirs];
    got.sort_unstable();
    assert_eq!(got, [1, 2], "each message once");
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn ring_try_recv_after_send_is_linearizable() {
    model(|| {
        let (s, r) = chan::bounded(2);
        each_sends_then_try_recvs(s, r);
    });
}

#[test]
fn list_try_recv_after_send_is_linearizable() {
    model(|| {
        let (s, r) = chan::unbounded();
        each_sends_then_try_recvs(s, r);
    });
}

/// A receiver passes a `Select::send` reservation whose message has not
/// come while a later message is ready; the reservation's late send then
/// goes through as a plain send, and nothing is lost.
#[test]
fn ring_receive_passes_a_pending_reservation() {
    model(|| {
        let (s, r) = chan::bounded(2);
        let s2 = s.clone();
        let t = spawn(move || {
            let mut sel = chan::Select::new();
            let i = sel.send(&s2);
            let op = sel.select();
            assert_eq!(op.index(), i);
            op.send(&s2, 1).unwrap();
        });
        s.send(2).unwrap();
        let first = r.recv().unwrap();
        let second = r.recv().unwrap();
        t.join();
        let mut got = [first, second];
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
    });
}

/// Receivers cross a block end while the receiver of the block's last slot
/// may stall before it moves `head` on: the other receiver helps it
/// instead of reporting "empty" (its own message waits in the next block).
#[test]
fn list_receivers_help_across_a_block_end() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(|| {
        let (s, r) = chan::unbounded();
        // Under loom a block holds three messages: after these two the
        // next send takes the first block's last slot, and the one after
        // it the second block's first.
        s.send(0).unwrap();
        s.send(1).unwrap();
        assert_eq!(r.try_recv(), Ok(0));
        assert_eq!(r.try_recv(), Ok(1));
        let (s2, r2) = (s.clone(), r.clone());
        let t = spawn(move || {
            s2.send(2).unwrap();
            r2.try_recv().expect("own message in the channel")
        });
        s.send(3).unwrap();
        let mine = r.try_recv().expect("own message in the channel");
        let theirs = t.join();
        let mut got = [mine, theirs];
        got.sort_unstable();
        assert_eq!(got, [2, 3]);
        assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
    });
}

/// A `Select::send` on a rendezvous channel waits as a sender without its
/// message; a receiver that polls with `try_recv` pairs with it and gets
/// the message the select's owner brings once it is chosen.
#[test]
fn rendezvous_late_sender_meets_a_polling_receiver() {
    model(|| {
        let (s, r) = chan::bounded(0);
        let t = spawn(move || {
            let mut sel = chan::Select::new();
            sel.send(&s);
            let op = sel.select();
            op.send(&s, 7).unwrap();
        });
        let got = loop {
            match r.try_recv() {
                Ok(v) => break v,
                Err(TryRecvError::Empty) => thread::yield_now(),
                Err(TryRecvError::Disconnected) => unreachable!("the sender is alive"),
            }
        };
        assert_eq!(got, 7);
        t.join();
    });
}
