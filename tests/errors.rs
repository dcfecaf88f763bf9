//! The error types keep crossbeam-channel's traits, messages and
//! conversions, and every send error hands the message back.

use std::error::Error;

use chan::{
    ReadyTimeoutError, RecvError, RecvTimeoutError, SelectTimeoutError, SendError, SendTimeoutError, TryReadyError,
    TryRecvError, TrySelectError, TrySendError,
};

fn assert_error<E: Error + Send + Sync + 'static>(_: &E) {}
fn assert_copy<E: Copy + Clone + Eq>(_: &E) {}

#[test]
fn display_texts() {
    assert_eq!(SendError(1).to_string(), "sending on a disconnected channel");
    assert_eq!(TrySendError::Full(1).to_string(), "sending on a full channel");
    assert_eq!(TrySendError::Disconnected(1).to_string(), "sending on a disconnected channel");
    assert_eq!(SendTimeoutError::Timeout(1).to_string(), "timed out waiting on send operation");
    assert_eq!(SendTimeoutError::Disconnected(1).to_string(), "sending on a disconnected channel");
    assert_eq!(RecvError.to_string(), "receiving on an empty and disconnected channel");
    assert_eq!(TryRecvError::Empty.to_string(), "receiving on an empty channel");
    assert_eq!(TryRecvError::Disconnected.to_string(), "receiving on an empty and disconnected channel");
    assert_eq!(RecvTimeoutError::Timeout.to_string(), "timed out waiting on receive operation");
    assert_eq!(RecvTimeoutError::Disconnected.to_string(), "channel is empty and disconnected");
    assert_eq!(TrySelectError.to_string(), "all operations in select would block");
    assert_eq!(SelectTimeoutError.to_string(), "timed out waiting on select");
    assert_eq!(TryReadyError.to_string(), "all operations in select would block");
    assert_eq!(ReadyTimeoutError.to_string(), "timed out waiting on ready");
}

#[test]
fn debug_text_is_crossbeams_and_does_not_need_t_debug() {
    // crossbeam-channel formats these as string literals, quotes included,
    // and programs compare or log that text.
    struct Opaque;
    assert_eq!(format!("{:?}", SendError(Opaque)), r#""SendError(..)""#);
    assert_eq!(format!("{:?}", TrySendError::Full(Opaque)), r#""Full(..)""#);
    assert_eq!(format!("{:?}", TrySendError::Disconnected(Opaque)), r#""Disconnected(..)""#);
    assert_eq!(format!("{:?}", SendTimeoutError::Timeout(Opaque)), r#""SendTimeoutError(..)""#);
    assert_eq!(format!("{:?}", SendTimeoutError::Disconnected(Opaque)), r#""SendTimeoutError(..)""#);
    assert_eq!(format!("{:?}", Err::<(), _>(SendError(Opaque))), r#"Err("SendError(..)")"#);
    assert_eq!(format!("{:?}", TryRecvError::Empty), "Empty");
    assert_eq!(format!("{:?}", RecvTimeoutError::Disconnected), "Disconnected");
    assert_eq!(format!("{:?}", RecvError), "RecvError");
    assert_eq!(format!("{:?}", TrySelectError), "TrySelectError");
}

#[test]
fn display_honours_width_and_fill() {
    assert_eq!(format!("{:>31}", TryRecvError::Empty), "  receiving on an empty channel");
    assert_eq!(format!("[{:<12.7}]", RecvError), "[receivi     ]");
    assert_eq!(format!("{:*^35}", TrySendError::Full(0)), "*****sending on a full channel*****");
}

#[test]
fn traits() {
    assert_error(&SendError(1u8));
    assert_error(&TrySendError::Full(1u8));
    assert_error(&SendTimeoutError::Timeout(1u8));
    assert_error(&RecvError);
    assert_error(&TryRecvError::Empty);
    assert_error(&RecvTimeoutError::Timeout);
    assert_error(&TrySelectError);
    assert_error(&SelectTimeoutError);
    assert_error(&TryReadyError);
    assert_error(&ReadyTimeoutError);
    assert_copy(&SendError(1u8));
    assert_copy(&TrySendError::Full(1u8));
    assert_copy(&SendTimeoutError::Timeout(1u8));
    assert_copy(&RecvError);
    assert_copy(&TryRecvError::Empty);
    assert_copy(&RecvTimeoutError::Timeout);
    // Boxed as a dyn Error, as `?` in a `Box<dyn Error>` function does.
    let boxed: Box<dyn Error> = Box::new(SendError(String::from("x")));
    assert!(boxed.to_string().contains("disconnected"));
}

#[test]
fn conversions_and_accessors() {
    assert_eq!(TrySendError::from(SendError(3)), TrySendError::Disconnected(3));
    assert_eq!(SendTimeoutError::from(SendError(4)), SendTimeoutError::Disconnected(4));
    assert_eq!(TryRecvError::from(RecvError), TryRecvError::Disconnected);
    assert_eq!(RecvTimeoutError::from(RecvError), RecvTimeoutError::Disconnected);

    assert_eq!(SendError(5).into_inner(), 5);
    let full = TrySendError::Full(6);
    assert!(full.is_full() && !full.is_disconnected());
    assert_eq!(full.into_inner(), 6);
    let gone = TrySendError::Disconnected(7);
    assert!(gone.is_disconnected() && !gone.is_full());
    let timeout = SendTimeoutError::Timeout(8);
    assert!(timeout.is_timeout() && !timeout.is_disconnected());
    assert_eq!(timeout.into_inner(), 8);
    assert!(TryRecvError::Empty.is_empty() && !TryRecvError::Empty.is_disconnected());
    assert!(RecvTimeoutError::Timeout.is_timeout() && !RecvTimeoutError::Disconnected.is_timeout());
    assert!(RecvTimeoutError::Disconnected.is_disconnected());
}

#[test]
fn question_mark_in_error_functions() {
    fn forward(s: &chan::Sender<i32>, r: &chan::Receiver<i32>) -> Result<i32, Box<dyn Error>> {
        s.send(1)?;
        Ok(r.recv()?)
    }
    let (s, r) = chan::bounded(1);
    assert_eq!(forward(&s, &r).unwrap(), 1);
    drop(r);
    let (_, r2) = chan::bounded(1);
    assert!(forward(&s, &r2).is_err());
}

#[test]
fn handles_are_send_sync_and_debug() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<chan::Sender<Vec<u8>>>();
    send_sync::<chan::Receiver<Vec<u8>>>();
    let (s, r) = chan::unbounded::<u8>();
    assert_eq!(format!("{s:?} {r:?}"), "Sender { .. } Receiver { .. }");
    assert_eq!(format!("{:?}", r.iter()), "Iter { .. }");
    assert_eq!(format!("{:?}", r.try_iter()), "TryIter { .. }");
}

#[test]
fn std_mpsc_names() {
    let (s, r) = chan::channel();
    s.send(1).unwrap();
    assert_eq!(r.recv(), Ok(1));
    let (s, r): (chan::SyncSender<i32>, _) = chan::sync_channel(0);
    std::thread::spawn(move || s.send(2).unwrap());
    assert_eq!(r.recv(), Ok(2));
}
