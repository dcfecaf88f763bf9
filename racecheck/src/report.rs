//! Race reports in the shape of Go's `-race`, the summary at exit, and the
//! exit status.
//!
//! A report names both accesses (kind, address, thread, source location),
//! the current thread's backtrace (captured only now that a race was found)
//! and where the threads involved were created. The same pair of source
//! locations is reported once, whichever side came first. When the process
//! exits after at least one report, `Found N data race(s)` is printed and the
//! exit status becomes `exitcode` (66 unless `RACECHECK_OPTIONS` says
//! otherwise), from an `atexit` handler so that it also works when `main`
//! returns normally, as a test harness's does.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::panic::Location;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::config::options;
use crate::runtime::{thread_info, ThreadInfo};

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

static RACES: AtomicUsize = AtomicUsize::new(0);

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

type PlaceKey = (&'static str, u32, u32);

struct Sink {
    seen: BTreeSet<(PlaceKey, PlaceKey)>,
    file: Option<File>,
}

static SINK: Mutex<Sink> = Mutex::new(Sink { seen: BTreeSet::new(), file: None });

fn place_key(location: Option<&'static Location<'static>>) -> PlaceKey {
    location.map_or(("", 0, 0), |l| (l.file(), l.line(), l.column()))
}

/// Writes text to the report destination: stderr, or `log_path.PID`.
fn emit(sink: &mut Sink, text: &str) {
    if cfg!(test) {
        // The crate's unit tests drive the rules with made-up threads and
        // check the verdicts; the report text is tested from outside.
        return;
    }
    if let Some(prefix) = &options().log_path {
        if sink.file.is_none() {
            let path = format!("{prefix}.{}", std::process::id());
            match OpenOptions::new().create(true).append(true).open(&path) {
                Ok(file) => sink.file = Some(file),
                Err(error) => {
                    eprintln!("racecheck: cannot open log_path {path}: {error}; using stderr");
                }
            }
        }
        if let Some(file) = &mut sink.file {
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
    let here = place_key(Some(race.current_location));
    let there = place_key(race.previous.location);
    let pair = if here <= there { (here, there) } else { (there, here) };
    crate::explore::race_seen();
    let mut sink = SINK.lock().unwrap_or_else(PoisonError::into_inner);
    if !sink.seen.insert(pair) {
        return false;
    }
    let text = format_race(&race);
    emit(&mut sink, &text);
    let count = RACES.fetch_add(1, Ordering::Relaxed) + 1;
    if options().halt_on_error {
        emit(&mut sink, &summary(count));
        // SAFETY: `_exit` ends the process at once without running Rust or
        // C destructors; nothing is left half-written because the report
        // and summary above were written with whole `write_all` calls.
        unsafe { libc::_exit(options().exitcode) }
    }
    true
}

fn summary(count: usize) -> String {
    format!("Found {count} data race(s)\n")
}

fn strip(path: &str) -> &str {
    let prefix = &options().strip_path_prefix;
    if prefix.is_empty() {
        path
    } else {
        path.strip_prefix(prefix.as_str()).unwrap_or(path)
    }
}

fn place(location: &Location<'_>) -> String {
    format!("{}:{}:{}", strip(location.file()), location.line(), location.column())
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

fn format_race(race: &Race) -> String {
    let previous_info =
        if race.previous.tid == race.current.tid { Some(race.current.clone()) } else { thread_info(race.previous.tid) };
    let mut out = String::new();
    out.push_str("==================\nWARNING: DATA RACE\n");
    let _ = writeln!(
        out,
        "{} at {:#014x} by thread {}:",
        race.current_kind.word(true),
        race.addr,
        thread_label(race.current.tid, Some(&race.current)),
    );
    write_stack(&mut out, race.current_kind, race.current_location);
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
            let _ = writeln!(out, "  {}", place(location));
        }
        None => out.push_str("  (location not recorded)\n"),
    }
    let mut described = Vec::new();
    for info in std::iter::once(Some(race.current.clone())).chain([previous_info]) {
        let Some(info) = info else { continue };
        if described.contains(&info.tid) {
            continue;
        }
        described.push(info.tid);
        match info.created_at {
            Some(site) => {
                let _ = writeln!(out, "Thread T{} ({}) created at:", info.tid, status(&info));
                write_creation(&mut out, &info, site);
            }
            None if info.name.as_deref() == Some("main") => {}
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
    if let Some(seed) = crate::explore::current_seed() {
        let _ = writeln!(
            out,
            "Schedule: seed={seed} of racecheck::explore (replay it alone with RACECHECK_OPTIONS=seed={seed})"
        );
    }
    out.push_str("==================\n");
    out
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

    fn render(&self) -> String {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => format!("  {}  {}:{line}", self.name, strip(file)),
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
fn write_stack(out: &mut String, kind: AccessKind, access: &'static Location<'static>) {
    let frames = frames(&backtrace::Backtrace::new());
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
        lines.push(format!("  {}  {}", frames[i].name, place(access)));
        lines.extend(frames[i + 1..].iter().filter(|f| !f.is_plumbing()).map(Frame::render));
    }
    if lines.is_empty() {
        lines.push(format!("  {}", place(access)));
    }
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
}

/// Where a thread was created: the spawn site, then the spawning thread's
/// callers at that moment (captured unresolved at the spawn, resolved now).
fn write_creation(out: &mut String, info: &ThreadInfo, site: &'static Location<'static>) {
    let _ = writeln!(out, "  {}", place(site));
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

extern "C" fn at_exit() {
    let count = race_count();
    if count == 0 {
        return;
    }
    let mut sink = SINK.lock().unwrap_or_else(PoisonError::into_inner);
    emit(&mut sink, &summary(count));
    let _ = std::io::stdout().flush();
    // SAFETY: we are already inside `exit`, running its handlers; `_exit`
    // ends the process with our status instead of the program's, without
    // running the remaining handlers again. Rust's own buffered stdout was
    // flushed just above.
    unsafe { libc::_exit(options().exitcode) }
}

/// Registers the exit handler once, when detection turns on.
pub(crate) fn install_exit_hook() {
    // SAFETY: `at_exit` is an `extern "C" fn()` with no arguments, as
    // `atexit` requires, and it lives for the whole program.
    let rc = unsafe { libc::atexit(at_exit) };
    if rc != 0 {
        eprintln!("racecheck: could not install the exit handler; races will not set the exit status");
    }
}
