//! `chan::observe`: the blocking profile's counts and times on a scripted
//! workload, the timeline's file, and `CHAN_OBSERVE` (in child processes,
//! since the switches are global).

use std::process::Command;
use std::sync::mpsc as std_mpsc;
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use chan::{Receiver, Sender};
use serde_json::Value;

/// How long the scripted sender sleeps before each send.
const NAP: Duration = Duration::from_millis(20);
/// How many times the scripted receiver waits.
const WAITS: usize = 5;

/// The recording switches are global: tests that read the timeline or
/// switch something off take turns.
static TURN: Mutex<()> = Mutex::new(());

/// A receiver that waits `WAITS` times, each time for at least about
/// `NAP`: it tells the sender (through std's channel, which chan does not
/// observe) that it is about to receive, and the sender sleeps `NAP` before
/// it sends. Returns the line of the receive.
fn scripted((s, r): (Sender<u32>, Receiver<u32>)) -> u32 {
    let (ready_tx, ready_rx) = std_mpsc::channel::<()>();
    let sender = thread::Builder::new()
        .name("scripted-sender".into())
        .spawn(move || {
            for i in 0..WAITS as u32 {
                ready_rx.recv().unwrap();
                thread::sleep(NAP);
                s.send(i).unwrap();
            }
        })
        .unwrap();
    let mut line = 0;
    for i in 0..WAITS as u32 {
        ready_tx.send(()).unwrap();
        line = line!() + 1;
        assert_eq!(r.recv(), Ok(i));
    }
    sender.join().unwrap();
    line
}

/// A channel constructor.
type Make = fn() -> (Sender<u32>, Receiver<u32>);

fn kinds() -> Vec<(&'static str, Make)> {
    vec![
        ("ring", || chan::bounded(1)),
        ("list", chan::unbounded),
        ("zero", || chan::bounded(0)),
        ("hchan", || chan::hchan::bounded(1)),
        ("hchan", || chan::hchan::bounded(0)),
        ("hchan", chan::hchan::unbounded),
    ]
}

#[test]
fn the_profile_counts_every_wait_of_a_call_site() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    chan::observe::set_profiling(true);
    chan::observe::reset_profile();
    let mut line = 0;
    for (_, make) in kinds() {
        line = scripted(make());
    }
    let profile = chan::observe::profile();
    for flavor in ["ring", "list", "zero", "hchan"] {
        let rows: Vec<_> = profile
            .rows_in(file!())
            .filter(|r| r.location.line() == line && r.flavor == flavor && r.op == "recv")
            .collect();
        assert_eq!(rows.len(), 1, "one row for recv on {flavor}:\n{profile}");
        let row = rows[0];
        // hchan: bounded(1), bounded(0) and unbounded, from the same line.
        let runs = if flavor == "hchan" { 3 } else { 1 };
        let count = (WAITS * runs) as u64;
        assert_eq!(row.count, count, "{flavor}: every scripted receive waited once:\n{profile}");
        let least = NAP * 3 / 4;
        assert!(row.total >= least * count as u32, "{flavor}: total {:?}:\n{profile}", row.total);
        assert!(row.p50 >= least && row.p50 <= row.p99 && row.p99 <= row.max, "{flavor}: {row:?}");
        // The percentiles are bucket bounds within 1/16 above an actual wait.
        assert!(row.p50 <= row.max && row.total <= row.max * count as u32, "{flavor}: {row:?}");
    }
    // The sends found room or a waiting receiver: the receives are the only
    // waits of this workload.
    assert_eq!(profile.rows_in(file!()).count(), 4, "{profile}");
    let text = profile.to_string();
    assert!(text.starts_with("chan blocking profile: 30 waits at 1 call site, "), "{text}");
    assert!(text.contains(&format!("tests/observe.rs:{line}:")), "{text}");
    let header = text.lines().nth(1).unwrap();
    for column in ["count", "total", "p50", "p99", "max", "op", "flavor", "call site"] {
        assert!(header.contains(column), "{header}");
    }
}

#[test]
fn timeouts_and_closes_are_waits_too() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    chan::observe::set_profiling(true);
    let (_s, r) = chan::hchan::bounded::<u32>(1);
    let (s2, r2) = chan::unbounded::<u32>();
    let line_timeout = line!() + 2;
    for _ in 0..3 {
        assert!(r.recv_timeout(Duration::from_millis(10)).is_err());
    }
    let h = thread::spawn(move || {
        thread::sleep(NAP);
        s2.close();
    });
    let line_closed = line!() + 1;
    assert!(r2.recv().is_err());
    h.join().unwrap();
    let profile = chan::observe::profile();
    let row = |line| profile.rows_in(file!()).find(|r| r.location.line() == line).copied();
    let timeout = row(line_timeout).unwrap_or_else(|| panic!("no row for the timeouts:\n{profile}"));
    assert_eq!((timeout.count, timeout.op, timeout.flavor), (3, "recv", "hchan"));
    assert!(timeout.total >= Duration::from_millis(25), "{timeout:?}");
    let closed = row(line_closed).unwrap_or_else(|| panic!("no row for the closed recv:\n{profile}"));
    assert_eq!((closed.count, closed.flavor), (1, "list"));
}

