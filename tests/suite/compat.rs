// crossbeam-channel's documented guarantees, run against one flavor: the
// including file defines a module `flavor` exposing `bounded` and
// `unbounded`. `tests/compat.rs` runs them on the default flavor and
// `tests/compat_hchan.rs` on `chan::hchan`; the guarantees that do not
// depend on a flavor are in `tests/compat.rs` alone.

use std::thread;

use chan::{Receiver, Sender, TryRecvError};

/// A fresh channel of each capacity class (0, 1, n, unbounded).
fn each_class<T>() -> Vec<(Sender<T>, Receiver<T>)> {
    vec![flavor::bounded(0), flavor::bounded(1), flavor::bounded(16), flavor::unbounded()]
}

#[test]
fn large_messages_move_without_overflowing_the_stack() {
    // Built in a debug build on a thread with a 2 MiB stack (the default
    // for spawned threads): a 1 MiB message must not be copied onto the
    // stack of the channel's own code more than once.
    for size in [32 * 1024, 1024 * 1024] {
        thread::Builder::new()
            .stack_size(4 * 1024 * 1024)
            .spawn(move || {
                let (s, r) = flavor::unbounded::<Box<[u8]>>();
                s.send(vec![7u8; size].into_boxed_slice()).unwrap();
                assert_eq!(r.recv().unwrap().len(), size);
            })
            .unwrap()
            .join()
            .unwrap();
    }
    #[derive(Clone, Copy)]
    struct Big<const N: usize>([u8; N]);
    fn roundtrip<const N: usize>(s: &Sender<Big<N>>, r: &Receiver<Big<N>>) {
        s.try_send(Big([3; N])).expect("room for one message");
        assert_eq!(r.try_recv().ok().map(|b| b.0[N - 1]), Some(3));
    }
    // The messages themselves, inline: 32 KiB on the default 2 MiB stack.
    thread::spawn(|| {
        let (s, r) = flavor::unbounded::<Big<{ 32 * 1024 }>>();
        roundtrip(&s, &r);
        let (s, r) = flavor::bounded::<Big<{ 32 * 1024 }>>(4);
        roundtrip(&s, &r);
    })
    .join()
    .unwrap();
    // 1 MiB inline. A debug build keeps copies of a message by value in
    // every frame it passes through (about 20 MiB from `try_send` down),
    // so the thread gets 64 MiB; a block of 31 such messages built on the
    // stack, and moved into its box from there, would still overflow it.
    thread::Builder::new()
        .stack_size(64 * 1024 * 1024)
        .spawn(|| {
            let (s, r) = flavor::unbounded::<Big<{ 1024 * 1024 }>>();
            roundtrip(&s, &r);
            let (s, r) = flavor::bounded::<Big<{ 1024 * 1024 }>>(2);
            roundtrip(&s, &r);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn same_channel_is_identity_of_the_channel() {
    for (s, r) in each_class::<i32>() {
        let s2 = s.clone();
        let r2 = r.clone();
        assert!(s.same_channel(&s2));
        assert!(r.same_channel(&r2));
        let (s3, r3) = flavor::bounded::<i32>(1);
        assert!(!s.same_channel(&s3));
        assert!(!r.same_channel(&r3));
        assert!(!r.same_channel(&chan::never()));
    }
}

#[test]
fn try_recv_on_an_empty_open_channel_is_empty() {
    for (_s, r) in each_class::<i32>() {
        assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
    }
}

/// Runs `f` on `threads` threads at once and waits for all of them.
fn on_threads(threads: usize, f: impl Fn() + Sync) {
    thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(&f);
        }
    });
}

