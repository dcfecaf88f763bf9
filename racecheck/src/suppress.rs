//! Suppressions: ThreadSanitizer's suppression files, for the kinds of
//! report racecheck makes, so that a report about code one cannot change
//! (a dependency, generated code) can be silenced.
//!
//! `RACECHECK_OPTIONS=suppressions=FILE` names the file. Each line is
//! `kind:pattern`; blank lines and lines starting with `#` are ignored.
//! The kinds:
//!
//! - `race:` a data race with any frame of either side matching: a
//!   function name or a file path of the current access's stack, or the
//!   file path of the previous access (whose stack is not kept);
//! - `race_top:` the same, against the top frame of each side only;
//! - `deadlock:` a lock-order inversion with any matching frame or place:
//!   the current thread's stack and every edge's two acquisition sites.
//!
//! The other kinds of TSan's format (`thread`, `mutex`, `signal`,
//! `called_from_lib`) are for reports racecheck does not make: such a line
//! is named in a warning and ignored, as is a line that cannot be read.
//! Patterns are TSan's: `*` matches any run of characters, a leading `^`
//! anchors the pattern at the start and a trailing `$` at the end, and
//! otherwise it may match anywhere in the name.
//!
//! A suppressed report is not printed and does not set the exit status; it
//! is counted, and the summary line at exit says how many there were.

use std::sync::OnceLock;

/// What a suppression silences.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Race,
    RaceTop,
    Deadlock,
}

#[derive(Debug, PartialEq, Eq)]
struct Suppression {
    kind: Kind,
    pattern: String,
}

/// The suppressions of this process, read once, when detection turns on.
static LOADED: OnceLock<Vec<Suppression>> = OnceLock::new();

fn loaded() -> &'static [Suppression] {
    LOADED.get().map_or(&[], Vec::as_slice)
}

/// Reads the suppressions file at `path` (the `suppressions` option), once:
/// a line that cannot be used, or a file that cannot be read, is named in
/// a warning now, at start-up.
pub(crate) fn load(path: Option<&str>) {
    LOADED.get_or_init(|| {
        let Some(path) = path else {
            return Vec::new();
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let (suppressions, warnings) = parse(&text, path);
                for warning in warnings {
                    eprintln!("{warning}");
                }
                suppressions
            }
            Err(error) => {
                eprintln!("racecheck: cannot read the suppressions file {path}: {error}; nothing is suppressed");
                Vec::new()
            }
        }
    });
}

/// Whether a report of `kind` is suppressed. `top` holds the names (function
/// names and file paths) of the top frame of each side, `all` those of every
/// frame; `race:` and `deadlock:` look at `all`, `race_top:` at `top`.
pub(crate) fn is_suppressed(kind: Kind, top: &[&str], all: &[&str]) -> bool {
    loaded().iter().any(|s| {
        let names = match (s.kind, kind) {
            (Kind::Race, Kind::Race) | (Kind::Deadlock, Kind::Deadlock) => all,
            (Kind::RaceTop, Kind::Race) => top,
            _ => return false,
        };
        names.iter().any(|name| matches(&s.pattern, name))
    })
}

/// Parses a suppressions file; every line that cannot be used yields one
/// warning naming it, and is ignored.
fn parse(text: &str, path: &str) -> (Vec<Suppression>, Vec<String>) {
    let mut suppressions = Vec::new();
    let mut warnings = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let warn = |why: &str| format!("racecheck: ignoring line {} of {path} (`{line}`): {why}", number + 1);
        let Some((kind, pattern)) = line.split_once(':') else {
            warnings.push(warn("expected kind:pattern"));
            continue;
        };
        let kind = match kind.trim() {
            "race" => Kind::Race,
            "race_top" => Kind::RaceTop,
            "deadlock" => Kind::Deadlock,
            "thread" | "mutex" | "signal" | "called_from_lib" => {
                warnings.push(warn("racecheck makes no report of this kind"));
                continue;
            }
            _ => {
                warnings.push(warn("unknown kind (racecheck knows race, race_top and deadlock)"));
                continue;
            }
        };
        let pattern = pattern.trim();
        if pattern.is_empty() || pattern == "^" || pattern == "$" {
            warnings.push(warn("empty pattern"));
            continue;
        }
        suppressions.push(Suppression { kind, pattern: pattern.to_owned() });
    }
    (suppressions, warnings)
}

/// TSan's template match: `*` is any run of characters, a leading `^` and
/// a trailing `$` anchor the pattern, and an unanchored pattern may match
/// anywhere.
fn matches(pattern: &str, name: &str) -> bool {
    let (start_anchored, pattern) = match pattern.strip_prefix('^') {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    let (end_anchored, pattern) = match pattern.strip_suffix('$') {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    let pieces: Vec<&str> = pattern.split('*').collect();
    let mut rest = name;
    for (i, piece) in pieces.iter().enumerate() {
        let first = i == 0;
        let last = i == pieces.len() - 1;
        if piece.is_empty() {
            continue;
        }
        if first && start_anchored {
            match rest.strip_prefix(piece) {
                Some(after) => rest = after,
                None => return false,
            }
        } else if last && end_anchored {
            // The last piece must end the name, after what came before.
            return rest.len() >= piece.len() && rest.ends_with(piece);
        } else {
            match rest.find(piece) {
                Some(at) => rest = &rest[at + piece.len()..],
                None => return false,
            }
        }
    }
    // An end anchor with an empty last piece (`foo*$`) matches anything
    // after; otherwise the whole name must have been used up.
    !end_anchored || rest.is_empty() || pieces.last().is_some_and(|p| p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_as_tsan_s() {
        assert!(matches("foo", "my::foo::bar"));
        assert!(!matches("^foo", "my::foo::bar"));
        assert!(matches("^my::", "my::foo::bar"));
        assert!(matches("bar$", "my::foo::bar"));
        assert!(!matches("foo$", "my::foo::bar"));
        assert!(matches("^my::*::bar$", "my::foo::bar"));
        assert!(matches("my*bar", "my::foo::bar"));
        assert!(!matches("bar*my", "my::foo::bar"));
        assert!(matches("^src/*.rs$", "src/lib.rs"));
        assert!(!matches("^src/*.rs$", "src/lib.rsx"));
        assert!(matches("*", "anything"));
        assert!(matches("^exact$", "exact"));
        assert!(!matches("^exact$", "exactly"));
    }

    #[test]
    fn the_file_format() {
        let text = "# a comment\n\nrace:vendor/\n race_top: ^my::hot_loop \ndeadlock:legacy_locks\n\
                    thread:leaky\nbogus:x\nno colon\nrace:\n";
        let (suppressions, warnings) = parse(text, "supp.txt");
        assert_eq!(
            suppressions,
            vec![
                Suppression { kind: Kind::Race, pattern: "vendor/".into() },
                Suppression { kind: Kind::RaceTop, pattern: "^my::hot_loop".into() },
                Suppression { kind: Kind::Deadlock, pattern: "legacy_locks".into() },
            ]
        );
        assert_eq!(warnings.len(), 4, "{warnings:?}");
        assert!(warnings[0].contains("line 6 of supp.txt (`thread:leaky`)"), "{warnings:?}");
        assert!(warnings[1].contains("`bogus:x`): unknown kind"), "{warnings:?}");
        assert!(warnings[2].contains("`no colon`"), "{warnings:?}");
        assert!(warnings[3].contains("`race:`): empty pattern"), "{warnings:?}");
    }
}
