//! racecheck's deadlock report for threads asleep in channel operations,
//! checked from outside: this test re-runs itself as a child process with
//! `RACECHECK=1` and reads its exit status and stderr.
//!
//! It has no libtest harness (`harness = false` in Cargo.toml): libtest's
//! main thread waits for the test thread in a way racecheck does not see,
//! which (by design) keeps the detector from ever reporting inside an
//! ordinary test binary.

use std::io::Write;
use std::process::{Command, Output};
use std::time::Duration;

use racecheck::thread;

/// Prints where the next line blocks, for the parent to look for.
macro_rules! blocks_next_line {
    ($who:expr) => {{
        println!("{} blocks at tests/deadlock.rs:{}", $who, line!() + 1);
        std::io::stdout().flush().unwrap();
    }};
}

/// Two threads each wait for the other on unbuffered channels (one of
/// each flavor); main waits to join them.
fn deadlock() {
    let (to_a, a_inbox) = chan::bounded::<u32>(0);
    let (to_b, b_inbox) = chan::hchan::bounded::<u32>(0);
    let a = thread::Builder::new()
        .name("alice".into())
        .spawn(move || {
            blocks_next_line!("alice");
            let ball = b_inbox.recv().unwrap();
            to_a.send(ball).unwrap();
        })
        .unwrap();
    let b = thread::Builder::new()
        .name("bob".into())
        .spawn(move || {
            blocks_next_line!("bob");
            let ball = a_inbox.recv().unwrap();
            to_b.send(ball).unwrap();
        })
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    blocks_next_line!("main");
    a.join().unwrap();
    b.join().unwrap();
}

/// A thread holds a racecheck `Mutex` while it waits on a channel that
/// main would send on, once it had the lock.
fn mutex() {
    let lock = std::sync::Arc::new(racecheck::sync::Mutex::new(0));
    let (tx, rx) = chan::bounded::<u32>(0);
    let holder = {
        let lock = lock.clone();
        thread::Builder::new()
            .name("holder".into())
            .spawn(move || {
                let mut held = lock.lock().unwrap();
                blocks_next_line!("holder");
                *held = rx.recv().unwrap();
            })
            .unwrap()
    };
    std::thread::sleep(Duration::from_millis(50));
    blocks_next_line!("main");
    let value = *lock.lock().unwrap();
    tx.send(value).unwrap();
    holder.join().unwrap();
}

/// Looks stuck to racecheck for a while, but a plain std thread, which
/// racecheck does not know, fills the channel later.
fn outside() {
    let (tx, rx) = chan::bounded::<u32>(1);
    let helper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1000));
        tx.send(1).unwrap();
    });
    assert_eq!(rx.recv(), Ok(1));
    helper.join().unwrap();
}

/// Everybody racecheck knows waits, but one wait has a deadline.
fn timed() {
    let (tx, rx) = chan::unbounded::<u32>();
    let waiter = thread::spawn(move || rx.recv_timeout(Duration::from_millis(1000)).is_err());
    assert!(waiter.join().unwrap());
    drop(tx);
}

/// As `mutex`, with a racecheck `RwLock` held for writing and main trying
/// to read.
fn rwlock() {
    let lock = std::sync::Arc::new(racecheck::sync::RwLock::new(0));
    let (tx, rx) = chan::bounded::<u32>(0);
    let holder = {
        let lock = lock.clone();
        thread::Builder::new()
            .name("writer".into())
            .spawn(move || {
                let mut held = lock.write().unwrap();
                blocks_next_line!("writer");
                *held = rx.recv().unwrap();
            })
            .unwrap()
    };
    std::thread::sleep(Duration::from_millis(50));
    blocks_next_line!("main");
    let value = *lock.read().unwrap();
    tx.send(value).unwrap();
    holder.join().unwrap();
}

/// A scoped thread waits for a message that main sends only after the
/// scope, so main waits forever in the scope's implicit join.
fn scope() {
    let (tx, rx) = chan::bounded::<u32>(0);
    blocks_next_line!("main");
    thread::scope(|s| {
        thread::Builder::new()
            .name("scoped".into())
            .spawn_scoped(s, || {
                blocks_next_line!("scoped");
                rx.recv().unwrap();
            })
            .unwrap();
    });
    tx.send(1).unwrap();
}

/// A thread parked in a `select!` over two channels nobody will ever use,
/// while main waits to join it.
fn select() {
    let (_keep_a, a) = chan::bounded::<u32>(0);
    let (_keep_b, b) = chan::hchan::bounded::<u32>(1);
    let picker = thread::Builder::new()
        .name("picker".into())
        .spawn(move || {
            blocks_next_line!("picker");
            chan::select! {
                recv(a) -> _ => {}
                recv(b) -> _ => {}
            }
        })
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    blocks_next_line!("main");
    picker.join().unwrap();
}

fn child(scenario: &str) -> Output {
    Command::new(std::env::current_exe().unwrap())
        .arg(scenario)
        .env("RACECHECK", "1")
        .env_remove("RACECHECK_OPTIONS")
        .output()
        .unwrap()
}

/// Runs `scenario` and checks the report: status 2, and each thread named
/// with its blocked operation and the place it said it blocks at.
fn expect_deadlock(scenario: &str, threads: &[(&str, &str)]) {
    let out = child(scenario);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{scenario}: status\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.starts_with("fatal error: all threads are asleep - deadlock!\n"), "{stderr}");
    for (who, op) in threads {
        let place = stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{who} blocks at ")))
            .unwrap_or_else(|| panic!("{who} did not say where it blocks:\n{stdout}"));
        let header = format!("({who}) [{op}]:\n  {place}:");
        assert!(stderr.contains(&header), "{scenario}: no `{header}` in:\n{stderr}");
    }
    assert_eq!(stderr.matches("\nthread ").count(), threads.len(), "{scenario}: threads in\n{stderr}");
    println!("{scenario}: reported with status 2, every thread named with its place");
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("deadlock") => return deadlock(),
        Some("mutex") => return mutex(),
        Some("outside") => return outside(),
        Some("timed") => return timed(),
        Some("select") => return select(),
        Some("rwlock") => return rwlock(),
        Some("scope") => return scope(),
        _ => {}
    }

    expect_deadlock("deadlock", &[("main", "join"), ("alice", "chan receive"), ("bob", "chan receive")]);
    expect_deadlock("mutex", &[("main", "mutex lock"), ("holder", "chan receive")]);
    expect_deadlock("select", &[("main", "join"), ("picker", "select")]);
    expect_deadlock("rwlock", &[("main", "rwlock read"), ("writer", "chan receive")]);
    expect_deadlock("scope", &[("main", "scope join"), ("scoped", "chan receive")]);

    for scenario in ["outside", "timed"] {
        let out = child(scenario);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{scenario}: status\n{stderr}");
        assert!(!stderr.contains("fatal error"), "{scenario}: false report:\n{stderr}");
        println!("{scenario}: no false report");
    }
}
