//! `std::sync` with happens-before edges, each type modelled as the most
//! careful tools model its counterpart (Go's race runtime, Miri). Replacing
//! `std::sync` with `racecheck::sync` is a one-line change; with detection
//! off the wrappers cost about what the std types cost.

mod arc;
pub mod atomic;
mod barrier;
mod condvar;
pub mod mpsc;
mod mutex;
mod once;
mod rwlock;
mod wait_group;

pub use arc::{Arc, Weak};
pub use barrier::{Barrier, BarrierWaitResult};
pub use condvar::Condvar;
pub use mutex::{Mutex, MutexGuard};
pub use once::{Once, OnceLock, OnceState};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use wait_group::WaitGroup;

pub use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult, WaitTimeoutResult};
