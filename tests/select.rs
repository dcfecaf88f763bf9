//! `Select` through the public API, on every flavor and mixed: a ready case
//! wins, nothing ready means `TrySelectError`, timeouts, closed channels,
//! unbuffered rendezvous with a plain operation and with another select.

use std::thread;
use std::time::{Duration, Instant};

use chan::{Receiver, Select, SelectTimeoutError, Sender, TryReadyError, TrySelectError};

type Pair = (Sender<i32>, Receiver<i32>);
type Make = fn(usize) -> Pair;

/// Every flavor by capacity: `Some(cap)` bounded, `None` unbounded.
fn flavors(cap: Option<usize>) -> Vec<(&'static str, Make)> {
    match cap {
        Some(_) => vec![("default", chan::bounded as Make), ("hchan", chan::hchan::bounded as Make)],
        None => vec![("default", |_| chan::unbounded()), ("hchan", |_| chan::hchan::unbounded())],
    }
}

fn all_flavors() -> Vec<(String, Pair)> {
    let mut out = Vec::new();
    for cap in [Some(0), Some(1), Some(3), None] {
        for (name, make) in flavors(cap) {
            out.push((format!("{name} {cap:?}"), make(cap.unwrap_or(0))));
        }
    }
    out
}

const LONG: Duration = Duration::from_secs(10);

#[test]
fn ready_recv_wins_and_the_message_arrives_once() {
    for (name, (s, r)) in all_flavors() {
        let (_s_idle, r_idle) = chan::bounded::<i32>(1);
        let h = thread::spawn(move || s.send(42));
        let mut sel = Select::new();
        let idle = sel.recv(&r_idle);
        let live = sel.recv(&r);
        let oper = sel.select_timeout(LONG).unwrap();
        assert_eq!(oper.index(), live, "{name}");
        assert_ne!(oper.index(), idle);
        assert_eq!(oper.recv(&r), Ok(42), "{name}");
        assert_eq!(h.join().unwrap(), Ok(()));
        assert!(r.try_recv().is_err(), "{name}: delivered twice");
    }
}

#[test]
fn nothing_ready_gives_try_select_error_and_timeout() {
    for (name, (s, r)) in all_flavors() {
        let mut sel = Select::new();
        sel.recv(&r);
        if s.capacity() == Some(0) {
            // An unbuffered send with nobody receiving is not ready either.
            sel.send(&s);
        }
        assert_eq!(sel.try_select().err(), Some(TrySelectError), "{name}");
        assert_eq!(sel.try_ready(), Err(TryReadyError), "{name}");
        let start = Instant::now();
        assert_eq!(sel.select_timeout(Duration::from_millis(30)).err(), Some(SelectTimeoutError), "{name}");
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert!(sel.ready_timeout(Duration::from_millis(5)).is_err(), "{name}");
    }
}

#[test]
fn closed_channel_recv_case_fires_with_an_error() {
    for (name, (s, r)) in all_flavors() {
        let (_keep, idle) = chan::hchan::bounded::<i32>(0);
        let closer = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            s.close();
        });
        let mut sel = Select::new();
        sel.recv(&idle);
        let i = sel.recv(&r);
        let oper = sel.select_timeout(LONG).unwrap();
        assert_eq!(oper.index(), i, "{name}");
        assert!(oper.recv(&r).is_err(), "{name}");
        closer.join().unwrap();
        // Still ready, at once.
        assert_eq!(sel.try_ready(), Ok(i), "{name}");
    }
}

#[test]
fn send_case_on_a_channel_with_room_or_a_waiting_receiver() {
    for (name, (s, r)) in all_flavors() {
        let h = thread::spawn(move || r.recv());
        let mut sel = Select::new();
        let i = sel.send(&s);
        let oper = sel.select_timeout(LONG).unwrap();
        assert_eq!(oper.index(), i);
        assert_eq!(oper.send(&s, 9), Ok(()), "{name}");
        assert_eq!(h.join().unwrap(), Ok(9), "{name}");
    }
}

#[test]
fn unbuffered_send_case_meets_a_plain_recv_and_another_select() {
    for make in [chan::bounded as Make, chan::hchan::bounded as Make] {
        // Against a plain recv on another thread.
        let (s, r) = make(0);
        let h = thread::spawn(move || r.recv());
        let mut sel = Select::new();
        sel.send(&s);
        sel.select().send(&s, 1).unwrap();
        assert_eq!(h.join().unwrap(), Ok(1));

        // Against another thread's select (receiving side).
        let (s, r) = make(0);
        let (_other_s, other_r) = make(0);
        let h = thread::spawn(move || {
            let mut sel = Select::new();
            let a = sel.recv(&r);
            sel.recv(&other_r);
            let oper = sel.select();
            assert_eq!(oper.index(), a);
            oper.recv(&r)
        });
        let mut sel = Select::new();
        sel.send(&s);
        sel.select().send(&s, 2).unwrap();
        assert_eq!(h.join().unwrap(), Ok(2));
    }
}

