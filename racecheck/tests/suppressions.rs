//! `RACECHECK_OPTIONS=suppressions=FILE`: ThreadSanitizer's suppression
//! files, for races (`race:`, `race_top:`) and lock-order inversions
//! (`deadlock:`). Every test runs a child program with a suppressions file
//! and checks what is printed, what is counted and the exit status.

mod common;
#[path = "suppressions/vendor.rs"]
mod vendor;

use std::sync::atomic::AtomicBool as StdFlag;
use std::sync::atomic::Ordering::SeqCst;

use racecheck::cell::RaceCell;
use racecheck::sync::{Arc, Mutex};
use racecheck::thread;

/// Two races: `vendor_write` (in `suppressions/vendor.rs`) against
/// `read_after_vendor`, and `local_write` against `read_after_local`, both
/// in this file; then a lock-order inversion in `lock_both_ways`.
fn program() {
    race_with(vendor::vendor_write, read_after_vendor);
    race_with(local_write, read_after_local);
    lock_both_ways();
}

/// Runs `write` on a thread, then `read` here once it is done, with
/// nothing ordering the two.
fn race_with(write: fn(&RaceCell<u32>), read: fn(&RaceCell<u32>)) {
    let cell = Arc::new(RaceCell::new(0));
    let done = Arc::new(StdFlag::new(false));
    let (cell2, done2) = (cell.clone(), done.clone());
    let h = thread::spawn(move || {
        write(&cell2);
        done2.store(true, SeqCst);
    });
    while !done.load(SeqCst) {
        std::thread::yield_now();
    }
    read(&cell);
    h.join().unwrap();
}

fn local_write(cell: &RaceCell<u32>) {
    cell.set(2);
}

#[inline(never)]
fn read_after_vendor(cell: &RaceCell<u32>) {
    cell.get();
}

#[inline(never)]
fn read_after_local(cell: &RaceCell<u32>) {
    cell.get();
}

fn lock_both_ways() {
    let a = Mutex::new(0);
    let b = Mutex::new(0);
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    let _b = b.lock().unwrap();
    let _a = a.lock().unwrap();
}

#[test]
fn child_program() {
    if common::in_child() {
        program();
    }
}

struct Outcome {
    status: Option<i32>,
    stderr: String,
}

impl Outcome {
    fn races(&self) -> usize {
        common::reports(&self.stderr)
    }
    fn inversions(&self) -> usize {
        self.stderr.matches("WARNING: POTENTIAL DEADLOCK").count()
    }
}

/// Runs the program with `suppressions` as the file's text.
fn with_suppressions(test: &str, suppressions: &str) -> Outcome {
    let dir = std::env::temp_dir().join(format!("racecheck-supp-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("supp.txt");
    std::fs::write(&file, suppressions).unwrap();
    let options = format!("suppressions={}", file.display());
    let out = common::rerun("child_program", &[("RACECHECK_OPTIONS", Some(&options))]);
    std::fs::remove_dir_all(&dir).unwrap();
    let outcome = Outcome { status: out.status.code(), stderr: String::from_utf8_lossy(&out.stderr).into_owned() };
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"), "{}", outcome.stderr);
    outcome
}

#[test]
fn nothing_suppressed_without_a_match() {
    let out = with_suppressions("none", "# nothing here matches\nrace:no_such_function\ndeadlock:no_such_file.rs\n");
    assert_eq!((out.races(), out.inversions()), (2, 1), "{}", out.stderr);
    assert_eq!(out.status, Some(66));
    assert!(out.stderr.ends_with("Found 2 data race(s) and 1 potential deadlock(s)\n"), "{}", out.stderr);
}

#[test]
fn race_by_the_previous_access_s_file() {
    // The vendor's write is the previous access of its race: only its file
    // is known, and that is enough.
    let out = with_suppressions("prev-file", "race:suppressions/vendor.rs\n");
    assert_eq!((out.races(), out.inversions()), (1, 1), "{}", out.stderr);
    assert!(out.stderr.contains("read_after_local"), "the other race stays: {}", out.stderr);
    assert_eq!(out.status, Some(66));
    assert!(
        out.stderr.ends_with("Found 1 data race(s) and 1 potential deadlock(s) (1 suppressed)\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn race_by_a_function_of_the_current_stack() {
    // `race_with` is on the current side's stack of both races, below the
    // top frame.
    let out = with_suppressions("fn", "race:suppressions::race_with\n");
    assert_eq!((out.races(), out.inversions()), (0, 1), "{}", out.stderr);
    assert!(
        out.stderr.ends_with("Found 0 data race(s) and 1 potential deadlock(s) (2 suppressed)\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn race_top_looks_at_the_top_frames_only() {
    let below = with_suppressions("top-below", "race_top:suppressions::race_with\n");
    assert_eq!(below.races(), 2, "race_with is not a top frame: {}", below.stderr);
    let top = with_suppressions("top", "race_top:^suppressions::read_after_local$\n");
    assert_eq!(top.races(), 1, "{}", top.stderr);
    assert!(top.stderr.contains("read_after_vendor"), "{}", top.stderr);
}

#[test]
fn deadlock_by_a_function_or_a_place() {
    let by_fn = with_suppressions("dl-fn", "deadlock:lock_both_ways\n");
    assert_eq!((by_fn.races(), by_fn.inversions()), (2, 0), "{}", by_fn.stderr);
    assert!(by_fn.stderr.ends_with("Found 2 data race(s) (1 suppressed)\n"), "{}", by_fn.stderr);
    // An acquisition site's file; the races in the same file stay, since
    // a `deadlock:` line only looks at lock-order reports ...
    let by_place = with_suppressions("dl-place", "deadlock:tests/suppressions.rs$\n");
    assert_eq!((by_place.races(), by_place.inversions()), (2, 0), "{}", by_place.stderr);
    // ... and a `race:` line only at races.
    let wrong_kind = with_suppressions("dl-kind", "race:lock_both_ways\ndeadlock:read_after_local\n");
    assert_eq!((wrong_kind.races(), wrong_kind.inversions()), (2, 1), "{}", wrong_kind.stderr);
}

#[test]
fn everything_suppressed_leaves_the_status_alone() {
    let out = with_suppressions("all", "race:*\ndeadlock:*\n");
    assert_eq!((out.races(), out.inversions()), (0, 0), "{}", out.stderr);
    assert_eq!(out.status, Some(0), "{}", out.stderr);
    assert!(out.stderr.ends_with("Found 0 data race(s) (3 suppressed)\n"), "{}", out.stderr);
}

#[test]
fn bad_lines_and_files_are_named_and_ignored() {
    let out = with_suppressions("bad", "thread:x\nrace read_after_local\nrace:read_after_local\n");
    let warnings: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("racecheck: ignoring line")).collect();
    assert_eq!(warnings.len(), 2, "{}", out.stderr);
    assert!(warnings[0].contains("line 1 of") && warnings[0].contains("`thread:x`"), "{warnings:?}");
    assert!(warnings[1].contains("line 2 of") && warnings[1].contains("expected kind:pattern"), "{warnings:?}");
    assert_eq!(out.races(), 1, "the good line still applies: {}", out.stderr);

    let missing = common::rerun("child_program", &[("RACECHECK_OPTIONS", Some("suppressions=/no/such/file"))]);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("cannot read the suppressions file /no/such/file"), "{stderr}");
    assert_eq!(common::reports(&stderr), 2, "{stderr}");
}
