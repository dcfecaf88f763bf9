//! FastTrack's per-variable state (Flanagan & Freund, PLDI 2009).
//!
//! A variable remembers its last write as an epoch, and its reads either as
//! one epoch (while every read so far is ordered after the previous one) or,
//! once two reads are concurrent, as one epoch per thread slot: the
//! read-shared state. Each remembered access also keeps who made it and
//! where, so a report can always name the previous access's place.
//!
//! The rules, for an access by thread `t` whose present moment is `c@s`:
//!
//! - read: the same epoch read before → nothing to do; the last write not
//!   ordered before `t` → write/read race; then remember the read, as a
//!   single epoch if the previous read is ordered before `t`, else in the
//!   read-shared set.
//! - write: the same epoch wrote before → nothing to do; the last write not
//!   ordered before `t` → write/write race; any remembered read not ordered
//!   before `t` → read/write race; then the write becomes the last write and
//!   the reads are forgotten (any later access racing with one of them also
//!   races with this write, or is ordered after it).

use std::panic::Location;

use crate::clock::{Moment, Slot};
use crate::report::{self, AccessKind, Race, SideInfo};
use crate::runtime::ThreadState;

/// One remembered access: when (an epoch), by whom and where.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Access {
    moment: Moment,
    slot: Slot,
    tid: u32,
    kind: AccessKind,
    location: Option<&'static Location<'static>>,
}

impl Access {
    const NONE: Access = Access { moment: 0, slot: 0, tid: 0, kind: AccessKind::Read, location: None };

    fn is_none(&self) -> bool {
        self.moment == 0
    }

    /// Whether this access happened before the present of `t`.
    #[inline]
    fn ordered_before(&self, t: &ThreadState) -> bool {
        self.moment <= t.clock.get(self.slot)
    }

    /// The access that thread `t` makes now, of `kind`, at `location`.
    fn made_by(t: &ThreadState, kind: AccessKind, location: &'static Location<'static>) -> Access {
        Access { moment: t.now(), slot: t.slot, tid: t.info.tid, kind, location: Some(location) }
    }

    fn side(&self) -> SideInfo {
        SideInfo { kind: self.kind, tid: self.tid, location: self.location }
    }
}

/// The shadow of one variable (or one granule of memory for `annotate`).
#[derive(Debug)]
pub(crate) struct Shadow {
    write: Access,
    read: Access,
    /// The read-shared state: one read per slot (indexed by slot), present
    /// only while reads are concurrent. Boxed so that the common case costs
    /// one word, not a whole `Vec` header, in every instrumented variable.
    #[allow(clippy::box_collection)]
    shared_reads: Option<Box<Vec<Access>>>,
}

impl Default for Shadow {
    fn default() -> Self {
        Shadow::new()
    }
}

impl Shadow {
    /// A variable nobody has touched.
    pub(crate) const fn new() -> Shadow {
        Shadow { write: Access::NONE, read: Access::NONE, shared_reads: None }
    }

    /// A read of the variable at `addr` by `t`. Reports a race if there is
    /// one; returns whether there was.
    pub(crate) fn read(&mut self, t: &ThreadState, addr: usize, location: &'static Location<'static>) -> bool {
        let now = t.now();
        if let Some(shared) = &self.shared_reads {
            if shared.get(t.slot as usize).is_some_and(|r| r.moment == now && r.slot == t.slot) {
                return false;
            }
        } else if self.read.moment == now && self.read.slot == t.slot {
            return false;
        }
        let mut raced = false;
        if !self.write.is_none() && !self.write.ordered_before(t) {
            raced = report::data_race(Race {
                addr,
                current_kind: AccessKind::Read,
                current_location: location,
                current: t.info.clone(),
                previous: self.write.side(),
            });
        }
        let mine = Access::made_by(t, AccessKind::Read, location);
        match &mut self.shared_reads {
            Some(shared) => put_read(shared, mine),
            None if self.read.is_none() || self.read.ordered_before(t) => self.read = mine,
            None => {
                let mut shared = Box::new(Vec::new());
                put_read(&mut shared, self.read);
                put_read(&mut shared, mine);
                self.shared_reads = Some(shared);
                self.read = Access::NONE;
            }
        }
        raced
    }