#[test]
fn mixed_flavors_in_one_select() {
    let (s1, r1) = chan::bounded::<i32>(0);
    let (s2, r2) = chan::hchan::bounded::<i32>(0);
    let (s3, r3) = chan::unbounded::<i32>();
    let (s4, r4) = chan::hchan::bounded::<i32>(2);
    let senders = thread::spawn(move || {
        for i in 0..50 {
            s1.send(i).unwrap();
            s2.send(100 + i).unwrap();
            s3.send(200 + i).unwrap();
            s4.send(300 + i).unwrap();
        }
    });
    let mut got = Vec::new();
    let mut sel = Select::new();
    let handles = [&r1, &r2, &r3, &r4];
    for r in handles {
        sel.recv(r);
    }
    while got.len() < 200 {
        let oper = sel.select_timeout(LONG).unwrap();
        let i = oper.index();
        match oper.recv(handles[i]) {
            Ok(v) => got.push(v),
            // Closed and drained once the sender thread is done.
            Err(_) => sel.remove(i),
        }
    }
    senders.join().unwrap();
    got.sort();
    let want: Vec<i32> = (0..4).flat_map(|k| (0..50).map(move |i| k * 100 + i)).collect();
    assert_eq!(got, want);
}

#[test]
fn ready_reports_without_taking() {
    let (s, r) = chan::hchan::bounded(1);
    let (_s2, r2) = chan::bounded::<i32>(1);
    let mut sel = Select::new();
    sel.recv(&r2);
    let i = sel.recv(&r);
    let h = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        s.send(5).unwrap();
    });
    assert_eq!(sel.ready_timeout(LONG), Ok(i));
    assert_eq!(r.try_recv(), Ok(5));
    h.join().unwrap();
}

#[test]
fn biased_picks_the_first_added_and_remove_takes_a_case_out() {
    let (s1, r1) = chan::unbounded();
    let (s2, r2) = chan::hchan::unbounded();
    s1.send(1).unwrap();
    s2.send(2).unwrap();
    let mut sel = Select::new_biased();
    let a = sel.recv(&r1);
    let b = sel.recv(&r2);
    assert_eq!(sel.try_ready(), Ok(a));
    sel.remove(a);
    let oper = sel.try_select().unwrap();
    assert_eq!(oper.index(), b);
    assert_eq!(oper.recv(&r2), Ok(2));
    assert_eq!(r1.try_recv(), Ok(1));
}

/// Uniform among the ready cases wherever they sit: with 2 of 6 ready, or
/// 4 of 4, or 9 of 12 (past the cases a select orders on the stack), each
/// ready case wins about as often. A scheme that only picks a random start
/// would favour a ready case that follows unready ones.
#[test]
fn the_ready_case_is_chosen_uniformly() {
    for (total, ready) in [(6, &[2usize, 3][..]), (4, &[0, 1, 2, 3][..]), (12, &[0, 1, 2, 4, 5, 7, 8, 10, 11][..])] {
        let chans: Vec<(Sender<usize>, Receiver<usize>)> = (0..total).map(|_| chan::unbounded()).collect();
        let rounds = 6_000 * ready.len();
        let mut wins = vec![0usize; total];
        for _ in 0..rounds {
            for &i in ready {
                chans[i].0.send(i).unwrap();
            }
            let mut sel = Select::new();
            for (_, r) in &chans {
                sel.recv(r);
            }
            let oper = sel.try_select().unwrap();
            let i = oper.index();
            assert_eq!(oper.recv(&chans[i].1), Ok(i));
            wins[i] += 1;
            for &j in ready {
                if j != i {
                    chans[j].1.try_recv().unwrap();
                }
            }
        }
        let expected = rounds / ready.len();
        for (i, &w) in wins.iter().enumerate() {
            if ready.contains(&i) {
                assert!(w.abs_diff(expected) < expected / 10, "{total} cases, {ready:?} ready: {wins:?}");
            } else {
                assert_eq!(w, 0);
            }
        }
    }
}

