//! Race reports in the shape of Go's `-race`, ThreadSanitizer's
//! lock-order-inversion reports, the summary at exit, and the exit status.
//!
//! A report names both accesses (kind, address, thread, source location),
//! the current thread's backtrace (captured only now that a race was found)
//! and where the threads involved were created. The same pair of source
//! locations is reported once, whichever side came first; a cycle of lock
//! acquisitions once per set of places. When the process exits after at
//! least one report, the summary line (`Found N data race(s)`, and the
//! potential deadlocks) is printed and the exit status becomes `exitcode`
//! (66 unless `RACECHECK_OPTIONS` says otherwise), from an `atexit` handler
//! so that it also works when `main` returns normally, as a test harness's
//! does.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::config::options;
use crate::runtime::{thread_info, ThreadInfo};
use crate::suppress;

/// What an access did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AccessKind {
    Read,
    Write,
    /// The drop of an instrumented cell, which ends its life like a write.
    Drop,
}

impl AccessKind {
    fn word(self, capital: bool) -> &'static str {
        match (self, capital) {
            (AccessKind::Read, true) => "Read",
            (AccessKind::Read, false) => "read",
            (AccessKind::Write, true) => "Write",
            (AccessKind::Write, false) => "write",
            (AccessKind::Drop, true) => "Write (drop)",
            (AccessKind::Drop, false) => "write (drop)",
        }
    }
}

/// The remembered side of a race.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SideInfo {
    pub(crate) kind: AccessKind,
    pub(crate) tid: u32,
    pub(crate) location: Option<&'static Location<'static>>,
}

/// A race found by the detector, before it is printed.
pub(crate) struct Race {
    pub(crate) addr: usize,
    pub(crate) current_kind: AccessKind,
    pub(crate) current_location: &'static Location<'static>,
    pub(crate) current: Arc<ThreadInfo>,
    pub(crate) previous: SideInfo,
}

/// A kind of lock, for lock-order reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LockKind {
    Mutex,
    RwLock,
}

impl LockKind {
    fn word(self) -> &'static str {
        match self {
            LockKind::Mutex => "Mutex",
            LockKind::RwLock => "RwLock",
        }
    }
}

/// One edge of a lock-order cycle: thread `tid` took the lock `to` (at
/// `acquired_at`) while holding `from` (taken at `held_at`). Locks are
/// given as their address and kind, and their name in the graph.
pub(crate) struct InversionEdge {
    pub(crate) from: (usize, LockKind),
    pub(crate) to: (usize, LockKind),
    pub(crate) from_id: usize,
    pub(crate) to_id: usize,
    pub(crate) tid: u32,
    pub(crate) held_at: &'static Location<'static>,
    pub(crate) acquired_at: &'static Location<'static>,
    /// The edge the current thread is adding now (its stack is at hand).
    pub(crate) current: bool,
}

/// A cycle in the lock-order graph: each edge's `to` is the next one's
/// `from`, and the last one's `to` the first one's `from`.
pub(crate) struct Inversion {
    pub(crate) edges: Vec<InversionEdge>,
}

static RACES: AtomicUsize = AtomicUsize::new(0);
static INVERSIONS: AtomicUsize = AtomicUsize::new(0);
static SUPPRESSED: AtomicUsize = AtomicUsize::new(0);
static RACES_OUTSIDE: AtomicUsize = AtomicUsize::new(0);

/// The number of data races reported so far in this process.
///
/// Every distinct pair of source locations counts once; a race between the
/// same two places found again is neither printed nor counted. Always zero
/// when detection is off.
///
/// ```
/// let before = racecheck::race_count();
/// let x = racecheck::cell::RaceCell::new(1);
/// x.set(2); // one thread: no race
/// assert_eq!(racecheck::race_count(), before);
/// ```
pub fn race_count() -> usize {
    RACES.load(Ordering::Relaxed)
}

