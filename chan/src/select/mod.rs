//! Go's `select` over any mix of channels: [`Select`], and the
//! [`select!`](crate::select!) and [`select_biased!`](crate::select_biased!)
//! macros built on it.
//!
//! A select runs in rounds. Each round first *tries* every case, in a
//! random order (Go's `pollorder`; in written order when biased), and takes
//! the first that can go. If none can, it lists every case with its channel
//! under the calling thread's one [`Context`], re-checks, and parks. A peer
//! that can complete or unblock a case selects the context with that case's
//! operation: a single CAS, so exactly one case wins however many peers
//! race. The select then unlists every case (Go's pass 3); if the peer
//! completed the winning case (rendezvous and hchan flavors) the select is
//! done, otherwise (ring and list flavors, which only notify) it starts a
//! new round trying that case first. `docs/select.md` walks through each
//! flavor and why no operation is lost or done twice.

mod case;
mod erased;
mod macros;

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use crate::channel::{Receiver, Sender};
use crate::context::{Context, Patience, Selected};
use crate::err::{ReadyTimeoutError, RecvError, SelectTimeoutError, SendError, TryReadyError, TrySelectError};

use self::case::list::CaseList;
use self::case::stored::StoredCase;
use self::case::{Case, Mode, Outcome, ReadySendCase, RecvCase, Wait};
use crate::flavors::hchan::HeldLock;

/// The longest a select sleeps before looking again at a case its channel
/// cannot wake (see `Wait::Poll`).
const MAX_POLL: Duration = Duration::from_millis(1);

/// Up to this many cases, a select keeps its poll order on the stack.
const SMALL_SELECT: usize = 32;

/// A select over a set of send and receive operations, as
/// crossbeam-channel's `Select`.
///
/// Add operations with [`send`](Select::send) and [`recv`](Select::recv);
/// each returns the index that identifies it. Then
/// [`select`](Select::select) (or `try_select`, `select_timeout`,
/// `select_deadline`) waits until one can go and returns it as a
/// [`SelectedOperation`], which **must** be completed by calling its
/// [`send`](SelectedOperation::send) or [`recv`](SelectedOperation::recv)
/// with the same handle; dropping it uncompleted panics. The `ready` family
/// only reports which operation is ready, leaving the operation to the
/// caller.
///
/// When several operations are ready, [`Select::new`] picks one uniformly
/// at random; [`Select::new_biased`] picks the first added. A receive on a
/// closed channel, or a send on one, is ready (it fails at once).
///
/// A receive is performed by the select itself, so `recv` on the selected
/// operation never blocks. A send's message is only known at `send`, so
/// when a send is chosen the select sets aside what the message will need:
/// a slot of a buffered channel, or a waiting receiver of a `bounded(0)`
/// one (which then waits for the message). `send` on the selected operation
/// therefore never blocks, on any flavor. One exception on the lock-free
/// ring: a receiver that finds the set-aside slot still empty while later
/// messages are ready passes it rather than wait (see
/// [`Receiver::try_recv`]); the late `send` then sends as
/// [`Sender::send`] does. While a `Select::send` waits on a `bounded(0)`
/// channel, it counts as a waiting sender: a receiver (even `try_recv`)
/// pairs with it and waits for the select's owner to bring the message,
/// as in crossbeam-channel.
///
/// ```
/// use std::thread;
/// use std::time::Duration;
///
/// let (s1, r1) = chan::unbounded();
/// let (s2, r2) = chan::hchan::bounded(0);
/// thread::spawn(move || s2.send(10).unwrap());
/// s1.send(20).unwrap();
///
/// let mut sel = chan::Select::new();
/// let oper1 = sel.recv(&r1);
/// let oper2 = sel.recv(&r2);
/// let mut got = Vec::new();
/// for _ in 0..2 {
///     let oper = sel.select_timeout(Duration::from_secs(10)).unwrap();
///     match oper.index() {
///         i if i == oper1 => got.push(oper.recv(&r1).unwrap()),
///         i if i == oper2 => got.push(oper.recv(&r2).unwrap()),
///         _ => unreachable!(),
///     }
/// }
/// got.sort();
/// assert_eq!(got, [10, 20]);
/// ```
// `repr(C)` keeps the fields `new` sets before the inline room of `cases`
// (see `CaseList`).
#[repr(C)]
pub struct Select<'a> {
    biased: bool,
    next_index: usize,
    cases: CaseList<'a>,
}

