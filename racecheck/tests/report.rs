//! The report as a user sees it: a real child process with `RACECHECK=1`,
//! its stderr, its exit status, and the `RACECHECK_OPTIONS`.

mod common;

use std::sync::atomic::AtomicBool as StdFlag;
use std::sync::atomic::Ordering::SeqCst;

use racecheck::cell::RaceCell;
use racecheck::sync::Arc;
use racecheck::thread;

/// The racy program every test below runs in its child: a named worker
/// writes, the test's own thread reads, and nothing orders the two. It
/// prints the lines of the spawn, the write and the read on stdout.
fn racy_program() {
    let x = Arc::new(RaceCell::new(0));
    let written = Arc::new(StdFlag::new(false));
    let worker = {
        let (x, written) = (x.clone(), written.clone());
        let builder = thread::Builder::new().name("worker-1".to_owned());
        println!("SPAWN_AT {}", line!() + 1);
        builder.spawn(move || {
            println!("WRITE_AT {}", line!() + 1);
            x.set(1);
            written.store(true, SeqCst);
        })
    };
    let worker = worker.expect("spawn");
    while !written.load(SeqCst) {
        std::thread::yield_now();
    }
    println!("READ_AT {}", line!() + 1);
    let _ = x.get();
    worker.join().expect("join");
    println!("AFTER_FIRST_RACE");
    // A second race at another pair of places, for halt_on_error.
    let y = Arc::new(RaceCell::new(0));
    let y2 = y.clone();
    let done = Arc::new(StdFlag::new(false));
    let done2 = done.clone();
    let h = thread::spawn(move || {
        y2.set(2);
        done2.store(true, SeqCst);
    });
    while !done.load(SeqCst) {
        std::thread::yield_now();
    }
    y.set(3);
    h.join().expect("join");
}

