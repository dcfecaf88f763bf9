//! Go's `select` loop: a worker reports results on an hchan channel, a
//! ticker prints progress, a quit channel stops everything, and a timeout
//! guards the whole run, all in one `select!` over both flavors and the
//! timer channels.
//!
//! Run: `cargo run --example select`

use std::thread;
use std::time::Duration;

use chan::select;

fn main() {
    let (results, results_rx) = chan::hchan::bounded::<u64>(0); // unbuffered, Go's flavor
    let (quit, quit_rx) = chan::bounded::<()>(0); // unbuffered, the default flavor

    let worker = thread::spawn(move || {
        for n in 1..=20u64 {
            thread::sleep(Duration::from_millis(5));
            // Either hand the result over or stop if told to.
            select! {
                send(results, n * n) -> res => res.expect("main is listening"),
                recv(quit_rx) -> _ => return n - 1,
            }
        }
        20
    });

    let ticker = chan::tick(Duration::from_millis(25));
    let timeout = chan::after(Duration::from_secs(5));
    let mut sum = 0;
    let mut count = 0;
    loop {
        select! {
            recv(results_rx) -> msg => {
                sum += msg.expect("the worker is alive");
                count += 1;
                if count == 10 {
                    quit.send(()).expect("the worker is alive");
                    break;
                }
            }
            recv(ticker) -> _ => println!("tick: {count} results so far"),
            recv(timeout) -> _ => {
                println!("timed out");
                break;
            }
        }
    }
    let done = worker.join().expect("worker panicked");
    println!("worker stopped after {done} results; sum of the first {count} squares = {sum}");
    assert_eq!(sum, (1..=10u64).map(|n| n * n).sum());
}