impl<'a> Select<'a> {
    /// An empty select that picks among ready operations at random.
    pub fn new() -> Select<'a> {
        Select { cases: CaseList::new(), biased: false, next_index: 0 }
    }

    /// An empty select that picks the first added of the ready operations.
    pub fn new_biased() -> Select<'a> {
        Select { biased: true, ..Select::new() }
    }

    #[inline]
    fn add<C: Case<'a> + 'a>(&mut self, make: impl FnOnce() -> C) -> usize {
        let index = self.next_index;
        self.next_index += 1;
        self.cases.push_with(index, make);
        index
    }

    /// Adds a send operation; returns its index.
    ///
    /// `T: Send` lets the `Select` itself be sent to and shared with other
    /// threads, as crossbeam-channel's is. crossbeam's `Select` takes any
    /// `T` while being `Send` too, which would let safe code move a
    /// channel of a non-`Send` type to another thread; here the bound
    /// keeps that out. [`select!`](crate::select!) needs no such bound
    /// (its select never leaves the thread), so its arms take any type.
    pub fn send<T: Send>(&mut self, s: &'a Sender<T>) -> usize {
        self.add(|| ReadySendCase::new(s))
    }

    /// Adds a receive operation; returns its index. `T: Send` as for
    /// [`send`](Select::send).
    pub fn recv<T: Send>(&mut self, r: &'a Receiver<T>) -> usize {
        self.add(|| RecvCase::new(r))
    }

    /// Removes the operation with `index`.
    ///
    /// # Panics
    /// If there is no such operation (never added, or removed already).
    pub fn remove(&mut self, index: usize) {
        let pos = self.cases.iter().position(|(i, _)| *i == index).expect("no operation with this index");
        self.cases.remove(pos);
    }

    /// Selects an operation that can go now, without blocking.
    pub fn try_select(&mut self) -> Result<SelectedOperation<'a>, TrySelectError> {
        self.run(Until::Now, Mode::Complete).map(|pos| self.selected(pos)).ok_or(TrySelectError)
    }

    /// Blocks until an operation can go and selects it.
    #[track_caller]
    pub fn select(&mut self) -> SelectedOperation<'a> {
        let pos = self.run(Until::Forever, Mode::Complete).expect("a select without a deadline always selects");
        self.selected(pos)
    }

    /// Blocks at most `timeout` for an operation to go and selects it.
    #[track_caller]
    pub fn select_timeout(&mut self, timeout: Duration) -> Result<SelectedOperation<'a>, SelectTimeoutError> {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.select_deadline(deadline),
            None => Ok(self.select()),
        }
    }

    /// Blocks until `deadline` at the latest for an operation to go, and
    /// selects it. A deadline in the past still selects a ready operation.
    #[track_caller]
    pub fn select_deadline(&mut self, deadline: Instant) -> Result<SelectedOperation<'a>, SelectTimeoutError> {
        self.run(Until::Deadline(deadline), Mode::Complete).map(|pos| self.selected(pos)).ok_or(SelectTimeoutError)
    }

    /// The index of an operation that could go now, without blocking. The
    /// operation is not performed; another thread may take it first.
    pub fn try_ready(&mut self) -> Result<usize, TryReadyError> {
        self.run(Until::Now, Mode::Observe).map(|pos| self.cases[pos].0).ok_or(TryReadyError)
    }

    /// Blocks until an operation could go and returns its index, without
    /// performing it.
    #[track_caller]
    pub fn ready(&mut self) -> usize {
        let pos = self.run(Until::Forever, Mode::Observe).expect("a select without a deadline always selects");
        self.cases[pos].0
    }

    /// As [`ready`](Select::ready), waiting at most `timeout`.
    #[track_caller]
    pub fn ready_timeout(&mut self, timeout: Duration) -> Result<usize, ReadyTimeoutError> {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.ready_deadline(deadline),
            None => Ok(self.ready()),
        }
    }

    /// As [`ready`](Select::ready), waiting until `deadline` at the latest.
    #[track_caller]
    pub fn ready_deadline(&mut self, deadline: Instant) -> Result<usize, ReadyTimeoutError> {
        self.run(Until::Deadline(deadline), Mode::Observe).map(|pos| self.cases[pos].0).ok_or(ReadyTimeoutError)
    }

    fn selected(&mut self, pos: usize) -> SelectedOperation<'a> {
        let (index, case) = &mut self.cases[pos];
        SelectedOperation { index: *index, outcome: Some(case.take_outcome()), _marker: PhantomData }
    }

    /// The select loop; returns the position of the case that went.
    #[track_caller]
    fn run(&mut self, until: Until, mode: Mode) -> Option<usize> {
        crate::race::operation();
        // Go's `pollorder`: on the stack for the usual few cases, so that a
        // select that goes at once allocates nothing for it.
        let n = self.cases.len();
        let mut on_stack = [0usize; SMALL_SELECT];
        let mut on_heap = Vec::new();
        let order: &mut [usize] = if n <= SMALL_SELECT {
            let order = &mut on_stack[..n];
            for (pos, slot) in order.iter_mut().enumerate() {
                *slot = pos;
            }
            order
        } else {
            on_heap.extend(0..n);
            &mut on_heap
        };
        // The fast path: one try of every case; most selects over buffered
        // channels end here. Unbiased, the order is shuffled as it is tried
        // (Fisher-Yates front to back: step `k` swaps a case drawn from the
        // untried `order[k..]` into place), which is a uniform shuffle like
        // Go's, but draws only once when the first case tried goes.
        let mut rng = (!self.biased && n > 1).then(PollRng::load);
        for k in 0..n {
            if let Some(rng) = &mut rng {
                order.swap(k, k + rng.below(n - k));
            }
            let pos = order[k];
            if try_case(&mut *self.cases[pos].1, mode) {
                if let Some(rng) = rng {
                    rng.store();
                }
                return Some(pos);
            }
        }
        if let Some(rng) = rng {
            rng.store();
        }
        let order: &[usize] = order;
        if let Until::Now = until {
            return self.last_pass(order, mode);
        }
        crate::trace::finished(self.wait_rounds(order, until, mode, std::panic::Location::caller()))
    }

    /// One more try of every case before a select gives up (`try_select`,
    /// or a deadline that has passed), as crossbeam-channel does. A first
    /// pass sees each case empty at a different moment; a second one sees
    /// whatever the others completed before the first pass ended, so a
    /// program that sends on one channel and then takes a message from
    /// another (making room for the select's peer, which then sends) never
    /// finds every case empty.
    #[cold]
    #[inline(never)]
    fn last_pass(&mut self, order: &[usize], mode: Mode) -> Option<usize> {
        order.iter().copied().find(|&pos| try_case(&mut *self.cases[pos].1, mode))
    }

    /// The rest of the select loop, after a first try of every case found
    /// none that could go: waiting rounds until one goes or the deadline
    /// passes. Out of line, so that the fast path stays small.
    #[cold]
    #[inline(never)]
    fn wait_rounds(
        &mut self,
        order: &[usize],
        until: Until,
        mode: Mode,
        at: &'static std::panic::Location<'static>,
    ) -> Option<usize> {
        let mut poll = Duration::from_micros(20);
        let mut stale_rounds = 0u32;
        // A select over ring and list channels only, which a peer makes
        // ready without meeting a listed waiter: retry the cases while
        // spinning briefly before listing, as a plain blocking operation is
        // patient before it registers. Listed, the select sends every peer
        // operation on its channels down the slow notify path (a lock, a
        // CAS, an unpark), and it pays a lock to list and one to unlist per
        // case, for a peer on another core that usually answers in well
        // under a microsecond. A rendezvous or hchan case is met only while
        // listed, so there spinning first only delays the meeting.
        if !self.cases.iter().any(|(_, case)| case.needs_listing()) {
            let mut patience = Patience::new();
            while patience.spin() {
                for &pos in order {
                    if try_case(&mut *self.cases[pos].1, mode) {
                        return Some(pos);
                    }
                }
            }
        }
        loop {
            let deadline = match until {
                Until::Now => return None,
                Until::Deadline(d) if Instant::now() >= d => return self.last_pass(order, mode),
                Until::Deadline(d) => Some(d),
                Until::Forever => None,
            };
            let cases = &mut self.cases;
            let round = Context::with(|cx| park_on_cases(cases, order, cx, deadline, mode, &mut poll, at));
            if let Some(pos) = round.won {
                return Some(pos);
            }
            let first = round.woke;
            // A case looked ready while listing but was gone when tried: a
            // peer that already won elsewhere is still listed (it unlists
            // itself as soon as it runs). Let it run rather than spin.
            if round.saw_ready {
                stale_rounds += 1;
                // Under loom at once: a round that does not yield to the
                // model's scheduler could repeat forever in its search.
                if stale_rounds > 2 || cfg!(loom) {
                    crate::sync::thread::yield_now();
                }
            } else {
                stale_rounds = 0;
            }
            // Try every case, the one that woke us first.
            for pos in first.into_iter().chain(order.iter().copied().filter(|&p| Some(p) != first)) {
                let case = &mut *self.cases[pos].1;
                if try_case(case, mode) {
                    if mode == Mode::Observe && first == Some(pos) {
                        // We only observed the change our wake-up announced;
                        // another waiter may be the one to act on it.
                        case.forward_wakeup();
                    }
                    return Some(pos);
                }
            }
        }
    }
}

