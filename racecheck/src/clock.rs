//! Vector clocks and epochs, the arithmetic under FastTrack.
//!
//! A thread's vector clock `C_t` maps every thread slot to the latest moment
//! of that slot which `t` has heard of through happens-before edges. An
//! access made at moment `c` by the thread in slot `s` (its *epoch*, written
//! `c@s`) happened before the present of thread `t` exactly when
//! `c <= C_t[s]`.
//!
//! Slots are reused after a thread ends (see `runtime`), so a slot's moments
//! keep growing across occupants: a new occupant starts one past the final
//! moment of the previous one. Comparisons therefore never need to know which
//! occupant made an access.

/// A moment of one thread slot. Zero means "never": every real moment is at
/// least one.
pub(crate) type Moment = u32;

/// Index of a thread slot in every vector clock.
pub(crate) type Slot = u32;

/// A vector clock: one moment per thread slot, missing entries read as zero.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct VClock {
    moments: Vec<Moment>,
}

impl VClock {
    /// The empty clock, which has heard of nothing.
    pub(crate) const fn new() -> Self {
        VClock { moments: Vec::new() }
    }

    /// The moment this clock knows for `slot`.
    #[inline]
    pub(crate) fn get(&self, slot: Slot) -> Moment {
        self.moments.get(slot as usize).copied().unwrap_or(0)
    }

    /// Sets the moment for `slot`, growing the clock when needed.
    pub(crate) fn set(&mut self, slot: Slot, moment: Moment) {
        let index = slot as usize;
        if index >= self.moments.len() {
            self.moments.resize(index + 1, 0);
        }
        self.moments[index] = moment;
    }

    /// Advances `slot` by one moment: what follows is no longer covered by
    /// any release made before.
    pub(crate) fn tick(&mut self, slot: Slot) {
        let next = self.get(slot).saturating_add(1);
        self.set(slot, next);
    }

    /// Pointwise maximum: afterwards `self` has heard of everything `other`
    /// had heard of.
    pub(crate) fn join(&mut self, other: &VClock) {
        if other.moments.len() > self.moments.len() {
            self.moments.resize(other.moments.len(), 0);
        }
        for (mine, theirs) in self.moments.iter_mut().zip(&other.moments) {
            if *theirs > *mine {
                *mine = *theirs;
            }
        }
    }

    /// ThreadSanitizer's release-store-acquire, with `self` a thread's clock
    /// and `sync` a sync object's: afterwards `sync` holds what `self` held
    /// (the thread's past replaces the object's), and `self` has also heard
    /// of everything `sync` held before.
    pub(crate) fn release_store_acquire(&mut self, sync: &mut VClock) {
        let n = self.moments.len().max(sync.moments.len());
        self.moments.resize(n, 0);
        sync.moments.resize(n, 0);
        for (mine, theirs) in self.moments.iter_mut().zip(sync.moments.iter_mut()) {
            let old = *theirs;
            *theirs = *mine;
            if old > *mine {
                *mine = old;
            }
        }
    }

    /// Replaces `self` with a copy of `other`, reusing the allocation.
    pub(crate) fn assign(&mut self, other: &VClock) {
        self.moments.clone_from(&other.moments);
    }

    /// Forgets everything: back to the empty clock.
    pub(crate) fn clear(&mut self) {
        self.moments.clear();
    }

    /// Whether every moment of `self` is covered by `other`.
    #[cfg(test)]
    pub(crate) fn le(&self, other: &VClock) -> bool {
        self.moments.iter().enumerate().all(|(slot, &m)| m <= other.get(slot as Slot))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_entries_read_as_zero() {
        let mut c = VClock::new();
        assert_eq!(c.get(5), 0);
        c.set(3, 7);
        assert_eq!(c.get(3), 7);
        assert_eq!(c.get(2), 0);
        assert_eq!(c.get(9), 0);
    }

    #[test]
    fn join_is_pointwise_max() {
        let mut a = VClock::new();
        a.set(0, 4);
        a.set(1, 1);
        let mut b = VClock::new();
        b.set(1, 3);
        b.set(2, 2);
        a.join(&b);
        assert_eq!((a.get(0), a.get(1), a.get(2)), (4, 3, 2));
        assert!(b.le(&a));
        assert!(!a.le(&b));
    }

    #[test]
    fn tick_and_assign() {
        let mut a = VClock::new();
        a.tick(2);
        a.tick(2);
        assert_eq!(a.get(2), 2);
        let mut b = VClock::new();
        b.set(7, 1);
        b.assign(&a);
        assert_eq!(b, a);
        b.clear();
        assert_eq!(b.get(2), 0);
    }

    #[test]
    fn release_store_acquire_swaps_in_the_past_and_keeps_the_max() {
        let mut thread = VClock::new();
        thread.set(0, 5);
        let mut sync = VClock::new();
        sync.set(0, 2);
        sync.set(1, 7);
        let before = thread.clone();
        thread.release_store_acquire(&mut sync);
        // The object now holds exactly the thread's old clock ...
        assert!(sync.le(&before) && before.le(&sync));
        // ... and the thread has heard of the object's old content.
        assert_eq!((thread.get(0), thread.get(1)), (5, 7));
    }
}
