//! Go's channel rules, exactly, on both flavors, and independent of who
//! waited for whom.
//!
//! Every scenario runs twice, in a child process with `RACECHECK=1` each:
//! once with the receiver forced to park before the sender starts
//! (`recv_parks_first`), and once with the sender forced to go first
//! (`send_goes_first`: its sends complete, or it parks if the channel
//! cannot take them), and both runs must reach the same verdict. Parking is
//! observed through `chan`'s own `parked` tracing event, which a blocking
//! operation emits once it has registered as a waiter, so the order is
//! forced, not hoped for. Waiting that must *not* be an edge uses std's
//! atomics, which racecheck does not see.
//!
//! The rules (Go's `runtime/chan.go` under `-race`):
//!
//! - a send happens before the receive that takes its message; on an
//!   unbuffered channel the receive also happens before the send completes;
//!   on a buffered one of capacity C the k-th receive happens before the
//!   (k+C)-th send completes, and nothing else: no receive → send edge when
//!   a sender hands its message to a parked receiver, and no edge from a
//!   parked sender to the receive that makes room for it;
//! - `close` is a write of the channel and every send a read of it (a
//!   `select!` send arm included), so a send not ordered with the close is
//!   a race; `len` and `capacity` are not accesses, as in Go.

#![cfg(feature = "trace")]

use std::process::Command;
use std::sync::atomic::AtomicBool as StdFlag;
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

use chan::{Receiver, Sender};
use racecheck::cell::RaceCell;
use racecheck::thread;

const CHILD: &str = "CHAN_GO_RULES_CHILD";

/// Runs test `name` in a child with the detector on and checks that it
/// reported `races` races, with the exit status that follows.
fn check_in_child(name: &str, races: usize) {
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("RACECHECK", "1")
        .env(CHILD, "1")
        .env_remove("RACECHECK_OPTIONS")
        .output()
        .expect("run the child test");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stderr.matches("WARNING: DATA RACE").count(), races, "reports in the child:\n{stderr}\n{stdout}");
    let status = if races == 0 { 0 } else { 66 };
    assert_eq!(out.status.code(), Some(status), "child status:\n{stderr}\n{stdout}");
    assert!(stdout.contains("1 passed"), "the child test did not run or pass:\n{stdout}\n{stderr}");
}

/// Who goes first.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    /// The sender starts only once the receiver has parked.
    RecvParksFirst,
    /// The receiver starts only once the sender is done or has parked.
    SendGoesFirst,
}

/// Set by the watcher when a receive (or send) registers as a waiter.
static RECV_PARKED: StdFlag = StdFlag::new(false);
static SEND_PARKED: StdFlag = StdFlag::new(false);
/// Set by a scenario's sender when all its sends have completed.
static SENT: StdFlag = StdFlag::new(false);

/// A subscriber that only watches `chan`'s `parked` events.
struct ParkWatch;

struct Op(Option<String>, bool);

impl tracing::field::Visit for Op {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "op" => self.0 = Some(format!("{value:?}").trim_matches('"').to_owned()),
            "message" => self.1 = format!("{value:?}") == "parked",
            _ => {}
        }
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "op" {
            self.0 = Some(value.to_owned());
        }
    }
}

