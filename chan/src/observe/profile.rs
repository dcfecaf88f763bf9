//! The blocking profile: every wait, counted per call site, operation and
//! flavor, with its time blocked in a log-linear histogram.

use std::collections::HashMap;
use std::fmt;
use std::panic::Location;
use std::sync::Mutex;
use std::time::Duration;

/// Sub-buckets per power of two: a percentile is reported within 1/16
/// (6.25 %) above the exact value.
const SUB_BITS: u32 = 4;
const SUB: u64 = 1 << SUB_BITS;

/// Times blocked, in nanoseconds, bucketed by their leading bits: values
/// below `SUB` exactly, larger ones in `SUB` buckets per power of two.
#[derive(Clone, Default)]
struct Histogram {
    buckets: Vec<u64>,
}

impl Histogram {
    fn bucket(ns: u64) -> usize {
        if ns < SUB {
            return ns as usize;
        }
        let exp = 63 - ns.leading_zeros(); // >= SUB_BITS
        let shift = exp - SUB_BITS;
        let mantissa = (ns >> shift) - SUB; // 0..SUB
        (SUB + u64::from(shift) * SUB + mantissa) as usize
    }

    /// The largest value that falls in bucket `b`.
    fn upper(b: usize) -> u64 {
        let b = b as u64;
        if b < SUB {
            return b;
        }
        let shift = (b - SUB) / SUB;
        let mantissa = (b - SUB) % SUB;
        ((SUB + mantissa + 1) << shift) - 1
    }

    fn add(&mut self, ns: u64) {
        let b = Self::bucket(ns);
        if self.buckets.len() <= b {
            self.buckets.resize(b + 1, 0);
        }
        self.buckets[b] += 1;
    }

    /// The smallest bucket bound that at least `q` of the `count` values
    /// do not exceed.
    fn quantile(&self, q: f64, count: u64) -> u64 {
        let rank = ((q * count as f64).ceil() as u64).clamp(1, count.max(1));
        let mut seen = 0;
        for (b, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Self::upper(b);
            }
        }
        0
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    at: &'static Location<'static>,
    op: &'static str,
    flavor: &'static str,
}

#[derive(Clone, Default)]
struct Site {
    count: u64,
    total_ns: u128,
    max_ns: u64,
    histogram: Histogram,
}

static SITES: Mutex<Option<HashMap<Key, Site>>> = Mutex::new(None);

fn sites() -> std::sync::MutexGuard<'static, Option<HashMap<Key, Site>>> {
    SITES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Adds one wait of `waited` at `at`.
pub(crate) fn record(at: &'static Location<'static>, op: &'static str, flavor: &'static str, waited: Duration) {
    let ns = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
    let mut sites = sites();
    let site = sites.get_or_insert_with(HashMap::new).entry(Key { at, op, flavor }).or_default();
    site.count += 1;
    site.total_ns += u128::from(ns);
    site.max_ns = site.max_ns.max(ns);
    site.histogram.add(ns);
}

pub(crate) fn reset() {
    *sites() = None;
}

pub(crate) fn snapshot() -> Profile {
    let sites = sites();
    let mut rows: Vec<ProfileRow> = sites
        .iter()
        .flatten()
        .map(|(key, site)| {
            let bound = |q| Duration::from_nanos(site.histogram.quantile(q, site.count).min(site.max_ns));
            ProfileRow {
                location: key.at,
                op: key.op,
                flavor: key.flavor,
                count: site.count,
                total: Duration::from_nanos(u64::try_from(site.total_ns).unwrap_or(u64::MAX)),
                p50: bound(0.5),
                p99: bound(0.99),
                max: Duration::from_nanos(site.max_ns),
            }
        })
        .collect();
    rows.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.location.to_string().cmp(&b.location.to_string())));
    Profile { rows }
}

/// A snapshot of the blocking profile ([`profile`](super::profile)).
///
/// Its `Display` is a table, one row per call site, the longest total
/// blocked time first:
///
/// ```text
/// chan blocking profile: 95 waits at 2 call sites, 196.62ms blocked
///      count        total          p50          p99          max  op      flavor  call site
///         50     104.15ms        2.1ms       2.22ms       2.22ms  recv    hchan   examples/tour.rs:152:5
///         45      92.47ms        2.1ms        2.1ms        2.1ms  send    ring    examples/tour.rs:142:20
/// ```
#[derive(Clone, Debug, Default)]
pub struct Profile {
    rows: Vec<ProfileRow>,
}

