//! The libraries and scenarios shared by the `compare` and `scenarios`
//! benches, so both measure exactly the same code.
//!
//! The scenarios are those of crossbeam-channel's benchmark suite: `seq`
//! (one thread fills the channel up to its capacity and drains it, again
//! and again), `spsc` (1 sender, 1 receiver), `mpsc` ([`THREADS`] senders,
//! 1 receiver), `mpmc` ([`THREADS`] senders, [`THREADS`] receivers),
//! `select_rx` ([`THREADS`] channels, each with its own sender thread; one
//! receiver selects over all of them) and `select_both` ([`THREADS`]
//! channels; [`THREADS`] threads select a send over all of them while
//! [`THREADS`] threads select a receive over all of them). Each selecting
//! operation builds its select afresh, as a program looping over `select!`
//! does.
//!
//! A scenario a library cannot express is `None`: `std::sync::mpsc` has no
//! MPMC receiver, `std::sync::mpsc` and kanal have no select, flume's
//! select hangs in `select_both` (see `flume_select::BOTH_SIDES`), and a
//! rendezvous channel (`bounded(0)`)
//! cannot be filled by the one thread of `seq`.

use std::thread;
use std::time::{Duration, Instant};

/// Threads per side in `mpsc`, `mpmc`, and the select scenarios; also the
/// number of channels a select covers. crossbeam-channel's suite uses 4;
/// `COMPARE_THREADS` changes it (for a many-core machine).
pub const THREADS: usize = 4;

/// [`THREADS`], or `COMPARE_THREADS` if it is set to a positive number (a
/// bad value is reported and ignored).
pub fn threads() -> usize {
    static CHOSEN: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CHOSEN.get_or_init(|| match std::env::var("COMPARE_THREADS") {
        Ok(v) => match v.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("COMPARE_THREADS={v:?} is not a positive number; using {THREADS}");
                THREADS
            }
        },
        Err(_) => THREADS,
    })
}
/// The capacity of `bounded(N)`.
pub const BOUNDED_N: usize = 1024;

/// A select over several channels of one library: a send of the value on
/// whichever sender is ready first, and a receive from whichever receiver
/// is ready first.
pub struct SelectOps<L: Lib> {
    pub send: fn(&[L::S], usize),
    pub recv: fn(&[L::R]) -> usize,
    /// Whether several selecting senders and several selecting receivers
    /// can share channels (`select_both`); false where the library's select
    /// is known to hang there, so the scenario is left out.
    pub both_sides: bool,
}

// By hand: a derive would ask `L: Copy`, and the fields are plain function
// pointers whatever `L` is.
impl<L: Lib> Clone for SelectOps<L> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<L: Lib> Copy for SelectOps<L> {}

/// One channel library under test.
pub trait Lib: Sized {
    const NAME: &'static str;
    /// The library's select, or `None` where it has none.
    const SELECT: Option<SelectOps<Self>>;
    type S: Clone + Send + 'static;
    type R: Send + 'static;
    fn make(cap: Option<usize>) -> (Self::S, Self::R);
    fn send(s: &Self::S, v: usize);
    fn recv(r: &Self::R) -> usize;
    /// A second receiver on the same channel, if the library has MPMC.
    fn clone_rx(r: &Self::R) -> Option<Self::R>;
}

macro_rules! lib {
    ($ty:ident, $name:expr, $bounded:path, $unbounded:path, $s:ty, $r:ty, $select:expr) => {
        pub struct $ty;
        impl Lib for $ty {
            const NAME: &'static str = $name;
            const SELECT: Option<SelectOps<Self>> = $select;
            type S = $s;
            type R = $r;
            fn make(cap: Option<usize>) -> (Self::S, Self::R) {
                match cap {
                    Some(n) => $bounded(n),
                    None => $unbounded(),
                }
            }
            fn send(s: &Self::S, v: usize) {
                s.send(v).unwrap();
            }
            fn recv(r: &Self::R) -> usize {
                r.recv().unwrap()
            }
            fn clone_rx(r: &Self::R) -> Option<Self::R> {
                Some(r.clone())
            }
        }
    };
}