/// How many reports of each kind this process has made so far.
///
/// All zero when detection is off.
///
/// ```
/// let reports = racecheck::reports();
/// assert_eq!(reports.races, racecheck::race_count());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reports {
    /// Data races reported (what [`race_count`] returns).
    pub races: usize,
    /// Potential deadlocks reported: cycles in the order threads take
    /// racecheck's locks (`WARNING: POTENTIAL DEADLOCK`).
    pub lock_order_inversions: usize,
    /// Reports of either kind that a suppression (`RACECHECK_OPTIONS=
    /// suppressions=FILE`) silenced: neither printed nor counted above.
    pub suppressed: usize,
    /// Of `races`, those involving a thread that racecheck did not start
    /// (one started by `std::thread` in the program, not `main` nor a test
    /// harness's thread): such a thread's code may synchronize through
    /// std's types, which racecheck cannot see, so the report may be false.
    /// The first such report says so.
    pub races_with_threads_outside_racecheck: usize,
}

/// How many reports of each kind this process has made so far (see
/// [`Reports`]).
pub fn reports() -> Reports {
    Reports {
        races: race_count(),
        lock_order_inversions: INVERSIONS.load(Ordering::Relaxed),
        suppressed: SUPPRESSED.load(Ordering::Relaxed),
        races_with_threads_outside_racecheck: RACES_OUTSIDE.load(Ordering::Relaxed),
    }
}

