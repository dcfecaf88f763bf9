//! The cases of a select: one per operation, each knowing how its channel's
//! flavor lets a select try, wait, and clean up.
//!
//! - `RecvCase` receives. Its result is taken during the select (by the
//!   select itself, or by a peer that hands the message to its packet or
//!   sudog), so `SelectedOperation::recv` only hands it over.
//! - `ReadySendCase` sends: `Select::send` and `select!`'s send arms,
//!   whose message comes only with `SelectedOperation::send`. When it is
//!   chosen the case sets aside what the message needs (a ring slot, a
//!   buffer slot, a waiting receiver), so that the send never blocks.
//!
//! The rendezvous flavors (`bounded(0)`, hchan) list a packet or sudog that
//! a peer completes and then selects the select's context with that case's
//! operation; the ring and list flavors only notify. See `docs/select.md`.
//!
//! A select keeps its cases as `dyn Case` in a `CaseList` (`list.rs`), each
//! one inline or boxed (`stored.rs`); both are parts of this module, since
//! the `Case` trait and the list name each other (`Case::push_clone`).

use std::time::Instant;

use crate::channel::{Flavor, Receiver, Sender};
use crate::context::{Context, Operation};
use crate::err::{RecvError, TryRecvError};
use crate::flavors::hchan::{Enqueue, HChan, HeldLock, LatePeer, Reserve as HchanReserve, SelectSudog};
use crate::flavors::ring;
use crate::flavors::ring::select::Reserve;
use crate::flavors::zero::select::{LateSend, SelectPacket};
use crate::flavors::zero::Arrival;

use self::list::CaseList;
use super::erased::Erased;

pub(crate) mod list;
pub(crate) mod stored;

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
    /// Delivers `msg`, or gives it back if the reservation was lost (a
    /// receiver passed a ring slot whose message was late): the caller then
    /// sends it as a plain send does.
    fn fill(self, msg: T) -> Result<(), T>;
}

/// A claimed ring slot.
struct RingSlot<T> {
    /// Alive while the `SelectedOperation` holding this lives: it borrows
    /// the sender for as long.
    ring: *const ring::Channel<T>,
    pos: usize,
}

impl<T> Owed<T> for RingSlot<T> {
    fn fill(self, msg: T) -> Result<(), T> {
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
    fn fill(self, msg: T) -> Result<(), T> {
        self.send(msg);
        Ok(())
    }
}

impl Reserved {
    fn new<T, O: Owed<T>>(owed: O) -> Reserved {
        /// Delivers the message in `*msg`, or puts it back there if the
        /// reservation was lost.
        unsafe fn fill<T, O: Owed<T>>(owed: Erased, msg: *mut ()) {
            // SAFETY: `owed` was made from an `O` in `new`, and `send`
            // passes it here once; `msg` points to a full `Option<T>`.
            let owed = unsafe { owed.into::<O>() };
            // SAFETY: `msg` points to the caller's full `Option<T>`, which
            // nothing else touches during this call.
            let slot = unsafe { &mut *(msg as *mut Option<T>) };
            if let Err(back) = owed.fill(slot.take().expect("a message to deliver")) {
                *slot = Some(back);
            }
        }
        Reserved { owed: Erased::new(owed), fill: fill::<T, O> }
    }

