//! The `chan` tracing events of waits (`chan::observe::set_events`):
//! captured with a subscriber that records every event's target, level and
//! fields, for each way a wait can end, on every flavor, and compared
//! across flavors; plus the opt-in itself (checked in child processes,
//! since the switch is global) and the guard against events emitted from
//! inside a subscriber.

#![cfg(feature = "trace")]

use std::collections::BTreeMap;
use std::fmt;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use chan::{Receiver, Sender};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// One captured event: target, level, and each field as text.
#[derive(Debug, Clone)]
struct Captured {
    target: String,
    level: Level,
    fields: BTreeMap<String, String>,
}

impl Captured {
    fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or_else(|| panic!("event without `{name}`: {self:?}"), String::as_str)
    }
    fn message(&self) -> &str {
        self.field("message")
    }
}

/// A subscriber that records every event; `during` runs inside each event
/// (to act as a subscriber that itself uses channels).
#[derive(Clone, Default)]
struct Capture {
    events: Arc<Mutex<Vec<Captured>>>,
    during: Option<Arc<dyn Fn() + Send + Sync>>,
}

struct FieldsToText<'a>(&'a mut BTreeMap<String, String>);

impl Visit for FieldsToText<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut FieldsToText(&mut fields));
        let meta = event.metadata();
        self.events.lock().unwrap().push(Captured { target: meta.target().to_string(), level: *meta.level(), fields });
        if let Some(during) = &self.during {
            during();
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Runs `f` with the capturing subscriber as this thread's default and
/// chan's events on, and returns the events it emitted on this thread.
fn capture(f: impl FnOnce()) -> Vec<Captured> {
    capture_with(Capture::default(), f)
}

fn capture_with(capture: Capture, f: impl FnOnce()) -> Vec<Captured> {
    chan::observe::set_events(true);
    tracing::subscriber::with_default(capture.clone(), f);
    let events = capture.events.lock().unwrap().clone();
    events
}

fn later(ms: u64, f: impl FnOnce() + Send + 'static) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        thread::sleep(Duration::from_millis(ms));
        f();
    })
}

/// Checks that `events` are exactly one `parked`/`woke` pair of `op` on
/// `flavor` with these capacity and length, and returns the `woke` event.
fn one_pair<'a>(events: &'a [Captured], op: &str, flavor: &str, capacity: &str, len: &str) -> &'a Captured {
    let messages: Vec<&str> = events.iter().map(Captured::message).collect();
    assert_eq!(messages, ["parked", "woke"], "{events:#?}");
    let (parked, woke) = (&events[0], &events[1]);
    for e in [parked, woke] {
        assert_eq!(e.target, "chan");
        assert_eq!(e.level, Level::DEBUG);
        assert_eq!(e.field("op"), op);
        assert_eq!(e.field("flavor"), flavor);
        assert_eq!(e.field("capacity"), capacity);
        assert_eq!(e.field("id"), parked.field("id"), "both events name the same channel");
        assert!(e.field("at").starts_with("tests/tracing_events.rs:"), "the caller's line: {e:?}");
    }
    assert_eq!(parked.field("at"), woke.field("at"));
    assert_eq!(parked.field("len"), len);
    woke
}

fn waited(woke: &Captured) -> Duration {
    // `Duration`'s Debug: "12.3ms", "850µs", "1.2s", "300ns".
    let text = woke.field("waited");
    let (number, unit) = text.split_at(text.find(|c: char| c.is_alphabetic() || c == 'µ').expect("a unit"));
    let number: f64 = number.parse().expect("a number");
    let scale = match unit {
        "s" => 1.0,
        "ms" => 1e-3,
        "µs" => 1e-6,
        "ns" => 1e-9,
        other => panic!("unknown unit {other}"),
    };
    Duration::from_secs_f64(number * scale)
}

/// A channel under test: a constructor and the fields its events carry.
#[derive(Clone, Copy)]
struct Kind {
    make: fn() -> (Sender<u32>, Receiver<u32>),
    flavor: &'static str,
    capacity: &'static str,
    /// How many messages fill it (none for unbounded).
    fill: Option<usize>,
}

