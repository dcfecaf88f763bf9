//! Go's deadlock report: every thread is asleep in a channel operation.
//!
//! ```text
//! RACECHECK=1 cargo run --example deadlock             # reported, exit 2
//! RACECHECK=1 cargo run --example deadlock -- outside  # no report, exit 0
//! ```
//!
//! Two workers each wait to receive from the other before sending, and
//! `main` waits to join them: nobody can ever move. With `RACECHECK=1`
//! the detector prints, as Go does,
//!
//! ```text
//! fatal error: all threads are asleep - deadlock!
//!
//! thread T1 (main) [join]:
//!   examples/deadlock.rs:...
//! thread T2 (ping) [chan receive]:
//!   examples/deadlock.rs:...
//! ...
//! ```
//!
//! and exits with status 2. Without it, the program hangs, as the Go
//! program would without its runtime's check.
//!
//! `outside` runs a program that only *looks* stuck to racecheck: `main`
//! waits on a channel that a plain `std::thread` (which racecheck does not
//! know) fills after a while. The detector counts that thread as running,
//! so it reports nothing, and the program ends normally.

use std::time::Duration;

use racecheck::thread;

fn deadlock() {
    let (to_ping, ping_inbox) = chan::bounded::<u32>(0);
    let (to_pong, pong_inbox) = chan::hchan::bounded::<u32>(0);
    let ping = thread::Builder::new()
        .name("ping".into())
        .spawn(move || {
            let ball = pong_inbox.recv().expect("a ball"); // waits for pong
            to_ping.send(ball + 1).expect("pong is there");
        })
        .expect("spawn ping");
    let pong = thread::Builder::new()
        .name("pong".into())
        .spawn(move || {
            let ball = ping_inbox.recv().expect("a ball"); // waits for ping
            to_pong.send(ball + 1).expect("ping is there");
        })
        .expect("spawn pong");
    ping.join().expect("ping panicked");
    pong.join().expect("pong panicked");
}

fn outside() {
    let (tx, rx) = chan::bounded::<&str>(0);
    let helper = std::thread::spawn(move || {
        // Longer than the detector needs to make up its mind.
        std::thread::sleep(Duration::from_millis(800));
        tx.send("done").expect("main is waiting");
    });
    println!("{}", rx.recv().expect("the helper sends"));
    helper.join().expect("helper panicked");
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("outside") => outside(),
        _ => deadlock(),
    }
}