    /// Delivers `msg` to what was reserved, or gives it back if the
    /// reservation was lost (see [`Owed::fill`]).
    ///
    /// # Safety
    /// `T` is the channel's message type (the caller checked the channel).
    pub(crate) unsafe fn send<T>(self, msg: T) -> Result<(), T> {
        let mut msg = Some(msg);
        // SAFETY: `fill` was made for this `T` (contract) and for the type
        // of `owed`, which it consumes.
        unsafe { (self.fill)(self.owed, &mut msg as *mut Option<T> as *mut ()) };
        match msg {
            None => Ok(()),
            Some(back) => Err(back),
        }
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
                // SAFETY: the sudog is boxed and stays in `self.parked`
                // until `unregister` has dequeued it or found it selected.
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
                    // A `Select::send` of an unbuffered channel may have
                    // reserved us and bring the value late, or give up
                    // (then this select goes on).
                    if sudog.success() && !sudog.wait_for_value() {
                        return false;
                    }
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

pub(crate) struct ReadySendCase<'a, T> {
    sender: &'a Sender<T>,
    /// The late-sender entry a rendezvous or unbuffered hchan channel lists
    /// (kept from round to round), or, once the case is chosen, what was
    /// set aside for the message. One field for both, so that the case
    /// fits inline in a select (`stored.rs`).
    state: Option<SendState<T>>,
    /// Registered as a watcher (`ready`), not as a late sender.
    watching: bool,
    anchor: u8,
}

/// See `ReadySendCase::state`.
enum SendState<T> {
    Parked(Option<Parked<T>>),
    Reserved(Reserved),
}

impl<'a, T> ReadySendCase<'a, T> {
    pub(crate) fn new(sender: &'a Sender<T>) -> Self {
        ReadySendCase { sender, state: None, watching: false, anchor: 0 }
    }

    fn flavor(&self) -> &'a Flavor<T> {
        &self.sender.flavor
    }

    fn reserve(&mut self, reserved: Reserved) {
        self.state = Some(SendState::Reserved(reserved));
    }

