//! chan × racecheck: every channel rule of Go's memory model as a pair of
//! programs, a racy one that racecheck must report and its correctly
//! synchronized twin that must stay silent, on every flavor (the ring, the
//! list, the rendezvous, and hchan bounded, unbuffered and unbounded).
//!
//! Each scenario runs in a child process of this test binary with
//! `RACECHECK=1`, so it starts from a fresh detector and its report and exit
//! status are checked from outside. Waiting that must *not* be an edge uses
//! std's atomics, which racecheck does not see: the program is then ordered
//! in real time but not by happens-before, which is exactly a data race.

use std::process::Command;
use std::sync::atomic::AtomicBool as StdFlag;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use chan::{Receiver, Sender};
use racecheck::cell::RaceCell;
use racecheck::thread;

/// Set in the child so that the test body runs the scenario.
const CHILD: &str = "CHAN_RACE_TEST_CHILD";

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

/// Defines a test that runs `$body` in a child and expects `$races` races.
/// The test's full name (module path included) is what the child runs.
macro_rules! scenario {
    ($name:ident, races = $races:expr, $body:expr) => {
        #[test]
        fn $name() {
            if std::env::var_os(CHILD).is_some() {
                assert!(racecheck::enabled());
                $body;
                return;
            }
            // `racecheck_channels::ring::x` runs as `ring::x`.
            let path = module_path!().split_once("::").map_or("", |(_, rest)| rest);
            let name =
                if path.is_empty() { stringify!($name).to_string() } else { format!("{path}::{}", stringify!($name)) };
            check_in_child(&name, $races);
        }
    };
}

fn spin_until(flag: &StdFlag) {
    while !flag.load(SeqCst) {
        std::thread::yield_now();
    }
}

/// A send happens before the matching receive completes. The receiver
/// starts first and the sender waits a little, so the lock-based flavors
/// exercise the direct hand-off to a parked receiver too.
fn send_then_recv((s, r): (Sender<u32>, Receiver<u32>)) {
    static DATA: RaceCell<u32> = RaceCell::new(0);
    let receiver = thread::spawn(move || {
        r.recv().unwrap();
        DATA.get()
    });
    std::thread::sleep(Duration::from_millis(20));
    DATA.set(7);
    s.send(1).unwrap();
    assert_eq!(receiver.join().unwrap(), 7);
}

/// A write after the send is not ordered before the receiver's read.
fn write_after_send((s, r): (Sender<u32>, Receiver<u32>)) {
    static DATA: RaceCell<u32> = RaceCell::new(0);
    static WRITTEN: StdFlag = StdFlag::new(false);
    let receiver = thread::spawn(move || {
        r.recv().unwrap();
        spin_until(&WRITTEN);
        DATA.get()
    });
    s.send(1).unwrap();
    DATA.set(7);
    WRITTEN.store(true, SeqCst);
    receiver.join().unwrap();
}

/// The receiver writes before its receive; the sender reads after its send
/// completed. Unbuffered: the receive happens before the send completes,
/// so this is ordered. Buffered or unbounded: the send completed without
/// the receiver, so it races.
fn write_before_recv((s, r): (Sender<u32>, Receiver<u32>), buffered: bool) {
    static DATA: RaceCell<u32> = RaceCell::new(0);
    static SENT: StdFlag = StdFlag::new(false);
    static RECEIVED: StdFlag = StdFlag::new(false);
    let receiver = thread::spawn(move || {
        if buffered {
            // Make sure the send already completed: no edge can come back.
            spin_until(&SENT);
        }
        DATA.set(7);
        r.recv().unwrap();
        RECEIVED.store(true, SeqCst);
    });
    s.send(1).unwrap();
    SENT.store(true, SeqCst);
    spin_until(&RECEIVED);
    DATA.get();
    receiver.join().unwrap();
}

/// close happens before a receive that returns because of it.
fn close_then_recv((s, r): (Sender<u32>, Receiver<u32>)) {
    static DATA: RaceCell<u32> = RaceCell::new(0);
    let receiver = thread::spawn(move || {
        assert!(r.recv().is_err());
        DATA.get()
    });
    std::thread::sleep(Duration::from_millis(20));
    DATA.set(7);
    s.close();
    assert_eq!(receiver.join().unwrap(), 7);
}

