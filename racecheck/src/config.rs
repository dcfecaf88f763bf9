//! Whether detection is on, and the `RACECHECK_OPTIONS` that shape reports.
//!
//! The decision is taken once, at the first hook the process runs, from the
//! environment; afterwards `enabled()` is a single relaxed load of a global
//! byte. Every hook in the crate tests it first and only calls into the
//! (cold, out-of-line) detector when it says yes.
//!
//! [`explore`](crate::explore()) turns detection on for its own threads in
//! a process started without `RACECHECK`: the byte then says *scoped*, and
//! `enabled()` answers from a thread-local for each thread (still one load
//! and a branch on the path of a process that never explores).

use std::cell::Cell;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

const UNDECIDED: u8 = 0;
const OFF: u8 = 1;
const ON: u8 = 2;
/// Off, except on the threads of a running exploration.
const SCOPED: u8 = 3;

static STATE: AtomicU8 = AtomicU8::new(UNDECIDED);

/// Whether the race detector is on in this process.
///
/// It is on when the process was started with the environment variable
/// `RACECHECK` set to `1` or `true`, and off otherwise. The one exception is
/// [`explore`](crate::explore()): it turns detection on for the threads that
/// run its closure (and the threads they spawn), whatever the environment
/// says, and for those only. When it is off every racecheck type behaves
/// like its std counterpart and costs about as much.
///
/// ```
/// // Under `RACECHECK=1 cargo test` this prints `true`.
/// println!("race detection: {}", racecheck::enabled());
/// ```
#[inline]
pub fn enabled() -> bool {
    match STATE.load(Ordering::Relaxed) {
        ON => true,
        OFF => false,
        _ => undecided_or_scoped(),
    }
}

/// The two answers that are not a plain load: the first call of the
/// process, and a process in which an exploration runs.
#[cold]
#[inline(never)]
fn undecided_or_scoped() -> bool {
    match STATE.load(Ordering::Relaxed) {
        SCOPED => EXPLORING.try_with(Cell::get).unwrap_or(false),
        _ => decide(),
    }
}

thread_local! {
    /// Whether this thread belongs to a running exploration (set by
    /// `explore` as it takes the thread in and lets it go).
    static EXPLORING: Cell<bool> = const { Cell::new(false) };
}

/// Marks the current thread as a member of an exploration, or no more.
pub(crate) fn set_exploring(member: bool) {
    let _ = EXPLORING.try_with(|e| e.set(member));
}

/// Turns detection on for the threads of explorations, in a process where
/// the environment left it off; makes sure the summary and exit status come
/// at exit. Returns once `enabled()` answers true on exploring threads.
pub(crate) fn enable_for_exploration() {
    if decide() {
        return;
    }
    if STATE.compare_exchange(OFF, SCOPED, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
        start();
    }
}

/// What turning detection on sets up, once: the options and the
/// suppressions are read now, so that a bad one is named at start-up, and
/// the exit handler is installed now, so that it runs after any the program
/// installs later (it ends the process, skipping those registered before
/// it).
fn start() {
    let options = options();
    crate::suppress::load(options.suppressions.as_deref());
    keep_thread_interposition();
    install_exit_handler();
}

/// Reads the environment once and records the answer. Racing callers may
/// both read it; they reach the same answer, and only the first installs the
/// exit hook.
#[cold]
#[inline(never)]
fn decide() -> bool {
    match STATE.load(Ordering::Relaxed) {
        ON => return true,
        OFF | SCOPED => return false,
        _ => {}
    }
    let on = matches!(std::env::var("RACECHECK").as_deref(), Ok("1") | Ok("true") | Ok("TRUE") | Ok("True"));
    let value = if on { ON } else { OFF };
    if STATE.compare_exchange(UNDECIDED, value, Ordering::Relaxed, Ordering::Relaxed).is_ok() && on {
        start();
    }
    on
}

/// What the exit handler does, supplied by the report module when it counts
/// its first report (until then there is nothing to say at exit).
static AT_EXIT: OnceLock<fn()> = OnceLock::new();

/// Gives the exit handler its work; the first call wins.
pub(crate) fn at_exit(work: fn()) {
    let _ = AT_EXIT.set(work);
}

extern "C" fn exit_handler() {
    if let Some(work) = AT_EXIT.get() {
        work();
    }
}

fn install_exit_handler() {
    // SAFETY: `exit_handler` is an `extern "C" fn()` with no arguments, as
    // `atexit` requires, and it lives for the whole program.
    let rc = unsafe { libc::atexit(exit_handler) };
    if rc != 0 {
        eprintln!("racecheck: could not install the exit handler; races will not set the exit status");
    }
}

/// With the `std-threads` feature, racecheck defines `pthread_create`,
/// `pthread_join` and `pthread_detach` (`std_threads.rs`). A linker takes an
/// object from a library only for a symbol that something already asked
/// for, and std asks for `pthread_create` only after racecheck's objects
/// were looked at; so this code, which every program that uses racecheck
/// links, asks for the three symbols by name, and racecheck's definitions
/// are the ones linked.
#[inline(never)]
fn keep_thread_interposition() -> usize {
    #[cfg(all(feature = "std-threads", target_os = "linux", target_env = "gnu", not(target_feature = "crt-static")))]
    {
        std::hint::black_box(libc::pthread_create as *const () as usize)
            ^ std::hint::black_box(libc::pthread_join as *const () as usize)
            ^ std::hint::black_box(libc::pthread_detach as *const () as usize)
    }
    #[cfg(not(all(
        feature = "std-threads",
        target_os = "linux",
        target_env = "gnu",
        not(target_feature = "crt-static")
    )))]
    {
        0
    }
}

