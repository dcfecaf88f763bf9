//! The cases of a select: one per operation, each knowing how its channel's
//! flavor lets a select try, wait, and clean up.
//!
//! - `RecvCase` receives. Its result is taken during the select (by the
//!   select itself, or by a peer that hands the message to its packet or
//!   sudog), so `SelectedOperation::recv` only hands it over.
//! - `SendCase` sends a message it was given up front (what `select!`
//!   builds): like a receive, the select itself completes it.
//! - `ReadySendCase` is `Select::send`, whose message comes only with
//!   `SelectedOperation::send`: the select only finds the channel ready.
//!
//! The rendezvous flavors (`bounded(0)`, hchan) list a packet or sudog that
//! a peer completes and then selects the select's context with that case's
//! operation; the ring and list flavors only notify. See `docs/select.md`.

use std::time::Instant;

use crate::channel::{Flavor, Receiver, Sender};
use crate::context::{Context, Operation};
use crate::err::{RecvError, SendError, TryRecvError, TrySendError};
use crate::flavors::ring;
use crate::flavors::ring::select::Reserve;
use crate::flavors::zero::select::{LateSend, SelectPacket};
use crate::flavors::zero::Arrival;
use crate::hchan::{Enqueue, HeldLock, SelectSudog};

use super::erased::Erased;
use super::list::CaseList;

/// What the select loop should do for a case while it waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// The case is listed with the channel; a peer will select it.
    Listed,
    /// The case could go right now; nothing is listed.
    Ready,
    /// The channel cannot wake this case: look again after a short sleep.
    Poll,
    /// Nothing to list: the case is a timer (see `next_due`) or never ready.
    Nothing,
}

/// Whether a select completes its operation, or only finds it ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Complete,
    Observe,
}

/// What a selected case leaves for `SelectedOperation`. `chan` identifies
/// the channel (the address of its shared state), so that the handle passed
/// to `send`/`recv` can be checked, which also proves the erased type.
pub(crate) enum Outcome {
    /// A receive completed: `Result<T, RecvError>`.
    Received { chan: *const (), result: Erased },
    /// A send completed: `Result<(), SendError<T>>`.
    Sent { chan: *const (), result: Erased },
    /// A send may go now; the caller sends. `reserved` holds the ring slot
    /// claimed for it, if the channel is a ring.
    SendReady { chan: *const (), reserved: Option<Reserved> },
}

/// What `Select::send` set aside for the message that
/// `SelectedOperation::send` brings: a ring slot, or a rendezvous receiver.
/// Type-erased (the reader checks `chan` first); dropped unsent, it gives
/// the reservation up, so the channel goes on working.
pub(crate) struct Reserved {
    /// The `O: Owed<T>`; dropping it gives the reservation up.
    owed: Erased,
    /// Delivers the message (`fill::<T, O>`).
    fill: unsafe fn(Erased, *mut ()),
}

/// A reservation of a channel of `T`: `fill` delivers the message, and
/// dropping it unfilled gives the reservation up.
trait Owed<T> {
    fn fill(self, msg: T);
}

/// A claimed ring slot.
struct RingSlot<T> {
    /// Alive while the `SelectedOperation` holding this lives: it borrows
    /// the sender for as long.
    ring: *const ring::Channel<T>,
    pos: usize,
}

impl<T> Owed<T> for RingSlot<T> {
    fn fill(self, msg: T) {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: the ring is alive (see the field), and the reservation is
        // used once: `this` is not dropped, so `abandon_reserved` never runs.
        unsafe { (*this.ring).send_reserved(this.pos, msg) }
    }
}

impl<T> Drop for RingSlot<T> {
    fn drop(&mut self) {
        // SAFETY: alive (see the field); not filled, so used once here.
        unsafe { (*self.ring).abandon_reserved(self.pos) }
    }
}

impl<T> Owed<T> for LateSend<T> {
    fn fill(self, msg: T) {
        self.send(msg);
    }
}

impl Reserved {
    fn new<T, O: Owed<T>>(owed: O) -> Reserved {
        unsafe fn fill<T, O: Owed<T>>(owed: Erased, msg: *mut ()) {
            // SAFETY: `owed` was made from an `O` in `new`, and `send`
            // passes it here once; `msg` points to a full `Option<T>`.
            let owed = unsafe { owed.into::<O>() };
            let msg = unsafe { (*(msg as *mut Option<T>)).take() }.expect("a message to deliver");
            owed.fill(msg);
        }
        Reserved { owed: Erased::new(owed), fill: fill::<T, O> }
    }