/// A clone has the same operations under the same indices, whether the
/// cases sit inside the `Select` (up to four) or on the heap (more), and
/// removing one keeps the others' indices.
#[test]
fn a_clone_selects_the_same_operations() {
    for total in [3usize, 4, 5, 9] {
        let chans: Vec<(Sender<usize>, Receiver<usize>)> = (0..total).map(|_| chan::bounded(1)).collect();
        let mut sel = Select::new_biased();
        let indices: Vec<usize> = chans.iter().map(|(_, r)| sel.recv(r)).collect();
        sel.remove(indices[0]);
        let mut copy = sel.clone();
        drop(sel);
        for (i, (s, _)) in chans.iter().enumerate().rev() {
            s.send(i).unwrap();
        }
        for &i in &indices[1..] {
            let oper = copy.try_select().unwrap();
            assert_eq!(oper.index(), i, "{total} cases");
            assert_eq!(oper.recv(&chans[i].1), Ok(i));
        }
        assert!(copy.try_select().is_err());
        assert_eq!(chans[0].1.try_recv(), Ok(0));
    }
}

#[test]
#[should_panic(expected = "without completing")]
fn dropping_a_selected_operation_panics() {
    let (s, r) = chan::unbounded();
    s.send(1).unwrap();
    let mut sel = Select::new();
    sel.recv(&r);
    let _ = sel.select();
}

#[test]
#[should_panic(expected = "wasn't selected")]
fn completing_with_another_handle_panics() {
    let (s, r) = chan::unbounded::<i32>();
    let (_s2, r2) = chan::unbounded::<i32>();
    s.send(1).unwrap();
    let mut sel = Select::new();
    sel.recv(&r);
    let _ = sel.select().recv(&r2);
}

/// Go's pass 3: once a select returns, none of its sudogs is left queued on
/// any hchan channel, whichever way it ended.
#[test]
fn hchan_losers_are_dequeued_after_the_select() {
    let pairs: Vec<Pair> = (0..3).map(|_| chan::hchan::bounded(0)).collect();
    let queued = |pairs: &[Pair]| -> Vec<(usize, usize)> {
        pairs
            .iter()
            .map(|(s, _)| {
                let p = chan::hchan::probe(s).unwrap();
                (p.recvq, p.sendq)
            })
            .collect()
    };

    // Won by a peer's send on the middle channel.
    let s1 = pairs[1].0.clone();
    let h = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        s1.send(8)
    });
    let mut sel = Select::new();
    for (_, r) in &pairs {
        sel.recv(r);
    }
    let oper = sel.select_timeout(LONG).unwrap();
    assert_eq!(oper.index(), 1);
    assert_eq!(oper.recv(&pairs[1].1), Ok(8));
    h.join().unwrap().unwrap();
    assert_eq!(queued(&pairs), [(0, 0); 3]);

    // Ended by the timeout.
    assert!(sel.select_timeout(Duration::from_millis(10)).is_err());
    assert_eq!(queued(&pairs), [(0, 0); 3]);

    // Won by close, with `select!` sending on the other two.
    let s0 = pairs[0].0.clone();
    let h = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        s0.close()
    });
    let r0 = &pairs[0].1;
    let closed = chan::select! {
        recv(r0) -> m => m.is_err(),
        send(pairs[1].0, 1) -> _ => false,
        send(pairs[2].0, 2) -> _ => false,
    };
    assert!(closed);
    assert!(h.join().unwrap());
    assert_eq!(queued(&pairs), [(0, 0); 3]);
}

/// `Select::send` on a ring claims the slot when it selects, so the room
/// cannot be taken in between and `SelectedOperation::send` never blocks.
#[test]
fn a_selected_ring_send_keeps_its_room() {
    for cap in [1, 3] {
        let (s, r) = chan::bounded(cap);
        for i in 0..cap as i32 - 1 {
            s.send(i).unwrap();
        }
        let mut sel = Select::new();
        let oper = sel.send(&s);
        let selected = sel.select();
        assert_eq!(selected.index(), oper);
        // The last slot is reserved: nobody else can take it.
        assert!(matches!(s.try_send(99), Err(chan::TrySendError::Full(99))));
        // Nor can a receiver take the unwritten slot: it reads as empty.
        for i in 0..cap as i32 - 1 {
            assert_eq!(r.try_recv(), Ok(i));
        }
        assert_eq!(r.try_recv(), Err(chan::TryRecvError::Empty));
        selected.send(&s, 7).unwrap();
        assert_eq!(r.try_recv(), Ok(7));
    }
}