/// One call site of a [`Profile`]: every wait of `op` on `flavor` made
/// from `location`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProfileRow {
    /// Where the operation was called (`#[track_caller]`: your line, not
    /// chan's).
    pub location: &'static Location<'static>,
    /// `send`, `recv` or `select`.
    pub op: &'static str,
    /// `ring`, `list`, `zero`, `hchan`, or `select`.
    pub flavor: &'static str,
    /// How many times an operation from here waited.
    pub count: u64,
    /// The time those waits blocked, added up.
    pub total: Duration,
    /// The median wait, rounded up to within 1/16 (and never above `max`).
    pub p50: Duration,
    /// The 99th percentile wait, rounded up the same way.
    pub p99: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Profile {
    /// The rows, the longest total blocked time first.
    pub fn rows(&self) -> &[ProfileRow] {
        &self.rows
    }

    /// The rows for call sites in `file` (as `Location::file` spells it).
    pub fn rows_in<'a>(&'a self, file: &'a str) -> impl Iterator<Item = &'a ProfileRow> + 'a {
        self.rows.iter().filter(move |r| r.location.file() == file)
    }
}

/// A duration, short: two decimals at most, and a unit.
struct Short(Duration);

impl fmt::Display for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = format!("{:.2?}", self.0);
        // `{:.2?}` writes "1.20s", "850.00ns": drop trailing zeros.
        let (number, unit) = text.split_at(text.find(|c: char| c.is_alphabetic() || c == 'µ').unwrap_or(text.len()));
        let number = if number.contains('.') { number.trim_end_matches('0').trim_end_matches('.') } else { number };
        f.pad(&format!("{number}{unit}"))
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let waits: u64 = self.rows.iter().map(|r| r.count).sum();
        let blocked: Duration = self.rows.iter().map(|r| r.total).sum();
        let mut sites: Vec<_> = self.rows.iter().map(|r| r.location).collect();
        sites.sort_unstable_by_key(|l| (l.file(), l.line(), l.column()));
        sites.dedup();
        writeln!(
            f,
            "chan blocking profile: {} wait{} at {} call site{}, {} blocked",
            waits,
            if waits == 1 { "" } else { "s" },
            sites.len(),
            if sites.len() == 1 { "" } else { "s" },
            Short(blocked)
        )?;
        write!(
            f,
            "{:>10} {:>12} {:>12} {:>12} {:>12}  {:<7} {:<7} call site",
            "count", "total", "p50", "p99", "max", "op", "flavor"
        )?;
        for r in &self.rows {
            write!(
                f,
                "\n{:>10} {:>12} {:>12} {:>12} {:>12}  {:<7} {:<7} {}",
                r.count,
                Short(r.total),
                Short(r.p50),
                Short(r.p99),
                Short(r.max),
                r.op,
                r.flavor,
                r.location
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_bound_their_values_within_a_sixteenth() {
        for ns in (0..5000u64).chain([1 << 20, (1 << 20) + 12345, 987_654_321, u64::MAX / 3]) {
            let b = Histogram::bucket(ns);
            let upper = Histogram::upper(b);
            assert!(upper >= ns, "{ns} in bucket {b} bounded by {upper}");
            assert!((upper - ns) as f64 <= ns as f64 / 16.0 + 1.0, "{ns}: bound {upper} too loose");
            if b > 0 {
                assert!(Histogram::upper(b - 1) < ns, "{ns} belongs to an earlier bucket than {b}");
            }
        }
    }

    #[test]
    fn quantiles_of_a_known_set() {
        let mut h = Histogram::default();
        for ns in 1..=100u64 {
            h.add(ns * 1000);
        }
        let p50 = h.quantile(0.5, 100);
        assert!((50_000..=50_000 + 50_000 / 16).contains(&p50), "{p50}");
        let p99 = h.quantile(0.99, 100);
        assert!((99_000..=99_000 + 99_000 / 16).contains(&p99), "{p99}");
        assert_eq!(Histogram::default().quantile(0.5, 0), 0);
    }

    #[test]
    fn short_durations() {
        assert_eq!(Short(Duration::from_millis(100)).to_string(), "100ms");
        assert_eq!(Short(Duration::from_nanos(1_204_900_000)).to_string(), "1.2s");
        assert_eq!(Short(Duration::from_nanos(20_238_700)).to_string(), "20.24ms");
        assert_eq!(Short(Duration::from_nanos(850)).to_string(), "850ns");
        assert_eq!(format!("{:>8}", Short(Duration::from_micros(35))), "    35µs");
    }
}
