//! chan × `racecheck::explore`: the three races of
//! `examples/explore_races.rs` that a plain run rarely shows (a write
//! ordered only by a lucky lock order, a read in a CAS's contended branch,
//! a slow path taken only when a bounded channel is full) are found, their
//! fixed twins stay silent, a channel race replays from its seed, and
//! every blocking path of the channels (parks, hand-offs, select,
//! deadlines, timers) runs scheduled, on every flavor, without reports or
//! hangs.
//!
//! Each scenario runs in a child process of this test binary started
//! without `RACECHECK` (`explore` turns detection on for its threads); a
//! child that runs for more than a minute is killed and fails its test.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chan::{Receiver, Sender};
use racecheck::cell::RaceCell;
use racecheck::sync::Arc;
use racecheck::thread;

#[allow(dead_code)]
#[path = "../examples/explore_races.rs"]
mod programs;

/// Set in the child so that the test body runs the scenario.
const CHILD: &str = "CHAN_EXPLORE_TEST_CHILD";

struct Child {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Child {
    fn reports(&self) -> usize {
        self.stderr.matches("WARNING: DATA RACE").count()
    }

    fn first_seed(&self) -> Option<u64> {
        let rest = self.stderr.split("Schedule: seed=").nth(1)?;
        rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    }

    /// The `file:line:col` of both accesses of the first report.
    fn places(&self) -> Vec<String> {
        let lines: Vec<&str> = self.stderr.lines().collect();
        lines
            .windows(2)
            .filter(|pair| pair[0].contains(" at 0x") && pair[0].contains(" by thread "))
            .filter_map(|pair| pair[1].split_whitespace().find(|w| w.contains(".rs:")))
            .take(2)
            .map(str::to_owned)
            .collect()
    }

    fn assert_found(&self) {
        assert_eq!(self.reports(), 1, "{self}");
        assert_eq!(self.status, Some(66), "{self}");
        assert!(self.stderr.contains("racecheck::explore: data races in "), "{self}");
    }

    fn assert_silent(&self) {
        assert_eq!(self.reports(), 0, "{self}");
        assert_eq!(self.status, Some(0), "{self}");
        assert!(self.stdout.contains("1 passed"), "{self}");
    }
}

impl std::fmt::Display for Child {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "status {:?}\n--- stderr:\n{}\n--- stdout:\n{}", self.status, self.stderr, self.stdout)
    }
}

/// Runs test `name` in a child without `RACECHECK`, with `options` as
/// `RACECHECK_OPTIONS`; kills it after a minute.
fn run(name: &str, options: Option<&str>) -> Child {
    let exe = std::env::current_exe().expect("test binary path");
    let mut command = Command::new(exe);
    command
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env_remove("RACECHECK")
        .env_remove("RACECHECK_OPTIONS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(options) = options {
        command.env("RACECHECK_OPTIONS", options);
    }
    let mut child = command.spawn().expect("start the child test");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child `{name}` hung:\n{}", err.join().unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Child { status: status.code(), stdout: out.join().unwrap_or_default(), stderr: err.join().unwrap_or_default() }
}

/// A test whose body runs only in the child.
macro_rules! child {
    ($name:ident, $body:block) => {
        #[test]
        fn $name() {
            if std::env::var_os(CHILD).is_some() {
                $body
            }
        }
    };
}

// ---- the three races ------------------------------------------------------

child!(lock_order_racy, { racecheck::explore(200, || programs::lock_order(false)) });
child!(lock_order_fixed, { racecheck::explore(300, || programs::lock_order(true)) });
child!(cas_racy, { racecheck::explore(3000, || programs::cas(false)) });
child!(cas_fixed, { racecheck::explore(300, || programs::cas(true)) });
// Without the pace between records, which only matters to plain runs: it
// has no scheduling point.
child!(full_channel_racy, { racecheck::explore(100, || programs::full_channel_paced(false, Duration::ZERO)) });
child!(full_channel_fixed, { racecheck::explore(300, || programs::full_channel_paced(true, Duration::ZERO)) });

/// (a) Depth 1 among 3 threads: each depth-1 schedule shows it with
/// probability at least 1/3; 200 schedules hold 67 of them, so a miss has
/// probability at most (2/3)^67 < 1e-11.
#[test]
fn finds_a_write_ordered_only_by_lock_order() {
    run("lock_order_racy", None).assert_found();
    run("lock_order_fixed", None).assert_silent();
}

/// (b) Depth 2 among 3 threads and about 20 steps: each depth-2 schedule
/// shows it with probability at least 1/60; 3000 schedules hold 1000 of
/// them, so a miss has probability at most (59/60)^1000 < 1e-7.
#[test]
fn finds_a_race_in_the_contended_branch_of_a_cas() {
    run("cas_racy", None).assert_found();
    run("cas_fixed", None).assert_silent();
}

