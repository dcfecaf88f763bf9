//! Potential deadlocks: cycles in the order in which threads take
//! racecheck's locks (ThreadSanitizer's lock-order-inversion report).
//!
//! Every thread keeps the list of the [`Mutex`](crate::sync::Mutex) and
//! [`RwLock`](crate::sync::RwLock) locks it holds, each with the place it
//! took it. When it is about to take lock `B` while holding `A`, the
//! global *lock-order graph* gets the edge `A → B`, remembered with the
//! thread and the two places (where `A` was taken, where `B` is being
//! taken). An edge that closes a cycle (`B → … → A` is already there,
//! taken by any thread at any time) is a potential deadlock: two threads
//! running those two paths at once could each hold one lock and wait for
//! the other. It is reported even though this run did not deadlock, and
//! before the lock is taken, so that a run that does deadlock there still
//! gets the report.
//!
//! Guard locks: each edge also remembers the other locks its thread held
//! (the intersection over every time the edge was taken). Two edges whose
//! threads held a common lock cannot be taken at the same time, so a cycle
//! is reported only if no two of its edges share one: taking `A` then `B`
//! and elsewhere `B` then `A`, both always under `G`, cannot deadlock and
//! is not reported (the "gatelock" rule of Havelund's GoodLock algorithm).
//!
//! A `try_lock` never blocks, so it adds no edge, but the lock it takes is
//! held like any other. Read locks count as locks: with a writer waiting,
//! std's `RwLock` makes readers wait too. A lock that is dropped leaves the
//! graph, so a later lock at the same address starts afresh. The same pair
//! of places is reported once, as for races.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::config::{enabled, options};
use crate::report::{self, Inversion, InversionEdge, LockKind};
use crate::runtime;

/// A lock this thread holds.
#[derive(Clone, Copy)]
pub(crate) struct HeldLock {
    /// The lock's name in the graph (the address of its [`Membership`]).
    id: usize,
    /// The lock object's address, for the report.
    addr: usize,
    kind: LockKind,
    /// Where this thread took it.
    at: &'static Location<'static>,
}

/// Edges a thread knows to be in the graph, with the guard set each had
/// when it looked, valid for one generation of the graph.
#[derive(Default)]
struct Known {
    generation: usize,
    edges: HashMap<(usize, usize), Vec<usize>>,
}

thread_local! {
    static HELD: RefCell<Vec<HeldLock>> = const { RefCell::new(Vec::new()) };
    static KNOWN: RefCell<Known> = RefCell::new(Known::default());
}

/// One edge `from → to` of the graph.
#[derive(Clone)]
struct Edge {
    tid: u32,
    /// Where the thread had taken `from`.
    held_at: &'static Location<'static>,
    /// Where it took (or was about to take) `to`.
    acquired_at: &'static Location<'static>,
    /// The locks held at every taking of this edge besides `from`, sorted.
    guards: Vec<usize>,
}

struct Node {
    addr: usize,
    kind: LockKind,
    out: HashMap<usize, Edge>,
    into: HashSet<usize>,
}

#[derive(Default)]
struct Graph {
    nodes: HashMap<usize, Node>,
}

static GRAPH: Mutex<Option<Graph>> = Mutex::new(None);

/// Bumped whenever a lock leaves the graph, so that threads drop what they
/// remember about edges (a later lock may have the same name).
static GENERATION: AtomicUsize = AtomicUsize::new(0);

fn graph() -> MutexGuard<'static, Option<Graph>> {
    // Every update leaves the graph consistent, so a poisoned lock is fine.
    GRAPH.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A lock's node in the graph. Its address names the node: it lives in
/// the lock's sync state, which is allocated once and stays put for the
/// lock's life, and the node leaves the graph when it is dropped, so a later
/// lock at the same address never inherits its edges. `in_graph` is set for
/// every lock a thread has held with detection on, so that freeing a lock
/// that never was in the graph costs nothing.
#[derive(Default)]
pub(crate) struct Membership {
    in_graph: AtomicBool,
}

impl Membership {
    /// The name of this lock in the graph.
    fn id(&self) -> usize {
        self as *const Membership as usize
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        if *self.in_graph.get_mut() {
            forget(self.id());
        }
    }
}

/// A lock's sync state, which holds its [`Membership`]; found only when the
/// lock order is checked (finding it may allocate).
pub(crate) trait InGraph {
    fn membership(&self) -> &Membership;
}

fn checking() -> bool {
    enabled() && options().report_lock_order
}

/// The current thread is about to block taking the lock whose clock is
/// `clock` (a `Mutex` or an `RwLock` at `addr`) at `at`: adds the edges
/// from every lock it holds, and reports any cycle they close.
#[inline]
pub(crate) fn before_lock(clock: &impl InGraph, addr: usize, kind: LockKind, at: &'static Location<'static>) {
    if checking() {
        before_lock_slow(clock.membership(), addr, kind, at);
    }
}

