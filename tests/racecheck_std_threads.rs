//! The program a new user writes first: std's threads and `Arc`, a `chan`
//! channel, and a `RaceCell`, unchanged. With `RACECHECK=1` racecheck sees
//! std's spawn and join (on Linux) and the channel's edges, so the correct
//! program is silent and its racy twin is reported. Each runs in a child
//! process.

#![cfg(all(target_os = "linux", target_env = "gnu"))]

use std::process::Command;
use std::sync::atomic::AtomicBool as StdFlag;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

use racecheck::cell::RaceCell;

const CHILD: &str = "CHAN_STD_THREADS_CHILD";

fn check_in_child(name: &str, races: usize) -> String {
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new(exe)
        .args([name, "--exact", "--nocapture"])
        .env("RACECHECK", "1")
        .env(CHILD, "1")
        .env_remove("RACECHECK_OPTIONS")
        .output()
        .expect("run the child test");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stderr.matches("WARNING: DATA RACE").count(), races, "reports in the child:\n{stderr}\n{stdout}");
    assert_eq!(out.status.code(), Some(if races == 0 { 0 } else { 66 }), "child status:\n{stderr}\n{stdout}");
    assert!(stdout.contains("1 passed"), "the child test did not pass:\n{stdout}\n{stderr}");
    stderr
}

/// Written before the spawn, read and written in the thread (the write
/// after the send, so that only the join orders it), read after the join.
#[test]
fn spawn_channel_join_program_is_silent() {
    if std::env::var_os(CHILD).is_none() {
        check_in_child("spawn_channel_join_program_is_silent", 0);
        return;
    }
    let cell = Arc::new(RaceCell::new(0));
    let (tx, rx) = chan::bounded(1);
    cell.set(1);
    let c = cell.clone();
    let worker = std::thread::spawn(move || {
        let seen = c.get();
        tx.send(seen).unwrap();
        c.set(seen + 1);
    });
    let seen = rx.recv().unwrap();
    worker.join().unwrap();
    assert_eq!(cell.get(), seen + 1);
}

/// The same program reading before the join: the thread's write after its
/// send is ordered by nothing racecheck sees (the channel orders only what
/// came before the send).
#[test]
fn reading_before_the_join_races() {
    if std::env::var_os(CHILD).is_none() {
        let stderr = check_in_child("reading_before_the_join_races", 1);
        assert!(stderr.contains("(1 involving threads not started through racecheck, see the note)"), "{stderr}");
        return;
    }
    static WRITTEN: StdFlag = StdFlag::new(false);
    let cell: &'static RaceCell<u32> = Box::leak(Box::new(RaceCell::new(0)));
    let (tx, rx) = chan::bounded(1);
    cell.set(1);
    let worker = std::thread::spawn(move || {
        let seen = cell.get();
        tx.send(seen).unwrap();
        cell.set(seen + 1);
        WRITTEN.store(true, SeqCst);
    });
    rx.recv().unwrap();
    while !WRITTEN.load(SeqCst) {
        std::thread::yield_now();
    }
    cell.get();
    worker.join().unwrap();
}