/// A receiver blocked on the reserved slot is woken by the late send.
#[test]
fn a_receiver_waits_for_a_reserved_slot() {
    let (s, r) = chan::bounded(1);
    let mut sel = Select::new();
    sel.send(&s);
    let selected = sel.select();
    thread::scope(|scope| {
        let got = scope.spawn(|| r.recv_timeout(LONG));
        thread::sleep(Duration::from_millis(20));
        selected.send(&s, 5).unwrap();
        assert_eq!(got.join().unwrap(), Ok(5));
    });
}

/// A reservation given up (its operation dropped uncompleted, which panics)
/// leaves a hole that receivers step over: nothing is lost or duplicated,
/// and the channel keeps its capacity.
#[test]
fn an_abandoned_ring_send_leaves_the_channel_working() {
    let (s, r) = chan::bounded(2);
    s.send(1).unwrap();
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut sel = Select::new();
        sel.send(&s);
        drop(sel.select());
    }));
    assert!(dropped.is_err(), "dropping a selected operation panics");
    // The hole holds its slot until a receiver passes it.
    assert!(matches!(s.try_send(2), Err(chan::TrySendError::Full(2))));
    assert_eq!(r.recv_timeout(LONG), Ok(1));
    s.send(2).unwrap();
    assert_eq!(r.recv_timeout(LONG), Ok(2));
    assert_eq!(r.try_recv(), Err(chan::TryRecvError::Empty));
    // A receiver blocked behind a hole steps over it to the next message.
    let mut sel = Select::new();
    sel.send(&s);
    let selected = sel.select();
    thread::scope(|scope| {
        let got = scope.spawn(|| r.recv_timeout(LONG));
        thread::sleep(Duration::from_millis(20));
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(selected)));
        s.send(3).unwrap();
        assert_eq!(got.join().unwrap(), Ok(3));
    });
    // Both slots are free again, lap after lap.
    for round in 0..5 {
        s.try_send(round).unwrap();
        s.try_send(round + 10).unwrap();
        assert!(s.is_full());
        assert_eq!(r.try_recv(), Ok(round));
        assert_eq!(r.try_recv(), Ok(round + 10));
    }
}

/// A reservation leaked with `mem::forget` never gets a message; dropping
/// the channel must still drop every message exactly once and read no
/// unwritten slot.
#[test]
fn a_forgotten_ring_reservation_is_not_read_on_drop() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let (s, r) = chan::bounded(3);
    s.send(Counted(drops.clone())).unwrap();
    {
        let mut sel = Select::new();
        sel.send(&s);
        std::mem::forget(sel.select());
    }
    s.send(Counted(drops.clone())).unwrap();
    drop((s, r));
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

/// `Select` can move to another thread and be shared, as crossbeam's can.
#[test]
fn select_is_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let (s, r) = chan::bounded::<i32>(1);
    let r_ref = &r;
    let mut sel = Select::new();
    sel.recv(r_ref);
    send_sync(&sel);
    s.send(3).unwrap();
    thread::scope(|scope| {
        scope
            .spawn(move || {
                let op = sel.select();
                assert_eq!(op.recv(r_ref), Ok(3));
            })
            .join()
            .unwrap();
    });
}

/// `ready` watches a ring or list channel like a receiver, but must not
/// keep the wake-up from a real receiver: it is passed on. The watcher
/// registers first, so it is the one the single send notifies.
#[test]
fn ready_passes_on_the_wake_up_it_took() {
    for (name, (s, r)) in [("ring", chan::bounded::<i32>(4)), ("list", chan::unbounded::<i32>())] {
        thread::scope(|scope| {
            let watcher = scope.spawn(|| {
                let mut sel = Select::new();
                sel.recv(&r);
                sel.ready_timeout(LONG).is_ok()
            });
            thread::sleep(Duration::from_millis(30));
            let receiver = scope.spawn(|| {
                let start = Instant::now();
                let got = r.recv_timeout(Duration::from_secs(5));
                // A receiver whose wake-up was lost would only find the
                // message on its last try, after the timeout.
                assert!(start.elapsed() < Duration::from_secs(4), "{name}: woken by the send, not the timeout");
                got
            });
            thread::sleep(Duration::from_millis(30));
            s.send(1).unwrap();
            assert!(watcher.join().unwrap(), "{name}: ready saw the message");
            assert_eq!(receiver.join().unwrap(), Ok(1), "{name}: the receiver was woken");
        });
    }
}

/// On a rendezvous channel `ready` for a receive and `Select::send` wait as
/// watchers: a sender (or receiver) that starts waiting wakes them.
#[test]
fn rendezvous_watchers_wake_when_a_peer_waits() {
    for (s, r) in [chan::bounded::<i32>(0), chan::hchan::bounded::<i32>(0)] {
        watchers_wake_when_a_peer_waits(s, r);
    }
}

