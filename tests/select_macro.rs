//! `select!` and `select_biased!`: every arm kind on both flavors and
//! mixed, the fairness of `select!`, the order of `select_biased!`.

use std::thread;
use std::time::{Duration, Instant};

use chan::{select, select_biased, Receiver, RecvError, SendError, Sender};

type Pair = (Sender<i32>, Receiver<i32>);

fn both(cap: usize) -> [Pair; 2] {
    [chan::bounded(cap), chan::hchan::bounded(cap)]
}

#[test]
fn recv_arm_takes_a_ready_message() {
    for cap in [0, 1, 4] {
        for (s, r) in both(cap) {
            let (_s2, idle) = chan::hchan::bounded::<i32>(0);
            let h = thread::spawn(move || s.send(7));
            let got = select! {
                recv(idle) -> _ => panic!("idle channel fired"),
                recv(r) -> msg => msg,
            };
            assert_eq!(got, Ok(7));
            h.join().unwrap().unwrap();
        }
    }
}

#[test]
fn default_runs_when_nothing_is_ready() {
    for cap in [0, 1] {
        for (s, r) in both(cap) {
            if cap > 0 {
                s.send(0).unwrap(); // now full: the send arm cannot go
            }
            let ran_default = select! {
                recv(chan::never::<i32>()) -> _ => panic!("never fired"),
                send(s, 1) -> _ => panic!("send went on a full channel"),
                default => true,
            };
            assert!(ran_default);
            if cap > 0 {
                assert_eq!(r.try_recv(), Ok(0));
            }
            let got = select! {
                recv(r) -> m => Some(m),
                default => None,
            };
            assert_eq!(got, None);
        }
    }
}

#[test]
fn default_with_timeout_waits_then_runs() {
    for (_s, r) in both(0) {
        let start = Instant::now();
        let timed_out = select! {
            recv(r) -> _ => false,
            default(Duration::from_millis(30)) => true,
        };
        assert!(timed_out);
        assert!(start.elapsed() >= Duration::from_millis(30));
    }
}

#[test]
fn closed_recv_arm_fires_with_an_error() {
    for cap in [0, 2] {
        for (s, r) in both(cap) {
            let h = thread::spawn(move || {
                thread::sleep(Duration::from_millis(10));
                drop(s);
            });
            let got = select! {
                recv(r) -> m => m,
                default(Duration::from_secs(10)) => panic!("close did not wake the select"),
            };
            assert_eq!(got, Err(RecvError));
            h.join().unwrap();
        }
    }
}

#[test]
fn send_arm_to_a_closed_channel_returns_the_message() {
    for (s, r) in both(0) {
        drop(r);
        let res = select! {
            send(s, 5) -> res => res,
        };
        assert_eq!(res, Err(SendError(5)));
    }
}

#[test]
fn unbuffered_send_arm_meets_a_plain_recv() {
    for (s, r) in both(0) {
        let h = thread::spawn(move || r.recv());
        let (_s2, idle) = chan::bounded::<i32>(0);
        select! {
            send(s, 11) -> res => res.unwrap(),
            recv(idle) -> _ => panic!("idle fired"),
        }
        assert_eq!(h.join().unwrap(), Ok(11));
    }
}

#[test]
fn unbuffered_send_arm_meets_another_threads_select() {
    // Per flavor: a select sending on one side, a select receiving on the
    // other, each with an idle case of the other flavor beside it.
    for (s, r) in both(0) {
        let receiver = thread::spawn(move || {
            let (_s2, idle) = chan::hchan::bounded::<i32>(0);
            select! {
                recv(idle) -> _ => panic!("idle fired"),
                recv(r) -> m => m,
            }
        });
        let (idle_s, _idle_r) = chan::bounded::<i32>(0);
        select! {
            send(idle_s, 0) -> _ => panic!("nobody receives on idle"),
            send(s, 3) -> res => res.unwrap(),
        }
        assert_eq!(receiver.join().unwrap(), Ok(3));
    }
}