    /// Delivers `msg` to what was reserved.
    ///
    /// # Safety
    /// `T` is the channel's message type (the caller checked the channel).
    pub(crate) unsafe fn send<T>(self, msg: T) {
        let mut msg = Some(msg);
        // SAFETY: `fill` was made for this `T` (contract) and for the type
        // of `owed`, which it consumes.
        unsafe { (self.fill)(self.owed, &mut msg as *mut Option<T> as *mut ()) }
    }
}

/// One operation of a select.
pub(crate) trait Case<'a> {
    /// The operation id this case waits as: the address of its anchor,
    /// which stays put for the one `Select::run` call that uses it (see
    /// `stored.rs`).
    fn oper(&mut self) -> Operation;
    /// Completes the operation if it can go now (Mode::Complete).
    fn try_complete(&mut self) -> bool;
    /// Whether the operation could go now (Mode::Observe).
    fn is_ready(&self) -> bool;
    /// Lists the case with its channel so that a peer wakes the select.
    /// `held` is the channel's lock when the select holds it already (an
    /// hchan-only select, which locks all its channels in address order).
    fn register(&mut self, held: Held<'_, 'a>, oper: Operation, cx: &Context, mode: Mode) -> Wait;
    /// Undoes `register`; `won` says whether the select's context was
    /// selected with this case's operation. True if a peer completed the
    /// operation (the result is then kept).
    fn unregister(&mut self, held: Held<'_, 'a>, oper: Operation, won: bool) -> bool;
    /// The hchan channel this case queues a sudog on, if it does (an hchan
    /// receive, or an hchan send whose message the select holds).
    fn hchan(&self) -> Option<*const ()> {
        None
    }
    /// Takes the lock of the channel `hchan` names.
    fn lock_hchan(&self) -> Option<Box<dyn HeldLock + 'a>> {
        None
    }
    /// Passes on a wake-up the case took while only observing (`ready`):
    /// a ring or list notifies one waiter per change, and an observer must
    /// not keep it from a thread that would really take the message.
    fn forward_wakeup(&self) {}
    /// For timers: when the case becomes ready by itself.
    fn next_due(&self) -> Option<Instant>;
    /// Whether only a listed case can meet its peer: a rendezvous or hchan
    /// channel, whose peer completes a listed waiter directly. A select
    /// made only of cases that do not spins before it lists itself.
    fn needs_listing(&self) -> bool;
    /// Hands the completed result to `SelectedOperation`.
    fn take_outcome(&mut self) -> Outcome;
    /// Adds a fresh case for the same operation to `list`, with `index`
    /// (for `Select::clone`).
    fn push_clone(&self, index: usize, list: &mut CaseList<'a>);
}

/// A channel lock the select already holds, if any.
pub(crate) type Held<'g, 'a> = Option<&'g mut (dyn HeldLock + 'a)>;

/// The state a rendezvous flavor lists, allocated on first use so that it
/// stays at one address while listed.
enum Parked<T> {
    Zero(Box<SelectPacket<T>>),
    Hchan(Box<SelectSudog<T>>),
}

impl<T> Parked<T> {
    fn zero(slot: &mut Option<Parked<T>>) -> &SelectPacket<T> {
        if !matches!(slot, Some(Parked::Zero(_))) {
            *slot = Some(Parked::Zero(Box::new(SelectPacket::new())));
        }
        match slot {
            Some(Parked::Zero(p)) => p,
            _ => unreachable!("just set"),
        }
    }

    fn hchan(slot: &mut Option<Parked<T>>) -> &mut SelectSudog<T> {
        if !matches!(slot, Some(Parked::Hchan(_))) {
            *slot = Some(Parked::Hchan(Box::new(SelectSudog::new())));
        }
        match slot {
            Some(Parked::Hchan(p)) => p,
            _ => unreachable!("just set"),
        }
    }
}

fn chan_of<T>(flavor: &Flavor<T>) -> *const () {
    flavor.addr()
}

