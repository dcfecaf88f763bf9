//! The timeline: each wait as a slice on its thread's track, each wake-up
//! by a peer as a short mark on the waker's track, joined by a flow arrow;
//! written as Chrome trace-event JSON, which Perfetto opens.
//!
//! How waker and woken meet: when recording, every wait gets a flow id,
//! stored in the waiting thread's context before it is listed anywhere. A
//! peer that selects the context (completes or unblocks the operation, or
//! closes the channel) records a wake mark with that id; the woken thread's
//! slice lists the ids of its parks. The two are joined when the file is
//! written, so neither side waits for the other at run time.

use std::cell::Cell;
use std::io::{self, Write};
use std::panic::Location;
use std::path::Path;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use super::events::Capacity;
use super::park::{Outcome, Park};

/// Records kept at most, so that a forgotten timeline cannot take all
/// memory; past it, waits are counted but not kept.
const MAX_RECORDS: usize = 4_000_000;

/// One wait, as recorded.
#[derive(Clone, Debug)]
pub(crate) struct SliceRecord {
    pub(crate) park: Park,
    pub(crate) at: &'static Location<'static>,
    pub(crate) since: Instant,
    pub(crate) until: Instant,
    pub(crate) outcome: Outcome,
    /// The flow ids of its parks.
    pub(crate) flows: Vec<usize>,
}

#[derive(Clone, Debug)]
struct Slice {
    tid: u32,
    record: SliceRecord,
}

#[derive(Clone, Copy, Debug)]
struct WakeMark {
    tid: u32,
    at: Instant,
    flow: usize,
}

#[derive(Default)]
struct Recording {
    epoch: Option<Instant>,
    slices: Vec<Slice>,
    wakes: Vec<WakeMark>,
    threads: Vec<(u32, String)>,
    dropped: u64,
}

static RECORDING: Mutex<Recording> =
    Mutex::new(Recording { epoch: None, slices: Vec::new(), wakes: Vec::new(), threads: Vec::new(), dropped: 0 });

fn recording() -> std::sync::MutexGuard<'static, Recording> {
    RECORDING.lock().unwrap_or_else(|e| e.into_inner())
}

static NEXT_FLOW: AtomicUsize = AtomicUsize::new(1);
static NEXT_TID: AtomicU32 = AtomicU32::new(1);

thread_local! {
    /// This thread's track in the timeline; 0 until it records.
    static TID: Cell<u32> = const { Cell::new(0) };
}

/// The calling thread's track, named the first time it records.
fn track(rec: &mut Recording) -> u32 {
    let tid = TID.try_with(Cell::get).unwrap_or(0);
    if tid != 0 && rec.threads.iter().any(|(t, _)| *t == tid) {
        return tid;
    }
    let tid = if tid != 0 { tid } else { NEXT_TID.fetch_add(1, Ordering::Relaxed) };
    let _ = TID.try_with(|t| t.set(tid));
    let current = std::thread::current();
    let name = match current.name() {
        Some(name) => name.to_string(),
        None => format!("{:?}", current.id()),
    };
    rec.threads.push((tid, name));
    tid
}

/// A fresh flow id (never 0), for a wait that starts while a timeline
/// records (see `observe::next_flow`).
#[inline]
pub(crate) fn fresh_flow() -> usize {
    NEXT_FLOW.fetch_add(1, Ordering::Relaxed)
}

pub(crate) fn start() {
    let mut rec = recording();
    *rec = Recording { epoch: Some(Instant::now()), ..Recording::default() };
}

pub(crate) fn take() -> Timeline {
    let mut rec = recording();
    let rec = std::mem::take(&mut *rec);
    Timeline {
        epoch: rec.epoch.unwrap_or_else(Instant::now),
        slices: rec.slices,
        wakes: rec.wakes,
        threads: rec.threads,
        dropped: rec.dropped,
    }
}

/// Records a finished wait of the calling thread.
pub(crate) fn record_slice(record: SliceRecord) {
    let mut rec = recording();
    if rec.epoch.is_none() {
        return;
    }
    if rec.slices.len() + rec.wakes.len() >= MAX_RECORDS {
        rec.dropped += 1;
        return;
    }
    let tid = track(&mut rec);
    rec.slices.push(Slice { tid, record });
}

/// Records that the calling thread just woke the wait with flow `flow`.
#[cold]
pub(crate) fn record_wake(flow: usize) {
    let at = Instant::now();
    let mut rec = recording();
    if rec.epoch.is_none() {
        return;
    }
    if rec.slices.len() + rec.wakes.len() >= MAX_RECORDS {
        rec.dropped += 1;
        return;
    }
    let tid = track(&mut rec);
    rec.wakes.push(WakeMark { tid, at, flow });
}