/// Completes (`Complete`) or checks (`Observe`) one case: whether it went.
#[inline]
fn try_case(case: &mut dyn Case<'_>, mode: Mode) -> bool {
    match mode {
        Mode::Complete => case.try_complete(),
        Mode::Observe => case.is_ready(),
    }
}

/// How long a select may wait.
#[derive(Clone, Copy)]
enum Until {
    Now,
    Deadline(Instant),
    Forever,
}

/// How a waiting round ended.
struct Round {
    /// The case a peer completed.
    won: Option<usize>,
    /// The case whose channel woke us, to be tried first.
    woke: Option<usize>,
    /// Whether listing stopped because a case could go.
    saw_ready: bool,
}

/// One waiting round: lists every case, parks, unlists every case.
fn park_on_cases<'a>(
    cases: &mut [(usize, StoredCase<'a>)],
    order: &[usize],
    cx: &Context,
    deadline: Option<Instant>,
    mode: Mode,
    poll: &mut Duration,
    at: &'static std::panic::Location<'static>,
) -> Round {
    let mut listed = Vec::with_capacity(order.len());
    let mut wake_at = deadline;
    let mut polling = false;
    let mut ready = false;
    // The wait starts before any case is listed: a subscriber that sends on
    // one of these channels while the event is emitted finds no waiter of
    // ours to notify.
    crate::trace::retrying(cx, at, || crate::trace::Park {
        id: cases.as_ptr() as usize,
        op: "select",
        flavor: "select",
        capacity: None,
        len: order.len(),
    });
    // racecheck: publish this thread's past before any case is listed, so
    // that a peer completing a case directly (rendezvous, hchan) orders
    // itself after it, as for a plain parked operation.
    cx.publish_wait();
    // Go's `sellock`: an hchan-only select queues every sudog with all its
    // channels locked (empty for any other select: each case locks alone).
    let mut held = lock_all_hchans(cases, mode);
    for &pos in order {
        let case: &mut (dyn Case<'a> + 'a) = &mut *cases[pos].1;
        let oper = case.oper();
        match case.register(held_for(&mut held, case), oper, cx, mode) {
            Wait::Listed => listed.push((pos, oper)),
            Wait::Poll => polling = true,
            Wait::Nothing => {}
            Wait::Ready => {
                ready = true;
                break;
            }
        }
        if let Some(due) = case.next_due() {
            wake_at = Some(wake_at.map_or(due, |w| w.min(due)));
        }
    }
    // Go's `selunlock`.
    drop(held);
    if polling {
        let at = Instant::now() + *poll;
        wake_at = Some(wake_at.map_or(at, |w| w.min(at)));
        *poll = (*poll * 2).min(MAX_POLL);
    }
    if ready {
        // A case could go after all: leave, unless a peer already chose one
        // of the cases listed so far (then that choice stands).
        let _ = cx.try_select(Selected::Aborted);
    }
    // The deadlock report sees a select with nothing to wake it but its
    // peers.
    let blocked = crate::race::blocking(wake_at, "select", at);
    let sel = cx.wait_until(wake_at, true);
    drop(blocked);
    let mut won = None;
    let mut woke = None;
    // Go's pass 3, again under all the locks for an hchan-only select.
    let mut held = if listed.is_empty() { Vec::new() } else { lock_all_hchans(cases, mode) };
    for (pos, oper) in listed {
        let selected = sel == Selected::Operation(oper);
        let case: &mut (dyn Case<'a> + 'a) = &mut *cases[pos].1;
        if case.unregister(held_for(&mut held, case), oper, selected) {
            won = Some(pos);
        } else if selected {
            woke = Some(pos);
        }
    }
    drop(held);
    if won.is_some() {
        // racecheck: take in the past of the peer that completed our case.
        // It synchronized with our context before its CAS, or, for a
        // rendezvous message reserved by a `Select::send`, just before it
        // filled the packet, which `unregister` waited for; so this comes
        // after both. A notification from a ring or list channel completes
        // nothing (`won` stays empty): the retry that follows gets that
        // edge from the slot itself.
        cx.acquire_handoff();
    }
    if let Selected::Operation(oper) = sel {
        // A ring or list case that found itself ready while registering was
        // unlisted at once, but may still have been notified meanwhile.
        if won.is_none() && woke.is_none() {
            woke = cases.iter_mut().position(|(_, case)| case.oper() == oper);
        }
    }
    Round { won, woke, saw_ready: ready }
}

/// For a select whose cases all queue sudogs on hchan channels: every
/// channel's lock, taken in address order (Go's `lockorder`) so that two
/// such selects never deadlock. Empty for any other select, whose cases
/// lock their channels one at a time.
fn lock_all_hchans<'a>(cases: &[(usize, StoredCase<'a>)], mode: Mode) -> Vec<Box<dyn HeldLock + 'a>> {
    if mode != Mode::Complete {
        return Vec::new();
    }
    let mut chans = Vec::with_capacity(cases.len());
    for (pos, (_, case)) in cases.iter().enumerate() {
        match case.hchan() {
            Some(chan) => chans.push((chan as usize, pos)),
            None => return Vec::new(),
        }
    }
    chans.sort_unstable();
    chans.dedup_by_key(|(chan, _)| *chan);
    chans.into_iter().filter_map(|(_, pos)| cases[pos].1.lock_hchan()).collect()
}

