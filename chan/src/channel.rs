//! The public channel handles, written once over every flavor.

use std::fmt;
use std::iter::FusedIterator;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::time::{Duration, Instant};

use crate::counted::{ChanRef, Side};
use crate::err::{RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError};
use crate::flavors::{at, hchan, list, never, ring, tick, zero};

/// Which core implements a channel, and the handle's pointer to it.
///
/// Each handle holds this enum, not a pointer to it: the variant is known
/// without a load from the shared allocation, and each allocation is only
/// as large as its own core (see `counted.rs`).
pub(crate) enum Flavor<T> {
    /// `bounded(n)`, `n >= 1`: lock-free ring.
    Ring(ChanRef<ring::Channel<T>>),
    /// `unbounded()`: lock-free linked blocks.
    List(ChanRef<list::Channel<T>>),
    /// `bounded(0)`: rendezvous.
    Zero(ChanRef<zero::Channel<T>>),
    /// `hchan::bounded(n)`, `hchan::unbounded()`: Go's mutex-based design.
    Hchan(ChanRef<hchan::HChan<T>>),
    /// `at(t)`, `after(d)`: one message at a given instant.
    At(ChanRef<at::Channel<T>>),
    /// `tick(d)`: a message every period.
    Tick(ChanRef<tick::Channel<T>>),
    /// `never()`: no message, ever. Not allocated: the handle holds the
    /// (empty) channel itself.
    Never(never::Channel<T>),
}

/// Runs the same expression on whichever flavor is inside, with `$chan`
/// bound to the `ChanRef` (which derefs to the `Counted`, which derefs to
/// the core).
macro_rules! dispatch {
    ($flavor:expr, $chan:ident => $body:expr) => {
        match $flavor {
            Flavor::Ring($chan) => $body,
            Flavor::List($chan) => $body,
            Flavor::Zero($chan) => $body,
            Flavor::Hchan($chan) => $body,
            Flavor::At($chan) => $body,
            Flavor::Tick($chan) => $body,
            Flavor::Never($chan) => $body,
        }
    };
}

impl<T> Clone for Flavor<T> {
    /// Another pointer to the same channel; counting the new handle is the
    /// caller's business.
    fn clone(&self) -> Self {
        match self {
            Flavor::Ring(c) => Flavor::Ring(*c),
            Flavor::List(c) => Flavor::List(*c),
            Flavor::Zero(c) => Flavor::Zero(*c),
            Flavor::Hchan(c) => Flavor::Hchan(*c),
            Flavor::At(c) => Flavor::At(*c),
            Flavor::Tick(c) => Flavor::Tick(*c),
            Flavor::Never(c) => Flavor::Never(*c),
        }
    }
}

impl<T> Flavor<T> {
    /// The core's address: the channel's identity (for `same_channel`,
    /// `select`, and the tracing events, which the flavors' own park events
    /// give the same id).
    #[inline]
    pub(crate) fn addr(&self) -> *const () {
        match self {
            Flavor::Ring(c) => &c.chan as *const _ as *const (),
            Flavor::List(c) => &c.chan as *const _ as *const (),
            Flavor::Zero(c) => &c.chan as *const _ as *const (),
            Flavor::Hchan(c) => &c.chan as *const _ as *const (),
            Flavor::At(c) => &c.chan as *const _ as *const (),
            Flavor::Tick(c) => &c.chan as *const _ as *const (),
            Flavor::Never(c) => c.addr(),
        }
    }
    /// racecheck's view of the channel as a whole.
    #[inline]
    pub(crate) fn race(&self) -> &crate::race::ChanRace {
        match self {
            Flavor::Ring(c) => &c.race,
            Flavor::List(c) => &c.race,
            Flavor::Zero(c) => &c.race,
            Flavor::Hchan(c) => &c.race,
            Flavor::At(c) => &c.race,
            Flavor::Tick(c) => &c.race,
            Flavor::Never(c) => c.race(),
        }
    }