    /// The entry's state, allocated on first use (see `Parked`).
    fn parked(&mut self) -> &mut Option<Parked<T>> {
        if !matches!(self.state, Some(SendState::Parked(_))) {
            self.state = Some(SendState::Parked(None));
        }
        match &mut self.state {
            Some(SendState::Parked(parked)) => parked,
            _ => unreachable!("just set"),
        }
    }
}

/// Whether a `Select::send` on `flavor` lists itself as a late sender when
/// it waits (rather than watching): the rendezvous flavors, where a
/// receiver must find someone to pair with.
fn lists_late_sender<T>(flavor: &Flavor<T>) -> bool {
    match flavor {
        Flavor::Zero(_) => true,
        Flavor::Hchan(c) => c.capacity() == Some(0),
        _ => false,
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
                    self.reserve(Reserved::new(RingSlot { ring: &***c as *const ring::Channel<T>, pos }));
                    true
                }
                Reserve::Full => false,
                Reserve::Closed => true,
            },
            // Set the waiting receiver aside: it is selected now and gets
            // its message when `SelectedOperation::send` brings it.
            Flavor::Zero(c) => match c.reserve_receiver() {
                Ok(late) => {
                    self.reserve(Reserved::new(late));
                    true
                }
                Err(closed) => closed,
            },
            // The same, as hchan can: a slot held in the buffer, or a
            // parked receiver of an unbuffered channel set aside.
            Flavor::Hchan(c) => match c.reserve_send() {
                HchanReserve::Room => {
                    self.reserve(Reserved::new(HchanRoom { chan: &***c as *const HChan<T> }));
                    true
                }
                HchanReserve::Receiver(peer) => {
                    self.reserve(Reserved::new(peer));
                    true
                }
                HchanReserve::Closed => true,
                HchanReserve::NotReady => false,
            },
            _ => self.is_ready(),
        }
    }

    fn is_ready(&self) -> bool {
        can_send(self.flavor())
    }

    fn register(&mut self, held: Held<'_, 'a>, oper: Operation, cx: &Context, mode: Mode) -> Wait {
        let flavor = self.flavor();
        self.watching = mode == Mode::Observe || !lists_late_sender(flavor);
        match flavor {
            Flavor::Ring(c) => {
                if c.watch_send(oper, cx) {
                    c.unwatch_send(oper);
                    Wait::Ready
                } else {
                    Wait::Listed
                }
            }
            // Watching only: wake when a receiver waits.
            Flavor::Zero(c) if self.watching => {
                if c.watch_send(oper, cx) {
                    Wait::Ready
                } else {
                    Wait::Listed
                }
            }
            // Waiting to send: listed as a sender whose message comes
            // later, so that a receiver (even one that only polls) pairs
            // with it, as with any waiting sender.
            Flavor::Zero(c) => {
                let packet = Parked::zero(self.parked());
                // SAFETY: the packet is boxed and stays in `self.state`
                // until `unregister` has unlisted it or found it selected.
                if unsafe { c.select_list_late_send(packet, oper, cx) } {
                    Wait::Listed
                } else {
                    Wait::Ready
                }
            }
            Flavor::Hchan(c) if self.watching => {
                if c.watch_send(oper, cx) {
                    Wait::Ready
                } else {
                    Wait::Listed
                }
            }
            Flavor::Hchan(c) => {
                let sudog = Parked::hchan(self.parked());
                // SAFETY: the sudog is boxed and stays in `self.parked`
                // until `unregister` has dequeued it or found it selected.
                match unsafe { c.select_enqueue_late_send(held, sudog, oper, cx) } {
                    Enqueue::Queued => Wait::Listed,
                    Enqueue::Ready => Wait::Ready,
                    Enqueue::OwnOpposite => Wait::Poll,
                }
            }
            Flavor::List(_) | Flavor::At(_) | Flavor::Tick(_) | Flavor::Never(_) => Wait::Ready,
        }
    }

    fn unregister(&mut self, held: Held<'_, 'a>, oper: Operation, won: bool) -> bool {
        let reserved = match (self.flavor(), &self.state) {
            (Flavor::Ring(c), _) => {
                c.unwatch_send(oper);
                return false;
            }
            (Flavor::Zero(c), _) if self.watching => {
                c.unwatch_send(oper);
                return false;
            }
            (Flavor::Hchan(c), _) if self.watching => {
                c.unwatch_send(oper);
                return false;
            }
            (Flavor::Zero(c), Some(SendState::Parked(Some(Parked::Zero(packet))))) => {
                let listed = c.select_unlist_send(oper);
                if !won {
                    return false;
                }
                debug_assert!(!listed, "a selected entry was removed by its peer");
                // A receiver selected us and waits for the message.
                packet.take_peer().map(Reserved::new)
            }
            (Flavor::Hchan(c), Some(SendState::Parked(Some(Parked::Hchan(sudog))))) => {
                c.select_dequeue_send(held, sudog);
                if !won {
                    return false;
                }
                // A receiver selected us and waits for the message, or
                // `closechan` woke us (no peer: the send fails).
                if sudog.success() {
                    sudog.take_peer().map(Reserved::new)
                } else {
                    None
                }
            }
            _ => return false,
        };
        // The entry is unlisted: its box may go.
        self.state = reserved.map(SendState::Reserved);
        true
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

    fn hchan(&self) -> Option<*const ()> {
        if lists_late_sender(self.flavor()) {
            hchan_of(self.flavor())
        } else {
            None
        }
    }

    fn lock_hchan(&self) -> Option<Box<dyn HeldLock + 'a>> {
        if lists_late_sender(self.flavor()) {
            lock_hchan(self.flavor())
        } else {
            None
        }
    }

    fn take_outcome(&mut self) -> Outcome {
        let reserved = match self.state.take() {
            Some(SendState::Reserved(reserved)) => Some(reserved),
            other => {
                self.state = other;
                None
            }
        };
        Outcome::SendReady { chan: chan_of(self.flavor()), reserved }
    }

    fn push_clone(&self, index: usize, list: &mut CaseList<'a>) {
        list.push_with(index, || ReadySendCase::new(self.sender))
    }
}

/// A slot held in an hchan channel's buffer (`HChan::reserve_send`).
struct HchanRoom<T> {
    /// Alive while the `SelectedOperation` holding this lives: it borrows
    /// the sender for as long.
    chan: *const HChan<T>,
}

impl<T> Owed<T> for HchanRoom<T> {
    fn fill(self, msg: T) -> Result<(), T> {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: alive (see the field); `this` is not dropped, so the slot
        // is used once.
        unsafe { (*this.chan).send_reserved_room(msg) };
        Ok(())
    }
}

impl<T> Drop for HchanRoom<T> {
    fn drop(&mut self) {
        // SAFETY: alive (see the field); not filled, so given up once here.
        unsafe { (*self.chan).abandon_reserved_room() }
    }
}

impl<T> Owed<T> for LatePeer<T> {
    fn fill(self, msg: T) -> Result<(), T> {
        LatePeer::fill(self, msg);
        Ok(())
    }
}