/// A source location as a key: file, line, column.
type LocationKey = (&'static str, u32, u32);

/// What this process has reported (to report each race and each cycle of
/// locks once), and the log file reports go to when `log_path` names one.
struct Reported {
    seen: BTreeSet<(LocationKey, LocationKey)>,
    /// The pairs among `seen` that a suppression silenced.
    suppressed: BTreeSet<(LocationKey, LocationKey)>,
    seen_cycles: BTreeSet<Vec<(LocationKey, LocationKey)>>,
    file: Option<File>,
}

static REPORTED: Mutex<Reported> = Mutex::new(Reported {
    seen: BTreeSet::new(),
    suppressed: BTreeSet::new(),
    seen_cycles: BTreeSet::new(),
    file: None,
});

fn location_key(location: Option<&'static Location<'static>>) -> LocationKey {
    location.map_or(("", 0, 0), |l| (l.file(), l.line(), l.column()))
}

/// Writes text to the report destination: stderr, or `log_path.PID`.
fn emit(reported: &mut Reported, text: &str) {
    if cfg!(test) {
        // The crate's unit tests drive the rules with made-up threads and
        // check the verdicts; the report text is tested from outside.
        return;
    }
    if let Some(prefix) = &options().log_path {
        if reported.file.is_none() {
            let path = format!("{prefix}.{}", std::process::id());
            match OpenOptions::new().create(true).append(true).open(&path) {
                Ok(file) => reported.file = Some(file),
                Err(error) => {
                    eprintln!("racecheck: cannot open log_path {path}: {error}; using stderr");
                }
            }
        }
        if let Some(file) = &mut reported.file {
            if file.write_all(text.as_bytes()).is_ok() {
                let _ = file.flush();
                return;
            }
        }
    }
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Reports a race unless the same pair of places was reported before.
/// Returns whether it was printed.
#[cold]
#[inline(never)]
pub(crate) fn data_race(race: Race) -> bool {
    let here = location_key(Some(race.current_location));
    let there = location_key(race.previous.location);
    let pair = if here <= there { (here, there) } else { (there, here) };
    let mut reported = REPORTED.lock().unwrap_or_else(PoisonError::into_inner);
    if !reported.seen.insert(pair) {
        // Reported (or silenced) already; an exploration still counts a
        // schedule that shows it again, unless it is silenced.
        if !reported.suppressed.contains(&pair) {
            crate::explore::race_seen();
        }
        return false;
    }
    let stack = frames(&backtrace::Backtrace::new());
    if race_suppressed(&race, &stack) {
        reported.suppressed.insert(pair);
        SUPPRESSED.fetch_add(1, Ordering::Relaxed);
        counted();
        return false;
    }
    crate::explore::race_seen();
    let previous =
        if race.previous.tid == race.current.tid { Some(race.current.clone()) } else { thread_info(race.previous.tid) };
    let outside = started_outside(&race.current) || previous.as_deref().is_some_and(started_outside);
    let text = format_race(&race, previous, &stack, outside);
    emit(&mut reported, &text);
    RACES.fetch_add(1, Ordering::Relaxed);
    counted();
    if outside {
        RACES_OUTSIDE.fetch_add(1, Ordering::Relaxed);
    }
    halt_if_asked(&mut reported);
    true
}

/// Whether a `race:` or `race_top:` suppression matches the race: the
/// current side's stack, the previous side's file.
fn race_suppressed(race: &Race, stack: &[Frame]) -> bool {
    let current_top = stack.iter().find(|f| f.is_at(race.current_location));
    let mut top = vec![race.current_location.file()];
    if let Some(frame) = current_top {
        top.extend(frame.names());
    }
    top.extend(race.previous.location.map(|l| l.file()));
    let mut all = top.clone();
    all.extend(stack.iter().flat_map(Frame::names));
    suppress::is_suppressed(suppress::Kind::Race, &top, &all)
}

/// With `halt_on_error`, ends the process right after a report.
fn halt_if_asked(reported: &mut Reported) {
    if options().halt_on_error {
        emit(reported, &summary(reports()));
        // SAFETY: `_exit` ends the process at once without running Rust or
        // C destructors; nothing is left half-written because the report
        // and summary were written with whole `write_all` calls.
        unsafe { libc::_exit(options().exitcode) }
    }
}

/// The line printed at exit: `Found N data race(s)`, then the other kinds
/// of report when there were any.
fn summary(reports: Reports) -> String {
    let mut line = format!("Found {} data race(s)", reports.races);
    if reports.lock_order_inversions > 0 {
        let _ = write!(line, " and {} potential deadlock(s)", reports.lock_order_inversions);
    }
    let mut notes = Vec::new();
    if reports.races_with_threads_outside_racecheck > 0 {
        notes.push(format!(
            "{} involving threads not started through racecheck, see the note",
            reports.races_with_threads_outside_racecheck
        ));
    }
    if reports.suppressed > 0 {
        notes.push(format!("{} suppressed", reports.suppressed));
    }
    if !notes.is_empty() {
        let _ = write!(line, " ({})", notes.join("; "));
    }
    line.push('\n');
    line
}

/// Reports a lock-order inversion unless the same places were reported
/// before. Returns whether it was printed.
#[cold]
#[inline(never)]
pub(crate) fn lock_order_inversion(cycle: Inversion) -> bool {
    let mut places: Vec<(LocationKey, LocationKey)> =
        cycle.edges.iter().map(|e| (location_key(Some(e.held_at)), location_key(Some(e.acquired_at)))).collect();
    places.sort_unstable();
    let mut reported = REPORTED.lock().unwrap_or_else(PoisonError::into_inner);
    if !reported.seen_cycles.insert(places) {
        return false;
    }
    let stack = frames(&backtrace::Backtrace::new());
    let mut names: Vec<&str> = cycle.edges.iter().flat_map(|e| [e.held_at.file(), e.acquired_at.file()]).collect();
    names.extend(stack.iter().flat_map(Frame::names));
    if suppress::is_suppressed(suppress::Kind::Deadlock, &[], &names) {
        SUPPRESSED.fetch_add(1, Ordering::Relaxed);
        counted();
        return false;
    }
    let text = format_inversion(&cycle, &stack);
    emit(&mut reported, &text);
    INVERSIONS.fetch_add(1, Ordering::Relaxed);
    counted();
    halt_if_asked(&mut reported);
    true
}

fn format_inversion(cycle: &Inversion, stack: &[Frame]) -> String {
    // Name the locks M1, M2, ... in the order the cycle visits them.
    let mut names: Vec<usize> = Vec::new();
    for edge in &cycle.edges {
        for id in [edge.from_id, edge.to_id] {
            if !names.contains(&id) {
                names.push(id);
            }
        }
    }
    let name = |id: usize| format!("M{}", names.iter().position(|&n| n == id).map_or(0, |i| i + 1));
    let mut out = String::from("==================\nWARNING: POTENTIAL DEADLOCK (lock-order inversion)\n");
    out.push_str("Cycle in lock order graph: ");
    for edge in &cycle.edges {
        let _ = write!(out, "{} ({:#014x}) => ", name(edge.from_id), edge.from.0);
    }
    if let Some(first) = cycle.edges.first() {
        let _ = writeln!(out, "{}", name(first.from_id));
    }
    let mut threads = Vec::new();
    for edge in &cycle.edges {
        let info = thread_info(edge.tid);
        let _ = writeln!(
            out,
            "\n{} {} acquired here while holding {} {} in thread {}:",
            edge.to.1.word(),
            name(edge.to_id),
            edge.from.1.word().to_lowercase(),
            name(edge.from_id),
            thread_label(edge.tid, info.as_deref()),
        );
        if edge.current {
            write_stack(&mut out, stack, AccessKind::Read, edge.acquired_at);
        } else {
            let _ = writeln!(out, "  {}", file_line_column(edge.acquired_at));
        }
        let _ = writeln!(
            out,
            "\n{} {} previously acquired by the same thread here:\n  {}",
            edge.from.1.word(),
            name(edge.from_id),
            file_line_column(edge.held_at)
        );
        threads.push(info);
    }
    out.push('\n');
    describe_threads(&mut out, threads);
    out.push_str("==================\n");
    out
}

fn without_prefix(path: &str) -> &str {
    let prefix = &options().strip_path_prefix;
    if prefix.is_empty() {
        path
    } else {
        path.strip_prefix(prefix.as_str()).unwrap_or(path)
    }
}

fn file_line_column(location: &Location<'_>) -> String {
    format!("{}:{}:{}", without_prefix(location.file()), location.line(), location.column())
}

fn thread_label(tid: u32, info: Option<&ThreadInfo>) -> String {
    match info {
        Some(info) => format!("T{tid} ({})", info.display_name()),
        None => format!("T{tid}"),
    }
}

fn status(info: &ThreadInfo) -> &'static str {
    if info.finished.load(Ordering::Relaxed) {
        "finished"
    } else {
        "running"
    }
}

/// Whether `info` is a thread the program started without racecheck (by
/// `std::thread`, or by means racecheck never heard of), other than the
/// main thread and a test harness's thread running a test: a thread whose
/// code may well synchronize through std's types, which racecheck cannot
/// see.
fn started_outside(info: &ThreadInfo) -> bool {
    if info.created_at.is_some() || info.name.as_deref() == Some("main") {
        return false;
    }
    !spawned_by_harness(info)
}

/// Whether a test harness started the thread to run a test: libtest (the
/// `test` crate) starts one per test, a root of the program under test as
/// `main` is. Decided once, from the creation stack.
fn spawned_by_harness(info: &ThreadInfo) -> bool {
    *info.spawned_by_harness.get_or_init(|| {
        let stack = info.creation_stack.lock().unwrap_or_else(PoisonError::into_inner).clone();
        info.std_spawned
            && stack.is_some_and(|mut stack| {
                stack.resolve();
                frames(&stack).iter().any(|f| f.name.starts_with("test::"))
            })
    })
}

/// Said once per process, in the first report that involves a thread
/// racecheck did not start.
static OUTSIDE_NOTED: AtomicBool = AtomicBool::new(false);

fn outside_note() -> &'static str {
    if crate::std_threads::SEEN {
        "Note: a thread above was not started through racecheck::thread. racecheck sees\n\
         std::thread's spawn and join, but not std::sync (Mutex, RwLock, Condvar, Barrier,\n\
         Once, mpsc, atomics) nor the implicit join at the end of std::thread::scope: if\n\
         the two accesses are ordered by one of those, this report is false. Use the\n\
         racecheck::sync type of the same name, racecheck::thread::scope, or\n\
         racecheck::annotate for synchronization of your own. (Said once; the summary\n\
         counts such reports.)\n"
    } else {
        "Note: a thread above was not started through racecheck::thread. On this platform\n\
         racecheck sees neither std::thread's spawn and join nor std::sync (Mutex, RwLock,\n\
         Condvar, Barrier, Once, mpsc, atomics): if the two accesses are ordered by one of\n\
         those, this report is false. Use racecheck::thread, the racecheck::sync type of the\n\
         same name, or racecheck::annotate for synchronization of your own. (Said once; the\n\
         summary counts such reports.)\n"
    }
}