/// Whether a receive on `flavor` would not block now.
fn can_recv<T>(flavor: &Flavor<T>) -> bool {
    match flavor {
        Flavor::Ring(c) => c.can_recv_now(),
        Flavor::List(c) => c.can_recv_now(),
        Flavor::Zero(c) => c.can_recv_now(),
        Flavor::Hchan(c) => c.can_recv_now(),
        Flavor::At(c) => !c.is_empty(),
        Flavor::Tick(c) => !c.is_empty(),
        Flavor::Never(_) => false,
    }
}

/// Whether a send on `flavor` would not block now (closed counts: it fails
/// at once).
fn can_send<T>(flavor: &Flavor<T>) -> bool {
    match flavor {
        Flavor::Ring(c) => c.can_send_now(),
        Flavor::Zero(c) => c.can_send_now(),
        Flavor::Hchan(c) => c.can_send_now(),
        Flavor::List(_) | Flavor::At(_) | Flavor::Tick(_) | Flavor::Never(_) => true,
    }
}

fn hchan_of<T>(flavor: &Flavor<T>) -> Option<*const ()> {
    match flavor {
        Flavor::Hchan(c) => Some(&c.chan as *const _ as *const ()),
        _ => None,
    }
}

fn lock_hchan<T>(flavor: &Flavor<T>) -> Option<Box<dyn HeldLock + '_>> {
    match flavor {
        Flavor::Hchan(c) => Some(c.lock_for_select()),
        _ => None,
    }
}

fn needs_listing<T>(flavor: &Flavor<T>) -> bool {
    matches!(flavor, Flavor::Zero(_) | Flavor::Hchan(_))
}

fn next_due<T>(flavor: &Flavor<T>) -> Option<Instant> {
    match flavor {
        Flavor::At(c) => c.next_delivery(),
        Flavor::Tick(c) => c.next_delivery(),
        _ => None,
    }
}

pub(crate) struct RecvCase<'a, T> {
    receiver: &'a Receiver<T>,
    parked: Option<Parked<T>>,
    result: Option<Result<T, RecvError>>,
    /// Registered as a watcher (`ready`), not as a receiver.
    watching: bool,
    anchor: u8,
}

impl<'a, T> RecvCase<'a, T> {
    pub(crate) fn new(receiver: &'a Receiver<T>) -> Self {
        RecvCase { receiver, parked: None, result: None, watching: false, anchor: 0 }
    }

    fn flavor(&self) -> &'a Flavor<T> {
        &self.receiver.flavor
    }
}