/// The held lock of `case`'s channel, if the select holds its locks.
fn held_for<'g, 'a>(
    held: &'g mut [Box<dyn HeldLock + 'a>],
    case: &dyn Case<'a>,
) -> Option<&'g mut (dyn HeldLock + 'a)> {
    let chan = case.hchan()?;
    held.iter_mut().find(|h| h.chan() == chan).map(|h| &mut **h)
}

/// The generator of the poll order: a per-thread xorshift, as Go's
/// `selectgo` shuffles its `pollorder` with `cheaprand`.
struct PollRng(u64);

thread_local! {
    // Seeded on first use: 0 is never a state of the generator.
    static POLL_RNG: Cell<u64> = const { Cell::new(0) };
}

impl PollRng {
    fn load() -> PollRng {
        if let Some(x) = crate::race::schedule_random() {
            return PollRng(x | 1);
        }
        match POLL_RNG.try_with(|rng| rng.get()) {
            Ok(x) if x != 0 => PollRng(x),
            _ => PollRng(seed()),
        }
    }

    /// A draw in `0..n`, `n >= 1`, from the high 32 bits by multiplication,
    /// as Go's `cheaprandn`, instead of a division: the bias is below
    /// `n / 2^32`, far under anything a select could show.
    fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (((x >> 32) * n as u64) >> 32) as usize
    }

    fn store(self) {
        let _ = POLL_RNG.try_with(|rng| rng.set(self.0));
    }
}

