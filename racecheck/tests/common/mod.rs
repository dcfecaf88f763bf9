//! Runs a test of this binary again in a child process with the detector
//! on, so that each scenario starts from a fresh detector and its report and
//! exit status can be checked from outside.

#![allow(dead_code)]

use std::process::{Command, Output};

/// Set in the child so the test body runs the scenario instead of
/// re-executing itself.
pub const CHILD: &str = "RACECHECK_TEST_CHILD";

pub fn in_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Runs the test `name` of the current test binary in a child process with
/// `RACECHECK=1` and the extra environment `env` (a value of `None`
/// removes the variable).
pub fn rerun(name: &str, env: &[(&str, Option<&str>)]) -> Output {
    let exe = std::env::current_exe().expect("test binary path");
    let mut command = Command::new(exe);
    command
        .args([name, "--exact", "--nocapture"])
        .env("RACECHECK", "1")
        .env(CHILD, "1")
        .env_remove("RACECHECK_OPTIONS");
    for (key, value) in env {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command.output().expect("run the child test process")
}

pub fn reports(stderr: &str) -> usize {
    stderr.matches("WARNING: DATA RACE").count()
}

/// Defines a test that runs `$body` in a child with the detector on and
/// checks that exactly `$races` races were reported (and the exit status
/// that follows from it).
#[allow(unused_macros)]
macro_rules! scenario {
    ($name:ident, races = $races:expr, $body:block) => {
        #[test]
        fn $name() {
            if common::in_child() {
                assert!(racecheck::enabled(), "the child must run with RACECHECK=1");
                $body
                assert_eq!(racecheck::race_count(), $races, "races reported in the child");
                return;
            }
            let out = common::rerun(stringify!($name), &[]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            let expected_status = if $races == 0 { 0 } else { 66 };
            assert_eq!(
                common::reports(&stderr),
                $races,
                "reports in the child's stderr:\n{stderr}\nstdout:\n{stdout}"
            );
            assert_eq!(
                out.status.code(),
                Some(expected_status),
                "child status; stderr:\n{stderr}\nstdout:\n{stdout}"
            );
            assert!(stdout.contains("1 passed"), "child test did not pass:\n{stdout}\n{stderr}");
        }
    };
}