    /// A write (`kind` is `Write` or `Drop`) of the variable at `addr` by
    /// `t`. Reports a race if there is one; returns whether there was.
    pub(crate) fn write(
        &mut self,
        t: &ThreadState,
        addr: usize,
        kind: AccessKind,
        location: &'static Location<'static>,
    ) -> bool {
        let now = t.now();
        if self.write.moment == now && self.write.slot == t.slot && self.shared_reads.is_none() {
            // Same epoch: this thread wrote last and nothing it could race
            // with has been remembered since (a read by another thread
            // would have had to be ordered after this write).
            if self.read.is_none() || self.read.ordered_before(t) {
                return false;
            }
        }
        let mut previous = None;
        if !self.write.is_none() && !self.write.ordered_before(t) {
            previous = Some(self.write);
        } else if let Some(shared) = &self.shared_reads {
            previous = shared.iter().find(|r| !r.is_none() && !r.ordered_before(t)).copied();
        } else if !self.read.is_none() && !self.read.ordered_before(t) {
            previous = Some(self.read);
        }
        let raced = match previous {
            Some(previous) => report::data_race(Race {
                addr,
                current_kind: kind,
                current_location: location,
                current: t.info.clone(),
                previous: previous.side(),
            }),
            None => false,
        };
        self.write = Access::made_by(t, kind, location);
        self.read = Access::NONE;
        self.shared_reads = None;
        raced
    }
}

fn put_read(shared: &mut Vec<Access>, read: Access) {
    let index = read.slot as usize;
    if index >= shared.len() {
        shared.resize(index + 1, Access::NONE);
    }
    shared[index] = read;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::VClock;
    use crate::runtime::test_thread;

    // Each access below sits on its own line: a race is reported once per
    // pair of places, and these tests count the verdicts.

    #[track_caller]
    fn here() -> &'static Location<'static> {
        Location::caller()
    }

    #[test]
    fn unordered_write_then_read_races() {
        let (a, b) = (test_thread(VClock::new()), test_thread(VClock::new()));
        let mut x = Shadow::new();
        assert!(!x.write(&a, 1, AccessKind::Write, here()));
        assert!(x.read(&b, 1, here()));
    }

    #[test]
    fn release_acquire_orders_write_then_read() {
        let (mut a, mut b) = (test_thread(VClock::new()), test_thread(VClock::new()));
        let mut x = Shadow::new();
        let mut lock = VClock::new();
        assert!(!x.write(&a, 1, AccessKind::Write, here()));
        a.release_into(&mut lock);
        b.acquire_from(&lock);
        assert!(!x.read(&b, 1, here()));
        assert!(!x.write(&b, 1, AccessKind::Write, here()));
    }

    #[test]
    fn concurrent_reads_are_silent_but_remembered() {
        let (mut a, b, mut c) = (test_thread(VClock::new()), test_thread(VClock::new()), test_thread(VClock::new()));
        let mut x = Shadow::new();
        assert!(!x.read(&a, 1, here()));
        assert!(!x.read(&b, 1, here()));
        assert!(x.shared_reads.is_some(), "two unordered reads inflate");
        // c is ordered after a's read only: b's read still races.
        let mut sync = VClock::new();
        a.release_into(&mut sync);
        c.acquire_from(&sync);
        assert!(x.write(&c, 1, AccessKind::Write, here()));
        assert!(x.shared_reads.is_none(), "a write collapses the reads");
    }

    #[test]
    fn ordered_reads_stay_an_epoch() {
        let (mut a, mut b) = (test_thread(VClock::new()), test_thread(VClock::new()));
        let mut x = Shadow::new();
        assert!(!x.read(&a, 1, here()));
        let mut sync = VClock::new();
        a.release_into(&mut sync);
        b.acquire_from(&sync);
        assert!(!x.read(&b, 1, here()));
        assert!(x.shared_reads.is_none());
        assert!(!x.write(&b, 1, AccessKind::Write, here()));
    }

    #[test]
    fn same_epoch_repeats_are_free_and_silent() {
        let a = test_thread(VClock::new());
        let mut x = Shadow::new();
        for _ in 0..3 {
            assert!(!x.write(&a, 1, AccessKind::Write, here()));
            assert!(!x.read(&a, 1, here()));
        }
    }

    #[test]
    fn a_fork_orders_the_parents_past_only() {
        let mut parent = test_thread(VClock::new());
        let mut x = Shadow::new();
        let mut y = Shadow::new();
        assert!(!x.write(&parent, 1, AccessKind::Write, here()));
        let inherited = parent.clock.clone();
        parent.clock.tick(parent.slot);
        let child = test_thread(inherited);
        assert!(!x.read(&child, 1, here()));
        assert!(!y.write(&parent, 2, AccessKind::Write, here()));
        assert!(y.read(&child, 2, here()));
    }
}