/// Select functions for a library with crossbeam-channel's `Select` API
/// (`Select::new`, `send`/`recv` returning the operation's index, `select`,
/// then completing the selected operation with the same handle).
macro_rules! select_like_crossbeam {
    ($mod:ident, $select:path, $sender:ty, $receiver:ty) => {
        mod $mod {
            pub fn send(ss: &[$sender], v: usize) {
                let mut sel = <$select>::new();
                for s in ss {
                    sel.send(s);
                }
                let oper = sel.select();
                let i = oper.index();
                oper.send(&ss[i], v).unwrap();
            }
            pub fn recv(rs: &[$receiver]) -> usize {
                let mut sel = <$select>::new();
                for r in rs {
                    sel.recv(r);
                }
                let oper = sel.select();
                let i = oper.index();
                oper.recv(&rs[i]).unwrap()
            }
        }
    };
}

select_like_crossbeam!(chan_select, chan::Select, chan::Sender<usize>, chan::Receiver<usize>);
select_like_crossbeam!(
    crossbeam_select,
    crossbeam_channel::Select,
    crossbeam_channel::Sender<usize>,
    crossbeam_channel::Receiver<usize>
);

/// flume's `Selector` is a builder consumed by `wait`, with a closure per
/// operation that maps its result to the select's value.
mod flume_select {
    /// Four threads selecting sends and four selecting receives over the
    /// same four channels hang in `Selector::wait` (flume 0.12): within a
    /// few thousand messages on `bounded(0)` and `bounded(1)`; on
    /// `bounded(1024)` after every sender had finished, with two receivers
    /// parked and messages left in the channels. A selector is only
    /// notified and takes the message on a later try (zesterer/flume#44,
    /// #135), so `select_both` leaves flume out.
    pub const BOTH_SIDES: bool = false;

    pub fn send(ss: &[flume::Sender<usize>], v: usize) {
        ss.iter().fold(flume::Selector::new(), |sel, s| sel.send(s, v, |res| res.unwrap())).wait()
    }
    pub fn recv(rs: &[flume::Receiver<usize>]) -> usize {
        rs.iter().fold(flume::Selector::new(), |sel, r| sel.recv(r, |res| res.unwrap())).wait()
    }
}

lib!(
    Chan,
    "chan",
    chan::bounded,
    chan::unbounded,
    chan::Sender<usize>,
    chan::Receiver<usize>,
    Some(SelectOps { send: chan_select::send, recv: chan_select::recv, both_sides: true })
);
lib!(
    Hchan,
    "chan::hchan",
    chan::hchan::bounded,
    chan::hchan::unbounded,
    chan::Sender<usize>,
    chan::Receiver<usize>,
    Some(SelectOps { send: chan_select::send, recv: chan_select::recv, both_sides: true })
);
lib!(
    Crossbeam,
    "crossbeam",
    crossbeam_channel::bounded,
    crossbeam_channel::unbounded,
    crossbeam_channel::Sender<usize>,
    crossbeam_channel::Receiver<usize>,
    Some(SelectOps { send: crossbeam_select::send, recv: crossbeam_select::recv, both_sides: true })
);
lib!(
    Flume,
    "flume",
    flume::bounded,
    flume::unbounded,
    flume::Sender<usize>,
    flume::Receiver<usize>,
    Some(SelectOps { send: flume_select::send, recv: flume_select::recv, both_sides: flume_select::BOTH_SIDES })
);
lib!(Kanal, "kanal", kanal::bounded, kanal::unbounded, kanal::Sender<usize>, kanal::Receiver<usize>, None);

/// `std::sync::mpsc`: two sender types, no MPMC, no select.
pub struct Std;

