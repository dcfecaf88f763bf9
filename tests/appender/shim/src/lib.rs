//! chan under crossbeam-channel's name: everything of chan's public API,
//! with the constructors of the default flavor, or of `chan::hchan` with
//! the `hchan` feature.

#[cfg(not(feature = "hchan"))]
pub use chan::{bounded, unbounded};
#[cfg(feature = "hchan")]
pub use chan::hchan::{bounded, unbounded};
pub use chan::{
    after, at, never, select, select_biased, tick, IntoIter, Iter, ReadyTimeoutError, RecvError, RecvTimeoutError,
    Receiver, Select, SelectTimeoutError, SelectedOperation, SendError, SendTimeoutError, Sender, TryIter,
    TryReadyError, TryRecvError, TrySelectError, TrySendError,
};