fn format_race(race: &Race, previous_info: Option<Arc<ThreadInfo>>, stack: &[Frame], outside: bool) -> String {
    let mut out = String::new();
    out.push_str("==================\nWARNING: DATA RACE\n");
    let _ = writeln!(
        out,
        "{} at {:#014x} by thread {}:",
        race.current_kind.word(true),
        race.addr,
        thread_label(race.current.tid, Some(&race.current)),
    );
    write_stack(&mut out, stack, race.current_kind, race.current_location);
    let _ = writeln!(
        out,
        "Previous {} at {:#014x} by thread {}:",
        race.previous.kind.word(false),
        race.addr,
        thread_label(race.previous.tid, previous_info.as_deref()),
    );
    match race.previous.location {
        Some(_) if race.previous.kind == AccessKind::Drop => {
            out.push_str("  (the cell was dropped; a drop's place is not recorded)\n");
        }
        Some(location) => {
            let _ = writeln!(out, "  {}", file_line_column(location));
        }
        None => out.push_str("  (location not recorded)\n"),
    }
    describe_threads(&mut out, [Some(race.current.clone()), previous_info]);
    if outside && !OUTSIDE_NOTED.swap(true, Ordering::Relaxed) {
        out.push_str(outside_note());
    }
    if let Some(seed) = crate::explore::current_seed() {
        let _ = writeln!(
            out,
            "Schedule: seed={seed} of racecheck::explore (replay it alone with RACECHECK_OPTIONS=seed={seed})"
        );
    }
    out.push_str("==================\n");
    out
}