/// A nonzero seed that differs between threads and runs (std's hasher keys
/// are random per process and per thread).
fn seed() -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_usize(crate::context::current_thread_id());
    hasher.finish() | 1
}

// SAFETY: cases are only made by `send`, `recv` and `__send_value`, all of
// which require `T: Send`. Between calls of its `&mut self` methods a case
// holds (a) a shared reference to a handle of a channel of such a `T`, which
// is `Send` and `Sync`; (b) possibly a boxed packet or sudog, unlisted from
// its channel (every round unlists all it listed before returning), so no
// other thread can reach it, holding at most an `Option<T>`; (c) a result
// or message `Option<T>`. Moving all of that to another thread moves only
// `Send` values and handles that may be used from any thread.
unsafe impl Send for Select<'_> {}

// SAFETY: the only methods that take `&self` (`clone` and `fmt`) read the
// handle references, `biased` and `next_index`; none touches a packet,
// sudog, message or result, so sharing `&Select` never shares a `T`.
unsafe impl Sync for Select<'_> {}

/// The select [`select!`](crate::select!) builds: a [`Select`] confined to
/// the thread that runs the macro (neither `Send` nor `Sync`), so that its
/// operations need no `T: Send` bound and the macro's arms take any message
/// type, as crossbeam-channel's do. Not part of the API.
#[doc(hidden)]
pub struct __MacroSelect<'a> {
    sel: Select<'a>,
    _not_send: PhantomData<*const ()>,
}