    /// racecheck: a send at `at` reads the channel. The flag is tested
    /// before the flavor is looked at, so that with detection off a send
    /// pays one relaxed load and nothing more.
    #[inline]
    fn race_send(&self, at: &'static std::panic::Location<'static>) {
        if crate::race::enabled() {
            self.race().send(at);
        }
    }
    /// The id the tracing events give the channel.
    fn id(&self) -> usize {
        self.addr() as usize
    }
    /// The flavor's name in the tracing events.
    fn name(&self) -> &'static str {
        match self {
            Flavor::Ring(_) => "ring",
            Flavor::List(_) => "list",
            Flavor::Zero(_) => "zero",
            Flavor::Hchan(_) => "hchan",
            Flavor::At(_) => "at",
            Flavor::Tick(_) => "tick",
            Flavor::Never(_) => "never",
        }
    }
    fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        crate::race::operation();
        let _ = crate::trace::sending(|| self.id());
        dispatch!(self, c => c.try_send(msg))
    }
    #[track_caller]
    fn send(&self, msg: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        crate::race::operation();
        if crate::trace::sending(|| self.id()) {
            return self.send_echo(msg);
        }
        dispatch!(self, c => c.send(msg, deadline))
    }
    /// A send made by a `tracing` subscriber while it handles chan's own
    /// event about this very channel: the event's line on its way into the
    /// channel that carries the log (`chan::observe`, "Never self-feeding").
    /// It never waits: the thread emitting the event may be the one that
    /// drains the channel (the log's writer thread, reporting its own
    /// wake-up), which would then wait on itself. With no room the line is
    /// dropped; it is chan's own, and the channel is quiet from now on.
    #[cold]
    fn send_echo(&self, msg: T) -> Result<(), SendTimeoutError<T>> {
        match dispatch!(self, c => c.try_send(msg)) {
            Ok(()) | Err(TrySendError::Full(_)) => Ok(()),
            Err(TrySendError::Disconnected(msg)) => Err(SendTimeoutError::Disconnected(msg)),
        }
    }
    fn try_recv(&self) -> Result<T, TryRecvError> {
        crate::race::operation();
        dispatch!(self, c => c.try_recv())
    }
    #[track_caller]
    fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        crate::race::operation();
        dispatch!(self, c => c.recv(deadline))
    }
    fn close(&self) -> bool {
        dispatch!(self, c => c.close())
    }

    /// Closes as Go's `close` does: publishes the closer's past first, and
    /// is a write of the channel (at `at`) if it closed it.
    fn close_by_user(&self, at: &'static std::panic::Location<'static>) -> bool {
        crate::race::operation();
        // `is_closed` only when racecheck is on: Go writes the channel only
        // in a close that closes it (a second one panics there).
        let already_closed = crate::race::enabled() && self.is_closed();
        let closed = self.race().close(at, already_closed, || self.close());
        if closed {
            crate::trace::closed(|| crate::trace::Park {
                id: self.id(),
                op: "close",
                flavor: self.name(),
                capacity: self.capacity(),
                len: self.len(),
            });
        }
        closed
    }

    /// A receive's result, after taking in the closer's past if it failed
    /// because the channel is closed.
    #[inline]
    fn received<R, E: PartialEq>(&self, res: Result<R, E>, closed: E) -> Result<R, E> {
        if let Err(e) = &res {
            if *e == closed {
                self.race().observed_close();
            }
        }
        res
    }

    fn is_closed(&self) -> bool {
        dispatch!(self, c => c.is_closed())
    }
    fn len(&self) -> usize {
        crate::race::operation();
        match self {
            Flavor::Ring(c) => c.len(),
            Flavor::List(c) => c.len(),
            Flavor::Zero(_) => 0,
            Flavor::Hchan(c) => c.len(),
            Flavor::At(c) => c.len(),
            Flavor::Tick(c) => c.len(),
            Flavor::Never(_) => 0,
        }
    }
    fn capacity(&self) -> Option<usize> {
        match self {
            Flavor::Ring(c) => Some(c.capacity()),
            Flavor::List(_) => None,
            Flavor::Zero(_) => Some(0),
            Flavor::Hchan(c) => c.capacity(),
            Flavor::At(_) | Flavor::Tick(_) => Some(1),
            Flavor::Never(_) => Some(0),
        }
    }
    fn is_empty(&self) -> bool {
        crate::race::operation();
        match self {
            Flavor::Ring(c) => c.is_empty(),
            Flavor::List(c) => c.is_empty(),
            Flavor::Zero(_) => true,
            Flavor::Hchan(c) => c.is_empty(),
            Flavor::At(c) => c.is_empty(),
            Flavor::Tick(c) => c.is_empty(),
            Flavor::Never(_) => true,
        }
    }
    fn is_full(&self) -> bool {
        crate::race::operation();
        match self {
            Flavor::Ring(c) => c.is_full(),
            Flavor::List(_) => false,
            Flavor::Zero(_) => true,
            Flavor::Hchan(c) => c.is_full(),
            Flavor::At(c) => !c.is_empty(),
            Flavor::Tick(c) => !c.is_empty(),
            Flavor::Never(_) => true,
        }
    }
}

