//! The two tracing-appender scenarios, as a program: the most common Rust
//! logging setup (`tracing-subscriber`'s fmt layer, filter at DEBUG,
//! writing through `tracing-appender`'s `non_blocking` writer, which hands
//! each line to a writer thread over its channel), with chan's events asked
//! for or not (`CHAN_OBSERVE=events` in the environment).
//!
//! - `idle OUT`: nothing logs; after a moment to settle, 2 s of idleness.
//!   Prints the bytes written in all and during the idle window, and the
//!   CPU time the process used in that window.
//! - `backpressure OUT`: `lossy(false)`, 4 lines of buffer, a writer that
//!   takes 200 µs per line, 4 threads logging 100 lines each. Prints how
//!   many of those lines reached the file.
//!
//! Compiled twice: by `tests/appender.rs` with the real crossbeam-channel,
//! and by `tests/appender/` with chan in its place.

use std::io::Write;
use std::time::Duration;

/// Lines each of the backpressure scenario's threads logs.
pub const LINES_PER_THREAD: usize = 100;
/// Threads of the backpressure scenario.
pub const THREADS: usize = 4;
/// The idle window.
pub const IDLE: Duration = Duration::from_secs(2);

/// Runs the scenario named by `args` and returns its one-line report.
pub fn run(args: &[String]) -> String {
    match args {
        [mode, out] if mode == "idle" => idle(out),
        [mode, out] if mode == "backpressure" => backpressure(out),
        _ => format!("usage: (idle|backpressure) OUT; got {args:?}"),
    }
}

fn subscriber(writer: tracing_appender::non_blocking::NonBlocking) -> impl tracing::Subscriber + Send + Sync {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
        .with_writer(writer)
        .with_thread_names(true)
        .finish()
}

/// CPU time of the whole process so far.
fn cpu() -> Duration {
    // SAFETY: a zeroed rusage is a valid value for getrusage to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage");
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn size(path: &str) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn idle(out: &str) -> String {
    let file = std::fs::File::create(out).expect("create the log file");
    let (writer, guard) = tracing_appender::non_blocking(file);
    tracing::subscriber::set_global_default(subscriber(writer)).expect("one global subscriber");
    std::thread::sleep(Duration::from_millis(300));
    let (bytes_before, cpu_before) = (size(out), cpu());
    std::thread::sleep(IDLE);
    let (bytes_after, cpu_after) = (size(out), cpu());
    drop(guard);
    format!(
        "idle total_bytes={} window_bytes={} window_cpu_ms={}",
        size(out),
        bytes_after - bytes_before,
        (cpu_after - cpu_before).as_millis()
    )
}

/// A writer that takes its time over each line.
struct Slow(std::fs::File);

impl Write for Slow {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::thread::sleep(Duration::from_micros(200));
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

fn backpressure(out: &str) -> String {
    let file = std::fs::File::create(out).expect("create the log file");
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(4)
        .finish(Slow(file));
    tracing::subscriber::set_global_default(subscriber(writer)).expect("one global subscriber");
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::Builder::new()
                .name(format!("logger-{t}"))
                .spawn(move || {
                    for i in 0..LINES_PER_THREAD {
                        tracing::info!(thread = t, line = i, "user line");
                    }
                })
                .expect("spawn")
        })
        .collect();
    for t in threads {
        t.join().expect("a logging thread panicked");
    }
    drop(guard);
    let text = std::fs::read_to_string(out).expect("read the log back");
    format!(
        "backpressure user_lines={} chan_lines={}",
        text.lines().filter(|l| l.contains("user line")).count(),
        text.lines().filter(|l| l.contains(" chan: ")).count()
    )
}