#[test]
fn send_and_recv_arms_mixed_across_flavors() {
    let (a_s, a_r) = chan::bounded::<i32>(0);
    let (b_s, b_r) = chan::hchan::bounded::<i32>(0);
    // A relay: whatever arrives on `a` goes on to `b`, via two selects.
    let relay = thread::spawn(move || {
        for _ in 0..100 {
            let v = select! { recv(a_r) -> v => v.unwrap() };
            select! { send(b_s, v * 2) -> res => res.unwrap() }
        }
    });
    let mut sum = 0;
    for i in 0..100 {
        select! { send(a_s, i) -> res => res.unwrap() }
        sum += select! { recv(b_r) -> v => v.unwrap() };
    }
    relay.join().unwrap();
    assert_eq!(sum, 2 * (0..100).sum::<i32>());
}

#[test]
fn select_is_fair_between_two_ready_cases() {
    for (name, [x, y]) in [
        ("default", [chan::unbounded::<i32>(), chan::unbounded::<i32>()]),
        ("hchan", [chan::hchan::unbounded::<i32>(), chan::hchan::unbounded::<i32>()]),
        ("mixed", [chan::unbounded::<i32>(), chan::hchan::unbounded::<i32>()]),
    ] {
        let rounds = 10_000;
        let mut first = 0;
        for _ in 0..rounds {
            x.0.send(0).unwrap();
            y.0.send(1).unwrap();
            let got = select! {
                recv(x.1) -> m => m.unwrap(),
                recv(y.1) -> m => m.unwrap(),
            };
            if got == 0 {
                first += 1;
                y.1.try_recv().unwrap();
            } else {
                x.1.try_recv().unwrap();
            }
        }
        let share = first as f64 / rounds as f64;
        assert!((0.4..=0.6).contains(&share), "{name}: first case chosen {share:.3} of the time");
    }
}

#[test]
fn select_biased_always_takes_the_first_ready_case() {
    let (xs, xr) = chan::hchan::unbounded::<i32>();
    let (ys, yr) = chan::unbounded::<i32>();
    for _ in 0..1000 {
        xs.send(0).unwrap();
        ys.send(1).unwrap();
        let got = select_biased! {
            recv(xr) -> m => m.unwrap(),
            recv(yr) -> m => m.unwrap(),
        };
        assert_eq!(got, 0);
        assert_eq!(yr.try_recv(), Ok(1));
    }
}

#[test]
fn handles_are_evaluated_once_and_temporaries_live_through_the_select() {
    let mut evaluated = 0;
    let (s, r) = chan::unbounded::<i32>();
    s.send(1).unwrap();
    let mut handle = || {
        evaluated += 1;
        &r
    };
    select! {
        recv(handle()) -> m => assert_eq!(m, Ok(1)),
        recv(chan::after(Duration::from_secs(10))) -> _ => panic!("timer fired"),
    }
    assert_eq!(evaluated, 1);
}

#[test]
fn arm_bodies_may_break_out_of_a_loop_and_blocks_need_no_comma() {
    let (s, r) = chan::bounded::<i32>(4);
    for i in 0..3 {
        s.send(i).unwrap();
    }
    drop(s);
    let mut got = Vec::new();
    loop {
        select! {
            recv(r) -> m => {
                match m {
                    Ok(v) => got.push(v),
                    Err(_) => break,
                }
            }
            default(Duration::from_secs(10)) => panic!("stuck")
        }
    }
    assert_eq!(got, [0, 1, 2]);
}

#[test]
fn one_select_may_send_and_receive_on_the_same_unbuffered_channel() {
    // Go allows it; the two cases can never meet each other, only peers.
    for (s, r) in both(0) {
        let peer_s = s.clone();
        let h = thread::spawn(move || peer_s.send(1));
        let got = select! {
            send(s, 2) -> _ => None,
            recv(r) -> m => Some(m),
        };
        // The only other thread sends, so only our receive can go.
        assert_eq!(got, Some(Ok(1)));
        h.join().unwrap().unwrap();
    }
}
