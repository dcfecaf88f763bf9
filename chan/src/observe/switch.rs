//! Which parts of observability are on: one global word, read once per
//! wait, and the `CHAN_OBSERVE` variable that can set it from outside.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Once;

/// A set of parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Parts(u8);

impl Parts {
    pub(crate) const NONE: Parts = Parts(0);
    pub(crate) const EVENTS: Parts = Parts(1);
    pub(crate) const PROFILE: Parts = Parts(2);
    pub(crate) const TIMELINE: Parts = Parts(4);
    /// Not a part: `CHAN_OBSERVE` has not been read yet.
    const UNREAD: Parts = Parts(0x80);

    pub(crate) fn contains(self, other: Parts) -> bool {
        self.0 & other.0 == other.0
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// The parts that are on, plus `UNREAD` until the variable was read.
static ON: AtomicU8 = AtomicU8::new(Parts::UNREAD.0);

static READ_ENV: Once = Once::new();

/// The parts that are on. One relaxed load once the variable was read;
/// the first call reads it.
#[inline]
pub(crate) fn on() -> Parts {
    let on = Parts(ON.load(Ordering::Relaxed));
    if on.0 & Parts::UNREAD.0 == 0 {
        return on;
    }
    init();
    Parts(ON.load(Ordering::Relaxed))
}

/// Reads `CHAN_OBSERVE` once.
#[cold]
pub(crate) fn init() {
    READ_ENV.call_once(|| {
        let wanted = match std::env::var("CHAN_OBSERVE") {
            Ok(spec) => parse(&spec, &mut |bad| eprintln!("chan: CHAN_OBSERVE: {bad}; ignored")),
            Err(std::env::VarError::NotPresent) => Wanted::default(),
            Err(std::env::VarError::NotUnicode(_)) => {
                eprintln!("chan: CHAN_OBSERVE is not valid UTF-8; ignored");
                Wanted::default()
            }
        };
        if wanted.timeline.is_some() {
            super::timeline::start();
        }
        if wanted.parts.contains(Parts::PROFILE) {
            at_exit_print_profile();
        }
        if let Some(path) = wanted.timeline {
            at_exit_write_timeline(path);
        }
        // Keep whatever a call into `observe` set meanwhile; drop UNREAD.
        ON.fetch_or(wanted.parts.0, Ordering::Relaxed);
        ON.fetch_and(!Parts::UNREAD.0, Ordering::Relaxed);
    });
}

/// Switches `part` on or off.
pub(crate) fn set(part: Parts, on: bool) {
    init();
    if on {
        ON.fetch_or(part.0, Ordering::Relaxed);
    } else {
        ON.fetch_and(!part.0, Ordering::Relaxed);
    }
}

/// What `CHAN_OBSERVE` asks for.
#[derive(Debug, Default, PartialEq, Eq)]
struct Wanted {
    parts: Parts,
    timeline: Option<String>,
}

impl Default for Parts {
    fn default() -> Self {
        Parts::NONE
    }
}

/// Parses `events,profile,timeline=PATH`; each item it does not know goes
/// to `bad`, with the reason.
fn parse(spec: &str, bad: &mut dyn FnMut(String)) -> Wanted {
    let mut wanted = Wanted::default();
    for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        match item.split_once('=') {
            None if item == "events" => {
                if cfg!(feature = "trace") {
                    wanted.parts.0 |= Parts::EVENTS.0;
                } else {
                    bad("`events`: chan was built without its `trace` feature".to_string());
                }
            }
            None if item == "profile" => wanted.parts.0 |= Parts::PROFILE.0,
            Some(("timeline", path)) if !path.is_empty() => {
                wanted.parts.0 |= Parts::TIMELINE.0;
                wanted.timeline = Some(path.to_string());
            }
            None if item == "timeline" => bad("`timeline` needs a file: `timeline=PATH`".to_string()),
            _ => bad(format!("unknown item `{item}` (known: events, profile, timeline=PATH)")),
        }
    }
    wanted
}

/// Prints the profile to stderr at exit, once however often asked.
pub(crate) fn at_exit_print_profile() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| at_exit(print_profile));
}

extern "C" fn print_profile() {
    eprintln!("{}", super::profile::snapshot());
}

fn at_exit_write_timeline(path: String) {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if PATH.set(path).is_ok() {
        at_exit(write_timeline);
    }
    extern "C" fn write_timeline() {
        if let Some(path) = PATH.get() {
            let timeline = super::timeline::take();
            match timeline.save(path) {
                Ok(()) => eprintln!("chan: timeline of {} waits written to {path}", timeline.len()),
                Err(e) => eprintln!("chan: could not write the timeline to {path}: {e}"),
            }
        }
    }
}

/// Runs `f` when the process exits normally (returning from `main` or
/// calling `exit`).
#[cfg(target_os = "linux")]
fn at_exit(f: extern "C" fn()) {
    // SAFETY: `f` is a plain function without arguments that lives for the
    // whole program, which is all `atexit` requires.
    if unsafe { libc::atexit(f) } != 0 {
        eprintln!("chan: CHAN_OBSERVE: could not register the at-exit report");
    }
}

/// No `atexit` hook outside Linux: the program prints or saves what it
/// wants itself.
#[cfg(not(target_os = "linux"))]
fn at_exit(_f: extern "C" fn()) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(spec: &str) -> (Wanted, Vec<String>) {
        let mut errors = Vec::new();
        let wanted = parse(spec, &mut |e| errors.push(e));
        (wanted, errors)
    }

    #[test]
    fn items_combine_and_bad_ones_are_named() {
        let (wanted, errors) = parsed("profile, timeline=/tmp/t.json");
        assert_eq!(wanted.parts, Parts(Parts::PROFILE.0 | Parts::TIMELINE.0));
        assert_eq!(wanted.timeline.as_deref(), Some("/tmp/t.json"));
        assert!(errors.is_empty());

        let (wanted, errors) = parsed("profil,timeline,,profile");
        assert_eq!(wanted.parts, Parts::PROFILE);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("`profil`"), "{errors:?}");
        assert!(errors[1].contains("timeline=PATH"), "{errors:?}");
    }

    #[test]
    fn events_need_the_trace_feature() {
        let (wanted, errors) = parsed("events");
        if cfg!(feature = "trace") {
            assert_eq!(wanted.parts, Parts::EVENTS);
            assert!(errors.is_empty());
        } else {
            assert_eq!(wanted.parts, Parts::NONE);
            assert!(errors[0].contains("trace"), "{errors:?}");
        }
    }
}
