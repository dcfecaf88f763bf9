//! Drop accounting against the hchan flavor (the port of Go's runtime channel), unchanged.

mod flavor {
    pub use chan::hchan::{bounded, unbounded};
}

include!("suite/drops.rs");
