//! The stress suite against the default (lock-free) flavor.

mod flavor {
    pub use chan::{bounded, unbounded};
}

include!("suite/stress.rs");