const KINDS: [Kind; 6] = [
    Kind { make: || chan::bounded(1), flavor: "ring", capacity: "1", fill: Some(1) },
    Kind { make: chan::unbounded, flavor: "list", capacity: "unbounded", fill: None },
    Kind { make: || chan::bounded(0), flavor: "zero", capacity: "0", fill: Some(0) },
    Kind { make: || chan::hchan::bounded(1), flavor: "hchan", capacity: "1", fill: Some(1) },
    Kind { make: || chan::hchan::bounded(0), flavor: "hchan", capacity: "0", fill: Some(0) },
    Kind { make: chan::hchan::unbounded, flavor: "hchan", capacity: "unbounded", fill: None },
];

/// The flavor-independent view of a scenario's events, for parity.
fn shape(events: &[Captured]) -> Vec<(String, String, String)> {
    events
        .iter()
        .map(|e| {
            let outcome = e.fields.get("outcome").cloned().unwrap_or_default();
            (e.message().to_string(), e.field("op").to_string(), outcome)
        })
        .collect()
}

/// Every situation, on every flavor where it can happen: the same two
/// events, the same operation and outcome, and the fields of the channel.
#[test]
fn every_flavor_reports_the_same_waits() {
    type Scenario = fn(Kind) -> Option<(Vec<Captured>, &'static str, &'static str, &'static str)>;
    let scenarios: [(&str, Scenario); 5] = [
        ("recv woken by a send", |k| {
            let (s, r) = (k.make)();
            let events = capture(|| {
                let h = later(30, move || s.send(1).unwrap());
                assert_eq!(r.recv(), Ok(1));
                h.join().unwrap();
            });
            Some((events, "recv", "0", "completed"))
        }),
        ("send on a full channel woken by a recv", |k| {
            let fill = k.fill?;
            let (s, r) = (k.make)();
            for i in 0..fill {
                s.send(i as u32).unwrap();
            }
            let events = capture(|| {
                let h = later(30, move || {
                    for _ in 0..=fill {
                        r.recv().unwrap();
                    }
                });
                s.send(9).unwrap();
                h.join().unwrap();
            });
            Some((events, "send", if fill == 1 { "1" } else { "0" }, "completed"))
        }),
        ("recv that times out", |k| {
            let (_s, r) = (k.make)();
            let events = capture(|| assert!(r.recv_timeout(Duration::from_millis(30)).is_err()));
            Some((events, "recv", "0", "timeout"))
        }),
        ("recv woken by close", |k| {
            let (s, r) = (k.make)();
            let events = capture(|| {
                let h = later(30, move || {
                    s.close();
                });
                assert!(r.recv().is_err());
                h.join().unwrap();
            });
            Some((events, "recv", "0", "closed"))
        }),
        ("send on a full channel woken by close", |k| {
            let fill = k.fill?;
            let (s, r) = (k.make)();
            for i in 0..fill {
                s.send(i as u32).unwrap();
            }
            let closer = s.clone();
            let events = capture(|| {
                let h = later(30, move || {
                    closer.close();
                });
                assert!(s.send(9).is_err());
                h.join().unwrap();
            });
            drop(r);
            Some((events, "send", if fill == 1 { "1" } else { "0" }, "closed"))
        }),
    ];
    for (name, scenario) in scenarios {
        let mut shapes = Vec::new();
        for kind in KINDS {
            let Some((events, op, len, outcome)) = scenario(kind) else { continue };
            let context = format!("{name} on {} {}", kind.flavor, kind.capacity);
            let woke = one_pair(&events, op, kind.flavor, kind.capacity, len);
            assert_eq!(woke.field("outcome"), outcome, "{context}");
            assert!(waited(woke) >= Duration::from_millis(15), "{context}: waited {}", woke.field("waited"));
            shapes.push((context, shape(&events)));
        }
        assert!(shapes.len() >= 4, "{name}: every flavor that can wait so ran");
        for (context, s) in &shapes[1..] {
            assert_eq!(s, &shapes[0].1, "{context} differs from {}", shapes[0].0);
        }
    }
}

#[test]
fn close_is_an_event_once() {
    for kind in KINDS {
        let (s, _r) = (kind.make)();
        if kind.fill != Some(0) {
            s.send(5).unwrap();
        }
        let events = capture(|| {
            assert!(s.close());
            assert!(!s.close(), "only the call that closes is an event");
        });
        assert_eq!(events.len(), 1, "{events:?}");
        let closed = &events[0];
        assert_eq!((closed.target.as_str(), closed.level), ("chan", Level::DEBUG));
        assert_eq!(closed.message(), "closed");
        assert_eq!(closed.field("flavor"), kind.flavor);
        assert_eq!(closed.field("capacity"), kind.capacity);
        assert_eq!(closed.field("len"), if kind.fill == Some(0) { "0" } else { "1" });
    }
}

#[test]
fn the_fast_path_emits_nothing() {
    let (s, r) = chan::bounded::<u32>(4);
    let (hs, hr) = chan::hchan::bounded::<u32>(4);
    let events = capture(|| {
        for i in 0..3 {
            s.send(i).unwrap();
            hs.send(i).unwrap();
        }
        for _ in 0..3 {
            r.recv().unwrap();
            hr.recv().unwrap();
        }
        let _ = r.try_recv();
        let _ = hr.try_recv();
    });
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn a_waiting_select_is_one_parked_and_woke_pair() {
    let (s, r) = chan::bounded::<u32>(0);
    let (_s2, r2) = chan::hchan::bounded::<u32>(4);
    let events = capture(|| {
        let h = later(30, move || s.send(9).unwrap());
        chan::select! {
            recv(r) -> v => assert_eq!(v, Ok(9)),
            recv(r2) -> _ => unreachable!(),
        }
        h.join().unwrap();
    });
    let woke = one_pair(&events, "select", "select", "unbounded", "2");
    assert_eq!(woke.field("outcome"), "completed");
    assert!(waited(woke) >= Duration::from_millis(15), "waited {:?}", woke.field("waited"));

    let (_s, r) = chan::bounded::<u32>(1);
    let events = capture(|| {
        chan::select! {
            recv(r) -> _ => unreachable!(),
            default(Duration::from_millis(20)) => {}
        }
    });
    let woke = one_pair(&events, "select", "select", "unbounded", "1");
    assert_eq!(woke.field("outcome"), "timeout");
}

/// A subscriber that sends on a channel while it handles chan's events:
/// the send that blocks inside it emits nothing (no recursion), and the
/// channel it sends on is quiet from then on, while other channels still
/// report.
#[test]
fn a_subscriber_that_uses_a_channel_feeds_nothing_back() {
    let (log_tx, log_rx) = chan::bounded::<u32>(1);
    log_tx.send(0).unwrap(); // full: the subscriber's send will block
    let drained = log_rx.clone();
    let drainer = later(40, move || while drained.recv_timeout(Duration::from_millis(200)).is_ok() {});
    let sender = log_tx.clone();
    let capture = Capture { during: Some(Arc::new(move || sender.send(1).unwrap())), ..Capture::default() };
    let (s, r) = chan::bounded::<u32>(1);
    let events = capture_with(capture, || {
        // A wait on a user channel: its `parked` makes the subscriber block
        // on the full log channel, which must not emit anything itself.
        let h = later(30, move || s.send(7).unwrap());
        assert_eq!(r.recv(), Ok(7));
        h.join().unwrap();
        // Everything logged is drained; the log channel is quiet now: a
        // wait on it reports nothing.
        drainer.join().unwrap();
        assert!(log_rx.recv_timeout(Duration::from_millis(50)).is_err());
    });
    let shape: Vec<(&str, &str)> = events.iter().map(|e| (e.message(), e.field("op"))).collect();
    assert_eq!(shape, [("parked", "recv"), ("woke", "recv")], "{events:#?}");
}

/// The log's writer thread reports its own wake-up (the first one, before
/// chan knows which channel carries the log) while the log channel has
/// filled up again: the subscriber's send of that line would wait for the
/// writer, which is the thread sending. The echo of an event into the
/// channel it is about never waits: the line is dropped, and the writer
/// goes on. Both flavors.
#[test]
fn a_writer_reporting_its_own_wake_up_into_its_full_channel_does_not_wait_on_itself() {
    type MakeLog = fn() -> (Sender<u32>, Receiver<u32>);
    let flavors: [(&str, MakeLog); 2] = [("default", || chan::bounded(1)), ("hchan", || chan::hchan::bounded(1))];
    for (flavor, make) in flavors {
        let (log_tx, log_rx) = make();
        let armed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        // The subscriber writes each line into the log channel, as
        // tracing-appender's writer does, once armed (after the writer has
        // parked). It first waits for the channel to be full, which is the
        // interleaving that made the writer wait on itself.
        let during = {
            let (log_tx, armed) = (log_tx.clone(), Arc::clone(&armed));
            move || {
                if armed.load(std::sync::atomic::Ordering::SeqCst) {
                    let until = std::time::Instant::now() + Duration::from_secs(5);
                    while !log_tx.is_full() && std::time::Instant::now() < until {
                        thread::yield_now();
                    }
                    log_tx.send(99).unwrap();
                }
            }
        };
        let capture = Capture { during: Some(Arc::new(during)), ..Capture::default() };
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let writer_rx = log_rx.clone();
        thread::spawn(move || {
            let got = capture_with(capture, || {
                // The writer: waits for the next line.
                let got = writer_rx.recv();
                done_tx.send(got).unwrap();
            });
            drop(got);
        });
        // Two lines from a thread with no subscriber: the first wakes the
        // writer, the second fills the channel again.
        let logger = later(50, move || {
            armed.store(true, std::sync::atomic::Ordering::SeqCst);
            log_tx.send(1).unwrap();
            log_tx.send(2).unwrap();
        });
        let got = done_rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("{flavor}: the writer waits on itself, sending its own event's line"));
        assert_eq!(got, Ok(1), "{flavor}");
        logger.join().unwrap();
        assert_eq!(log_rx.recv_timeout(Duration::from_secs(5)), Ok(2), "{flavor}");
        assert!(log_rx.try_recv().is_err(), "{flavor}: the echo was dropped, nothing else is left");
    }
}

/// Set in the child so that the test body runs the program.
const CHILD: &str = "CHAN_EVENTS_TEST_CHILD";

/// Runs test `name` in a child with `env`, and returns its stdout.
fn child(name: &str, env: &[(&str, &str)]) -> String {
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env_remove("CHAN_OBSERVE")
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .env(CHILD, "1")
        .output()
        .expect("run the child test");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A program that waits on every flavor, logging with the usual fmt
/// subscriber and `EnvFilter` from `RUST_LOG`, to stdout.
#[test]
fn waits_under_a_fmt_subscriber() {
    if std::env::var_os(CHILD).is_none() {
        // Asked for nothing: `RUST_LOG=debug` and `trace` add no line.
        for filter in ["debug", "trace"] {
            let out = child("waits_under_a_fmt_subscriber", &[("RUST_LOG", filter)]);
            assert!(!out.contains(" chan:"), "RUST_LOG={filter} alone:\n{out}");
            assert!(out.contains("the program's own line"), "the subscriber works:\n{out}");
        }
        // Asked for: every wait is a pair.
        let out = child("waits_under_a_fmt_subscriber", &[("RUST_LOG", "debug"), ("CHAN_OBSERVE", "events")]);
        assert_eq!(out.matches(" chan: parked").count(), KINDS.len(), "{out}");
        assert_eq!(out.matches(" chan: woke").count(), KINDS.len(), "{out}");
        return;
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stdout)
        .init();
    tracing::info!("the program's own line");
    for kind in KINDS {
        let (s, r) = (kind.make)();
        let h = later(20, move || s.send(1).unwrap());
        assert_eq!(r.recv(), Ok(1));
        h.join().unwrap();
    }
}