/// Where each of `threads` was created, once per thread.
fn describe_threads(out: &mut String, threads: impl IntoIterator<Item = Option<Arc<ThreadInfo>>>) {
    let mut described = Vec::new();
    for info in threads {
        let Some(info) = info else { continue };
        if described.contains(&info.tid) {
            continue;
        }
        described.push(info.tid);
        match info.created_at {
            Some(site) => {
                let _ = writeln!(out, "Thread T{} ({}) created at:", info.tid, status(&info));
                write_creation(out, &info, site);
            }
            None if info.name.as_deref() == Some("main") => {}
            None if info.std_spawned && spawned_by_harness(&info) => {
                let _ = writeln!(
                    out,
                    "Thread T{} ({}) is the test harness's thread for this test",
                    info.tid,
                    status(&info)
                );
            }
            None if info.std_spawned => {
                let _ = writeln!(out, "Thread T{} ({}) created by std::thread at:", info.tid, status(&info));
                write_std_creation(out, &info);
            }
            None => {
                let _ = writeln!(
                    out,
                    "Thread T{} ({}) was not started through racecheck::thread; \
                     its creation site is unknown",
                    info.tid,
                    status(&info)
                );
            }
        }
    }
}

/// One resolved frame of a backtrace.
struct Frame {
    name: String,
    file: Option<String>,
    line: Option<u32>,
}

impl Frame {
    fn is_at(&self, location: &Location<'_>) -> bool {
        self.file.as_deref().is_some_and(|f| f.ends_with(location.file())) && self.line == Some(location.line())
    }

    /// Frames that only carry a call through machinery (racecheck's own
    /// wrappers, closure trampolines, panic catching) and tell the reader
    /// nothing about their program.
    fn is_plumbing(&self) -> bool {
        const PREFIXES: [&str; 6] = [
            "racecheck::",
            "<racecheck::",
            "core::ops::function::",
            "<core::ops::function::",
            "std::panicking::",
            "std::panic::",
        ];
        PREFIXES.iter().any(|p| self.name.starts_with(p))
            || self.name.contains(" as core::ops::function::Fn")
            || self.name == "__rust_try"
    }

    /// What a suppression pattern is matched against: the function name
    /// and the file.
    fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.file.as_deref())
    }

    fn render(&self) -> String {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => format!("  {}  {}:{line}", self.name, without_prefix(file)),
            _ => format!("  {}", self.name),
        }
    }
}

/// The frames of a resolved backtrace, innermost first, up to the thread's
/// entry point (the runtime's frames below it are left out).
fn frames(trace: &backtrace::Backtrace) -> Vec<Frame> {
    let mut frames = Vec::new();
    for frame in trace.frames() {
        for symbol in frame.symbols() {
            let name = symbol.name().map(|n| format!("{n:#}")).unwrap_or_else(|| "??".to_owned());
            if name.contains("__rust_begin_short_backtrace") || name.contains("lang_start") {
                return frames;
            }
            frames.push(Frame {
                name,
                file: symbol.filename().map(|f| f.to_string_lossy().into_owned()),
                line: symbol.lineno(),
            });
        }
    }
    frames
}