impl Default for __MacroSelect<'_> {
    fn default() -> Self {
        __MacroSelect::new()
    }
}

#[doc(hidden)]
impl<'a> __MacroSelect<'a> {
    pub fn new() -> Self {
        __MacroSelect { sel: Select::new(), _not_send: PhantomData }
    }

    pub fn new_biased() -> Self {
        __MacroSelect { sel: Select::new_biased(), _not_send: PhantomData }
    }

    pub fn recv<T>(&mut self, r: &'a Receiver<T>) -> usize {
        self.sel.add(|| RecvCase::new(r))
    }

    pub fn send<T>(&mut self, s: &'a Sender<T>) -> usize {
        self.sel.add(|| ReadySendCase::new(s))
    }

    #[track_caller]
    pub fn select(&mut self) -> SelectedOperation<'a> {
        self.sel.select()
    }

    pub fn try_select(&mut self) -> Result<SelectedOperation<'a>, TrySelectError> {
        self.sel.try_select()
    }

    #[track_caller]
    pub fn select_timeout(&mut self, timeout: Duration) -> Result<SelectedOperation<'a>, SelectTimeoutError> {
        self.sel.select_timeout(timeout)
    }
}

impl Default for Select<'_> {
    fn default() -> Self {
        Select::new()
    }
}

impl Clone for Select<'_> {
    fn clone(&self) -> Self {
        Select {
            cases: {
                let mut cases = CaseList::new();
                for (i, case) in self.cases.iter() {
                    case.push_clone(*i, &mut cases);
                }
                cases
            },
            biased: self.biased,
            next_index: self.next_index,
        }
    }
}

impl fmt::Debug for Select<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Select { .. }")
    }
}

/// The operation a [`Select`] chose. Complete it with
/// [`send`](SelectedOperation::send) or [`recv`](SelectedOperation::recv),
/// passing the handle the operation was added with.
///
/// # Panics
/// Dropping it without completing it panics, as in crossbeam-channel (a
/// received message would otherwise be lost).
#[must_use]
pub struct SelectedOperation<'a> {
    index: usize,
    outcome: Option<Outcome>,
    _marker: PhantomData<&'a ()>,
}

impl SelectedOperation<'_> {
    /// The index [`Select::send`] or [`Select::recv`] returned for this
    /// operation.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Completes the selected send with `msg`. Fails with the message if
    /// the channel is closed or every receiver is gone.
    ///
    /// # Panics
    /// If `s` is not the sender the operation was added with.
    #[inline]
    #[track_caller]
    pub fn send<T>(mut self, s: &Sender<T>, msg: T) -> Result<(), SendError<T>> {
        match self.outcome.take() {
            Some(Outcome::SendReady { chan, reserved }) if chan == chan_of_sender(s) => match reserved {
                Some(slot) => {
                    s.race_send(std::panic::Location::caller());
                    // SAFETY: the same channel, so a reservation for
                    // messages `T`.
                    match unsafe { slot.send(msg) } {
                        Ok(()) => Ok(()),
                        // The reservation was lost: send as `send` does.
                        Err(msg) => s.send(msg),
                    }
                }
                None => s.send(msg),
            },
            _ => panic!("passed a sender that wasn't selected"),
        }
    }

    /// Completes the selected receive: the message, or [`RecvError`] if the
    /// channel was closed and drained.
    ///
    /// # Panics
    /// If `r` is not the receiver the operation was added with.
    #[inline]
    pub fn recv<T>(mut self, r: &Receiver<T>) -> Result<T, RecvError> {
        match self.outcome.take() {
            Some(Outcome::Received { chan, result }) if chan == chan_of_receiver(r) => {
                // SAFETY: the same channel, so the same `T` the case stored
                // its `Result<T, RecvError>` with.
                unsafe { result.into::<Result<T, RecvError>>() }
            }
            _ => panic!("passed a receiver that wasn't selected"),
        }
    }
}

fn chan_of_sender<T>(s: &Sender<T>) -> *const () {
    s.flavor.addr()
}

fn chan_of_receiver<T>(r: &Receiver<T>) -> *const () {
    r.flavor.addr()
}

impl Drop for SelectedOperation<'_> {
    fn drop(&mut self) {
        if self.outcome.is_some() && !std::thread::panicking() {
            panic!("dropped `SelectedOperation` without completing the operation");
        }
    }
}

impl fmt::Debug for SelectedOperation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelectedOperation").field("index", &self.index).finish_non_exhaustive()
    }
}