impl tracing::Subscriber for ParkWatch {
    fn enabled(&self, meta: &tracing::Metadata<'_>) -> bool {
        meta.target() == "chan"
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut op = Op(None, false);
        event.record(&mut op);
        if op.1 {
            match op.0.as_deref() {
                Some("recv") => RECV_PARKED.store(true, SeqCst),
                // The senders of these scenarios are the only selects.
                Some("send" | "select") => SEND_PARKED.store(true, SeqCst),
                _ => {}
            }
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

fn watch_parking() {
    tracing::subscriber::set_global_default(ParkWatch).expect("the child's only subscriber");
    // chan emits its events only when asked.
    chan::observe::set_events(true);
}

fn wait_until(what: &str, ready: impl Fn() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        std::thread::yield_now();
    }
}

/// The sender's side of the order: in `RecvParksFirst`, wait for the
/// receiver to park.
fn sender_turn(order: Order) {
    if order == Order::RecvParksFirst {
        wait_until("the receiver to park", || RECV_PARKED.load(SeqCst));
    }
}

/// The receiver's side: in `SendGoesFirst`, wait for the sender to be done
/// or parked.
fn receiver_turn(order: Order) {
    if order == Order::SendGoesFirst {
        wait_until("the sender to go first", || SENT.load(SeqCst) || SEND_PARKED.load(SeqCst));
    }
}

/// A write before a receive, and a write after the matching send
/// completed: ordered on an unbuffered channel (the receive happens before
/// the send completes), a race on a buffered or unbounded one, also when
/// the sender handed its message straight to the parked receiver.
fn write_before_recv_vs_write_after_send((s, r): (Sender<u32>, Receiver<u32>), order: Order) {
    static X: RaceCell<u32> = RaceCell::new(0);
    static RECEIVED: StdFlag = StdFlag::new(false);
    watch_parking();
    let receiver = thread::spawn(move || {
        receiver_turn(order);
        X.set(1);
        r.recv().unwrap();
        RECEIVED.store(true, SeqCst);
    });
    sender_turn(order);
    s.send(1).unwrap();
    SENT.store(true, SeqCst);
    wait_until("the receive", || RECEIVED.load(SeqCst));
    X.set(2);
    receiver.join().unwrap();
}

/// The receiver writes, then receives `n` messages; the sender sends `n`
/// and then reads. For capacity C the first receive happens before the
/// (C+1)-th send completes, so this is ordered when `n > C` and a race when
/// `n <= C` (and always on an unbounded channel), in both orders.
fn kth_recv_before_k_plus_cth_send((s, r): (Sender<u32>, Receiver<u32>), order: Order, n: u32) {
    static X: RaceCell<u32> = RaceCell::new(0);
    watch_parking();
    let receiver = thread::spawn(move || {
        receiver_turn(order);
        X.set(1);
        for _ in 0..n {
            r.recv().unwrap();
        }
    });
    sender_turn(order);
    for i in 0..n {
        s.send(i).unwrap();
    }
    SENT.store(true, SeqCst);
    X.get();
    receiver.join().unwrap();
}

/// Two producers on a channel of capacity 1: the first writes and sends,
/// the second sends once the first has sent (a wait racecheck does not
/// see) and then reads. The second send completes only after the consumer
/// received the first message, but the slot hands on the consumer's past
/// from before that receive, not the first producer's: in Go's model the
/// k-th send is not ordered before the (k+C)-th, so this races.
fn sends_one_lap_apart((s, r): (Sender<u32>, Receiver<u32>), order: Order) {
    static X: RaceCell<u32> = RaceCell::new(0);
    static FIRST_SENT: StdFlag = StdFlag::new(false);
    watch_parking();
    let consumer = thread::spawn(move || {
        receiver_turn(order);
        r.recv().unwrap();
        r.recv().unwrap();
    });
    let second = {
        let s = s.clone();
        thread::spawn(move || {
            wait_until("the first send", || FIRST_SENT.load(SeqCst));
            s.send(2).unwrap();
            SENT.store(true, SeqCst);
            X.get();
        })
    };
    sender_turn(order);
    X.set(1);
    s.send(1).unwrap();
    FIRST_SENT.store(true, SeqCst);
    second.join().unwrap();
    consumer.join().unwrap();
}

/// The sender writes between its first and second send; the receiver reads
/// between its first and second receive. The second send's past reaches
/// the second receive only, so this races, also when the second send
/// parked on a full channel and the first receive made room for it.
fn write_between_sends_vs_read_between_recvs((s, r): (Sender<u32>, Receiver<u32>), order: Order) {
    static Y: RaceCell<u32> = RaceCell::new(0);
    static FIRST_RECEIVED: StdFlag = StdFlag::new(false);
    watch_parking();
    let receiver = thread::spawn(move || {
        receiver_turn(order);
        r.recv().unwrap();
        FIRST_RECEIVED.store(true, SeqCst);
        Y.get();
        r.recv().unwrap();
    });
    sender_turn(order);
    s.send(1).unwrap();
    Y.set(1);
    if order == Order::RecvParksFirst {
        // Let the first receive finish, so the second send finds no one
        // parked and goes through the buffer (or parks, unbuffered).
        wait_until("the first receive", || FIRST_RECEIVED.load(SeqCst));
    }
    // In `SendGoesFirst` this parks on a full `bounded(1)`, and the
    // receiver starts on our `parked` event.
    s.send(2).unwrap();
    SENT.store(true, SeqCst);
    receiver.join().unwrap();
}

/// How a send is made: a plain `send`, or a `select!` send arm.
#[derive(Clone, Copy)]
enum Via {
    Send,
    Select,
}

fn send_via(s: &Sender<u32>, msg: u32, via: Via) {
    match via {
        Via::Send => s.send(msg).unwrap(),
        Via::Select => chan::select! {
            send(s, msg) -> res => res.unwrap(),
        },
    }
}

/// A send, and a close by a third thread that only waited for the send in
/// real time: the close (a write of the channel) is not ordered with the
/// send (a read of it), a race.
fn send_then_unordered_close((s, r): (Sender<u32>, Receiver<u32>), order: Order, via: Via) {
    watch_parking();
    let closer = {
        let s = s.clone();
        thread::spawn(move || {
            wait_until("the send", || SENT.load(SeqCst));
            s.close();
        })
    };
    let receiver = thread::spawn(move || {
        receiver_turn(order);
        r.recv().unwrap();
        // Kept alive until the close: with no receiver left, `close` would
        // have nothing to close.
        r
    });
    sender_turn(order);
    send_via(&s, 1, via);
    SENT.store(true, SeqCst);
    let r = receiver.join().unwrap();
    closer.join().unwrap();
    drop(r);
}

/// The receiver closes once it has the message: the send happens before
/// the receive, which comes before the close. Silent.
fn send_then_close_by_receiver((s, r): (Sender<u32>, Receiver<u32>), order: Order, via: Via) {
    watch_parking();
    let receiver = {
        let s = s.clone();
        thread::spawn(move || {
            receiver_turn(order);
            r.recv().unwrap();
            s.close();
        })
    };
    sender_turn(order);
    send_via(&s, 1, via);
    SENT.store(true, SeqCst);
    receiver.join().unwrap();
}

/// Two senders: the first sends and drops its handle; the second, which
/// only waited for that in real time, drops the last handle, which closes
/// the channel. The handle count orders every sender's drop before the
/// close, so the first send is ordered before it. Silent.
fn send_then_last_sender_dropped((s, r): (Sender<u32>, Receiver<u32>), order: Order) {
    static FIRST_GONE: StdFlag = StdFlag::new(false);
    watch_parking();
    let last = s.clone();
    let dropper = thread::spawn(move || {
        wait_until("the other sender to go", || FIRST_GONE.load(SeqCst));
        drop(last);
    });
    let receiver = thread::spawn(move || {
        receiver_turn(order);
        assert_eq!(r.recv(), Ok(1));
        assert!(r.recv().is_err(), "closed by the last sender's drop");
    });
    sender_turn(order);
    s.send(1).unwrap();
    SENT.store(true, SeqCst);
    drop(s);
    FIRST_GONE.store(true, SeqCst);
    dropper.join().unwrap();
    receiver.join().unwrap();
}

/// A send that finds the channel closed by another thread, which it only
/// waited for in real time: the failed send still reads the channel, a
/// race with the close. Unless `ordered`: then the sender first receives
/// the close (a receive that fails because the channel is closed happens
/// after the close), and the send is ordered after it.
fn send_after_close((s, r): (Sender<u32>, Receiver<u32>), ordered: bool) {
    static CLOSED: StdFlag = StdFlag::new(false);
    let closer = {
        let s = s.clone();
        thread::spawn(move || {
            s.close();
            CLOSED.store(true, SeqCst);
        })
    };
    wait_until("the close", || CLOSED.load(SeqCst));
    if ordered {
        assert!(r.recv().is_err());
    }
    assert!(s.try_send(1).is_err());
    closer.join().unwrap();
}

/// `len`, `capacity`, `is_empty`, `is_full` and `is_closed` read what
/// `close` writes, but, as in Go, they are not accesses of the channel:
/// they never race with it.
fn len_and_cap_do_not_race_with_close((s, r): (Sender<u32>, Receiver<u32>)) {
    static LOOKED: StdFlag = StdFlag::new(false);
    let looker = thread::spawn(move || {
        let _ = (r.len(), r.capacity(), r.is_empty(), r.is_full(), r.is_closed());
        LOOKED.store(true, SeqCst);
        r
    });
    wait_until("the looks", || LOOKED.load(SeqCst));
    let _ = (s.len(), s.capacity());
    s.close();
    drop(looker.join().unwrap());
}

/// Defines a test that runs `$body` in a child and expects `$races` races.
macro_rules! scenario {
    ($name:ident, races = $races:expr, $body:expr) => {
        #[test]
        fn $name() {
            if std::env::var_os(CHILD).is_some() {
                assert!(racecheck::enabled());
                $body;
                return;
            }
            let path = module_path!().split_once("::").map_or("", |(_, rest)| rest);
            check_in_child(&format!("{path}::{}", stringify!($name)), $races);
        }
    };
}

/// Both orders of one scenario, with the same expected verdict.
macro_rules! both_orders {
    ($name:ident, races = $races:expr, |$order:ident| $body:expr) => {
        mod $name {
            use super::*;
            scenario!(recv_parks_first, races = $races, {
                let $order = Order::RecvParksFirst;
                $body
            });
            scenario!(send_goes_first, races = $races, {
                let $order = Order::SendGoesFirst;
                $body
            });
        }
    };
}

/// Every rule on one channel kind. `$make` makes a channel; `$cap` is its
/// capacity (`None`: unbounded).
macro_rules! go_rules {
    ($flavor:ident, $make:expr, cap = $cap:expr) => {
        mod $flavor {
            use super::*;

            const CAP: Option<u32> = $cap;
            /// 1 when the channel buffers (or is unbounded), else 0.
            const BUFFERED: usize = if matches!(CAP, Some(0)) { 0 } else { 1 };

            both_orders!(write_before_recv_vs_write_after_send, races = BUFFERED, |order| {
                write_before_recv_vs_write_after_send($make, order)
            });
            both_orders!(write_between_sends_vs_read_between_recvs, races = 1, |order| {
                write_between_sends_vs_read_between_recvs($make, order)
            });
            both_orders!(send_then_unordered_close, races = 1, |order| {
                send_then_unordered_close($make, order, Via::Send)
            });
            both_orders!(send_then_close_by_receiver, races = 0, |order| {
                send_then_close_by_receiver($make, order, Via::Send)
            });
            both_orders!(send_then_last_sender_dropped, races = 0, |order| {
                send_then_last_sender_dropped($make, order)
            });
            scenario!(send_after_unordered_close_races, races = 1, send_after_close($make, false));
            scenario!(send_after_observed_close_is_ordered, races = 0, send_after_close($make, true));
            scenario!(len_and_cap_are_not_accesses, races = 0, len_and_cap_do_not_race_with_close($make));
        }
    };
}

go_rules!(ring, chan::bounded(1), cap = Some(1));
go_rules!(zero, chan::bounded(0), cap = Some(0));
go_rules!(list, chan::unbounded(), cap = None);
go_rules!(hchan_buffered, chan::hchan::bounded(1), cap = Some(1));
go_rules!(hchan_unbuffered, chan::hchan::bounded(0), cap = Some(0));
go_rules!(hchan_unbounded, chan::hchan::unbounded(), cap = None);

/// A `select!` send arm is a send: it reads the channel, whichever case
/// the select tried or chose. One buffered and one unbuffered channel per
/// flavor (the arm goes through the same send code as a plain send).
macro_rules! select_send_rules {
    ($flavor:ident, $make:expr) => {
        mod $flavor {
            use super::*;
            both_orders!(select_send_then_unordered_close, races = 1, |order| {
                send_then_unordered_close($make, order, Via::Select)
            });
            both_orders!(select_send_then_close_by_receiver, races = 0, |order| {
                send_then_close_by_receiver($make, order, Via::Select)
            });
        }
    };
}

mod select {
    use super::*;
    select_send_rules!(ring, chan::bounded(1));
    select_send_rules!(zero, chan::bounded(0));
    select_send_rules!(hchan_buffered, chan::hchan::bounded(1));
    select_send_rules!(hchan_unbuffered, chan::hchan::bounded(0));
}

/// The k-th receive → (k+C)-th send rule for C = 1 and C = 2: `n = C + 1`
/// messages are ordered, `n = C` race; an unbounded channel has no such
/// rule.
macro_rules! capacity_rule {
    ($flavor:ident, $make:expr, cap = $cap:expr) => {
        mod $flavor {
            use super::*;
            both_orders!(one_lap_later_is_ordered, races = 0, |order| {
                kth_recv_before_k_plus_cth_send($make, order, $cap + 1)
            });
            both_orders!(within_one_lap_races, races = 1, |order| {
                kth_recv_before_k_plus_cth_send($make, order, $cap)
            });
        }
    };
}

mod capacity {
    use super::*;
    capacity_rule!(ring_1, chan::bounded(1), cap = 1);
    capacity_rule!(ring_2, chan::bounded(2), cap = 2);
    capacity_rule!(hchan_1, chan::hchan::bounded(1), cap = 1);
    capacity_rule!(hchan_2, chan::hchan::bounded(2), cap = 2);
    both_orders!(ring_sends_one_lap_apart_are_not_ordered, races = 1, |order| {
        sends_one_lap_apart(chan::bounded(1), order)
    });
    both_orders!(hchan_sends_one_lap_apart_are_not_ordered, races = 1, |order| {
        sends_one_lap_apart(chan::hchan::bounded(1), order)
    });
    both_orders!(list_never_orders_a_send_after_a_recv, races = 1, |order| {
        kth_recv_before_k_plus_cth_send(chan::unbounded(), order, 3)
    });
    both_orders!(hchan_unbounded_never_orders_a_send_after_a_recv, races = 1, |order| {
        kth_recv_before_k_plus_cth_send(chan::hchan::unbounded(), order, 3)
    });
}
