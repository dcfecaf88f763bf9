//! The behaviour suite against the hchan flavor (the port of Go's runtime
//! channel): the very tests the default flavor passes, unchanged.

mod flavor {
    pub use chan::hchan::{bounded, unbounded};
}

include!("suite/behaviour.rs");