impl<'a, T> Case<'a> for RecvCase<'a, T> {
    fn oper(&mut self) -> Operation {
        Operation::hook(&mut self.anchor)
    }

    fn try_complete(&mut self) -> bool {
        match self.receiver.try_recv() {
            Ok(msg) => self.result = Some(Ok(msg)),
            Err(TryRecvError::Disconnected) => self.result = Some(Err(RecvError)),
            Err(TryRecvError::Empty) => return false,
        }
        true
    }

    fn is_ready(&self) -> bool {
        can_recv(self.flavor())
    }

    fn register(&mut self, held: Held<'_, 'a>, oper: Operation, cx: &Context, mode: Mode) -> Wait {
        let flavor = self.flavor();
        self.watching = mode == Mode::Observe;
        match (flavor, mode) {
            (Flavor::At(_) | Flavor::Tick(_) | Flavor::Never(_), _) => Wait::Nothing,
            // Observing watches like a receiver, and passes the wake-up on
            // (`forward_wakeup`), so it never keeps one from a real receiver.
            (Flavor::Ring(c), _) => {
                if c.watch_recv(oper, cx) {
                    c.unwatch_recv(oper);
                    Wait::Ready
                } else {
                    Wait::Listed
                }
            }
            (Flavor::List(c), _) => {
                if c.watch_recv(oper, cx) {
                    c.unwatch_recv(oper);
                    Wait::Ready
                } else {
                    Wait::Listed
                }
            }
            // A rendezvous receiver's packet would be filled by a sender:
            // observing lists a watcher instead, woken when a sender waits.
            (Flavor::Zero(c), Mode::Observe) => {
                if c.watch_recv(oper, cx) {
                    Wait::Ready
                } else {
                    Wait::Listed
                }
            }
            // hchan's watchers (not in Go) are woken by a buffered value,
            // a parked sender or the close.
            (Flavor::Hchan(c), Mode::Observe) => {
                if c.watch_recv(oper, cx) {
                    Wait::Ready
                } else {
                    Wait::Listed
                }
            }
            (Flavor::Zero(c), Mode::Complete) => {
                let packet = Parked::zero(&mut self.parked);
                // SAFETY: the packet is boxed and stays in `self.parked`
                // until `unregister` has unlisted it or found it selected.
                if unsafe { c.select_list_recv(packet, oper, cx) } {
                    Wait::Listed
                } else {
                    Wait::Ready
                }
            }
            (Flavor::Hchan(c), Mode::Complete) => {
                let sudog = Parked::hchan(&mut self.parked);
                // SAFETY: as for the packet above.
                match unsafe { c.select_enqueue_recv(held, sudog, oper, cx) } {
                    Enqueue::Queued => Wait::Listed,
                    Enqueue::Ready => Wait::Ready,
                    Enqueue::OwnOpposite => Wait::Poll,
                }
            }
        }
    }

    fn unregister(&mut self, held: Held<'_, 'a>, oper: Operation, won: bool) -> bool {
        match (self.flavor(), &self.parked) {
            (Flavor::Ring(c), _) => c.unwatch_recv(oper),
            (Flavor::List(c), _) => c.unwatch_recv(oper),
            (Flavor::Zero(c), _) if self.watching => c.unwatch_recv(oper),
            (Flavor::Hchan(c), _) if self.watching => c.unwatch_recv(oper),
            (Flavor::Zero(c), Some(Parked::Zero(packet))) => {
                let listed = c.select_unlist_recv(oper);
                if won {
                    debug_assert!(!listed, "a selected entry was removed by its peer");
                    // A `Select::send` reservation may bring the message
                    // later, or give up (then this select goes on).
                    if packet.wait_for_message() == Arrival::Abandoned {
                        return false;
                    }
                    // SAFETY: the sender that selected us removed our entry
                    // and is done with the packet; its CAS (or its FILLED
                    // store) published the message, and we observed it.
                    let msg = unsafe { packet.take() }.expect("a selected receiver's packet holds a message");
                    self.result = Some(Ok(msg));
                    return true;
                }
            }
            (Flavor::Hchan(c), Some(Parked::Hchan(sudog))) => {
                c.select_dequeue_recv(held, sudog);
                if won {
                    self.result = Some(if sudog.success() {
                        // SAFETY: the sender that won us dequeued our sudog
                        // and filled `elem` before its CAS; it is unlinked.
                        Ok(unsafe { sudog.take() }.expect("a completed receive has a value"))
                    } else {
                        // `closechan` woke us: closed and drained.
                        Err(RecvError)
                    });
                    return true;
                }
            }
            _ => {}
        }
        false
    }

    fn forward_wakeup(&self) {
        match self.flavor() {
            Flavor::Ring(c) => c.forward_recv_wakeup(),
            Flavor::List(c) => c.forward_recv_wakeup(),
            _ => {}
        }
    }

    fn next_due(&self) -> Option<Instant> {
        next_due(self.flavor())
    }

    fn needs_listing(&self) -> bool {
        needs_listing(self.flavor())
    }

    fn hchan(&self) -> Option<*const ()> {
        hchan_of(self.flavor())
    }

    fn lock_hchan(&self) -> Option<Box<dyn HeldLock + 'a>> {
        lock_hchan(self.flavor())
    }

    fn take_outcome(&mut self) -> Outcome {
        let result = self.result.take().expect("only a completed case is taken");
        Outcome::Received { chan: chan_of(self.flavor()), result: Erased::new(result) }
    }

    fn push_clone(&self, index: usize, list: &mut CaseList<'a>) {
        list.push_with(index, || RecvCase::new(self.receiver))
    }
}

pub(crate) struct SendCase<'a, T> {
    sender: &'a Sender<T>,
    msg: Option<T>,
    parked: Option<Parked<T>>,
    result: Option<Result<(), SendError<T>>>,
    anchor: u8,
}

impl<'a, T> SendCase<'a, T> {
    pub(crate) fn new(sender: &'a Sender<T>, msg: T) -> Self {
        SendCase { sender, msg: Some(msg), parked: None, result: None, anchor: 0 }
    }