/// A write after close is not ordered before the closed receive.
fn write_after_close((s, r): (Sender<u32>, Receiver<u32>)) {
    static DATA: RaceCell<u32> = RaceCell::new(0);
    static WRITTEN: StdFlag = StdFlag::new(false);
    let receiver = thread::spawn(move || {
        assert!(r.recv().is_err());
        spin_until(&WRITTEN);
        DATA.get()
    });
    s.close();
    DATA.set(7);
    WRITTEN.store(true, SeqCst);
    receiver.join().unwrap();
}

/// A buffered channel of capacity C as a counting semaphore (Go's `limit`
/// idiom): the k-th receive happens before the (k+C)-th send completes, so
/// with C = 1 two workers' critical sections are ordered; with C = 2 both
/// enter at once and race.
fn semaphore((s, r): (Sender<u32>, Receiver<u32>), workers: usize) {
    static COUNT: RaceCell<u32> = RaceCell::new(0);
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let (s, r) = (s.clone(), r.clone());
            thread::spawn(move || {
                s.send(0).unwrap(); // acquire a token
                COUNT.set(COUNT.get() + 1);
                std::thread::sleep(Duration::from_millis(10));
                r.recv().unwrap(); // give it back
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    // Only a mutex keeps every increment: when two workers are inside at
    // once, the race is real and one read-modify-write may be lost.
    let count = COUNT.get() as usize;
    if s.capacity() == Some(1) {
        assert_eq!(count, workers);
    } else {
        assert!((1..=workers).contains(&count), "count {count}");
    }
}

macro_rules! channel_rules {
    ($flavor:ident, $make:expr, buffered = $buffered:expr) => {
        mod $flavor {
            use super::*;

            scenario!(send_happens_before_recv, races = 0, send_then_recv($make));
            scenario!(write_after_send_races, races = 1, write_after_send($make));
            scenario!(
                recv_before_send_completes_only_unbuffered,
                races = if $buffered { 1 } else { 0 },
                write_before_recv($make, $buffered)
            );
            scenario!(close_happens_before_closed_recv, races = 0, close_then_recv($make));
            scenario!(write_after_close_races, races = 1, write_after_close($make));
        }
    };
}

channel_rules!(ring, chan::bounded(1), buffered = true);
channel_rules!(list, chan::unbounded(), buffered = true);
channel_rules!(zero, chan::bounded(0), buffered = false);
channel_rules!(hchan_buffered, chan::hchan::bounded(1), buffered = true);
channel_rules!(hchan_unbuffered, chan::hchan::bounded(0), buffered = false);
channel_rules!(hchan_unbounded, chan::hchan::unbounded(), buffered = true);

scenario!(ring_capacity_one_is_a_mutex, races = 0, semaphore(chan::bounded(1), 2));
// Two reports: the second worker's read and its write each race with the
// first worker's write (two pairs of places).
scenario!(ring_capacity_two_lets_two_in, races = 2, semaphore(chan::bounded(2), 2));
scenario!(hchan_capacity_one_is_a_mutex, races = 0, semaphore(chan::hchan::bounded(1), 2));
scenario!(hchan_capacity_two_lets_two_in, races = 2, semaphore(chan::hchan::bounded(2), 2));

/// Lap after lap: the producer reuses a cell 64 messages later, after the
/// consumer cleared it. With capacity C < 64, the send of message i - 1
/// completed only after the receive of message i - 1 - C, which comes after
/// the consumer cleared cell i - 64; so every reuse is ordered, through the
/// slot clocks of every lap of the ring.
fn laps((s, r): (Sender<u32>, Receiver<u32>)) {
    let cells: std::sync::Arc<Vec<RaceCell<u32>>> = std::sync::Arc::new((0..64).map(|_| RaceCell::new(0)).collect());
    let theirs = cells.clone();
    let consumer = thread::spawn(move || {
        let mut sum = 0;
        for i in r.iter() {
            let cell = &theirs[i as usize % 64];
            sum += cell.get();
            cell.set(0);
        }
        sum
    });
    for i in 0..1000u32 {
        cells[i as usize % 64].set(1);
        s.send(i).unwrap();
    }
    drop(s);
    assert_eq!(consumer.join().unwrap(), 1000);
}

scenario!(ring_laps_stay_ordered, races = 0, laps(chan::bounded(4)));
scenario!(hchan_laps_stay_ordered, races = 0, laps(chan::hchan::bounded(4)));

/// Select cases follow the same rules: a send happens before the receive
/// that a parked `select!` completes, and a `select!` send arm happens
/// before the plain receive that takes it.
fn send_then_select_recv((s, r): (Sender<u32>, Receiver<u32>)) {
    static DATA: RaceCell<u32> = RaceCell::new(0);
    let receiver = thread::spawn(move || {
        let never = chan::never::<u32>();
        chan::select! {
            recv(r) -> v => { v.unwrap(); }
            recv(never) -> _ => unreachable!(),
        }
        DATA.get()
    });
    std::thread::sleep(Duration::from_millis(20));
    DATA.set(7);
    s.send(1).unwrap();
    assert_eq!(receiver.join().unwrap(), 7);
}

fn select_send_then_recv((s, r): (Sender<u32>, Receiver<u32>)) {
    static DATA: RaceCell<u32> = RaceCell::new(0);
    let receiver = thread::spawn(move || {
        r.recv().unwrap();
        DATA.get()
    });
    std::thread::sleep(Duration::from_millis(20));
    DATA.set(7);
    let never = chan::never::<u32>();
    chan::select! {
        send(s, 1) -> res => res.unwrap(),
        recv(never) -> _ => unreachable!(),
    }
    assert_eq!(receiver.join().unwrap(), 7);
}

/// A write after a select's send is not ordered before the receiver's read.
fn write_after_select_send((s, r): (Sender<u32>, Receiver<u32>)) {
    static DATA: RaceCell<u32> = RaceCell::new(0);
    static WRITTEN: StdFlag = StdFlag::new(false);
    let receiver = thread::spawn(move || {
        let never = chan::never::<u32>();
        chan::select! {
            recv(r) -> v => { v.unwrap(); }
            recv(never) -> _ => unreachable!(),
        }
        spin_until(&WRITTEN);
        DATA.get()
    });
    std::thread::sleep(Duration::from_millis(20));
    chan::select! {
        send(s, 1) -> res => res.unwrap(),
    }
    DATA.set(7);
    WRITTEN.store(true, SeqCst);
    receiver.join().unwrap();
}

/// `Select::send`: the send happens at `SelectedOperation::send`, not at
/// the select, even where the select reserved a slot or a receiver: a write
/// between the two is ordered before the receiver's read. The receiver is
/// itself a plain receive or a select, as `select_recv` says.
fn late_send_then_recv((s, r): (Sender<u32>, Receiver<u32>), select_recv: bool) {
    static DATA: RaceCell<u32> = RaceCell::new(0);
    let receiver = thread::spawn(move || {
        if select_recv {
            let never = chan::never::<u32>();
            chan::select! {
                recv(r) -> v => { v.unwrap(); }
                recv(never) -> _ => unreachable!(),
            }
        } else {
            r.recv().unwrap();
        }
        DATA.get()
    });
    std::thread::sleep(Duration::from_millis(20));
    let mut sel = chan::Select::new();
    sel.send(&s);
    let op = sel.select();
    DATA.set(7);
    op.send(&s, 1).unwrap();
    assert_eq!(receiver.join().unwrap(), 7);
}

/// ...and a write after `SelectedOperation::send` is not.
fn write_after_late_send((s, r): (Sender<u32>, Receiver<u32>)) {
    static DATA: RaceCell<u32> = RaceCell::new(0);
    static WRITTEN: StdFlag = StdFlag::new(false);
    let receiver = thread::spawn(move || {
        r.recv().unwrap();
        spin_until(&WRITTEN);
        DATA.get()
    });
    std::thread::sleep(Duration::from_millis(20));
    let mut sel = chan::Select::new();
    sel.send(&s);
    sel.select().send(&s, 1).unwrap();
    DATA.set(7);
    WRITTEN.store(true, SeqCst);
    receiver.join().unwrap();
}

macro_rules! select_twins {
    ($flavor:ident, $make:expr) => {
        mod $flavor {
            use super::*;
            scenario!(send_happens_before_select_recv, races = 0, send_then_select_recv($make));
            scenario!(select_send_happens_before_recv, races = 0, select_send_then_recv($make));
            scenario!(write_after_select_send_races, races = 1, write_after_select_send($make));
            scenario!(late_send_happens_before_recv, races = 0, late_send_then_recv($make, false));
            scenario!(late_send_happens_before_select_recv, races = 0, late_send_then_recv($make, true));
            scenario!(write_after_late_send_races, races = 1, write_after_late_send($make));
        }
    };
}

mod select {
    use super::*;
    select_twins!(ring, chan::bounded(4));
    select_twins!(list, chan::unbounded());
    select_twins!(zero, chan::bounded(0));
    select_twins!(hchan_buffered, chan::hchan::bounded(4));
    select_twins!(hchan_unbuffered, chan::hchan::bounded(0));
    select_twins!(hchan_unbounded, chan::hchan::unbounded());
}
