//! PCT, the probabilistic concurrency testing scheduler of Burckhardt,
//! Kothari, Musuvathi and Nagarakatte (ASPLOS 2010), as far as it is a
//! policy: which thread runs next. The mechanism that makes real threads
//! follow it is in `scheduler.rs`.
//!
//! - Every thread gets a random priority when it starts, at least `d` (the
//!   depth), distinct from the others'. A thread created later lands at a
//!   uniformly random rank among those already there.
//! - Before the run, `d - 1` change points `k_1 .. k_(d-1)` are drawn
//!   uniformly from the steps `1 ..= k` (`k`, the horizon, is the number of
//!   steps a run is expected to take). When step `k_i` is taken, the thread
//!   taking it drops to priority `i`, below every starting priority.
//! - At every step the runnable thread with the highest priority runs.
//!
//! For a program of `n` threads and `k` steps, a bug of depth `d` (one that
//! shows as soon as `d` particular pairs of steps happen in a particular
//! order) then shows in one run with probability at least `1/(n·k^(d-1))`.
//!
//! Two demotions that are not in the paper keep a run live when the
//! program spins (see [`Pct::demoted`]); they never raise a priority.
//!
//! A [`Seed`] names one schedule completely: its depth, its horizon and the
//! random draws, so `RACECHECK_OPTIONS=seed=S` can replay it.

use std::fmt;

/// Bits of a seed that hold the depth minus one.
const DEPTH_BITS: u32 = 2;
/// Bits of a seed that hold the horizon.
const HORIZON_BITS: u32 = 22;
/// The largest horizon a seed can name; longer runs draw their change
/// points among their first `MAX_HORIZON` steps.
pub(crate) const MAX_HORIZON: u64 = (1 << HORIZON_BITS) - 1;

/// One schedule: `random << 24 | horizon << 2 | (depth - 1)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Seed(pub(crate) u64);

impl Seed {
    /// A seed for PCT of `depth` (1 to 4) over `horizon` steps, with the
    /// random draws taken from `random`.
    pub(crate) fn new(depth: u32, horizon: u64, random: u64) -> Seed {
        let depth = u64::from(depth.clamp(1, 1 << DEPTH_BITS) - 1);
        let horizon = horizon.clamp(1, MAX_HORIZON);
        Seed(random << (DEPTH_BITS + HORIZON_BITS) | horizon << DEPTH_BITS | depth)
    }

    /// How many ordering constraints the schedule can satisfy (PCT's `d`).
    pub(crate) fn depth(self) -> u32 {
        (self.0 & ((1 << DEPTH_BITS) - 1)) as u32 + 1
    }

    /// How many steps the change points are drawn from (PCT's `k`).
    pub(crate) fn horizon(self) -> u64 {
        ((self.0 >> DEPTH_BITS) & MAX_HORIZON).max(1)
    }

    fn random(self) -> u64 {
        self.0 >> (DEPTH_BITS + HORIZON_BITS)
    }
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// SplitMix64 (Steele, Lea & Flood, OOPSLA 2014): a tiny generator whose
/// whole state is one word, good enough to draw priorities and steps.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `1 ..= n` (n > 0), by rejection so that no value is
    /// favoured.
    fn one_to(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % n + 1;
            }
        }
    }
}

/// The priorities of one run.
#[derive(Debug)]
pub(crate) struct Pct {
    rng: Rng,
    depth: u32,
    /// `(k_i, i)`: at step `k_i` the running thread drops to priority `i`.
    changes: Vec<(u64, i64)>,
    /// Priorities handed out so far, to keep them distinct.
    given: Vec<i64>,
    /// The last priority a demotion gave; each demotion goes below it.
    floor: i64,
}

impl Pct {
    pub(crate) fn new(seed: Seed) -> Pct {
        let mut rng = Rng::new(seed.random());
        let depth = seed.depth();
        let changes = (1..depth).map(|i| (rng.one_to(seed.horizon()), i64::from(i))).collect();
        Pct { rng, depth, changes, given: Vec::new(), floor: 0 }
    }

    /// A starting priority for a new thread: at least the depth (so above
    /// every change point's), distinct from the others, at a uniformly
    /// random rank among them.
    pub(crate) fn starting_priority(&mut self) -> i64 {
        loop {
            let p = i64::from(self.depth) + (self.rng.next_u64() >> 2) as i64;
            if !self.given.contains(&p) {
                self.given.push(p);
                return p;
            }
        }
    }

    /// The priority that step `step` gives the thread taking it, if the
    /// step is a change point. When two change points fall on one step the
    /// later-drawn one counts, as applying them in order would give.
    pub(crate) fn change_at(&self, step: u64) -> Option<i64> {
        self.changes.iter().rev().find(|(k, _)| *k == step).map(|(_, p)| *p)
    }

    /// A priority below every priority given so far, for a thread that
    /// yields (`thread::yield_now`) or that ran a long stretch of steps
    /// while others waited (a spin loop): the others run first, and a run
    /// whose threads all spin still moves. Not part of PCT; it only lowers.
    pub(crate) fn demoted(&mut self) -> i64 {
        self.floor -= 1;
        self.floor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_carries_depth_and_horizon() {
        for depth in 1..=4 {
            for horizon in [1, 2, 77, MAX_HORIZON] {
                let seed = Seed::new(depth, horizon, 0x0012_3456_789a);
                assert_eq!(seed.depth(), depth);
                assert_eq!(seed.horizon(), horizon);
                assert_eq!(seed.random(), 0x0012_3456_789a);
            }
        }
        assert_eq!(Seed::new(9, 0, 1).depth(), 4);
        assert_eq!(Seed::new(1, 0, 1).horizon(), 1);
        assert_eq!(Seed::new(1, u64::MAX, 1).horizon(), MAX_HORIZON);
    }

    #[test]
    fn change_points_lie_in_the_horizon_below_every_start() {
        for r in 0..200 {
            let mut pct = Pct::new(Seed::new(3, 10, r));
            assert_eq!(pct.changes.len(), 2);
            assert!(pct.changes.iter().all(|&(k, p)| (1..=10).contains(&k) && (1..=2).contains(&p)));
            let starts: Vec<i64> = (0..5).map(|_| pct.starting_priority()).collect();
            assert!(starts.iter().all(|&p| p >= 3));
            let demoted = pct.demoted();
            assert!(demoted < 1 && pct.demoted() < demoted);
        }
    }

    #[test]
    fn change_points_are_uniform() {
        // Each of the 4 steps should be drawn about a quarter of the time.
        let mut counts = [0u32; 4];
        for r in 0..4000 {
            let pct = Pct::new(Seed::new(2, 4, r));
            counts[(pct.changes[0].0 - 1) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (800..1200).contains(&c)), "{counts:?}");
    }

    #[test]
    fn the_same_seed_draws_the_same() {
        let seed = Seed::new(3, 50, 42);
        let (mut a, mut b) = (Pct::new(seed), Pct::new(seed));
        assert_eq!(a.changes, b.changes);
        assert_eq!(a.starting_priority(), b.starting_priority());
    }
}
