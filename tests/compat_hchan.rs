//! The compatibility suite's per-flavor guarantees on `chan::hchan`, the
//! port of Go's runtime channel: the tests `compat.rs` runs on the default
//! flavor, unchanged.

mod flavor {
    pub use chan::hchan::{bounded, unbounded};
}

include!("suite/compat.rs");
