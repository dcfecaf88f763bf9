//! Drop accounting against the default (lock-free) flavor.

mod flavor {
    pub use chan::{bounded, unbounded};
}

include!("suite/drops.rs");