/// Makes a pair of handles around a new core; `variant` is the `Flavor`
/// variant that holds it (`from_core(ring, Flavor::Ring)`).
pub(crate) fn from_core<C, T>(core: C, variant: fn(ChanRef<C>) -> Flavor<T>) -> (Sender<T>, Receiver<T>) {
    // `ChanRef::new` counts exactly these two handles.
    let flavor = variant(ChanRef::new(core));
    (Sender { flavor: flavor.clone() }, Receiver { flavor })
}

/// Creates a channel that holds at most `cap` messages.
///
/// `bounded(0)` is Go's unbuffered channel: a send completes only when a
/// receiver takes the message, and a receive only when a sender gives one.
/// Any other capacity is a lock-free ring buffer allocated up front.
///
/// ```
/// let (s, r) = chan::bounded(1);
/// s.send(1).unwrap();
/// assert!(s.try_send(2).is_err()); // full
/// assert_eq!(r.recv(), Ok(1));
/// ```
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    if cap == 0 {
        from_core(zero::Channel::new(), Flavor::Zero)
    } else {
        from_core(ring::Channel::with_capacity(cap), Flavor::Ring)
    }
}

/// Creates a channel of unlimited capacity: sends never block.
///
/// Memory grows in blocks of 31 messages and each block is freed as soon as
/// it has been drained.
///
/// ```
/// let (s, r) = chan::unbounded();
/// for i in 0..1000 {
///     s.send(i).unwrap();
/// }
/// assert_eq!(r.len(), 1000);
/// assert_eq!(r.iter().take(3).collect::<Vec<_>>(), [0, 1, 2]);
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    from_core(list::Channel::new(), Flavor::List)
}

/// `std::sync::mpsc::channel`'s name for [`unbounded`].
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    unbounded()
}

/// `std::sync::mpsc::sync_channel`'s name for [`bounded`].
pub fn sync_channel<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    bounded(cap)
}

/// `std::sync::mpsc`'s name for a sender of a [`sync_channel`]; here every
/// sender is the same type.
pub type SyncSender<T> = Sender<T>;

fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// The sending half of a channel. Clone it to have several senders.
///
/// When the last sender is dropped, the channel is closed: receivers get
/// what is still buffered, then [`RecvError`]. [`Sender::close`] closes it
/// explicitly, as Go's `close` does.
pub struct Sender<T> {
    pub(crate) flavor: Flavor<T>,
}

