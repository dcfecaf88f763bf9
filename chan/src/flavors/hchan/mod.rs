//! Go's runtime channel (`runtime/chan.go`'s `hchan`), ported: the core
//! behind `chan::hchan::{bounded, unbounded}` (the public constructors live
//! in `crate::hchan`, so that this flavor never names the public handles).
//!
//! - `chan.rs`: `HChan`, the lock, the ring and the send/receive paths
//!   (`chansend`, `chanrecv`, `closechan`); `chan/select.rs`: its select
//!   step (`selectgo`'s lock-all, enqueue, and dequeue).
//! - `buf.rs`: the ring buffer, fixed or doubling.
//! - `waitq.rs`: the FIFO queues of parked threads (`sudog`s).
//!
//! `docs/hchan.md` maps every Go name to ours.

mod buf;
mod chan;
mod waitq;

pub(crate) use self::chan::select::{Enqueue, HeldLock, Reserve, SelectSudog};
pub(crate) use self::chan::HChan;
pub(crate) use self::chan::LatePeer;
pub use self::chan::Probe;