#[test]
fn try_recv_right_after_a_send_never_finds_the_channel_empty() {
    // crossbeam's `linearizable` tests: each thread's own message is in
    // the channel when its `try_recv` runs, so "empty" cannot be right,
    // whatever the other threads are in the middle of.
    const THREADS: usize = 4;
    const COUNT: usize = 25_000;
    for (s, r) in [flavor::bounded(THREADS), flavor::unbounded()] {
        on_threads(THREADS, || {
            for i in 0..COUNT {
                s.send(i).unwrap();
                r.try_recv().unwrap();
            }
        });
        assert!(r.is_empty());
    }
}

#[test]
fn polling_receivers_lose_and_duplicate_nothing_when_they_pass_slow_senders() {
    // Large messages keep each sender's write going for a while, so the
    // receivers, polling with `try_recv`, often find a slot claimed but
    // unwritten with a later message ready, and pass it: the late sender
    // then sends again. Every message must still arrive exactly once, in
    // each sender's order.
    const SENDERS: usize = 2;
    const RECEIVERS: usize = 2;
    const PER_SENDER: usize = 4_000;
    type Msg = (usize, usize, [u64; 256]);
    for (s, r) in [flavor::bounded::<Msg>(8), flavor::unbounded::<Msg>()] {
        let got: Vec<Vec<(usize, usize)>> = thread::scope(|scope| {
            for id in 0..SENDERS {
                let s = s.clone();
                scope.spawn(move || {
                    for seq in 0..PER_SENDER {
                        s.send((id, seq, [seq as u64; 256])).unwrap();
                    }
                });
            }
            drop(s);
            let receivers: Vec<_> = (0..RECEIVERS)
                .map(|_| {
                    let r = r.clone();
                    scope.spawn(move || {
                        let mut got = Vec::new();
                        loop {
                            match r.try_recv() {
                                Ok((id, seq, body)) => {
                                    assert!(body.iter().all(|&w| w == seq as u64), "a torn message");
                                    got.push((id, seq));
                                }
                                Err(TryRecvError::Empty) => std::hint::spin_loop(),
                                Err(TryRecvError::Disconnected) => return got,
                            }
                        }
                    })
                })
                .collect();
            receivers.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut seen = vec![vec![false; PER_SENDER]; SENDERS];
        for mine in &got {
            let mut last = [None; SENDERS];
            for &(id, seq) in mine {
                assert!(last[id] < Some(seq), "sender {id}'s messages out of order");
                last[id] = Some(seq);
                assert!(!seen[id][seq], "message {seq} of sender {id} received twice");
                seen[id][seq] = true;
            }
        }
        assert!(seen.iter().flatten().all(|&x| x), "a message was lost");
    }
}

#[test]
fn select_default_right_after_a_send_never_takes_the_default() {
    // crossbeam's `linearizable_try`/`linearizable_default`/`_timeout`:
    // two threads in lock-step through rendezvous channels; the one that
    // selects has sent on `s1` itself, and the other, if it took that
    // message, sent on `s2` first, so some case can always go.
    const COUNT: usize = 20_000;
    for (mode, unbounded) in [(0, false), (0, true), (1, false), (1, true), (2, false), (2, true)] {
        let (start_s, start_r) = flavor::bounded::<()>(0);
        let (end_s, end_r) = flavor::bounded::<()>(0);
        let ((s1, r1), (s2, r2)) = if unbounded {
            (flavor::unbounded::<i32>(), flavor::unbounded::<i32>())
        } else {
            (flavor::bounded::<i32>(1), flavor::bounded::<i32>(1))
        };
        thread::scope(|scope| {
            scope.spawn(|| {
                for _ in 0..COUNT {
                    start_s.send(()).unwrap();
                    s1.send(1).unwrap();
                    let got = match mode {
                        0 => {
                            let mut sel = chan::Select::new();
                            let a = sel.recv(&r1);
                            let b = sel.recv(&r2);
                            let op = sel.try_select().expect("a case can go");
                            match op.index() {
                                i if i == a => op.recv(&r1),
                                i if i == b => op.recv(&r2),
                                _ => unreachable!(),
                            }
                        }
                        1 => {
                            let mut sel = chan::Select::new();
                            let a = sel.recv(&r1);
                            let b = sel.recv(&r2);
                            let op = sel.select_timeout(std::time::Duration::ZERO).expect("a case can go");
                            match op.index() {
                                i if i == a => op.recv(&r1),
                                i if i == b => op.recv(&r2),
                                _ => unreachable!(),
                            }
                        }
                        _ => chan::select! {
                            recv(r1) -> m => m,
                            recv(r2) -> m => m,
                            default => panic!("both channels looked empty"),
                        },
                    };
                    assert_eq!(got, Ok(1));
                    end_s.send(()).unwrap();
                    let _ = r2.try_recv();
                }
            });
            for _ in 0..COUNT {
                start_r.recv().unwrap();
                s2.send(1).unwrap();
                let _ = r1.try_recv();
                end_r.recv().unwrap();
            }
        });
    }
}

#[test]
fn ready_means_a_receive_would_succeed_on_every_capacity() {
    // A receiver waits with `ready` on three channels, then receives from
    // the one reported; the sender offers on all three with `Select::send`
    // (the buffered two only when empty). Each side must find the other,
    // the rendezvous channel included.
    const COUNT: usize = 20_000;
    let (s1, r1) = flavor::unbounded::<usize>();
    let (s2, r2) = flavor::bounded::<usize>(1);
    let (s3, r3) = flavor::bounded::<usize>(0);
    thread::scope(|scope| {
        scope.spawn(|| {
            for i in 0..COUNT {
                let mut sel = chan::Select::new();
                let mut ops = [usize::MAX; 3];
                if s1.is_empty() {
                    ops[0] = sel.send(&s1);
                }
                if s2.is_empty() {
                    ops[1] = sel.send(&s2);
                }
                ops[2] = sel.send(&s3);
                let op = sel.select();
                match op.index() {
                    i0 if i0 == ops[0] => op.send(&s1, i).unwrap(),
                    i1 if i1 == ops[1] => op.send(&s2, i).unwrap(),
                    i2 if i2 == ops[2] => op.send(&s3, i).unwrap(),
                    _ => unreachable!(),
                }
            }
        });
        let mut got = Vec::with_capacity(COUNT);
        while got.len() < COUNT {
            let mut sel = chan::Select::new();
            let rs = [&r1, &r2, &r3];
            for r in rs {
                sel.recv(r);
            }
            let ready = sel.ready();
            loop {
                match rs[ready].try_recv() {
                    Ok(v) => {
                        got.push(v);
                        break;
                    }
                    Err(TryRecvError::Empty) => thread::yield_now(),
                    Err(TryRecvError::Disconnected) => unreachable!(),
                }
            }
        }
        got.sort_unstable();
        assert!(got.iter().copied().eq(0..COUNT), "every message once");
    });
}

#[test]
fn ready_and_try_recv_keep_pace_with_a_rendezvous_hand_shake() {
    // The lighter form: `ready` over two buffered channels, `try_recv` on
    // the one reported, then a rendezvous with the sender, round after
    // round.
    const ROUNDS: usize = 10_000;
    let (s1, r1) = flavor::unbounded::<usize>();
    let (s2, r2) = flavor::bounded::<usize>(5);
    let (hs, hr) = flavor::bounded::<()>(0);
    thread::scope(|scope| {
        scope.spawn(|| {
            for i in 0..ROUNDS {
                if i % 2 == 0 {
                    s1.send(i).unwrap();
                } else {
                    s2.send(i).unwrap();
                }
                hs.send(()).unwrap();
            }
        });
        for i in 0..ROUNDS {
            let mut sel = chan::Select::new();
            sel.recv(&r1);
            sel.recv(&r2);
            let ready = sel.ready();
            let got = if ready == 0 { r1.try_recv() } else { r2.try_recv() };
            assert_eq!(got, Ok(i));
            hr.recv().unwrap();
        }
    });
}

#[test]
fn a_send_arm_evaluates_its_message_only_when_chosen() {
    use std::cell::Cell;
    use std::collections::VecDeque;
    for (s, r) in each_class::<i32>() {
        let evaluated = Cell::new(0);
        let mut queue = VecDeque::from([1, 2, 3]);
        let message = |q: &mut VecDeque<i32>| {
            evaluated.set(evaluated.get() + 1);
            q.pop_front().unwrap()
        };
        // Nobody receives and nothing is buffered but the default can go:
        // for a full or rendezvous channel the send arm loses.
        if s.capacity() == Some(0) {
            chan::select! {
                send(s, message(&mut queue)) -> _ => panic!("no receiver waits"),
                default => {}
            }
            assert_eq!((evaluated.get(), queue.len()), (0, 3), "the losing arm's message was not made");
            continue;
        }
        while s.try_send(0).is_ok() && s.capacity().is_some() {}
        let (_other_s, other_r) = flavor::bounded::<i32>(1);
        _other_s.send(7).unwrap();
        if s.capacity().is_some() {
            // Full: the receive arm wins, and the popped item is not lost.
            chan::select! {
                send(s, message(&mut queue)) -> _ => panic!("the channel is full"),
                recv(other_r) -> m => assert_eq!(m, Ok(7)),
            }
            assert_eq!((evaluated.get(), queue.len()), (0, 3));
        }
        // Room (or unbounded): the send arm wins and evaluates once.
        while r.try_recv().is_ok() {}
        chan::select! {
            send(s, message(&mut queue)) -> res => assert_eq!(res, Ok(())),
        }
        assert_eq!((evaluated.get(), queue.len()), (1, 2));
        assert_eq!(r.try_recv(), Ok(1));
    }
}

#[test]
fn a_chosen_send_arm_on_a_rendezvous_channel_meets_its_receiver() {
    // The arm waits as a sender without a message; the receiver that pairs
    // with it gets the message the arm then makes.
    let (s, r) = flavor::bounded::<String>(0);
    let (_never_s, never_r) = flavor::bounded::<String>(0);
    thread::scope(|scope| {
        scope.spawn(|| {
            for i in 0..1_000 {
                chan::select! {
                    send(s, format!("m{i}")) -> res => res.unwrap(),
                    recv(never_r) -> _ => unreachable!(),
                }
            }
        });
        for i in 0..1_000 {
            // Half of them found by polling, half by a blocking receive.
            let got = if i % 2 == 0 {
                loop {
                    match r.try_recv() {
                        Ok(m) => break m,
                        Err(_) => thread::yield_now(),
                    }
                }
            } else {
                r.recv().unwrap()
            };
            assert_eq!(got, format!("m{i}"));
        }
    });
}

#[test]
fn selected_operation_send_never_blocks() {
    // A chosen `Select::send` holds what its message needs: even when
    // another thread fills the channel (or takes the waiting receiver)
    // before `SelectedOperation::send` runs, that send completes at once.
    for (s, r) in each_class::<i32>() {
        if s.capacity() == Some(0) {
            thread::scope(|scope| {
                let h = scope.spawn(|| r.recv());
                // Waits until the receiver is there.
                let mut sel = chan::Select::new();
                sel.send(&s);
                let op = sel.select();
                // The receiver is set aside for us: nobody else can take it.
                assert!(s.try_send(99).is_err());
                op.send(&s, 1).unwrap();
                assert_eq!(h.join().unwrap(), Ok(1));
            });
            continue;
        }
        let mut sel = chan::Select::new();
        sel.send(&s);
        let op = sel.select();
        // Fill whatever room is left.
        while s.try_send(0).is_ok() && s.capacity().is_some() {}
        op.send(&s, 1).unwrap();
        let got: Vec<i32> = r.try_iter().collect();
        assert!(got.contains(&1));
    }
}
