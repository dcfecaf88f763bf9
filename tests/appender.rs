//! A logging pipeline on a chan channel behaves as on crossbeam-channel:
//! the real `tracing-appender` (its `non_blocking` writer hands every line
//! to a writer thread over a channel), in the two scenarios of
//! `appender/scenario.rs`, idle and under backpressure.
//!
//! - `on_crossbeam_channel`: this binary itself, with the real
//!   crossbeam-channel (the reference), in child processes.
//! - `on_chan` (ignored by default: it builds `tests/appender/`, where a
//!   `[patch]` gives tracing-appender chan instead of crossbeam-channel; CI
//!   runs it with `--ignored`): the same scenarios with the default flavor
//!   and with `chan::hchan`, each with chan's events off and on.
//!
//! Each run is checked for what a user would see: the idle program writes
//! nothing and uses no CPU over two seconds, and the backpressure program
//! finishes with every line written.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "appender/scenario.rs"]
mod scenario;

/// Set in a child of this binary: the scenario's arguments.
const CHILD: &str = "CHAN_APPENDER_SCENARIO";

/// The child's entry point: runs the scenario when asked, else nothing.
#[test]
fn scenario_child() {
    if let Ok(args) = std::env::var(CHILD) {
        let args: Vec<String> = args.split(' ').map(String::from).collect();
        println!("{}", scenario::run(&args));
    }
}

/// A scenario's report, parsed: `key=value` pairs.
#[derive(Debug)]
struct Report(Vec<(String, u64)>);

impl Report {
    fn parse(stdout: &str, mode: &str) -> Report {
        // libtest may print "test scenario_child ... " before it.
        let report = format!("{mode} ");
        let line = stdout.lines().find_map(|l| l.find(&report).map(|at| &l[at..]));
        let line = line.unwrap_or_else(|| panic!("no report in:\n{stdout}"));
        Report(
            line.split_whitespace()
                .skip(1)
                .map(|kv| {
                    let (k, v) = kv.split_once('=').expect("key=value");
                    (k.to_string(), v.parse().expect("a number"))
                })
                .collect(),
        )
    }
    fn get(&self, key: &str) -> u64 {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| *v).unwrap_or_else(|| panic!("no {key} in {self:?}"))
    }
}

/// Where a scenario writes its log.
fn log_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("chan-appender-{}-{tag}.log", std::process::id()))
}

/// Starts a scenario program (`cmd`, already given its mode and `log`)
/// with chan's events on or off.
fn start(mut cmd: Command, events: bool, log: PathBuf) -> (std::process::Child, PathBuf) {
    cmd.env_remove("CHAN_OBSERVE").env_remove("RUST_LOG");
    if events {
        cmd.env("CHAN_OBSERVE", "events");
    }
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the scenario");
    (child, log)
}

/// Waits for a scenario and parses its report (at most a minute: the
/// backpressure scenario used to overflow its stack or hang).
fn finish((child, log): (std::process::Child, PathBuf), mode: &str, what: &str) -> Report {
    let out = child.wait_with_output().expect("the scenario ran");
    let _ = std::fs::remove_file(&log);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{what}: {mode} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Report::parse(&stdout, mode)
}

/// This binary as the scenario program, with the real crossbeam-channel.
fn this_binary(mode: &str, log: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("test binary path"));
    cmd.args(["scenario_child", "--exact", "--nocapture", "--test-threads=1"]);
    cmd.env(CHILD, format!("{mode} {}", log.display()));
    cmd
}

/// Idle: no byte in the window and next to no CPU (a self-feeding writer
/// wrote megabytes and burned a core). `chan_lines`: the lines chan's own
/// events may add at start-up.
fn check_idle(r: &Report, what: &str, max_total: u64) {
    assert_eq!(r.get("window_bytes"), 0, "{what}: the idle program wrote: {r:?}");
    assert!(r.get("window_cpu_ms") < 200, "{what}: the idle program burned CPU: {r:?}");
    assert!(r.get("total_bytes") <= max_total, "{what}: {r:?}");
}

fn check_backpressure(r: &Report, what: &str, max_chan_lines: u64) {
    let lines = (scenario::THREADS * scenario::LINES_PER_THREAD) as u64;
    assert_eq!(r.get("user_lines"), lines, "{what}: every line is written: {r:?}");
    assert!(r.get("chan_lines") <= max_chan_lines, "{what}: {r:?}");
}

/// Runs both scenarios with chan's events off and on; `program` makes the
/// command for a mode and a log path.
fn run_all(program: impl Fn(&str, &Path) -> Command, what: &str, events_lines: u64) {
    let run = |mode: &str, events: bool| {
        let log = log_path(&format!("{what}-{mode}-{events}").replace([' ', ':'], "-"));
        start(program(mode, &log), events, log)
    };
    let on_off = |events: bool| format!("{what}, events {}", if events { "on" } else { "off" });
    // The idle runs side by side (they are idle), then the others.
    let idle: Vec<_> = [false, true].into_iter().map(|events| (events, run("idle", events))).collect();
    for (events, child) in idle {
        // Each chan line is about 250 bytes.
        let most = if events { events_lines * 400 } else { 0 };
        let r = finish(child, "idle", &on_off(events));
        eprintln!("{}: idle {r:?}", on_off(events));
        check_idle(&r, &on_off(events), most);
    }
    for events in [false, true] {
        let r = finish(run("backpressure", events), "backpressure", &on_off(events));
        eprintln!("{}: backpressure {r:?}", on_off(events));
        check_backpressure(&r, &on_off(events), if events { events_lines } else { 0 });
    }
}

#[test]
fn on_crossbeam_channel() {
    // The reference: chan is not in the pipeline, so asking for its events
    // changes nothing.
    run_all(this_binary, "crossbeam-channel", 0);
}

/// Builds `tests/appender/` (tracing-appender on chan) with `features`
/// and returns the program's path.
fn build_on_chan(features: &[&str]) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = root.join("target").join("appender");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "--manifest-path"])
        .arg(root.join("tests/appender/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .args(features.iter().flat_map(|f| ["--features", f]))
        .env_remove("RUSTFLAGS")
        .status()
        .expect("run cargo");
    assert!(status.success(), "building tests/appender failed");
    target.join("debug").join(format!("appender-scenarios{}", std::env::consts::EXE_SUFFIX))
}

#[test]
#[ignore = "builds tests/appender (tracing-appender with chan for its channel); CI runs it"]
fn on_chan() {
    for (flavor, features) in [("chan", &[][..]), ("chan::hchan", &["hchan"][..])] {
        let program = build_on_chan(features);
        // With events on, chan reports waits on the log's channel only
        // until it learns that the channel carries the log (the first send
        // made while emitting a chan event), then nothing more. Before that
        // moment each thread (the writer and the logging threads) may have
        // begun one wait, which is two lines (`parked`, `woke`); how many
        // did depends on timing, never on how many lines are logged.
        let first_waits = 2 * (scenario::THREADS as u64 + 1);
        run_all(
            |mode, log| {
                let mut cmd = Command::new(&program);
                cmd.arg(mode).arg(log);
                cmd
            },
            flavor,
            first_waits,
        );
    }
}