/// The parsed `RACECHECK_OPTIONS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    /// Exit status when races were found (Go's `exitcode`, default 66).
    pub(crate) exitcode: i32,
    /// Exit right after the first report.
    pub(crate) halt_on_error: bool,
    /// Where reports go: `None` for stderr, else a path prefix to which the
    /// process id is appended, as Go does.
    pub(crate) log_path: Option<String>,
    /// Stripped from the front of every file name printed.
    pub(crate) strip_path_prefix: String,
    // Reports beyond Go's.
    /// Report cycles in the lock order (TSan's `detect_deadlocks`).
    pub(crate) report_lock_order: bool,
    /// A file of TSan-style suppressions.
    pub(crate) suppressions: Option<String>,
    /// `seed=S`: every `explore` call runs the one schedule `S`.
    pub(crate) seed: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            exitcode: 66,
            halt_on_error: false,
            log_path: None,
            strip_path_prefix: String::new(),
            report_lock_order: true,
            suppressions: None,
            seed: None,
        }
    }
}

/// The options of this process, parsed once from `RACECHECK_OPTIONS`.
pub(crate) fn options() -> &'static Options {
    static OPTIONS: OnceLock<Options> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let text = std::env::var("RACECHECK_OPTIONS").unwrap_or_default();
        let (options, warnings) = parse_options(&text);
        for warning in warnings {
            eprintln!("{warning}");
        }
        options
    })
}

/// Parses a `GORACE`-style option string: `key=value` words separated by
/// spaces. Every word that cannot be used yields one warning line naming it;
/// it is then ignored and the default stays.
pub(crate) fn parse_options(text: &str) -> (Options, Vec<String>) {
    let mut options = Options::default();
    let mut warnings = Vec::new();
    for word in text.split_whitespace() {
        let Some((key, value)) = word.split_once('=') else {
            warnings.push(format!("racecheck: ignoring option `{word}` in RACECHECK_OPTIONS: expected key=value"));
            continue;
        };
        let problem = match key {
            "exitcode" => match value.parse::<i32>() {
                Ok(code) => {
                    options.exitcode = code;
                    None
                }
                Err(_) => Some("exitcode wants an integer"),
            },
            "halt_on_error" => match value {
                "1" | "true" => {
                    options.halt_on_error = true;
                    None
                }
                "0" | "false" => {
                    options.halt_on_error = false;
                    None
                }
                _ => Some("halt_on_error wants 0 or 1"),
            },
            "log_path" => {
                options.log_path = match value {
                    "" | "stderr" => None,
                    path => Some(path.to_owned()),
                };
                None
            }
            "strip_path_prefix" => {
                options.strip_path_prefix = value.to_owned();
                None
            }
            "report_lock_order" => match flag(value) {
                Some(on) => {
                    options.report_lock_order = on;
                    None
                }
                None => Some("report_lock_order wants 0 or 1"),
            },
            "suppressions" => {
                options.suppressions = (!value.is_empty()).then(|| value.to_owned());
                None
            }
            "seed" => match parse_seed(value) {
                Some(seed) => {
                    options.seed = Some(seed);
                    None
                }
                None => Some("seed wants an unsigned 64-bit integer (decimal, or hex after 0x)"),
            },
            _ => Some("unknown option"),
        };
        if let Some(problem) = problem {
            warnings.push(format!("racecheck: ignoring option `{word}` in RACECHECK_OPTIONS: {problem}"));
        }
    }
    (options, warnings)
}

/// A boolean option's value.
fn flag(value: &str) -> Option<bool> {
    match value {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}

/// A schedule seed as reports print it (decimal), or in hex after `0x`.
fn parse_seed(value: &str) -> Option<u64> {
    match value.strip_prefix("0x").or_else(|| value.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => value.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let (o, w) = parse_options("");
        assert_eq!(o, Options::default());
        assert_eq!(o.exitcode, 66);
        assert!(w.is_empty());
    }

    #[test]
    fn every_option() {
        let (o, w) = parse_options("exitcode=3  halt_on_error=1 log_path=/tmp/x strip_path_prefix=/src/");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(o.exitcode, 3);
        assert!(o.halt_on_error);
        assert_eq!(o.log_path.as_deref(), Some("/tmp/x"));
        assert_eq!(o.strip_path_prefix, "/src/");
        assert!(o.report_lock_order);
        assert_eq!(o.suppressions, None);
        assert_eq!(parse_options("suppressions=/etc/supp.txt").0.suppressions.as_deref(), Some("/etc/supp.txt"));
        let (o, w) = parse_options("report_lock_order=0 report_lock_order=maybe");
        assert!(!o.report_lock_order);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("`report_lock_order=maybe`"), "{w:?}");
    }

    #[test]
    fn bad_options_warn_once_each_and_keep_defaults() {
        let (o, w) = parse_options("exitcode=abc colour=red halt_on_error=2 lonely exitcode=7");
        assert_eq!(o.exitcode, 7);
        assert!(!o.halt_on_error);
        assert_eq!(w.len(), 4, "{w:?}");
        assert!(w[0].contains("`exitcode=abc`"));
        assert!(w[1].contains("`colour=red`"));
        assert!(w[2].contains("`halt_on_error=2`"));
        assert!(w[3].contains("`lonely`"));
    }

    #[test]
    fn seed_in_decimal_or_hex() {
        assert_eq!(parse_options("seed=1234").0.seed, Some(1234));
        assert_eq!(parse_options("seed=0xff").0.seed, Some(255));
        let (o, w) = parse_options("seed=-1 seed=0xzz");
        assert_eq!(o.seed, None);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("`seed=-1`") && w[0].contains("seed wants"));
    }
}