#[test]
fn a_select_is_a_call_site_of_its_own() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    chan::observe::set_profiling(true);
    let (s, r) = chan::bounded::<u32>(1);
    let (_s2, r2) = chan::hchan::bounded::<u32>(0);
    let h = thread::spawn(move || {
        thread::sleep(NAP);
        s.send(1).unwrap();
    });
    let line = line!() + 1;
    chan::select! {
        recv(r) -> v => assert_eq!(v, Ok(1)),
        recv(r2) -> _ => unreachable!(),
    }
    h.join().unwrap();
    let profile = chan::observe::profile();
    let row = profile.rows_in(file!()).find(|r| r.location.line() == line).copied();
    let row = row.unwrap_or_else(|| panic!("no row for the select:\n{profile}"));
    assert_eq!((row.count, row.op, row.flavor), (1, "select", "select"));
    assert!(row.total >= NAP * 3 / 4, "{row:?}");
}

/// The timeline of the scripted workload: a slice per wait on the
/// receiver's track, a wake mark per send on the sender's track, and an
/// arrow from each mark to the wait it ended.
#[test]
fn the_timeline_links_each_wait_to_its_waker() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    for (flavor, make) in kinds() {
        chan::observe::start_timeline();
        let receiver = thread::Builder::new().name("scripted-receiver".into()).spawn(move || scripted(make())).unwrap();
        receiver.join().unwrap();
        let timeline = chan::observe::stop_timeline();
        let mut json = Vec::new();
        timeline.write_json(&mut json).unwrap();
        let doc: Value = serde_json::from_slice(&json).expect("valid JSON");
        let events = doc["traceEvents"].as_array().expect("a traceEvents array");
        let named = |name: &str| -> Option<u64> {
            events.iter().find(|e| e["ph"] == "M" && e["args"]["name"] == name).map(|e| e["tid"].as_u64().unwrap())
        };
        let receiver_tid = named("scripted-receiver").expect("the receiver's track is named");
        let sender_tid = named("scripted-sender").expect("the sender's track is named");
        let slices: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X" && e["name"] == "recv").collect();
        assert_eq!(slices.len(), WAITS, "{flavor}: one slice per wait:\n{}", String::from_utf8_lossy(&json));
        assert_eq!(timeline.len(), WAITS);
        for slice in &slices {
            assert_eq!(slice["tid"], receiver_tid);
            assert_eq!(slice["cat"], "chan");
            assert_eq!(slice["args"]["flavor"], flavor);
            assert_eq!(slice["args"]["outcome"], "completed");
            assert!(slice["args"]["at"].as_str().unwrap().starts_with("tests/observe.rs:"));
            assert!(slice["dur"].as_f64().unwrap() >= (NAP * 3 / 4).as_micros() as f64, "{slice}");
        }
        let wakes: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X" && e["name"] == "wake").collect();
        assert_eq!(wakes.len(), WAITS, "{flavor}: one wake mark per send");
        let starts: Vec<&Value> = events.iter().filter(|e| e["ph"] == "s").collect();
        let ends: Vec<&Value> = events.iter().filter(|e| e["ph"] == "f").collect();
        assert_eq!((starts.len(), ends.len()), (WAITS, WAITS), "{flavor}: one arrow per wait");
        let within = |e: &Value, s: &Value| {
            let (t, from, dur) = (e["ts"].as_f64().unwrap(), s["ts"].as_f64().unwrap(), s["dur"].as_f64().unwrap());
            e["tid"] == s["tid"] && from <= t && t <= from + dur
        };
        for start in &starts {
            let end = ends.iter().find(|f| f["id"] == start["id"]).expect("each arrow has a head");
            assert_eq!(start["tid"], sender_tid, "{flavor}: arrows start at the waker");
            assert_eq!(end["tid"], receiver_tid, "{flavor}: and end at the woken");
            assert_eq!(end["bp"], "e");
            assert!(wakes.iter().any(|w| within(start, w)), "{flavor}: the tail sits in a wake mark: {start}");
            assert!(slices.iter().any(|s| within(end, s)), "{flavor}: the head sits in a wait: {end}");
        }
    }
    // Stopped, nothing more is recorded.
    let (s, r) = chan::bounded::<u32>(0);
    let h = thread::spawn(move || {
        thread::sleep(NAP);
        s.send(1).unwrap();
    });
    r.recv().unwrap();
    h.join().unwrap();
    assert!(chan::observe::stop_timeline().is_empty());
}

/// Set in the child so that the test body runs the program.
const CHILD: &str = "CHAN_OBSERVE_TEST_CHILD";

fn child(name: &str, observe: &str) -> (String, String) {
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("CHAN_OBSERVE", observe)
        .env(CHILD, "1")
        .output()
        .expect("run the child test");
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert!(out.status.success() && stdout.contains("1 passed"), "child failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

/// `CHAN_OBSERVE=profile,timeline=PATH`: the table on stderr and the file
/// written when the process exits; a bad item is named and ignored.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "the at-exit report needs atexit, hooked on Linux")]
fn chan_observe_reports_at_exit() {
    if std::env::var_os(CHILD).is_some() {
        assert!(chan::observe::profiling());
        scripted(chan::bounded(0));
        return;
    }
    let path = std::env::temp_dir().join(format!("chan-observe-test-{}.json", std::process::id()));
    let spec = format!("profile,bogus,timeline={}", path.display());
    let (_, stderr) = child("chan_observe_reports_at_exit", &spec);
    assert!(stderr.contains("CHAN_OBSERVE: unknown item `bogus`"), "{stderr}");
    assert!(stderr.contains("chan blocking profile: 5 waits at 1 call site, "), "{stderr}");
    assert!(stderr.contains("tests/observe.rs:"), "{stderr}");
    let json = std::fs::read(&path).expect("the timeline file");
    let _ = std::fs::remove_file(&path);
    let doc: Value = serde_json::from_slice(&json).expect("valid JSON");
    let recvs = doc["traceEvents"].as_array().unwrap().iter().filter(|e| e["name"] == "recv").count();
    assert_eq!(recvs, WAITS);
}