struct Child {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Child {
    fn line_of(&self, key: &str) -> u32 {
        self.stdout
            .lines()
            // libtest may print `test child_racy_program ... ` on the same
            // line, before the child's first line: look anywhere in it.
            .find_map(|l| l.split_once(key)?.1.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("{key} missing from the child's stdout:\n{}", self.stdout))
    }
}

fn run(test: &str, env: &[(&str, Option<&str>)]) -> Child {
    let out = common::rerun(test, env);
    Child {
        status: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The child side: runs the racy program. Used by every test below with a
/// different environment.
#[test]
fn child_racy_program() {
    if !common::in_child() {
        return; // only meaningful as a child; the tests below run it
    }
    racy_program();
}

const FILE: &str = file!();

#[test]
fn report_has_go_shape_with_both_places_and_exit_66() {
    let child = run("child_racy_program", &[]);
    let (spawn, write, read) = (child.line_of("SPAWN_AT"), child.line_of("WRITE_AT"), child.line_of("READ_AT"));
    let err = &child.stderr;
    assert_eq!(child.status, Some(66), "stderr:\n{err}");
    assert_eq!(common::reports(err), 2, "stderr:\n{err}");
    let first = err
        .split("==================\n")
        .find(|block| block.starts_with("WARNING: DATA RACE"))
        .expect("a report block");
    let lines: Vec<&str> = first.lines().collect();
    // The current access: the test thread's read, with its function name.
    assert!(lines[1].starts_with("Read at 0x") && lines[1].ends_with("by thread T1 (child_racy_program):"), "{first}");
    assert!(
        lines[2].starts_with("  report::racy_program  ") && lines[2].contains(&format!("{FILE}:{read}:")),
        "{first}"
    );
    // The previous access: the worker's write, always with its place.
    let previous = lines.iter().position(|l| l.starts_with("Previous write at 0x")).expect("previous access");
    assert!(lines[previous].ends_with("by thread T2 (worker-1):"), "{first}");
    let address = |l: &str| l.split(" at ").nth(1).unwrap().split(' ').next().unwrap().to_owned();
    assert_eq!(address(lines[1]), address(lines[previous]), "{first}");
    assert!(lines[previous + 1].starts_with(&format!("  {FILE}:{write}:")), "{first}");
    // Where the worker was created, and that it has finished by now.
    let created =
        lines.iter().position(|l| l.starts_with("Thread T2 (finished) created at:")).expect("creation site of T2");
    assert!(lines[created + 1].starts_with(&format!("  {FILE}:{spawn}:")), "{first}");
    // ... followed by the spawning thread's callers at that moment.
    assert!(lines[created + 2].starts_with("  report::child_racy_program  "), "{first}");
    // racecheck's own frames are left out of every stack.
    assert!(!err.lines().any(|l| l.starts_with("  racecheck::") || l.starts_with("  <racecheck::")), "stderr:\n{err}");
    assert!(err.ends_with("Found 2 data race(s)\n"), "stderr:\n{err}");
    assert!(child.stdout.contains("1 passed"), "{}", child.stdout);
}

#[test]
fn exitcode_option_sets_the_status() {
    let child = run("child_racy_program", &[("RACECHECK_OPTIONS", Some("exitcode=3"))]);
    assert_eq!(child.status, Some(3), "{}", child.stderr);
    assert_eq!(common::reports(&child.stderr), 2);
}

#[test]
fn halt_on_error_exits_after_the_first_report() {
    let child = run("child_racy_program", &[("RACECHECK_OPTIONS", Some("halt_on_error=1"))]);
    assert_eq!(child.status, Some(66), "{}", child.stderr);
    assert_eq!(common::reports(&child.stderr), 1, "{}", child.stderr);
    assert!(child.stderr.ends_with("Found 1 data race(s)\n"), "{}", child.stderr);
    assert!(!child.stdout.contains("AFTER_FIRST_RACE"), "{}", child.stdout);
}

#[test]
fn log_path_writes_to_a_file_named_after_the_pid() {
    let dir = std::env::temp_dir().join(format!("racecheck-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prefix = dir.join("race");
    let options = format!("log_path={}", prefix.display());
    let child = run("child_racy_program", &[("RACECHECK_OPTIONS", Some(&options))]);
    assert_eq!(child.status, Some(66), "{}", child.stderr);
    assert_eq!(common::reports(&child.stderr), 0, "{}", child.stderr);
    let logs: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let name = logs[0].file_name().unwrap().to_string_lossy().into_owned();
    let pid = name.strip_prefix("race.").expect("log_path.PID");
    assert!(pid.parse::<u32>().is_ok(), "{name}");
    let log = std::fs::read_to_string(&logs[0]).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(common::reports(&log), 2, "{log}");
    assert!(log.ends_with("Found 2 data race(s)\n"), "{log}");
}

#[test]
fn strip_path_prefix_shortens_printed_paths() {
    let prefix = FILE.rsplit_once('/').map_or("", |(dir, _)| dir).to_owned() + "/";
    let options = format!("strip_path_prefix={prefix}");
    let child = run("child_racy_program", &[("RACECHECK_OPTIONS", Some(&options))]);
    let short = FILE.strip_prefix(&prefix).unwrap();
    assert!(child.stderr.contains(&format!("  {short}:")), "{}", child.stderr);
    // Places from `#[track_caller]` are printed relative to the workspace,
    // so the prefix comes off them (backtrace frames carry absolute paths).
    assert!(!child.stderr.contains(&format!("  {FILE}:")), "{}", child.stderr);
}

#[test]
fn a_bad_option_is_named_once_and_ignored() {
    let child = run("child_racy_program", &[("RACECHECK_OPTIONS", Some("colour=blue exitcode=5"))]);
    let warnings: Vec<&str> = child.stderr.lines().filter(|l| l.contains("colour=blue")).collect();
    assert_eq!(warnings.len(), 1, "{}", child.stderr);
    assert!(warnings[0].starts_with("racecheck: ignoring option"), "{}", warnings[0]);
    assert_eq!(child.status, Some(5), "the good option still applies");
}

#[test]
fn detection_off_reports_nothing_and_keeps_the_status() {
    for value in [None, Some("0"), Some("no")] {
        let child = run("child_racy_program", &[("RACECHECK", value)]);
        assert_eq!(child.status, Some(0), "RACECHECK={value:?}: {}", child.stderr);
        assert_eq!(common::reports(&child.stderr), 0, "{}", child.stderr);
        assert!(!child.stderr.contains("Found"), "{}", child.stderr);
        assert!(child.stdout.contains("AFTER_FIRST_RACE"));
    }
}

#[test]
fn racecheck_true_turns_it_on() {
    let child = run("child_racy_program", &[("RACECHECK", Some("true"))]);
    assert_eq!(child.status, Some(66), "{}", child.stderr);
}

/// Starts and joins 10,000 threads one after another, each writing a shared
/// cell, and checks that neither memory nor the vector clocks grow with the
/// count: thread slots are reused, without false reports.
#[test]
fn ten_thousand_threads_keep_memory_flat() {
    if !common::in_child() {
        let child = run("ten_thousand_threads_keep_memory_flat", &[]);
        assert_eq!(child.status, Some(0), "{}\n{}", child.stdout, child.stderr);
        assert!(child.stdout.contains("1 passed"), "{}", child.stdout);
        return;
    }
    let x = Arc::new(RaceCell::new(0u64));
    let run_threads = |n: u64| {
        for _ in 0..n {
            let x = x.clone();
            thread::spawn(move || x.set(x.get() + 1)).join().unwrap();
        }
    };
    run_threads(1_000);
    let before = rss_kib();
    run_threads(9_000);
    let after = rss_kib();
    assert_eq!(x.get(), 10_000);
    assert_eq!(racecheck::race_count(), 0);
    let slots = racecheck::__diagnostics::slots_allocated();
    assert!(slots < 200, "{slots} thread slots for 10,000 sequential threads");
    println!("RSS before {before} KiB, after {after} KiB");
    assert!(after <= before + 1024, "memory grew from {before} KiB to {after} KiB over 9,000 threads");
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}
