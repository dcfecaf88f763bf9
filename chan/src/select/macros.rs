//! `select!` and `select_biased!`, with crossbeam-channel's syntax and
//! rules, built on the select machinery of [`Select`](crate::Select).
//!
//! The expansion runs in three steps, all in `__select_internal!`:
//!
//! 1. `@parse` reads one arm at a time. For a `recv`/`send` arm it
//!    evaluates the handle once, binding it with `match` (so a temporary
//!    such as `chan::after(..)` lives to the end of the select), and passes
//!    the binding on; a `default` arm is set aside.
//! 2. `@run` builds a select, adds every arm in written order (so the k-th
//!    arm gets index k), and selects: blocking, `try_select` for
//!    `default`, `select_timeout` for `default(timeout)`.
//! 3. `@dispatch` compares the selected index with 0, 1, 2, ... and runs
//!    the matching arm: a receive's result is bound to its pattern; a
//!    send's message expression is evaluated only now, for the chosen arm,
//!    and handed to `SelectedOperation::send`.
//!
//! The select is a `__MacroSelect`: a [`Select`](crate::Select) that is
//! neither `Send` nor `Sync`, so its arms take any message type (a
//! non-`Send` one included) while a `Select` shared between threads keeps
//! its `T: Send` bounds. The expansion contains no `unsafe` code.

/// Waits on several channel operations at once and runs the arm of the one
/// that goes, as Go's `select` statement.
///
/// Arms:
///
/// - `recv(r) -> msg => body`: `msg` is `Result<T, RecvError>` (an error
///   once `r` is closed and drained);
/// - `send(s, value) -> res => body`: `res` is `Result<(), SendError<T>>`;
///   `value` is evaluated only if this arm is chosen (as in
///   crossbeam-channel, and unlike Go, which evaluates every send's value
///   first);
/// - `default => body` (or `default() => body`): runs if no operation can
///   go right now;
/// - `default(timeout) => body`: runs if none could go within `timeout`.
///
/// When several operations can go, one is chosen uniformly at random. Any
/// mix of flavors may appear (`bounded`, `unbounded`, `hchan`, timers).
/// Every handle is evaluated once, in written order, before waiting.
/// Messages of any type may be sent and received, `Send` or not.
///
/// A chosen send never blocks: the select sets aside a slot, or a waiting
/// receiver, for the message before it runs the arm.
///
/// ```
/// use std::collections::VecDeque;
///
/// let (s, r) = chan::bounded(1);
/// let (_done_s, done) = chan::bounded::<()>(0);
/// let mut queue = VecDeque::from([1, 2]);
/// s.send(0).unwrap(); // full: the send arm cannot go
/// chan::select! {
///     send(s, queue.pop_front().unwrap()) -> _ => unreachable!(),
///     recv(done) -> _ => unreachable!(),
///     default => {}
/// }
/// assert_eq!(queue.len(), 2, "the message of an arm not chosen is not evaluated");
/// assert_eq!(r.recv(), Ok(0));
/// ```
///
/// ```
/// use std::time::Duration;
///
/// let (s, r) = chan::hchan::bounded(1);
/// let (_done_s, done) = chan::bounded::<()>(0);
/// s.send("hello").unwrap();
/// chan::select! {
///     recv(r) -> msg => assert_eq!(msg, Ok("hello")),
///     recv(done) -> _ => unreachable!(),
///     default(Duration::from_secs(1)) => unreachable!(),
/// }
/// ```
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => {
        $crate::__select_internal!(@parse new [] [] $($tokens)*)
    };
}

/// [`select!`] that, when several operations can go, chooses the first
/// written.
///
/// ```
/// let (s1, r1) = chan::unbounded();
/// let (s2, r2) = chan::unbounded();
/// s1.send(1).unwrap();
/// s2.send(2).unwrap();
/// let got = chan::select_biased! {
///     recv(r1) -> m => m.unwrap(),
///     recv(r2) -> m => m.unwrap(),
/// };
/// assert_eq!(got, 1);
/// ```
#[macro_export]
macro_rules! select_biased {
    ($($tokens:tt)*) => {
        $crate::__select_internal!(@parse new_biased [] [] $($tokens)*)
    };
}

/// crossbeam-channel's name for the macro behind its `select!`, which
/// some programs call directly. Not part of the API; use
/// [`select!`](crate::select!).
#[doc(hidden)]
#[macro_export]
macro_rules! crossbeam_channel_internal {
    ($($tokens:tt)*) => {
        $crate::__select_internal!(@parse new [] [] $($tokens)*)
    };
}