    fn flavor(&self) -> &'a Flavor<T> {
        &self.sender.flavor
    }

    fn msg(&mut self) -> T {
        self.msg.take().expect("an uncompleted send case holds its message")
    }
}

impl<'a, T> Case<'a> for SendCase<'a, T> {
    fn oper(&mut self) -> Operation {
        Operation::hook(&mut self.anchor)
    }

    fn try_complete(&mut self) -> bool {
        let msg = self.msg();
        match self.sender.try_send(msg) {
            Ok(()) => self.result = Some(Ok(())),
            Err(TrySendError::Disconnected(msg)) => self.result = Some(Err(SendError(msg))),
            Err(TrySendError::Full(msg)) => {
                self.msg = Some(msg);
                return false;
            }
        }
        true
    }

    fn is_ready(&self) -> bool {
        can_send(self.flavor())
    }

    fn register(&mut self, held: Held<'_, 'a>, oper: Operation, cx: &Context, mode: Mode) -> Wait {
        debug_assert_eq!(mode, Mode::Complete, "select! never only observes");
        let flavor = self.flavor();
        match flavor {
            Flavor::Ring(c) => {
                if c.watch_send(oper, cx) {
                    c.unwatch_send(oper);
                    Wait::Ready
                } else {
                    Wait::Listed
                }
            }
            Flavor::Zero(c) => {
                let msg = self.msg();
                let packet = Parked::zero(&mut self.parked);
                // SAFETY: the packet is boxed and stays in `self.parked`
                // until `unregister`.
                match unsafe { c.select_list_send(packet, msg, oper, cx) } {
                    Ok(()) => Wait::Listed,
                    Err(msg) => {
                        self.msg = Some(msg);
                        Wait::Ready
                    }
                }
            }
            Flavor::Hchan(c) => {
                let msg = self.msg();
                let sudog = Parked::hchan(&mut self.parked);
                // SAFETY: as above.
                match unsafe { c.select_enqueue_send(held, sudog, msg, oper, cx) } {
                    Ok(()) => Wait::Listed,
                    Err((why, msg)) => {
                        self.msg = Some(msg);
                        if why == Enqueue::OwnOpposite {
                            Wait::Poll
                        } else {
                            Wait::Ready
                        }
                    }
                }
            }
            // These never block a send.
            Flavor::List(_) | Flavor::At(_) | Flavor::Tick(_) | Flavor::Never(_) => Wait::Ready,
        }
    }

    fn unregister(&mut self, held: Held<'_, 'a>, oper: Operation, won: bool) -> bool {
        match (self.flavor(), &self.parked) {
            (Flavor::Ring(c), _) => c.unwatch_send(oper),
            (Flavor::Zero(c), Some(Parked::Zero(packet))) => {
                let listed = c.select_unlist_send(oper);
                if won {
                    debug_assert!(!listed, "a selected entry was removed by its peer");
                    // The receiver took the message before selecting us.
                    self.result = Some(Ok(()));
                    return true;
                }
                // SAFETY: we unlisted the entry under the lock just now (an
                // entry leaves otherwise only when a peer wins it, and no
                // peer did: `won` is false), so no peer can reach the packet.
                self.msg = unsafe { packet.take() };
                debug_assert!(self.msg.is_some(), "an unselected sender keeps its message");
            }
            (Flavor::Hchan(c), Some(Parked::Hchan(sudog))) => {
                c.select_dequeue_send(held, sudog);
                // SAFETY: the sudog is unlinked now: by us under the lock,
                // or by a peer that completed us or gave the value back.
                let left = unsafe { sudog.take() };
                if won {
                    self.result = Some(if sudog.success() {
                        Ok(())
                    } else {
                        // `closechan` woke us; our value is still in `elem`.
                        Err(SendError(left.expect("a sender woken by close keeps its value")))
                    });
                    return true;
                }
                self.msg = left;
                debug_assert!(self.msg.is_some(), "an unselected sender keeps its message");
            }
            _ => {}
        }
        false
    }

    fn next_due(&self) -> Option<Instant> {
        None
    }

    fn needs_listing(&self) -> bool {
        needs_listing(self.flavor())
    }

    fn hchan(&self) -> Option<*const ()> {
        hchan_of(self.flavor())
    }

    fn lock_hchan(&self) -> Option<Box<dyn HeldLock + 'a>> {
        lock_hchan(self.flavor())
    }

    fn take_outcome(&mut self) -> Outcome {
        let result = self.result.take().expect("only a completed case is taken");
        Outcome::Sent { chan: chan_of(self.flavor()), result: Erased::new(result) }
    }

    fn push_clone(&self, _index: usize, _list: &mut CaseList<'a>) {
        // `select!` builds these for one use and never clones its `Select`
        // (the user cannot name it).
        unreachable!("a send case with its message is never cloned")
    }
}

