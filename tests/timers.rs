//! `after`, `at`, `tick` and `never`, alone and inside selects.

use std::time::{Duration, Instant};

use chan::{select, Select, TryRecvError};

const MS: Duration = Duration::from_millis(1);

#[test]
fn after_delivers_once_at_the_deadline_and_stays_open() {
    let start = Instant::now();
    let r = chan::after(20 * MS);
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(r.capacity(), Some(1));
    let due = r.recv().unwrap();
    assert!(due >= start + 20 * MS);
    assert!(Instant::now() >= due);
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
    assert!(!r.is_closed());
    assert!(r.recv_timeout(5 * MS).is_err());
}

#[test]
fn at_in_the_past_is_ready_at_once() {
    let when = Instant::now();
    let r = chan::at(when);
    assert_eq!(r.len(), 1);
    assert_eq!(r.try_recv(), Ok(when));
    assert_eq!(r.len(), 0);
}

#[test]
fn tick_delivers_periodically_and_does_not_queue() {
    let r = chan::tick(20 * MS);
    let a = r.recv().unwrap();
    let b = r.recv().unwrap();
    assert!(b >= a + 20 * MS);
    std::thread::sleep(100 * MS);
    // Several periods passed, but only one tick waits (the next is due a
    // full period after this one is taken).
    assert!(r.try_recv().is_ok());
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
}

/// crossbeam-channel's schedule: a blocked receiver claims its tick before
/// sleeping, so a receiver that keeps up sees exact periods; a late one gets
/// the tick that was due, and the next comes a full period after it was
/// taken (the missed ones are dropped).
#[test]
fn tick_keeps_the_period_and_drops_missed_ticks() {
    let period = 150 * MS;
    let r = chan::tick(period);
    let first = r.recv().unwrap();
    std::thread::sleep(5 * period);
    let taken = Instant::now();
    // Late: the tick that was due one period after the first, at once.
    let late = r.recv().unwrap();
    assert_eq!(late, first + period, "a prompt receiver's next tick is exactly one period later");
    assert!(taken.elapsed() < period, "a tick that is due is delivered at once");
    // The ones missed during the sleep are gone: the next is a period away.
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
    let next = r.recv().unwrap();
    assert!(next >= taken + period, "the tick after a late one is a full period after it was taken");
    assert!(next < taken + 2 * period + 100 * MS);
}

#[test]
fn never_never_delivers() {
    let r = chan::never::<String>();
    assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
    let start = Instant::now();
    assert!(r.recv_timeout(10 * MS).is_err());
    assert!(start.elapsed() >= 10 * MS);
    assert!(!r.is_closed());
}

#[test]
fn a_select_wakes_for_a_timer_case() {
    let (_s, r) = chan::hchan::bounded::<i32>(0);
    let (_s2, r2) = chan::bounded::<i32>(0);
    let start = Instant::now();
    let fired = select! {
        recv(r) -> _ => false,
        recv(r2) -> _ => false,
        recv(chan::after(20 * MS)) -> t => t.unwrap() >= start + 20 * MS,
    };
    assert!(fired);
    assert!(start.elapsed() >= 20 * MS);
}

#[test]
fn tick_in_a_select_loop() {
    let ticker = chan::tick(2 * MS);
    let (_s, idle) = chan::hchan::bounded::<i32>(0);
    let give_up = chan::after(Duration::from_secs(10));
    let mut ticks = Vec::new();
    while ticks.len() < 5 {
        select! {
            recv(ticker) -> t => ticks.push(t.unwrap()),
            recv(idle) -> _ => unreachable!(),
            recv(give_up) -> _ => panic!("only {} ticks in 10 s at a 2 ms period", ticks.len()),
        }
    }
    assert!(ticks.windows(2).all(|w| w[1] >= w[0] + 2 * MS), "ticks closer than the period");
}

#[test]
fn ready_waits_for_a_timer() {
    let r = chan::after(10 * MS);
    let never = chan::never::<()>();
    let mut sel = Select::new();
    sel.recv(&never);
    let i = sel.recv(&r);
    assert_eq!(sel.ready(), i);
    assert!(r.try_recv().is_ok());
}