/// The current thread took the lock: it now holds it, taken at `at`.
#[inline]
pub(crate) fn acquired(clock: &impl InGraph, addr: usize, kind: LockKind, at: &'static Location<'static>) {
    if checking() {
        let member = clock.membership();
        mark(member);
        push(HeldLock { id: member.id(), addr, kind, at });
    }
}

/// Makes the lock leave the graph when it is freed. Every lock a thread
/// holds is marked, so that the graph never names a freed lock, whatever
/// the program does with its guards (a leaked guard included).
fn mark(member: &Membership) {
    if !member.in_graph.load(Ordering::Relaxed) {
        member.in_graph.store(true, Ordering::Relaxed);
    }
}

/// The current thread let the lock go.
#[inline]
pub(crate) fn released(clock: &impl InGraph) {
    if checking() {
        suspend(clock);
    }
}

/// The current thread let the lock go for a while (a condition variable's
/// wait); [`resume`] takes it back. Returns what `resume` needs.
pub(crate) fn suspend(clock: &impl InGraph) -> Option<HeldLock> {
    if !checking() {
        return None;
    }
    let id = clock.membership().id();
    HELD.try_with(|held| {
        let mut held = held.borrow_mut();
        let pos = held.iter().rposition(|h| h.id == id)?;
        Some(held.remove(pos))
    })
    .ok()
    .flatten()
}

/// The current thread took back, at `at`, the lock whose clock is `clock`,
/// which it let go with [`suspend`]: edges from the locks it holds now,
/// then held again.
pub(crate) fn resume(lock: Option<HeldLock>, clock: &impl InGraph, at: &'static Location<'static>) {
    if let Some(lock) = lock {
        before_lock_slow(clock.membership(), lock.addr, lock.kind, at);
        push(HeldLock { at, ..lock });
    }
}

fn push(lock: HeldLock) {
    let _ = HELD.try_with(|held| held.borrow_mut().push(lock));
}

#[cold]
#[inline(never)]
fn before_lock_slow(member: &Membership, addr: usize, kind: LockKind, at: &'static Location<'static>) {
    // A copy, so that reporting (which may take locks of its own) runs
    // without the list borrowed; taking a first lock costs no copy.
    let held: Vec<HeldLock> = match HELD.try_with(|held| held.borrow().clone()) {
        Ok(held) if !held.is_empty() => held,
        _ => return,
    };
    let to = member.id();
    for (i, from) in held.iter().enumerate() {
        if from.id == to {
            // A second read lock of the same RwLock: no order between a
            // lock and itself.
            continue;
        }
        let mut guards: Vec<usize> = held
            .iter()
            .enumerate()
            .filter(|&(j, h)| j != i && h.id != to && h.id != from.id)
            .map(|(_, h)| h.id)
            .collect();
        guards.sort_unstable();
        guards.dedup();
        if already_known(from.id, to, &guards) {
            continue;
        }
        let target = LockEnd { id: to, addr, kind, member };
        if let Some(cycle) = add_edge(from, target, at, guards) {
            report::lock_order_inversion(cycle);
        }
    }
}

/// Whether this thread already put the edge in the graph with guards that
/// are a subset of `guards`: adding it again could change nothing.
fn already_known(from: usize, to: usize, guards: &[usize]) -> bool {
    KNOWN
        .try_with(|known| {
            let mut known = known.borrow_mut();
            let generation = GENERATION.load(Ordering::Acquire);
            if known.generation != generation {
                known.generation = generation;
                known.edges.clear();
            }
            let seen =
                known.edges.get(&(from, to)).is_some_and(|old| old.iter().all(|g| guards.binary_search(g).is_ok()));
            if !seen {
                known.edges.insert((from, to), guards.to_vec());
            }
            seen
        })
        .unwrap_or(false)
}

/// The lock being taken.
struct LockEnd<'a> {
    id: usize,
    addr: usize,
    kind: LockKind,
    member: &'a Membership,
}

/// Adds `from → to` (or narrows its guards) and returns the cycle it
/// closes, if it closes one that is not guarded.
fn add_edge(from: &HeldLock, to: LockEnd<'_>, at: &'static Location<'static>, guards: Vec<usize>) -> Option<Inversion> {
    let tid = runtime::current_info().map_or(0, |info| info.tid);
    // `from` was marked when it was taken; `to` may not be taken yet.
    mark(to.member);
    let mut graph = graph();
    let graph = graph.get_or_insert_with(Graph::default);
    graph.nodes.entry(to.id).or_insert_with(|| Node {
        addr: to.addr,
        kind: to.kind,
        out: HashMap::new(),
        into: HashSet::new(),
    });
    let node = graph.nodes.entry(from.id).or_insert_with(|| Node {
        addr: from.addr,
        kind: from.kind,
        out: HashMap::new(),
        into: HashSet::new(),
    });
    let edge = match node.out.get_mut(&to.id) {
        Some(edge) => {
            let narrowed: Vec<usize> =
                edge.guards.iter().copied().filter(|g| guards.binary_search(g).is_ok()).collect();
            if narrowed.len() == edge.guards.len() {
                return None;
            }
            edge.guards = narrowed;
            edge.clone()
        }
        None => {
            let edge = Edge { tid, held_at: from.at, acquired_at: at, guards };
            node.out.insert(to.id, edge.clone());
            edge
        }
    };
    if let Some(target) = graph.nodes.get_mut(&to.id) {
        target.into.insert(from.id);
    }
    // An edge that is new, or less guarded than before: look for a way
    // back from `to` to `from` whose edges share no guard with each other
    // or with this one.
    let path = find_path(graph, to.id, from.id, &edge.guards)?;
    let describe = |id: usize| graph.nodes.get(&id).map(|n| (n.addr, n.kind)).unwrap_or((0, LockKind::Mutex));
    let mut edges = vec![InversionEdge {
        from: describe(from.id),
        to: describe(to.id),
        from_id: from.id,
        to_id: to.id,
        tid: edge.tid,
        held_at: edge.held_at,
        acquired_at: edge.acquired_at,
        current: true,
    }];
    for (a, b) in path.iter().zip(path.iter().skip(1)) {
        let e = &graph.nodes[a].out[b];
        edges.push(InversionEdge {
            from: describe(*a),
            to: describe(*b),
            from_id: *a,
            to_id: *b,
            tid: e.tid,
            held_at: e.held_at,
            acquired_at: e.acquired_at,
            current: false,
        });
    }
    Some(Inversion { edges })
}