impl<T> Sender<T> {
    /// Sends without blocking. Fails with the message if the channel is
    /// full (for `bounded(0)`: if no receiver is waiting) or closed.
    ///
    /// This never waits for another thread to finish its operation, so a
    /// slot that a receiver is still reading, or that another sender has
    /// claimed and not yet written, counts as occupied: "full" can then be
    /// answered although that receive has already taken its message.
    /// crossbeam-channel waits for such a peer instead; no channel that
    /// stores messages in their slots can do both (`docs/ring.md`).
    ///
    /// ```
    /// use chan::TrySendError;
    /// let (s, r) = chan::bounded(1);
    /// assert_eq!(s.try_send(1), Ok(()));
    /// assert_eq!(s.try_send(2), Err(TrySendError::Full(2)));
    /// drop(r);
    /// assert_eq!(s.try_send(3), Err(TrySendError::Disconnected(3)));
    /// ```
    #[track_caller]
    pub fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        if crate::race::enabled() {
            return self.try_send_watched(msg);
        }
        self.flavor.try_send(msg)
    }

    /// `try_send` with detection on: a read of the channel, and the
    /// closer's past taken in if the channel turned out closed (see
    /// `send_until`).
    #[cold]
    #[track_caller]
    fn try_send_watched(&self, msg: T) -> Result<(), TrySendError<T>> {
        self.flavor.race().send(std::panic::Location::caller());
        let res = self.flavor.try_send(msg);
        if let Err(TrySendError::Disconnected(_)) = &res {
            self.flavor.race().observed_close();
        }
        res
    }

    /// Sends, blocking while the channel is full. For `bounded(0)` it
    /// returns once a receiver has taken the message. Fails with the message
    /// if the channel is closed or every receiver is gone.
    #[track_caller]
    pub fn send(&self, msg: T) -> Result<(), SendError<T>> {
        self.send_until(msg, None).map_err(|e| match e {
            SendTimeoutError::Disconnected(m) | SendTimeoutError::Timeout(m) => SendError(m),
        })
    }

    /// Every blocking send. racecheck sees a read of the channel before
    /// the operation (Go's `racereadpc` in `chansend`), and a send that
    /// fails because the channel is closed takes in the closer's past (Go's
    /// `raceacquire` for the senders that `closechan` wakes).
    #[track_caller]
    fn send_until(&self, msg: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        if crate::race::enabled() {
            return self.send_until_watched(msg, deadline);
        }
        self.flavor.send(msg, deadline)
    }

    #[cold]
    #[track_caller]
    fn send_until_watched(&self, msg: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        self.flavor.race().send(std::panic::Location::caller());
        let res = self.flavor.send(msg, deadline);
        if let Err(SendTimeoutError::Disconnected(_)) = &res {
            self.flavor.race().observed_close();
        }
        res
    }

    /// racecheck: a send of this channel at `at` that goes around the
    /// methods above (a select's reserved slot), as a read of the channel.
    #[inline]
    pub(crate) fn race_send(&self, at: &'static std::panic::Location<'static>) {
        self.flavor.race_send(at);
    }

    /// Sends, blocking at most `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use chan::SendTimeoutError;
    /// let (s, _r) = chan::bounded(0);
    /// assert_eq!(s.send_timeout(7, Duration::from_millis(1)), Err(SendTimeoutError::Timeout(7)));
    /// ```
    #[track_caller]
    pub fn send_timeout(&self, msg: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        self.send_until(msg, deadline_after(timeout))
    }

    /// Sends, blocking until `deadline` at the latest. A deadline in the
    /// past still sends if that is possible without waiting.
    #[track_caller]
    pub fn send_deadline(&self, msg: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.send_until(msg, Some(deadline))
    }

    /// Closes the channel, as Go's `close`: later sends (from any sender)
    /// fail and return their message; receivers first get what is buffered,
    /// then [`RecvError`]; every blocked operation wakes. Returns true for
    /// the call that closed the channel, false if it was already closed or
    /// every receiver was gone.
    ///
    /// ```
    /// let (s, r) = chan::bounded(4);
    /// s.send(1).unwrap();
    /// assert!(s.close());
    /// assert!(!s.close());
    /// assert!(s.send(2).is_err());
    /// assert_eq!(r.recv(), Ok(1));
    /// assert!(r.recv().is_err());
    /// ```
    #[track_caller]
    pub fn close(&self) -> bool {
        self.flavor.close_by_user(std::panic::Location::caller())
    }

    /// Whether the channel is closed, or every receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.flavor.is_closed()
    }

    /// Whether the channel holds no message (always true for `bounded(0)`).
    pub fn is_empty(&self) -> bool {
        self.flavor.is_empty()
    }

    /// Whether the channel is full (always true for `bounded(0)`, never for
    /// `unbounded()`).
    pub fn is_full(&self) -> bool {
        self.flavor.is_full()
    }

    /// How many messages the channel holds.
    pub fn len(&self) -> usize {
        self.flavor.len()
    }

    /// The capacity, or `None` for an unbounded channel.
    pub fn capacity(&self) -> Option<usize> {
        self.flavor.capacity()
    }

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        self.flavor.addr() == other.flavor.addr()
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let flavor = &self.flavor;
        let at = std::panic::Location::caller();
        if crate::race::enabled() {
            flavor.race().sender_dropping();
        }
        // SAFETY: every `Sender` was counted once (`from_core` or `clone`)
        // and this is its one drop; it is not used afterwards.
        dispatch!(flavor, c => unsafe {
            c.release(Side::Sender, || {
                flavor.race().last_sender_gone();
                flavor.close_by_user(at);
            })
        })
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        dispatch!(&self.flavor, c => c.acquire(Side::Sender));
        Sender { flavor: self.flavor.clone() }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Sender { .. }")
    }
}

impl<T> UnwindSafe for Sender<T> {}
impl<T> RefUnwindSafe for Sender<T> {}

/// The receiving half of a channel. Clone it to have several receivers;
/// each message goes to exactly one of them.
///
/// When the last receiver is dropped, sends fail; messages still buffered
/// are dropped once the last handle of either side is gone.
pub struct Receiver<T> {
    pub(crate) flavor: Flavor<T>,
}

