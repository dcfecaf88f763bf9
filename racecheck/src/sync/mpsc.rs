//! `std::sync::mpsc` whose messages carry happens-before: everything the
//! sender did before a `send` is ordered before the `recv` that returns
//! that message (Go's "a send happens before the matching receive
//! completes").
//!
//! Each message travels with a snapshot of the sender's vector clock when
//! detection is on, and with nothing (one null word) when it is off. Go's
//! two capacity rules (on a rendezvous channel the receive also happens
//! before the send completes; on a channel of capacity C the k-th receive
//! happens before the (k+C)-th send completes) are not modelled here: a
//! program that uses the capacity of an mpsc channel as its only
//! synchronization is reported. The `chan` crate's channels model them.

use std::fmt;
use std::time::Duration;

pub use std::sync::mpsc::{RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError};

use crate::clock::VClock;
use crate::config::enabled;
use crate::runtime;

/// A message and, when detection is on, its sender's clock at the send.
struct Envelope<T> {
    value: T,
    clock: Option<Box<VClock>>,
}

impl<T> Envelope<T> {
    /// `value` with the sending thread's clock now, if detection is on.
    #[inline]
    fn with_sender_clock(value: T) -> Envelope<T> {
        let clock = if enabled() {
            // Every send is a scheduling point for `explore`.
            crate::explore::point();
            Some(Box::new(runtime::fork_clock()))
        } else {
            None
        };
        Envelope { value, clock }
    }

    /// Acquires the sender's clock and hands the value over.
    #[inline]
    fn open(self) -> T {
        if let Some(clock) = self.clock {
            runtime::with_current(|t| t.acquire_from(&clock));
        }
        self.value
    }
}

/// Creates an unbounded channel, as `std::sync::mpsc::channel`.
///
/// ```
/// use racecheck::cell::RaceCell;
/// use racecheck::sync::{mpsc, Arc};
///
/// let data = Arc::new(RaceCell::new(0));
/// let (tx, rx) = mpsc::channel();
/// let writer = data.clone();
/// racecheck::thread::spawn(move || {
///     writer.set(1);
///     tx.send(()).unwrap(); // the write happens before the receive
/// });
/// rx.recv().unwrap();
/// assert_eq!(data.get(), 1);
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = std::sync::mpsc::channel();
    (Sender { inner: tx }, Receiver { inner: rx })
}

/// Creates a bounded channel, as `std::sync::mpsc::sync_channel`.
pub fn sync_channel<T>(bound: usize) -> (SyncSender<T>, Receiver<T>) {
    let (tx, rx) = std::sync::mpsc::sync_channel(bound);
    (SyncSender { inner: tx }, Receiver { inner: rx })
}

/// The sending half of a [`channel`], as `std::sync::mpsc::Sender`.
pub struct Sender<T> {
    inner: std::sync::mpsc::Sender<Envelope<T>>,
}

impl<T> Sender<T> {
    /// Sends a value; it fails, giving the value back, when the receiver
    /// is gone.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.inner.send(Envelope::with_sender_clock(value)).map_err(|SendError(envelope)| SendError(envelope.value))
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender { inner: self.inner.clone() }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

/// The sending half of a [`sync_channel`], as
/// `std::sync::mpsc::SyncSender`.
pub struct SyncSender<T> {
    inner: std::sync::mpsc::SyncSender<Envelope<T>>,
}

impl<T> SyncSender<T> {
    /// Sends a value, blocking while the channel is full.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let envelope = Envelope::with_sender_clock(value);
        let result = if enabled() {
            // A send that has to wait gives `explore`'s turn away first.
            match self.inner.try_send(envelope) {
                Ok(()) => Ok(()),
                Err(TrySendError::Disconnected(envelope)) => Err(SendError(envelope)),
                Err(TrySendError::Full(envelope)) => crate::explore::os_wait(|| self.inner.send(envelope)),
            }
        } else {
            self.inner.send(envelope)
        };
        result.map_err(|SendError(envelope)| SendError(envelope.value))
    }

    /// Sends a value if there is room right now.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.inner.try_send(Envelope::with_sender_clock(value)).map_err(|error| match error {
            TrySendError::Full(envelope) => TrySendError::Full(envelope.value),
            TrySendError::Disconnected(envelope) => TrySendError::Disconnected(envelope.value),
        })
    }
}

impl<T> Clone for SyncSender<T> {
    fn clone(&self) -> Self {
        SyncSender { inner: self.inner.clone() }
    }
}

impl<T> fmt::Debug for SyncSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncSender").finish_non_exhaustive()
    }
}

/// The receiving half of a channel, as `std::sync::mpsc::Receiver`.
pub struct Receiver<T> {
    inner: std::sync::mpsc::Receiver<Envelope<T>>,
}

impl<T> Receiver<T> {
    /// Blocks for a message; its send is then ordered before the caller's
    /// future.
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        if crate::config::enabled() {
            crate::explore::point();
            // A receive that really has to wait tells the deadlock detector.
            match self.inner.try_recv() {
                Ok(msg) => return Ok(msg.open()),
                Err(std::sync::mpsc::TryRecvError::Disconnected) => return Err(RecvError),
                Err(std::sync::mpsc::TryRecvError::Empty) => {
                    let result = crate::deadlock::blocked_in("chan receive", std::panic::Location::caller(), || {
                        crate::explore::os_wait(|| self.inner.recv())
                    });
                    return result.map(Envelope::open);
                }
            }
        }
        self.inner.recv().map(Envelope::open)
    }

    /// Takes a message if one is waiting.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        if crate::config::enabled() {
            crate::explore::point();
        }
        self.inner.try_recv().map(Envelope::open)
    }

    /// Blocks for a message for at most `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        if crate::config::enabled() {
            crate::explore::point();
            return match self.inner.try_recv() {
                Ok(msg) => Ok(msg.open()),
                Err(std::sync::mpsc::TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
                Err(std::sync::mpsc::TryRecvError::Empty) => {
                    crate::explore::os_wait(|| self.inner.recv_timeout(timeout)).map(Envelope::open)
                }
            };
        }
        self.inner.recv_timeout(timeout).map(Envelope::open)
    }

    /// Iterates over messages, blocking, until every sender is gone.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// Iterates over the messages waiting now.
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

/// Blocking iterator over a receiver's messages.
#[derive(Debug)]
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

/// Non-blocking iterator over the messages waiting now.
#[derive(Debug)]
pub struct TryIter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// Owning blocking iterator over a receiver's messages.
#[derive(Debug)]
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}