/// The current thread's stack, from the racing access outwards: the access
/// site as `function  file:line:col`, then its callers, ending at the
/// thread's entry point. For a drop, whose place `#[track_caller]` cannot
/// give, the stack starts at the first frame below the cell's `Drop` and
/// the drop glue. Falls back to the bare access site when the binary has no
/// symbols to resolve.
fn write_stack(out: &mut String, frames: &[Frame], kind: AccessKind, access: &'static Location<'static>) {
    let mut lines = Vec::new();
    if kind == AccessKind::Drop {
        let below_drop =
            frames.iter().position(|f| f.name.contains("RaceCell<T> as core::ops::drop::Drop>::drop")).map(|i| i + 1);
        if let Some(first) = below_drop {
            lines.extend(
                frames[first..]
                    .iter()
                    .skip_while(|f| f.name.contains("drop_in_place"))
                    .filter(|f| !f.is_plumbing())
                    .map(Frame::render),
            );
        }
    } else if let Some(i) = frames.iter().position(|f| f.is_at(access)) {
        lines.push(format!("  {}  {}", frames[i].name, file_line_column(access)));
        lines.extend(frames[i + 1..].iter().filter(|f| !f.is_plumbing()).map(Frame::render));
    }
    if lines.is_empty() {
        lines.push(format!("  {}", file_line_column(access)));
    }
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
}

/// Where a thread was created: the spawn site, then the spawning thread's
/// callers at that moment (captured unresolved at the spawn, resolved now).
fn write_creation(out: &mut String, info: &ThreadInfo, site: &'static Location<'static>) {
    let _ = writeln!(out, "  {}", file_line_column(site));
    let stack = info.creation_stack.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let Some(mut stack) = stack else {
        return;
    };
    stack.resolve();
    let frames = frames(&stack);
    if let Some(i) = frames.iter().position(|f| f.is_at(site)) {
        for frame in frames[i + 1..].iter().filter(|f| !f.is_plumbing()) {
            out.push_str(&frame.render());
            out.push('\n');
        }
    }
}

/// Where a std thread was created: the spawning thread's stack at its
/// `pthread_create`, from the first frame outside std and racecheck (the
/// program's call to `std::thread::spawn` or the like) outwards.
fn write_std_creation(out: &mut String, info: &ThreadInfo) {
    let stack = info.creation_stack.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let Some(mut stack) = stack else {
        out.push_str("  (the spawning stack is no longer kept)\n");
        return;
    };
    stack.resolve();
    let frames = frames(&stack);
    const MACHINERY: [&str; 8] = ["racecheck::", "std::", "<std::", "core::", "<core::", "alloc::", "<alloc::", "__"];
    let machinery =
        |f: &Frame| MACHINERY.iter().any(|m| f.name.starts_with(m)) || f.name == "pthread_create" || f.name == "??";
    let first = frames.iter().position(|f| !machinery(f));
    let mut printed = false;
    for frame in frames[first.unwrap_or(frames.len())..].iter().filter(|f| !f.is_plumbing()) {
        out.push_str(&frame.render());
        out.push('\n');
        printed = true;
    }
    if !printed {
        out.push_str("  (no symbols to show the spawning stack)\n");
    }
}

/// A report was counted: the exit handler has something to say now.
fn counted() {
    crate::config::at_exit(at_exit);
}

/// At exit (the exit handler runs it once a report was counted): the
/// summary, and the exit status.
fn at_exit() {
    let reports = reports();
    if reports.races + reports.lock_order_inversions == 0 {
        if reports.suppressed > 0 {
            // Only suppressed reports: say so, and leave the status alone.
            let mut reported = REPORTED.lock().unwrap_or_else(PoisonError::into_inner);
            emit(&mut reported, &summary(reports));
        }
        return;
    }
    let mut reported = REPORTED.lock().unwrap_or_else(PoisonError::into_inner);
    emit(&mut reported, &summary(reports));
    let _ = std::io::stdout().flush();
    // SAFETY: we are already inside `exit`, running its handlers; `_exit`
    // ends the process with our status instead of the program's, without
    // running the remaining handlers again. Rust's own buffered stdout was
    // flushed just above.
    unsafe { libc::_exit(options().exitcode) }
}