/// (c) Depth 1 between 2 threads (the logger must not run before the
/// channel fills): probability at least 1/2 per depth-1 schedule; 100
/// schedules hold 34 of them, so a miss has probability at most 2^-34.
#[test]
fn finds_a_race_on_the_slow_path_of_a_full_channel() {
    run("full_channel_racy", None).assert_found();
    run("full_channel_fixed", None).assert_silent();
}

/// The seed in the report replays the channel race alone, at the same
/// places.
#[test]
fn a_channel_race_replays_from_its_seed() {
    let found = run("full_channel_racy", None);
    found.assert_found();
    let seed = found.first_seed().expect("the report names its seed");
    let replay = run("full_channel_racy", Some(&format!("seed={seed}")));
    replay.assert_found();
    assert!(replay.stderr.contains("data races in 1 of 1 schedules"), "{replay}");
    assert_eq!(replay.places(), found.places());
}

// ---- every blocking path, scheduled ---------------------------------------

/// A message: a shared variable that the receiver updates.
type Cell = Arc<RaceCell<u32>>;

/// Producers and consumers that block on a full and an empty channel, and
/// a close, with the data each message carries checked on the way.
fn pipeline((s, r): (Sender<Cell>, Receiver<Cell>)) {
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let r = r.clone();
            thread::spawn(move || {
                let mut n = 0;
                while let Ok(cell) = r.recv() {
                    cell.set(cell.get() + 1);
                    n += 1;
                }
                n
            })
        })
        .collect();
    drop(r);
    let sent: Vec<_> = (0..4).map(|i| Arc::new(RaceCell::new(i))).collect();
    let producer = {
        let (s, sent) = (s.clone(), sent.clone());
        thread::spawn(move || {
            for cell in sent.iter().skip(2) {
                s.send(cell.clone()).unwrap();
            }
        })
    };
    for cell in sent.iter().take(2) {
        s.send(cell.clone()).unwrap();
    }
    producer.join().unwrap();
    drop(s);
    let received: usize = consumers.into_iter().map(|c| c.join().unwrap()).sum();
    assert_eq!(received, 4);
    for (i, cell) in sent.iter().enumerate() {
        assert_eq!(cell.get(), i as u32 + 1);
    }
}

child!(flavors_scheduled, {
    racecheck::explore(40, || {
        pipeline(chan::bounded(1));
        pipeline(chan::bounded(0));
        pipeline(chan::unbounded());
        pipeline(chan::hchan::bounded(1));
        pipeline(chan::hchan::bounded(0));
        pipeline(chan::hchan::unbounded());
    });
});

child!(select_and_deadlines_scheduled, {
    racecheck::explore(40, || {
        let (s1, r1) = chan::bounded::<u32>(0);
        let (s2, r2) = chan::hchan::bounded::<u32>(1);
        let data = Arc::new(RaceCell::new(0));
        let sender = {
            let data = data.clone();
            thread::spawn(move || {
                data.set(1);
                s1.send(1).unwrap();
                s2.send(2).unwrap();
            })
        };
        let mut got = 0;
        while got < 2 {
            chan::select! {
                recv(r1) -> m => { if m.is_ok() { got += 1; } },
                recv(r2) -> m => { if m.is_ok() { got += 1; } },
            }
        }
        assert_eq!(data.get(), 1);
        sender.join().unwrap();
        // A wait that ends by its deadline, and a timer.
        let (_s3, r3) = chan::bounded::<u32>(1);
        assert!(r3.recv_timeout(Duration::from_millis(1)).is_err());
        chan::after(Duration::from_millis(1)).recv().unwrap();
    });
});

/// The channels' parks, wake-ups, select, deadlines and timers work under
/// the scheduler on every flavor: no report, no hang.
#[test]
fn channel_blocking_paths_run_scheduled() {
    run("flavors_scheduled", None).assert_silent();
    run("select_and_deadlines_scheduled", None).assert_silent();
}

child!(select_choices, {
    racecheck::explore(1, || {
        // Both channels always hold a message: every select has two ready
        // arms and picks one at random.
        let (s1, r1) = chan::bounded::<u8>(1);
        let (s2, r2) = chan::hchan::bounded::<u8>(1);
        let mut choices = String::new();
        for _ in 0..24 {
            s1.try_send(1).ok();
            s2.try_send(2).ok();
            chan::select! {
                recv(r1) -> _ => choices.push('1'),
                recv(r2) -> _ => choices.push('2'),
            }
        }
        println!("choices: {choices}");
    });
});

/// A seed replays `select!`'s random choices with the schedule.
#[test]
fn a_seed_replays_select_choices() {
    let choices = |child: &Child| child.stdout.lines().find(|l| l.contains("choices: ")).map(str::to_owned);
    let first = run("select_choices", Some("seed=7"));
    let again = run("select_choices", Some("seed=7"));
    assert!(choices(&first).is_some(), "{first}");
    assert_eq!(choices(&first), choices(&again), "{first}\n{again}");
    let other = run("select_choices", Some("seed=77777777"));
    assert_ne!(choices(&first), choices(&other), "another seed, another draw (equal with chance 2^-24)");
}