/// hchan's watchers (not in Go) also wake on buffer changes: `ready` on a
/// receive when a value is buffered, a `Select::send` case when room
/// appears.
#[test]
fn hchan_buffered_watchers_wake_on_buffer_changes() {
    let (s, r) = chan::hchan::bounded::<i32>(1);
    thread::scope(|scope| {
        let sender = scope.spawn(|| {
            thread::sleep(Duration::from_millis(20));
            s.send(1)
        });
        let mut sel = Select::new();
        sel.recv(&r);
        assert!(sel.ready_timeout(LONG).is_ok());
        assert_eq!(sender.join().unwrap(), Ok(()));
        // Full now: a send case waits for the receive below.
        let receiver = scope.spawn(|| {
            thread::sleep(Duration::from_millis(20));
            r.recv_timeout(LONG)
        });
        let mut sel = Select::new();
        sel.send(&s);
        sel.select_timeout(LONG).expect("room came").send(&s, 2).unwrap();
        assert_eq!(receiver.join().unwrap(), Ok(1));
        assert_eq!(r.recv_timeout(LONG), Ok(2));
    });
}

fn watchers_wake_when_a_peer_waits(s: Sender<i32>, r: Receiver<i32>) {
    thread::scope(|scope| {
        let sender = scope.spawn(|| {
            thread::sleep(Duration::from_millis(20));
            s.send_timeout(8, LONG)
        });
        let mut sel = Select::new();
        sel.recv(&r);
        assert!(sel.ready_timeout(LONG).is_ok());
        assert_eq!(r.recv_timeout(LONG), Ok(8));
        assert_eq!(sender.join().unwrap(), Ok(()));

        let receiver = scope.spawn(|| {
            thread::sleep(Duration::from_millis(20));
            r.recv_timeout(LONG)
        });
        let mut sel = Select::new();
        let oper = sel.send(&s);
        let selected = sel.select_timeout(LONG).expect("a receiver came");
        assert_eq!(selected.index(), oper);
        selected.send(&s, 9).unwrap();
        assert_eq!(receiver.join().unwrap(), Ok(9));
    });
}

/// One receive, by a select over `r` alone or by a plain receive.
fn receive_one(r: &Receiver<i32>, select_recv: bool) -> Result<i32, chan::RecvError> {
    if select_recv {
        let mut sel = Select::new();
        sel.recv(r);
        sel.select_timeout(LONG).expect("a message").recv(r)
    } else {
        r.recv_timeout(LONG).map_err(|_| chan::RecvError)
    }
}

/// `Select::send` on a rendezvous channel sets the waiting receiver aside:
/// no other sender can take it, and `SelectedOperation::send` hands the
/// message to it without blocking, whether it waits in a plain receive or
/// in a select.
#[test]
fn a_selected_rendezvous_send_keeps_its_receiver() {
    for select_recv in [false, true] {
        let (s, r) = chan::bounded::<i32>(0);
        thread::scope(|scope| {
            let receiver = scope.spawn(|| receive_one(&r, select_recv));
            let mut sel = Select::new();
            let oper = sel.send(&s);
            let selected = sel.select_timeout(LONG).expect("the receiver waits");
            assert_eq!(selected.index(), oper);
            // The receiver is reserved: a plain try_send finds none waiting.
            assert!(matches!(s.try_send(1), Err(chan::TrySendError::Full(1))));
            thread::sleep(Duration::from_millis(20));
            selected.send(&s, 2).unwrap();
            assert_eq!(receiver.join().unwrap(), Ok(2), "select_recv: {select_recv}");
        });
    }
}

/// A reserved rendezvous receiver whose reservation is dropped uncompleted
/// (which panics) goes on waiting and takes the next message.
#[test]
fn an_abandoned_rendezvous_send_lets_the_receiver_wait_on() {
    for select_recv in [false, true] {
        let (s, r) = chan::bounded::<i32>(0);
        thread::scope(|scope| {
            let receiver = scope.spawn(|| receive_one(&r, select_recv));
            let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut sel = Select::new();
                sel.send(&s);
                drop(sel.select_timeout(LONG).expect("the receiver waits"));
            }));
            assert!(dropped.is_err());
            s.send_timeout(3, LONG).unwrap();
            assert_eq!(receiver.join().unwrap(), Ok(3), "select_recv: {select_recv}");
        });
    }
}