/// A path of nodes from `start` to `goal` whose edges' guard sets are
/// pairwise disjoint and disjoint from `guards`; breadth first, so the
/// shortest such cycle is the one reported.
fn find_path(graph: &Graph, start: usize, goal: usize, guards: &[usize]) -> Option<Vec<usize>> {
    // For each node reached: where from, and the guards used on the way.
    let mut reached: HashMap<usize, (usize, Vec<usize>)> = HashMap::new();
    reached.insert(start, (start, guards.to_vec()));
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        let used = reached[&node].1.clone();
        for (&next, edge) in &graph.nodes.get(&node)?.out {
            if reached.contains_key(&next) || edge.guards.iter().any(|g| used.contains(g)) {
                continue;
            }
            let mut now_used = used.clone();
            now_used.extend_from_slice(&edge.guards);
            reached.insert(next, (node, now_used));
            if next == goal {
                let mut path = vec![goal];
                let mut at = goal;
                while at != start {
                    at = reached[&at].0;
                    path.push(at);
                }
                path.reverse();
                return Some(path);
            }
            queue.push_back(next);
        }
    }
    None
}

/// A lock is being freed: it leaves the graph with all its edges.
pub(crate) fn forget(id: usize) {
    let mut graph = graph();
    let Some(graph) = graph.as_mut() else { return };
    let Some(node) = graph.nodes.remove(&id) else { return };
    for to in node.out.keys() {
        if let Some(target) = graph.nodes.get_mut(to) {
            target.into.remove(&id);
        }
    }
    for from in &node.into {
        if let Some(source) = graph.nodes.get_mut(from) {
            source.out.remove(&id);
        }
    }
    GENERATION.fetch_add(1, Ordering::Release);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(guards: &[usize]) -> Edge {
        Edge { tid: 1, held_at: Location::caller(), acquired_at: Location::caller(), guards: guards.to_vec() }
    }

    fn graph_of(edges: &[(usize, usize, &[usize])]) -> Graph {
        let mut graph = Graph::default();
        for &(from, to, guards) in edges {
            for id in [from, to] {
                graph.nodes.entry(id).or_insert_with(|| Node {
                    addr: id,
                    kind: LockKind::Mutex,
                    out: HashMap::new(),
                    into: HashSet::new(),
                });
            }
            graph.nodes.get_mut(&from).unwrap().out.insert(to, edge(guards));
            graph.nodes.get_mut(&to).unwrap().into.insert(from);
        }
        graph
    }

    #[test]
    fn a_way_back_closes_a_cycle() {
        let graph = graph_of(&[(2, 3, &[]), (3, 1, &[])]);
        assert_eq!(find_path(&graph, 2, 1, &[]), Some(vec![2, 3, 1]));
        assert_eq!(find_path(&graph, 1, 2, &[]), None);
    }

    #[test]
    fn a_common_guard_breaks_the_cycle() {
        // 1 → 2 under 9, and 2 → 1 under 9: never at the same time.
        let graph = graph_of(&[(2, 1, &[9])]);
        assert_eq!(find_path(&graph, 2, 1, &[9]), None);
        // Different guards do not help.
        assert_eq!(find_path(&graph, 2, 1, &[8]), Some(vec![2, 1]));
    }

    #[test]
    fn guards_must_be_disjoint_along_the_whole_cycle() {
        // 3 → 4 and 4 → 1 share guard 9: that way back cannot happen at
        // once; the other way, through 5, can.
        let graph = graph_of(&[(2, 3, &[]), (3, 4, &[9]), (4, 1, &[9]), (2, 5, &[]), (5, 1, &[7])]);
        assert_eq!(find_path(&graph, 2, 1, &[]), Some(vec![2, 5, 1]));
        assert_eq!(find_path(&graph, 2, 1, &[7]), None);
    }
}