/// The waits recorded between [`start_timeline`](super::start_timeline)
/// and [`stop_timeline`](super::stop_timeline).
///
/// [`write_json`](Timeline::write_json) writes it in the Chrome
/// trace-event format (open it in <https://ui.perfetto.dev> or
/// `chrome://tracing`):
///
/// - one track per thread that waited or woke a waiter, named after the
///   thread;
/// - one slice per wait, named after the operation (`send`, `recv`,
///   `select`), from the moment it started to wait to the moment it
///   completed, failed or timed out, with the channel's id, flavor,
///   capacity, length, the outcome and the call site as arguments;
/// - a short `wake` slice on the track of each thread that completed,
///   unblocked or closed the channel of a waiting operation, and a flow
///   arrow from it to the operation it woke (Go's unblock link in
///   `go tool trace`).
#[derive(Clone, Debug)]
pub struct Timeline {
    epoch: Instant,
    slices: Vec<Slice>,
    wakes: Vec<WakeMark>,
    threads: Vec<(u32, String)>,
    dropped: u64,
}

/// The nominal width of a wake mark, in microseconds: wide enough for a
/// viewer to bind the arrow's start to it.
const WAKE_US: f64 = 1.0;

impl Timeline {
    /// The number of waits recorded.
    pub fn len(&self) -> usize {
        self.slices.len()
    }

    /// Whether no wait was recorded.
    pub fn is_empty(&self) -> bool {
        self.slices.is_empty()
    }

    /// Waits and wake-ups left out because the recording was full (4
    /// million records).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    fn micros(&self, t: Instant) -> f64 {
        t.saturating_duration_since(self.epoch).as_nanos() as f64 / 1000.0
    }

    /// Writes the timeline as Chrome trace-event JSON.
    pub fn write_json(&self, out: impl Write) -> io::Result<()> {
        let mut out = io::BufWriter::new(out);
        let pid = std::process::id();
        writeln!(out, "{{\"displayTimeUnit\":\"ms\",\"traceEvents\":[")?;
        let mut first = true;
        let mut event = |out: &mut io::BufWriter<_>, text: String| -> io::Result<()> {
            if !std::mem::take(&mut first) {
                writeln!(out, ",")?;
            }
            out.write_all(text.as_bytes())
        };
        event(&mut out, format!(r#"{{"ph":"M","pid":{pid},"tid":0,"name":"process_name","args":{{"name":"chan"}}}}"#))?;
        for (tid, name) in &self.threads {
            event(
                &mut out,
                format!(
                    r#"{{"ph":"M","pid":{pid},"tid":{tid},"name":"thread_name","args":{{"name":{}}}}}"#,
                    Json(name)
                ),
            )?;
        }
        // Which slice each flow id ended in, to place the arrows' heads.
        let mut woken = std::collections::HashMap::new();
        for slice in &self.slices {
            let r = &slice.record;
            let (ts, end) = (self.micros(r.since), self.micros(r.until));
            event(
                &mut out,
                format!(
                    concat!(
                        r#"{{"ph":"X","pid":{},"tid":{},"ts":{:.3},"dur":{:.3},"name":"{}","cat":"chan","#,
                        r#""args":{{"channel":"{:#x}","flavor":"{}","capacity":"{}","len":{},"outcome":"{}","at":{}}}}}"#
                    ),
                    pid,
                    slice.tid,
                    ts,
                    end - ts,
                    r.park.op,
                    r.park.id,
                    r.park.flavor,
                    Capacity(r.park.capacity),
                    r.park.len,
                    r.outcome.as_str(),
                    Json(&r.at.to_string()),
                ),
            )?;
            for &flow in &r.flows {
                woken.insert(flow, (slice.tid, ts, end));
            }
        }
        for wake in &self.wakes {
            let Some(&(tid, start, end)) = woken.get(&wake.flow) else {
                // The woken operation was not recorded (it ended after the
                // recording stopped, or was a nested one).
                continue;
            };
            let ts = self.micros(wake.at);
            event(
                &mut out,
                format!(
                    r#"{{"ph":"X","pid":{pid},"tid":{},"ts":{ts:.3},"dur":{WAKE_US:.3},"name":"wake","cat":"chan","args":{{"woke":{}}}}}"#,
                    wake.tid,
                    Json(self.threads.iter().find(|(t, _)| *t == tid).map_or("?", |(_, n)| n.as_str())),
                ),
            )?;
            // The arrow starts inside the wake mark and ends inside the
            // woken slice, near its end: viewers bind a flow event to the
            // slice that encloses it.
            let head = (end - 0.5f64.min((end - start) / 2.0)).max(start);
            let flow = wake.flow;
            event(
                &mut out,
                format!(
                    r#"{{"ph":"s","pid":{pid},"tid":{},"ts":{:.3},"id":{flow},"name":"wake","cat":"chan"}}"#,
                    wake.tid,
                    ts + WAKE_US / 2.0
                ),
            )?;
            event(
                &mut out,
                format!(
                    r#"{{"ph":"f","bp":"e","pid":{pid},"tid":{tid},"ts":{head:.3},"id":{flow},"name":"wake","cat":"chan"}}"#
                ),
            )?;
        }
        writeln!(out, "\n]}}")?;
        out.flush()
    }

    /// Writes the timeline to the file at `path` (see
    /// [`write_json`](Timeline::write_json)).
    pub fn save(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.write_json(std::fs::File::create(path)?)
    }
}

/// A string as a JSON string literal.
struct Json<'a>(&'a str);

impl std::fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write as _;
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
    }
}

#[cfg(test)]
mod tests {
    use super::Json;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(Json("a\"b\\c\nd\u{1}é").to_string(), r#""a\"b\\c\nd\u0001é""#);
    }
}
