//! Stands for code one cannot change: its accesses are the previous side
//! of the races in `suppressions.rs`, and its file path is what a
//! suppression names.

use racecheck::cell::RaceCell;

/// Writes `cell` (a plain write, with nothing ordering it).
pub fn vendor_write(cell: &RaceCell<u32>) {
    cell.set(1);
}