/// The machinery of [`select!`]; not part of the API.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_internal {
    // Step 1: arms. Each head may end with a comma, as crossbeam's may.
    (@parse $ctor:ident [$($arms:tt)*] [$($default:tt)*] recv($r:expr $(,)?) -> $p:pat => $($rest:tt)*) => {
        $crate::__select_internal!(@body $ctor [$($arms)*] [$($default)*] (recv ($r)) ($p) $($rest)*)
    };
    (@parse $ctor:ident [$($arms:tt)*] [$($default:tt)*] send($s:expr, $v:expr $(,)?) -> $p:pat => $($rest:tt)*) => {
        $crate::__select_internal!(@body $ctor [$($arms)*] [$($default)*] (send ($s) ($v)) ($p) $($rest)*)
    };
    (@parse $ctor:ident [$($arms:tt)*] [$($default:tt)*] default $(())? => $($rest:tt)*) => {
        $crate::__select_internal!(@body $ctor [$($arms)*] [$($default)*] (default ()) (_) $($rest)*)
    };
    (@parse $ctor:ident [$($arms:tt)*] [$($default:tt)*] default($t:expr $(,)?) => $($rest:tt)*) => {
        $crate::__select_internal!(@body $ctor [$($arms)*] [$($default)*] (default ($t)) (_) $($rest)*)
    };
    (@parse $ctor:ident [$($arms:tt)*] [$($default:tt)*]) => {
        $crate::__select_internal!(@run $ctor [$($arms)*] [$($default)*])
    };

    // An arm's body: a block (comma optional) or an expression (comma
    // needed unless it is the last arm).
    (@body $ctor:ident $arms:tt $default:tt $head:tt $p:tt $b:block, $($rest:tt)*) => {
        $crate::__select_internal!(@arm $ctor $arms $default $head $p ($b) $($rest)*)
    };
    (@body $ctor:ident $arms:tt $default:tt $head:tt $p:tt $b:block $($rest:tt)*) => {
        $crate::__select_internal!(@arm $ctor $arms $default $head $p ($b) $($rest)*)
    };
    (@body $ctor:ident $arms:tt $default:tt $head:tt $p:tt $b:expr, $($rest:tt)*) => {
        $crate::__select_internal!(@arm $ctor $arms $default $head $p ($b) $($rest)*)
    };
    (@body $ctor:ident $arms:tt $default:tt $head:tt $p:tt $b:expr) => {
        $crate::__select_internal!(@arm $ctor $arms $default $head $p ($b))
    };

    // Binds the handle once; `__h` of each arm is a distinct binding (each
    // expansion has its own hygiene), carried on as a token.
    (@arm $ctor:ident [$($arms:tt)*] $default:tt (recv ($r:expr)) ($p:pat) ($b:expr) $($rest:tt)*) => {
        match &$r {
            __h => {
                let __h: &$crate::Receiver<_> = __h;
                $crate::__select_internal!(@parse $ctor [$($arms)* (recv __h () ($p) ($b))] $default $($rest)*)
            }
        }
    };
    (@arm $ctor:ident [$($arms:tt)*] $default:tt (send ($s:expr) ($v:expr)) ($p:pat) ($b:expr) $($rest:tt)*) => {
        match &$s {
            __h => {
                let __h: &$crate::Sender<_> = __h;
                $crate::__select_internal!(@parse $ctor [$($arms)* (send __h ($v) ($p) ($b))] $default $($rest)*)
            }
        }
    };
    (@arm $ctor:ident $arms:tt [] (default ($($t:expr)?)) ($p:pat) ($b:expr) $($rest:tt)*) => {
        $crate::__select_internal!(@parse $ctor $arms [($($t)?) ($b)] $($rest)*)
    };
    (@arm $ctor:ident $arms:tt [$($default:tt)+] (default $($t:tt)*) $($rest:tt)*) => {
        ::std::compile_error!("a select may have only one `default` arm")
    };

    // Step 2: build and run the select.
    (@run $ctor:ident [$(($kind:ident $h:ident ($($v:expr)?) ($p:pat) ($b:expr)))*] []) => {{
        // The select lives in a block of its own: it releases the
        // handles' borrows before the bodies run, so that a body may
        // reassign a handle (Go's "set the channel to nil"), and is dropped
        // where it is (`mem::drop` would first copy its inline cases).
        let __op = {
            let mut __sel = $crate::__MacroSelect::$ctor();
            $( $crate::__select_internal!(@add __sel $kind $h); )*
            __sel.select()
        };
        $crate::__select_internal!(@dispatch __op (0usize) [$(($kind $h ($($v)?) ($p) ($b)))*])
    }};
    (@run $ctor:ident [$(($kind:ident $h:ident ($($v:expr)?) ($p:pat) ($b:expr)))*] [() ($default:expr)]) => {{
        let __res = {
            let mut __sel = $crate::__MacroSelect::$ctor();
            $( $crate::__select_internal!(@add __sel $kind $h); )*
            __sel.try_select()
        };
        match __res {
            ::std::result::Result::Ok(__op) => {
                $crate::__select_internal!(@dispatch __op (0usize) [$(($kind $h ($($v)?) ($p) ($b)))*])
            }
            ::std::result::Result::Err(_) => $default,
        }
    }};
    (@run $ctor:ident [$(($kind:ident $h:ident ($($v:expr)?) ($p:pat) ($b:expr)))*] [($t:expr) ($default:expr)]) => {{
        let __res = {
            let mut __sel = $crate::__MacroSelect::$ctor();
            $( $crate::__select_internal!(@add __sel $kind $h); )*
            __sel.select_timeout($t)
        };
        match __res {
            ::std::result::Result::Ok(__op) => {
                $crate::__select_internal!(@dispatch __op (0usize) [$(($kind $h ($($v)?) ($p) ($b)))*])
            }
            ::std::result::Result::Err(_) => $default,
        }
    }};

    (@add $sel:ident recv $h:ident) => {
        $sel.recv($h)
    };
    (@add $sel:ident send $h:ident) => {
        $sel.send($h)
    };

    // Step 3: run the chosen arm; a send's message is evaluated here.
    (@dispatch $op:ident ($k:expr) [(recv $h:ident () ($p:pat) ($b:expr)) $($rest:tt)*]) => {
        if $op.index() == $k {
            let $p = $op.recv($h);
            $b
        } else {
            $crate::__select_internal!(@dispatch $op ($k + 1) [$($rest)*])
        }
    };
    (@dispatch $op:ident ($k:expr) [(send $h:ident ($v:expr) ($p:pat) ($b:expr)) $($rest:tt)*]) => {
        if $op.index() == $k {
            let $p = $op.send($h, $v);
            $b
        } else {
            $crate::__select_internal!(@dispatch $op ($k + 1) [$($rest)*])
        }
    };
    (@dispatch $op:ident ($k:expr) []) => {{
        let _ = $op;
        ::std::unreachable!("select chose an operation it was not given")
    }};
}
