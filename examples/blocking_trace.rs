//! The tracing events of blocking operations, printed by
//! `tracing-subscriber`. chan emits them only because the program asks
//! (`chan::observe::set_events(true)`, or `CHAN_OBSERVE=events` from
//! outside); the subscriber's filter then chooses what is printed.
//!
//! ```text
//! cargo run --example blocking_trace                       # RUST_LOG=chan=debug by default
//! RUST_LOG=chan=debug,blocking_trace=info cargo run --example blocking_trace
//! ```
//!
//! A fast producer fills a small buffer and parks on the full channel (a
//! `parked` event with `op="send"`, then `woke` with `outcome="completed"` and
//! how long it waited); a consumer that arrives at an empty rendezvous
//! channel parks on `recv`; a receive with a timeout ends `timeout`; and
//! closing the channel wakes a parked receiver with `outcome="closed"`.

use std::thread;
use std::time::Duration;

use tracing_subscriber::EnvFilter;

fn main() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("chan=debug,blocking_trace=info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_thread_names(true).init();
    chan::observe::set_events(true);

    tracing::info!("1. a producer outruns its consumer: it parks on the full ring");
    let (tx, rx) = chan::bounded::<u32>(2);
    let consumer = thread::Builder::new()
        .name("slow-consumer".into())
        .spawn(move || {
            for _ in rx.iter() {
                thread::sleep(Duration::from_millis(5));
            }
        })
        .expect("spawn");
    for i in 0..4 {
        tx.send(i).expect("the consumer is alive");
    }
    tx.close();
    consumer.join().expect("consumer panicked");

    tracing::info!("2. an unbuffered receive waits for its sender (Go's hchan flavor)");
    let (tx, rx) = chan::hchan::bounded::<&str>(0);
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        tx.send("hello").expect("the receiver is alive");
    });
    rx.recv().expect("a value");
    sender.join().expect("sender panicked");

    tracing::info!("3. a receive with a timeout gives up");
    let (_tx, rx) = chan::unbounded::<u32>();
    let _ = rx.recv_timeout(Duration::from_millis(10));

    tracing::info!("4. close wakes a parked receiver");
    let (tx, rx) = chan::bounded::<u32>(0);
    let closer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        tx.close();
    });
    assert!(rx.recv().is_err());
    closer.join().expect("closer panicked");
}
