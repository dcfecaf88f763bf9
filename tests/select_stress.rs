//! Many threads selecting over the same channels of both flavors at once:
//! every message must arrive exactly once, and every thread must finish
//! (none left parked).

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use chan::{select, Receiver, Select, Sender};

const PER_SELECT_PRODUCER: u64 = 2_000;
const PER_PLAIN_PRODUCER: u64 = 1_000;

type Pair = (Sender<u64>, Receiver<u64>);

/// One channel of each kind: rendezvous and buffered, both flavors.
fn every_kind() -> Vec<Pair> {
    vec![
        chan::bounded(0),
        chan::hchan::bounded(0),
        chan::bounded(1),
        chan::hchan::bounded(2),
        chan::unbounded(),
        chan::hchan::unbounded(),
    ]
}

/// Mostly rendezvous, so that most operations park and are completed by a
/// peer rather than finding room.
fn mostly_rendezvous() -> Vec<Pair> {
    vec![
        chan::bounded(0),
        chan::hchan::bounded(0),
        chan::bounded(0),
        chan::hchan::bounded(0),
        chan::bounded(1),
        chan::hchan::bounded(1),
    ]
}

fn run(pairs: Vec<Pair>, select_producers: u64, select_consumers: usize) {
    let (senders, receivers): (Vec<_>, Vec<_>) = pairs.into_iter().unzip();
    let n = senders.len();
    let mut threads = Vec::new();
    let mut next_id = 0u64;

    // Producers that `select!` over a send to every channel.
    for _ in 0..select_producers {
        let s = senders.clone();
        let first = next_id;
        next_id += PER_SELECT_PRODUCER;
        threads.push(thread::spawn(move || {
            for id in first..first + PER_SELECT_PRODUCER {
                select! {
                    send(s[0], id) -> r => r.unwrap(),
                    send(s[1], id) -> r => r.unwrap(),
                    send(s[2], id) -> r => r.unwrap(),
                    send(s[3], id) -> r => r.unwrap(),
                    send(s[4], id) -> r => r.unwrap(),
                    send(s[5], id) -> r => r.unwrap(),
                }
            }
        }));
    }
    // A producer through the `Select` API, buffered channels only (its
    // sends complete after the select).
    {
        let s = senders.clone();
        let first = next_id;
        next_id += PER_PLAIN_PRODUCER;
        threads.push(thread::spawn(move || {
            let mut sel = Select::new();
            for s in &s[2..] {
                sel.send(s);
            }
            for id in first..first + PER_PLAIN_PRODUCER {
                let oper = sel.select();
                let i = oper.index();
                oper.send(&s[2 + i], id).unwrap();
            }
        }));
    }
    // A plain producer alternating over the two rendezvous channels.
    {
        let s = senders.clone();
        let first = next_id;
        next_id += PER_PLAIN_PRODUCER;
        threads.push(thread::spawn(move || {
            for id in first..first + PER_PLAIN_PRODUCER {
                s[(id % 2) as usize].send(id).unwrap();
            }
        }));
    }
    drop(senders);
    let total = next_id;

    let got = Arc::new(Mutex::new(Vec::with_capacity(total as usize)));
    // Consumers that select over every channel until all are closed.
    for _ in 0..select_consumers {
        let r = receivers.clone();
        let got = got.clone();
        threads.push(thread::spawn(move || {
            let mut mine = Vec::new();
            let mut sel = Select::new();
            for r in &r {
                sel.recv(r);
            }
            let mut open = r.len();
            while open > 0 {
                let oper = sel.select();
                let i = oper.index();
                match oper.recv(&r[i]) {
                    Ok(v) => mine.push(v),
                    Err(_) => {
                        sel.remove(i);
                        open -= 1;
                    }
                }
            }
            got.lock().unwrap().extend(mine);
        }));
    }
    // Plain consumers, one per rendezvous channel, which also meet the
    // selecting producers.
    for r in &receivers[..2] {
        let r = r.clone();
        let got = got.clone();
        threads.push(thread::spawn(move || {
            let mine: Vec<u64> = r.iter().collect();
            got.lock().unwrap().extend(mine);
        }));
    }
    drop(receivers);

    // Every thread must finish: a lost wake-up would leave one parked.
    let (done_s, done_r) = chan::unbounded();
    let count = threads.len();
    thread::spawn(move || {
        for t in threads {
            t.join().unwrap();
            done_s.send(()).unwrap();
        }
    });
    for _ in 0..count {
        done_r.recv_timeout(Duration::from_secs(60)).expect("a thread is stuck (lost wake-up?)");
    }

    let mut got = Arc::try_unwrap(got).unwrap().into_inner().unwrap();
    assert_eq!(got.len() as u64, total, "lost or duplicated messages ({} channels)", n);
    got.sort_unstable();
    assert!(got.iter().copied().eq(0..total), "a message arrived twice and another never");
}

#[test]
fn selecting_producers_and_consumers_over_every_kind() {
    run(every_kind(), 3, 3);
}

#[test]
fn selecting_producers_and_consumers_over_rendezvous_channels() {
    run(mostly_rendezvous(), 3, 3);
}