impl<T> Receiver<T> {
    /// Receives without blocking.
    ///
    /// Linearizable, as crossbeam-channel's: `Empty` means that at some
    /// moment during the call the channel held no message, so a thread
    /// that sends and then calls `try_recv` always gets a message. It
    /// never waits for another thread to finish its operation: a send
    /// still being written has not taken effect yet; if a later message
    /// is ready, the receive passes that slot and the late sender sends
    /// again.
    ///
    /// ```
    /// use chan::TryRecvError;
    /// let (s, r) = chan::unbounded();
    /// assert_eq!(r.try_recv(), Err(TryRecvError::Empty));
    /// s.send(5).unwrap();
    /// drop(s);
    /// assert_eq!(r.try_recv(), Ok(5));
    /// assert_eq!(r.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.flavor.received(self.flavor.try_recv(), TryRecvError::Disconnected)
    }

    /// Receives, blocking while the channel is empty. Fails once the channel
    /// is closed (or every sender is gone) and drained.
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        let res = self.flavor.recv(None);
        self.flavor.received(res, RecvTimeoutError::Disconnected).map_err(|_| RecvError)
    }

    /// Receives, blocking at most `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use chan::RecvTimeoutError;
    /// let (_s, r) = chan::bounded::<i32>(1);
    /// assert_eq!(r.recv_timeout(Duration::from_millis(1)), Err(RecvTimeoutError::Timeout));
    /// ```
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.flavor.received(self.flavor.recv(deadline_after(timeout)), RecvTimeoutError::Disconnected)
    }

    /// Receives, blocking until `deadline` at the latest. A deadline in the
    /// past still receives a message that is already there.
    #[track_caller]
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.flavor.received(self.flavor.recv(Some(deadline)), RecvTimeoutError::Disconnected)
    }

    /// Whether the channel is closed, or every sender is gone. Messages may
    /// still be buffered.
    pub fn is_closed(&self) -> bool {
        self.flavor.is_closed()
    }

    /// Whether the channel holds no message (always true for `bounded(0)`).
    pub fn is_empty(&self) -> bool {
        self.flavor.is_empty()
    }

    /// Whether the channel is full (always true for `bounded(0)`, never for
    /// `unbounded()`).
    pub fn is_full(&self) -> bool {
        self.flavor.is_full()
    }

    /// How many messages the channel holds.
    pub fn len(&self) -> usize {
        self.flavor.len()
    }

    /// The capacity, or `None` for an unbounded channel.
    pub fn capacity(&self) -> Option<usize> {
        self.flavor.capacity()
    }

    /// A blocking iterator that ends when the channel is closed and drained.
    ///
    /// ```
    /// let (s, r) = chan::unbounded();
    /// std::thread::spawn(move || {
    ///     for i in 0..3 {
    ///         s.send(i).unwrap();
    ///     }
    /// }); // dropping `s` closes the channel
    /// assert_eq!(r.iter().collect::<Vec<_>>(), [0, 1, 2]);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { receiver: self }
    }

    /// An iterator over what can be received without blocking.
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { receiver: self }
    }

    /// Whether both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        self.flavor.addr() == other.flavor.addr()
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let flavor = &self.flavor;
        // SAFETY: every `Receiver` was counted once (`from_core` or
        // `clone`) and this is its one drop; it is not used afterwards.
        dispatch!(flavor, c => unsafe {
            c.release(Side::Receiver, || {
                flavor.close();
            })
        })
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        dispatch!(&self.flavor, c => c.acquire(Side::Receiver));
        Receiver { flavor: self.flavor.clone() }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Receiver { .. }")
    }
}

impl<T> UnwindSafe for Receiver<T> {}
impl<T> RefUnwindSafe for Receiver<T> {}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        IntoIter { receiver: self }
    }
}

/// Blocking iterator over a [`Receiver`]; see [`Receiver::iter`].
pub struct Iter<'a, T> {
    receiver: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.receiver.recv().ok()
    }
}

impl<T> FusedIterator for Iter<'_, T> {}

impl<T> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Iter { .. }")
    }
}

/// Non-blocking iterator over a [`Receiver`]; see [`Receiver::try_iter`].
pub struct TryIter<'a, T> {
    receiver: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.receiver.try_recv().ok()
    }
}

impl<T> fmt::Debug for TryIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("TryIter { .. }")
    }
}

/// Owning blocking iterator over a [`Receiver`].
pub struct IntoIter<T> {
    receiver: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.receiver.recv().ok()
    }
}

impl<T> FusedIterator for IntoIter<T> {}

impl<T> fmt::Debug for IntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("IntoIter { .. }")
    }
}
