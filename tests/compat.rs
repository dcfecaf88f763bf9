//! The compatibility suite: crossbeam-channel's documented guarantees, on
//! the default flavor. `suite/compat.rs` holds what each flavor must keep
//! (also run on `chan::hchan` by `compat_hchan.rs`); what does not depend
//! on a flavor (timers, error texts, trait bounds, the macros' syntax) is
//! here.

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
