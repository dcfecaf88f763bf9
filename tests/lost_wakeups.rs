//! No lost wake-ups: every blocking operation here has a generous deadline,
//! so a waiter that a notifier left asleep shows up as a failed test
//! naming the configuration, not as a hung test run.
//!
//! The ring and the list notify without a fence after a claim and rely on
//! their waiters' conservative re-checks (docs/ring.md, section 4); loom
//! cannot check that (it models `SeqCst` accesses as `AcqRel`), so these
//! run the shipped protocol on real threads instead, on the capacities
//! where notifies and parks race the most (1 and 2), with plain
//! operations and with selects as the waiting side.

use std::thread;
use std::time::Duration;

use chan::{Receiver, RecvTimeoutError, SendTimeoutError, Sender};

/// Far longer than any hand-off takes, even on a loaded 2-core machine: a
/// timeout means a waiter slept through the peer's notification.
const PATIENCE: Duration = Duration::from_secs(20);

const MESSAGES: usize = if cfg!(debug_assertions) { 40_000 } else { 400_000 };

fn send(s: &Sender<usize>, v: usize, what: &str) {
    match s.send_timeout(v, PATIENCE) {
        Ok(()) => {}
        Err(SendTimeoutError::Timeout(_)) => panic!("{what}: a sender slept {PATIENCE:?} (lost wake-up)"),
        Err(SendTimeoutError::Disconnected(_)) => panic!("{what}: disconnected early"),
    }
}

fn recv(r: &Receiver<usize>, what: &str) -> Option<usize> {
    match r.recv_timeout(PATIENCE) {
        Ok(v) => Some(v),
        Err(RecvTimeoutError::Disconnected) => None,
        Err(RecvTimeoutError::Timeout) => panic!("{what}: a receiver slept {PATIENCE:?} (lost wake-up)"),
    }
}

/// `producers` threads send `MESSAGES` in all; `consumers` threads receive
/// until the channel closes; every message arrives once.
fn plain(cap: Option<usize>, producers: usize, consumers: usize) {
    plain_pinned(cap, &vec![None; producers], &vec![None; consumers]);
}

/// [`plain`] with a thread per entry of `producers` and of `consumers`,
/// each pinned to the CPU its entry names (unpinned for `None`).
fn plain_pinned(cap: Option<usize>, producers: &[Option<usize>], consumers: &[Option<usize>]) {
    let what = format!("{cap:?} {producers:?}:{consumers:?}");
    let (s, r) = match cap {
        Some(n) => chan::bounded(n),
        None => chan::unbounded(),
    };
    let per = MESSAGES / producers.len();
    let total: usize = thread::scope(|scope| {
        for (p, &cpu) in producers.iter().enumerate() {
            let s = s.clone();
            let what = &what;
            scope.spawn(move || {
                pin(cpu);
                (0..per).for_each(|i| send(&s, p * per + i, what))
            });
        }
        drop(s);
        let consumers: Vec<_> = consumers
            .iter()
            .map(|&cpu| {
                let r = r.clone();
                let what = &what;
                scope.spawn(move || {
                    pin(cpu);
                    let mut sum = 0usize;
                    while let Some(v) = recv(&r, what) {
                        sum += v;
                    }
                    sum
                })
            })
            .collect();
        consumers.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let n = per * producers.len();
    assert_eq!(total, n * (n - 1) / 2, "{what}: messages lost or duplicated");
}

/// Pins the calling thread to `cpu`, if given and the system agrees (the
/// test still runs, unpinned, where it does not).
fn pin(cpu: Option<usize>) {
    #[cfg(target_os = "linux")]
    if let Some(cpu) = cpu {
        // SAFETY: a zeroed cpu_set_t is a valid empty set, which CPU_SET
        // and sched_setaffinity only read and write.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cpu;
}

/// Threads that answer "may spinning help?" differently on one channel
/// (docs/ring.md, "On one CPU"): two producers pinned to one CPU take the
/// one-CPU path (yield, one active waiter per side), one unpinned producer
/// and a consumer pinned alone to another CPU spin, and one consumer is
/// unpinned. Each waiting protocol must still wake the other's waiters.
#[test]
fn mixed_affinity() {
    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    let (a, b) = (0, 1 % cpus);
    for cap in [Some(0), Some(1), Some(2), None] {
        plain_pinned(cap, &[Some(a), Some(a), None], &[Some(b), None]);
    }
}

#[test]
fn ring_capacity_one() {
    plain(Some(1), 1, 1);
    plain(Some(1), 2, 2);
    plain(Some(1), 4, 1);
}

#[test]
fn ring_capacity_two() {
    plain(Some(2), 1, 1);
    plain(Some(2), 2, 2);
    plain(Some(2), 1, 4);
}

#[test]
fn list() {
    plain(None, 1, 1);
    plain(None, 2, 2);
}

/// The waiting side is a select over two capacity-1 rings (its cases
/// watch the channels with the same conservative re-check), fed by one
/// sender each; then the senders select too, over both rings.
#[test]
fn selects_on_rings() {
    let (s1, r1) = chan::bounded::<usize>(1);
    let (s2, r2) = chan::bounded::<usize>(1);
    let per = MESSAGES / 4;
    let total: usize = thread::scope(|scope| {
        scope.spawn(move || (0..per).for_each(|i| send(&s1, i, "select recv, sender 1")));
        scope.spawn(move || (0..per).for_each(|i| send(&s2, per + i, "select recv, sender 2")));
        let mut sum = 0;
        let (mut open1, mut open2) = (true, true);
        while open1 || open2 {
            let mut sel = chan::Select::new();
            let i1 = open1.then(|| sel.recv(&r1));
            if open2 {
                sel.recv(&r2);
            }
            let op = sel.select_timeout(PATIENCE).expect("select recv: slept through a send (lost wake-up)");
            if Some(op.index()) == i1 {
                match op.recv(&r1) {
                    Ok(v) => sum += v,
                    Err(_) => open1 = false,
                }
            } else {
                match op.recv(&r2) {
                    Ok(v) => sum += v,
                    Err(_) => open2 = false,
                }
            }
        }
        sum
    });
    let n = 2 * per;
    assert_eq!(total, n * (n - 1) / 2, "select recv: messages lost or duplicated");

    let (s1, r1) = chan::bounded::<usize>(1);
    let (s2, r2) = chan::bounded::<usize>(1);
    let total: usize = thread::scope(|scope| {
        scope.spawn(move || {
            for i in 0..n {
                let mut sel = chan::Select::new();
                let a = sel.send(&s1);
                sel.send(&s2);
                let op = sel.select_timeout(PATIENCE).expect("select send: slept through a receive (lost wake-up)");
                let res = if op.index() == a { op.send(&s1, i) } else { op.send(&s2, i) };
                res.expect("receivers outlive the sender");
            }
        });
        let receivers: Vec<_> = [r1, r2]
            .into_iter()
            .map(|r| {
                scope.spawn(move || {
                    let mut sum = 0;
                    while let Some(v) = recv(&r, "select send, receiver") {
                        sum += v;
                    }
                    sum
                })
            })
            .collect();
        receivers.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(total, n * (n - 1) / 2, "select send: messages lost or duplicated");
}