pub(crate) struct ReadySendCase<'a, T> {
    sender: &'a Sender<T>,
    /// The ring slot claimed when the case was selected.
    reserved: Option<Reserved>,
    anchor: u8,
}

impl<'a, T> ReadySendCase<'a, T> {
    pub(crate) fn new(sender: &'a Sender<T>) -> Self {
        ReadySendCase { sender, reserved: None, anchor: 0 }
    }

    fn flavor(&self) -> &'a Flavor<T> {
        &self.sender.flavor
    }
}

impl<'a, T> Case<'a> for ReadySendCase<'a, T> {
    fn oper(&mut self) -> Operation {
        Operation::hook(&mut self.anchor)
    }

    fn try_complete(&mut self) -> bool {
        // racecheck: trying a send case reads the channel, as Go's select.
        self.sender.race_send(std::panic::Location::caller());
        match self.flavor() {
            // Claim the slot now, so that the send cannot block later.
            Flavor::Ring(c) => match c.reserve_send() {
                Reserve::Slot(pos) => {
                    self.reserved = Some(Reserved::new(RingSlot { ring: &***c as *const ring::Channel<T>, pos }));
                    true
                }
                Reserve::Full => false,
                Reserve::Closed => true,
            },
            // Set the waiting receiver aside: it is selected now and gets
            // its message when `SelectedOperation::send` brings it.
            Flavor::Zero(c) => match c.reserve_receiver() {
                Ok(late) => {
                    self.reserved = Some(Reserved::new(late));
                    true
                }
                Err(closed) => closed,
            },
            // hchan, like Go's runtime, cannot: ready means a receiver
            // waits or there is room now (see `SelectedOperation::send`).
            _ => self.is_ready(),
        }
    }

    fn is_ready(&self) -> bool {
        can_send(self.flavor())
    }

    fn register(&mut self, _held: Held<'_, 'a>, oper: Operation, cx: &Context, _mode: Mode) -> Wait {
        match self.flavor() {
            Flavor::Ring(c) => {
                if c.watch_send(oper, cx) {
                    c.unwatch_send(oper);
                    Wait::Ready
                } else {
                    Wait::Listed
                }
            }
            // No message to list yet: watch for a receiver to wait.
            Flavor::Zero(c) => {
                if c.watch_send(oper, cx) {
                    Wait::Ready
                } else {
                    Wait::Listed
                }
            }
            Flavor::List(_) | Flavor::At(_) | Flavor::Tick(_) | Flavor::Never(_) => Wait::Ready,
            // Go's hchan wakes a parked sender only by taking its message,
            // which this case does not have yet: it watches instead.
            Flavor::Hchan(c) => {
                if c.watch_send(oper, cx) {
                    Wait::Ready
                } else {
                    Wait::Listed
                }
            }
        }
    }

    fn unregister(&mut self, _held: Held<'_, 'a>, oper: Operation, _won: bool) -> bool {
        match self.flavor() {
            Flavor::Ring(c) => c.unwatch_send(oper),
            Flavor::Zero(c) => c.unwatch_send(oper),
            Flavor::Hchan(c) => c.unwatch_send(oper),
            _ => {}
        }
        false
    }

    fn forward_wakeup(&self) {
        if let Flavor::Ring(c) = self.flavor() {
            c.forward_send_wakeup();
        }
    }

    fn next_due(&self) -> Option<Instant> {
        None
    }

    fn needs_listing(&self) -> bool {
        needs_listing(self.flavor())
    }

    fn take_outcome(&mut self) -> Outcome {
        Outcome::SendReady { chan: chan_of(self.flavor()), reserved: self.reserved.take() }
    }

    fn push_clone(&self, index: usize, list: &mut CaseList<'a>) {
        list.push_with(index, || ReadySendCase::new(self.sender))
    }
}