#[derive(Clone)]
pub enum StdSender {
    Sync(std::sync::mpsc::SyncSender<usize>),
    Async(std::sync::mpsc::Sender<usize>),
}

impl Lib for Std {
    const NAME: &'static str = "std::mpsc";
    const SELECT: Option<SelectOps<Self>> = None;
    type S = StdSender;
    type R = std::sync::mpsc::Receiver<usize>;
    fn make(cap: Option<usize>) -> (Self::S, Self::R) {
        match cap {
            Some(n) => {
                let (s, r) = std::sync::mpsc::sync_channel(n);
                (StdSender::Sync(s), r)
            }
            None => {
                let (s, r) = std::sync::mpsc::channel();
                (StdSender::Async(s), r)
            }
        }
    }
    fn send(s: &Self::S, v: usize) {
        match s {
            StdSender::Sync(s) => s.send(v).unwrap(),
            StdSender::Async(s) => s.send(v).unwrap(),
        }
    }
    fn recv(r: &Self::R) -> usize {
        r.recv().unwrap()
    }
    fn clone_rx(_: &Self::R) -> Option<Self::R> {
        None
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Scenario {
    Seq,
    Spsc,
    Mpsc,
    Mpmc,
    SelectRx,
    SelectBoth,
}

pub const SCENARIOS: [Scenario; 6] =
    [Scenario::Seq, Scenario::Spsc, Scenario::Mpsc, Scenario::Mpmc, Scenario::SelectRx, Scenario::SelectBoth];
pub const CAPS: [Option<usize>; 4] = [Some(0), Some(1), Some(BOUNDED_N), None];

/// Pins the calling thread (and the threads it spawns later) to `cpu`;
/// false where the system refuses. For `compare`'s pinned child and
/// `hot`'s `HOT_PIN_APART`.
#[allow(dead_code)] // not every bench that includes this module pins
pub fn pin_to_cpu(cpu: usize) -> bool {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET and
    // sched_setaffinity only read and write that local set.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

pub fn scenario_name(s: Scenario) -> &'static str {
    match s {
        Scenario::Seq => "seq",
        Scenario::Spsc => "spsc",
        Scenario::Mpsc => "mpsc",
        Scenario::Mpmc => "mpmc",
        Scenario::SelectRx => "select_rx",
        Scenario::SelectBoth => "select_both",
    }
}

pub fn cap_name(cap: Option<usize>) -> String {
    match cap {
        Some(n) if n == BOUNDED_N => "bounded(N)".into(),
        Some(n) => format!("bounded({n})"),
        None => "unbounded".into(),
    }
}

/// Spawns `n` threads, each running `f` on its own clone of `state`.
fn spawn_n<T: Clone + Send + 'static>(
    n: usize,
    state: &T,
    f: impl Fn(T) + Clone + Send + 'static,
) -> Vec<thread::JoinHandle<()>> {
    (0..n)
        .map(|_| {
            let (state, f) = (state.clone(), f.clone());
            thread::spawn(move || f(state))
        })
        .collect()
}

fn join_all(handles: Vec<thread::JoinHandle<()>>) {
    for h in handles {
        h.join().unwrap();
    }
}

/// Whether `L` can run `scenario` on a channel of capacity `cap` (the rules
/// in this module's doc).
pub fn supports<L: Lib>(scenario: Scenario, cap: Option<usize>) -> bool {
    let a_receiver = || L::make(cap).1;
    match scenario {
        Scenario::Seq => cap != Some(0),
        Scenario::Spsc | Scenario::Mpsc => true,
        Scenario::Mpmc => L::clone_rx(&a_receiver()).is_some(),
        Scenario::SelectRx => L::SELECT.is_some(),
        Scenario::SelectBoth => L::SELECT.is_some_and(|sel| sel.both_sides) && L::clone_rx(&a_receiver()).is_some(),
    }
}

/// Runs one scenario over `messages` messages (rounded down to a multiple
/// of [`threads()`] where threads share them) and returns the time it took;
/// `None` where the library or capacity lacks the scenario.
pub fn run<L: Lib>(scenario: Scenario, cap: Option<usize>, messages: usize) -> Option<Duration> {
    if !supports::<L>(scenario, cap) {
        return None;
    }
    let width = threads();
    let per = messages / width;
    match scenario {
        Scenario::Seq => {
            // Fill up to the capacity, then drain (`supports` ruled out a
            // rendezvous channel, which cannot hold what its one thread
            // sends).
            let chunk = cap.unwrap_or(messages).min(messages);
            let (s, r) = L::make(cap);
            let start = Instant::now();
            let mut done = 0;
            while done < messages {
                let n = chunk.min(messages - done);
                for i in 0..n {
                    L::send(&s, i);
                }
                for _ in 0..n {
                    L::recv(&r);
                }
                done += n;
            }
            Some(start.elapsed())
        }
        Scenario::Spsc => {
            let (s, r) = L::make(cap);
            let start = Instant::now();
            let h = thread::spawn(move || {
                for i in 0..messages {
                    L::send(&s, i);
                }
            });
            for _ in 0..messages {
                L::recv(&r);
            }
            h.join().unwrap();
            Some(start.elapsed())
        }
        Scenario::Mpsc => {
            let (s, r) = L::make(cap);
            let start = Instant::now();
            let senders = spawn_n(width, &s, move |s| (0..per).for_each(|i| L::send(&s, i)));
            for _ in 0..per * width {
                L::recv(&r);
            }
            join_all(senders);
            Some(start.elapsed())
        }
        Scenario::Mpmc => {
            let (s, r) = L::make(cap);
            let rxs: Vec<L::R> = (0..width).map(|_| L::clone_rx(&r)).collect::<Option<_>>()?;
            let start = Instant::now();
            let mut threads = spawn_n(width, &s, move |s| (0..per).for_each(|i| L::send(&s, i)));
            threads.extend(rxs.into_iter().map(|r| {
                thread::spawn(move || {
                    for _ in 0..per {
                        L::recv(&r);
                    }
                })
            }));
            join_all(threads);
            Some(start.elapsed())
        }
        Scenario::SelectRx => {
            let select = L::SELECT?;
            let (ss, rs): (Vec<L::S>, Vec<L::R>) = (0..width).map(|_| L::make(cap)).unzip();
            let start = Instant::now();
            // Each sender thread has a clone of its channel's sender; `ss`
            // keeps every channel connected until the receiver is done, so
            // a sender finishing early never makes its channel ready with a
            // disconnection.
            let senders: Vec<_> = ss
                .iter()
                .map(|s| {
                    let s = s.clone();
                    thread::spawn(move || (0..per).for_each(|i| L::send(&s, i)))
                })
                .collect();
            for _ in 0..per * width {
                (select.recv)(&rs);
            }
            join_all(senders);
            Some(start.elapsed())
        }
        Scenario::SelectBoth => {
            let select = L::SELECT?;
            let (ss, rs): (Vec<L::S>, Vec<L::R>) = (0..width).map(|_| L::make(cap)).unzip();
            let rxs: Vec<Vec<L::R>> =
                (0..width).map(|_| rs.iter().map(L::clone_rx).collect::<Option<_>>()).collect::<Option<_>>()?;
            let start = Instant::now();
            let mut threads = spawn_n(width, &ss, move |ss| (0..per).for_each(|i| (select.send)(&ss, i)));
            threads.extend(rxs.into_iter().map(|rs| {
                thread::spawn(move || {
                    for _ in 0..per {
                        (select.recv)(&rs);
                    }
                })
            }));
            // `ss` and `rs` outlive the threads, for the reason given in
            // `SelectRx`, and are dropped after the clock stops.
            join_all(threads);
            Some(start.elapsed())
        }
    }
}
