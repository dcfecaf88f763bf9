//! The `chan` tracing events of blocking operations: captured with a
//! subscriber that records every event's target, level and fields, on every
//! flavor, for each way a wait can end (see `chan/src/trace.rs`).

#![cfg(feature = "trace")]

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

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

#[derive(Clone, Default)]
struct Capture {
    events: Arc<Mutex<Vec<Captured>>>,
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
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Runs `f` with the capturing subscriber as this thread's default and
/// returns the events it emitted on this thread.
fn capture(f: impl FnOnce()) -> Vec<Captured> {
    let capture = Capture::default();
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

/// Checks a `parked`/`woke` pair and returns the `woke` event.
fn park_pair<'a>(events: &'a [Captured], op: &str, flavor: &str, capacity: &str, len: &str) -> &'a Captured {
    let parked = events.iter().find(|e| e.message() == "parked").expect("a parked event");
    let woke = events.iter().rev().find(|e| e.message() == "woke").expect("a woke event");
    for e in [parked, woke] {
        assert_eq!(e.target, "chan");
        assert_eq!(e.level, Level::DEBUG);
        assert_eq!(e.field("op"), op);
        assert_eq!(e.field("flavor"), flavor);
        assert_eq!(e.field("id"), parked.field("id"), "both events name the same channel");
    }
    assert_eq!(parked.field("capacity"), capacity);
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

#[test]
fn ring_recv_on_empty_parks_and_wakes_ready() {
    let (s, r) = chan::bounded::<u32>(2);
    let events = capture(|| {
        let h = later(30, move || s.send(1).unwrap());
        assert_eq!(r.recv(), Ok(1));
        h.join().unwrap();
    });
    let woke = park_pair(&events, "recv", "ring", "2", "0");
    assert_eq!(woke.field("outcome"), "ready");
    assert!(waited(woke) >= Duration::from_millis(10), "waited {:?}", woke.field("waited"));
}

#[test]
fn ring_send_on_full_shows_the_length() {
    let (s, r) = chan::bounded::<u32>(1);
    s.send(0).unwrap();
    let events = capture(|| {
        let h = later(30, move || {
            r.recv().unwrap();
            r.recv().unwrap();
        });
        s.send(1).unwrap();
        h.join().unwrap();
    });
    let woke = park_pair(&events, "send", "ring", "1", "1");
    assert_eq!(woke.field("outcome"), "ready");
}

#[test]
fn list_recv_closed_ends_closed_and_close_is_an_event() {
    let (s, r) = chan::unbounded::<u32>();
    let events = capture(|| {
        let h = later(30, move || {
            s.close();
        });
        assert!(r.recv().is_err());
        h.join().unwrap();
    });
    let woke = park_pair(&events, "recv", "list", "unbounded", "0");
    assert_eq!(woke.field("outcome"), "closed");

    // The close itself, on the closing thread.
    let (s, _r) = chan::unbounded::<u32>();
    s.send(5).unwrap();
    let events = capture(|| {
        assert!(s.close());
        assert!(!s.close(), "only the call that closes is an event");
    });
    assert_eq!(events.len(), 1, "{events:?}");
    let closed = &events[0];
    assert_eq!((closed.target.as_str(), closed.level), ("chan", Level::DEBUG));
    assert_eq!(closed.message(), "closed");
    assert_eq!(closed.field("flavor"), "list");
    assert_eq!(closed.field("capacity"), "unbounded");
    assert_eq!(closed.field("len"), "1");
}

#[test]
fn zero_timeout_ends_timeout() {
    let (s, _r) = chan::bounded::<u32>(0);
    let events = capture(|| {
        assert!(s.send_timeout(1, Duration::from_millis(20)).is_err());
    });
    let woke = park_pair(&events, "send", "zero", "0", "0");
    assert_eq!(woke.field("outcome"), "timeout");
    assert!(waited(woke) >= Duration::from_millis(15), "waited {:?}", woke.field("waited"));
}

#[test]
fn zero_rendezvous_ends_completed() {
    let (s, r) = chan::bounded::<u32>(0);
    let events = capture(|| {
        let h = later(30, move || assert_eq!(r.recv(), Ok(9)));
        s.send(9).unwrap();
        h.join().unwrap();
    });
    let woke = park_pair(&events, "send", "zero", "0", "0");
    assert_eq!(woke.field("outcome"), "completed");
}

#[test]
fn hchan_handoff_close_and_timeout() {
    // A parked receiver gets Go's direct hand-off.
    let (s, r) = chan::hchan::bounded::<u32>(3);
    let events = capture(|| {
        let h = later(30, move || s.send(4).unwrap());
        assert_eq!(r.recv(), Ok(4));
        h.join().unwrap();
    });
    assert_eq!(park_pair(&events, "recv", "hchan", "3", "0").field("outcome"), "completed");

    // closechan wakes a parked sender unsuccessfully.
    let (s, r) = chan::hchan::bounded::<u32>(1);
    s.send(0).unwrap();
    let closer = s.clone();
    let events = capture(|| {
        let h = later(30, move || {
            closer.close();
        });
        assert!(s.send(1).is_err());
        h.join().unwrap();
    });
    assert_eq!(park_pair(&events, "send", "hchan", "1", "1").field("outcome"), "closed");
    drop(r);

    let (_s, r) = chan::hchan::unbounded::<u32>();
    let events = capture(|| {
        assert!(r.recv_timeout(Duration::from_millis(10)).is_err());
    });
    assert_eq!(park_pair(&events, "recv", "hchan", "unbounded", "0").field("outcome"), "timeout");
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
    // The rendezvous sender may park too; the select's pair is the one
    // with op `select`.
    let woke = park_pair(&events, "select", "select", "unbounded", "2");
    assert!(["completed", "ready"].contains(&woke.field("outcome")), "{woke:?}");
    assert!(waited(woke) >= Duration::from_millis(10), "waited {:?}", woke.field("waited"));

    let (_s, r) = chan::bounded::<u32>(1);
    let events = capture(|| {
        chan::select! {
            recv(r) -> _ => unreachable!(),
            default(Duration::from_millis(20)) => {}
        }
    });
    let woke = park_pair(&events, "select", "select", "unbounded", "1");
    assert_eq!(woke.field("outcome"), "timeout");
}
