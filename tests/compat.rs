//! The compatibility suite: crossbeam-channel's documented guarantees, on
//! the default flavor. `suite/compat.rs` holds what each flavor must keep
//! (also run on `chan::hchan` by `compat_hchan.rs`); what does not depend
//! on a flavor (timers, error texts, trait bounds, the macros' syntax) is
//! here.

#![forbid(unsafe_code)] // `select!` expands to safe code, as crossbeam's does.

mod flavor {
    pub use chan::{bounded, unbounded};
}

include!("suite/compat.rs");

mod independent {
    use std::panic::{RefUnwindSafe, UnwindSafe};
    use std::time::Duration;

    use chan::{never, Receiver, Sender};

    // `never` is a `const fn`: it can initialize a constant.
    const OFF: Receiver<u8> = never();

    #[test]
    fn every_never_channel_is_the_same_channel() {
        let a = never::<i32>();
        let b = never::<i32>();
        assert!(a.same_channel(&b));
        assert!(a.same_channel(&a.clone()));
        assert!(OFF.same_channel(&never()));
        assert!(!a.same_channel(&chan::bounded(1).1));
        assert!(OFF.recv_timeout(Duration::from_millis(1)).is_err());
        assert!(!OFF.is_closed());
    }

    fn send_sync<T: Send + Sync>() {}
    fn unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}

    #[test]
    fn handles_are_send_sync_and_unwind_safe_as_crossbeams() {
        send_sync::<Sender<i32>>();
        send_sync::<Receiver<i32>>();
        // Only `T: Send` is needed, as in crossbeam (a `Cell` is not `Sync`).
        send_sync::<Sender<std::cell::Cell<i32>>>();
        send_sync::<Receiver<std::cell::Cell<i32>>>();
        unwind_safe::<Sender<std::cell::Cell<i32>>>();
        unwind_safe::<Receiver<std::cell::Cell<i32>>>();
        send_sync::<chan::Select<'static>>();
        send_sync::<chan::SendError<i32>>();
        send_sync::<chan::TrySendError<i32>>();
    }
}

mod select_macro_syntax {
    //! What crossbeam's `select!` accepts, `select!` accepts.
    use std::any::Any;
    use std::rc::Rc;
    use std::time::Duration;

    #[test]
    fn send_arms_take_messages_that_are_not_send() {
        let (s, r) = chan::unbounded::<Box<dyn Any>>();
        chan::select! {
            send(s, Box::new(5u8)) -> res => res.unwrap(),
        }
        assert_eq!(r.recv().unwrap().downcast_ref::<u8>(), Some(&5));
        let (s, r) = chan::bounded::<Rc<i32>>(1);
        chan::select! {
            send(s, Rc::new(1)) -> res => res.unwrap(),
            default => unreachable!(),
        }
        chan::select! {
            recv(r) -> got => assert_eq!(*got.unwrap(), 1),
        }
        let (s, _r) = chan::hchan::bounded::<Rc<i32>>(1);
        chan::select_biased! {
            send(s, Rc::new(2)) -> res => res.unwrap(),
        }
    }

    #[test]
    fn empty_default_parentheses_and_trailing_commas_parse() {
        let (s, r) = chan::bounded::<i32>(1);
        chan::select! {
            send(s, 1,) -> res => res.unwrap(),
            default() => unreachable!(),
        }
        chan::select! {
            recv(r,) -> got => assert_eq!(got, Ok(1)),
            default(Duration::from_millis(1000),) => unreachable!(),
        }
        let got = chan::select! {
            recv(r) -> _ => 0,
            default() => 1,
        };
        assert_eq!(got, 1);
        chan::select! {
            recv(r) -> _ => unreachable!(),
            default(Duration::from_millis(1),) => {}
        }
    }

    #[test]
    fn crossbeams_internal_macro_name_works() {
        let (s, r) = chan::unbounded::<i32>();
        s.send(3).unwrap();
        chan::crossbeam_channel_internal! {
            recv(r) -> got => assert_eq!(got, Ok(3)),
        }
    }
}
