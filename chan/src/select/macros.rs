//! `select!` and `select_biased!`, with crossbeam-channel's syntax, built
//! on [`Select`](crate::Select).
//!
//! The expansion runs in three steps, all in `__select_internal!`:
//!
//! 1. `@parse` reads one arm at a time. For a `recv`/`send` arm it
//!    evaluates the handle once, binding it with `match` (so a temporary
//!    such as `chan::after(..)` lives to the end of the select), and passes
//!    the binding on; a `default` arm is set aside.
//! 2. `@run` builds the `Select`, adds every arm in written order (so the
//!    k-th arm gets index k), evaluates each send's message, and selects:
//!    blocking, `try_select` for `default`, `select_timeout` for
//!    `default(timeout)`.
//! 3. `@dispatch` compares the selected index with 0, 1, 2, ... and runs
//!    the matching arm's body with its pattern bound to the result.
//!
//! Unlike crossbeam, every send arm's message is evaluated before the
//! select, as in Go, and the select itself completes the chosen send;
//! the messages of the arms not chosen are dropped.

/// Waits on several channel operations at once and runs the arm of the one
/// that goes, as Go's `select` statement.
///
/// Arms:
///
/// - `recv(r) -> msg => body`: `msg` is `Result<T, RecvError>` (an error
///   once `r` is closed and drained);
/// - `send(s, value) -> res => body`: `res` is `Result<(), SendError<T>>`;
/// - `default => body`: runs if no operation can go right now;
/// - `default(timeout) => body`: runs if none could go within `timeout`.
///
/// When several operations can go, one is chosen uniformly at random. Any
/// mix of flavors may appear (`bounded`, `unbounded`, `hchan`, timers).
/// Every handle and every message is evaluated once, in written order,
/// before waiting.
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

/// The machinery of [`select!`]; not part of the API.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_internal {
    // Step 1: arms.
    (@parse $ctor:ident [$($arms:tt)*] [$($default:tt)*] recv($r:expr) -> $p:pat => $($rest:tt)*) => {
        $crate::__select_internal!(@body $ctor [$($arms)*] [$($default)*] (recv ($r)) ($p) $($rest)*)
    };
    (@parse $ctor:ident [$($arms:tt)*] [$($default:tt)*] send($s:expr, $v:expr) -> $p:pat => $($rest:tt)*) => {
        $crate::__select_internal!(@body $ctor [$($arms)*] [$($default)*] (send ($s) ($v)) ($p) $($rest)*)
    };
    (@parse $ctor:ident [$($arms:tt)*] [$($default:tt)*] default => $($rest:tt)*) => {
        $crate::__select_internal!(@body $ctor [$($arms)*] [$($default)*] (default ()) (_) $($rest)*)
    };
    (@parse $ctor:ident [$($arms:tt)*] [$($default:tt)*] default($t:expr) => $($rest:tt)*) => {
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
            let mut __sel = $crate::Select::$ctor();
            $( $crate::__select_internal!(@add __sel $kind $h ($($v)?)); )*
            __sel.select()
        };
        $crate::__select_internal!(@dispatch __op (0usize) [$(($kind $h ($p) ($b)))*])
    }};
    (@run $ctor:ident [$(($kind:ident $h:ident ($($v:expr)?) ($p:pat) ($b:expr)))*] [() ($default:expr)]) => {{
        let __res = {
            let mut __sel = $crate::Select::$ctor();
            $( $crate::__select_internal!(@add __sel $kind $h ($($v)?)); )*
            __sel.try_select()
        };
        match __res {
            ::std::result::Result::Ok(__op) => {
                $crate::__select_internal!(@dispatch __op (0usize) [$(($kind $h ($p) ($b)))*])
            }
            ::std::result::Result::Err(_) => $default,
        }
    }};
    (@run $ctor:ident [$(($kind:ident $h:ident ($($v:expr)?) ($p:pat) ($b:expr)))*] [($t:expr) ($default:expr)]) => {{
        let __res = {
            let mut __sel = $crate::Select::$ctor();
            $( $crate::__select_internal!(@add __sel $kind $h ($($v)?)); )*
            __sel.select_timeout($t)
        };
        match __res {
            ::std::result::Result::Ok(__op) => {
                $crate::__select_internal!(@dispatch __op (0usize) [$(($kind $h ($p) ($b)))*])
            }
            ::std::result::Result::Err(_) => $default,
        }
    }};

    (@add $sel:ident recv $h:ident ()) => {
        $sel.recv($h)
    };
    (@add $sel:ident send $h:ident ($v:expr)) => {
        $sel.__send_value($h, $v)
    };

    // Step 3: run the chosen arm.
    (@dispatch $op:ident ($k:expr) [(recv $h:ident ($p:pat) ($b:expr)) $($rest:tt)*]) => {
        if $op.index() == $k {
            let $p = $op.recv($h);
            $b
        } else {
            $crate::__select_internal!(@dispatch $op ($k + 1) [$($rest)*])
        }
    };
    (@dispatch $op:ident ($k:expr) [(send $h:ident ($p:pat) ($b:expr)) $($rest:tt)*]) => {
        if $op.index() == $k {
            let $p = $op.__sent($h);
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