#[test]
fn one_selecting_consumer_many_selecting_producers() {
    run(mostly_rendezvous(), 4, 1);
}

/// hchan-only selects lock all their channels at once (Go's `lockorder`):
/// selects that name the same channels in opposite orders, on both sides,
/// must neither deadlock nor lose a message.
#[test]
fn hchan_only_selects_in_opposite_orders() {
    const PER_PRODUCER: u64 = 3_000;
    let pairs: Vec<Pair> = vec![chan::hchan::bounded(0), chan::hchan::bounded(0), chan::hchan::bounded(1)];
    let (s, r): (Vec<_>, Vec<_>) = pairs.into_iter().unzip();
    let mut threads = Vec::new();
    for (k, reversed) in [(0u64, false), (1, true)] {
        let s = s.clone();
        threads.push(thread::spawn(move || {
            let (a, b, c) = if reversed { (&s[2], &s[1], &s[0]) } else { (&s[0], &s[1], &s[2]) };
            for id in k * PER_PRODUCER..(k + 1) * PER_PRODUCER {
                select! {
                    send(a, id) -> res => res.unwrap(),
                    send(b, id) -> res => res.unwrap(),
                    send(c, id) -> res => res.unwrap(),
                }
            }
        }));
    }
    drop(s);
    let got = Arc::new(Mutex::new(Vec::new()));
    for reversed in [false, true] {
        let r = r.clone();
        let got = got.clone();
        threads.push(thread::spawn(move || {
            let order: Vec<usize> = if reversed { vec![2, 1, 0] } else { vec![0, 1, 2] };
            let mut sel = Select::new();
            for &i in &order {
                sel.recv(&r[i]);
            }
            let mut mine = Vec::new();
            let mut open = 3;
            while open > 0 {
                let oper = sel.select();
                let index = oper.index();
                match oper.recv(&r[order[index]]) {
                    Ok(v) => mine.push(v),
                    Err(_) => {
                        sel.remove(index);
                        open -= 1;
                    }
                }
            }
            got.lock().unwrap().extend(mine);
        }));
    }
    drop(r);
    let (done_s, done_r) = chan::unbounded();
    let count = threads.len();
    thread::spawn(move || {
        for t in threads {
            t.join().unwrap();
            done_s.send(()).unwrap();
        }
    });
    for _ in 0..count {
        done_r.recv_timeout(Duration::from_secs(60)).expect("a thread is stuck (deadlock or lost wake-up?)");
    }
    let mut got = Arc::try_unwrap(got).unwrap().into_inner().unwrap();
    got.sort_unstable();
    assert!(got.iter().copied().eq(0..2 * PER_PRODUCER), "lost or duplicated: {} messages", got.len());
}

/// crossbeam's `select_both` as a test: four threads send with
/// `Select::send` over four channels of one kind, four threads receive
/// with `Select` over the same four. On a buffered ring a receiver often
/// finds the slot at `head` reserved by a chosen send with later messages
/// ready behind it, and passes it; every message must still arrive once.
fn select_both(make: fn() -> Pair, per: u64) {
    const WIDTH: u64 = 4;
    let (ss, rs): (Vec<_>, Vec<_>) = (0..WIDTH).map(|_| make()).unzip();
    let got = Arc::new(Mutex::new(Vec::new()));
    let mut threads = Vec::new();
    for t in 0..WIDTH {
        let ss = ss.clone();
        threads.push(thread::spawn(move || {
            for id in t * per..(t + 1) * per {
                let mut sel = Select::new();
                for s in &ss {
                    sel.send(s);
                }
                let op = sel.select();
                let i = op.index();
                op.send(&ss[i], id).unwrap();
            }
        }));
    }
    for _ in 0..WIDTH {
        let rs = rs.clone();
        let got = got.clone();
        threads.push(thread::spawn(move || {
            let mut mine = Vec::new();
            for _ in 0..per {
                let mut sel = Select::new();
                for r in &rs {
                    sel.recv(r);
                }
                let op = sel.select_timeout(Duration::from_secs(30)).expect("a message was lost");
                let i = op.index();
                mine.push(op.recv(&rs[i]).unwrap());
            }
            got.lock().unwrap().extend(mine);
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    let mut got = Arc::try_unwrap(got).unwrap().into_inner().unwrap();
    got.sort_unstable();
    assert!(got.iter().copied().eq(0..WIDTH * per), "every message exactly once");
}

#[test]
fn selecting_senders_and_receivers_on_the_same_channels() {
    // CI runs this file in release too, where the races are tighter.
    let rounds = if cfg!(debug_assertions) { 1 } else { 5 };
    for _ in 0..rounds {
        select_both(|| chan::bounded(1024), 50_000);
    }
    select_both(|| chan::bounded(1), 5_000);
    select_both(|| chan::bounded(0), 2_000);
    select_both(chan::unbounded, 20_000);
    select_both(|| chan::hchan::bounded(1024), 5_000);
    select_both(|| chan::hchan::bounded(1), 2_000);
    select_both(|| chan::hchan::bounded(0), 1_000);
    select_both(chan::hchan::unbounded, 5_000);
}
