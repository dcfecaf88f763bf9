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
