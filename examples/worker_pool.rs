//! A worker pool: jobs fan out to workers over one channel, results fan in
//! over another, and the collector gives up on a result that is too slow.
//!
//! ```text
//! cargo run --example worker_pool
//! ```
//!
//! As in Go, the collector `select`s on the results channel and a timer
//! (`chan::after`, Go's `time.After`), restarted for every result.

use std::thread;
use std::time::Duration;

const WORKERS: usize = 4;
const JOBS: u64 = 20;

fn main() {
    let (jobs_tx, jobs_rx) = chan::bounded::<u64>(WORKERS);
    let (results_tx, results_rx) = chan::unbounded::<(u64, u64)>();

    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (jobs, results) = (jobs_rx.clone(), results_tx.clone());
            thread::spawn(move || {
                for job in jobs.iter() {
                    // Job 13 is unlucky and takes far too long.
                    let delay = if job == 13 { 300 } else { 1 + job % 3 };
                    thread::sleep(Duration::from_millis(delay));
                    if results.send((job, job * job)).is_err() {
                        break; // the collector left
                    }
                }
                w
            })
        })
        .collect();
    drop(results_tx);

    let feeder = thread::spawn(move || {
        for job in 0..JOBS {
            jobs_tx.send(job).expect("workers are alive");
        }
        jobs_tx.close(); // the workers' loops end once the jobs are drained
    });

    let mut done = 0;
    loop {
        let too_slow = chan::after(Duration::from_millis(100));
        chan::select! {
            recv(results_rx) -> result => match result {
                Ok((job, square)) => {
                    done += 1;
                    println!("job {job:2} -> {square}");
                }
                Err(_) => {
                    println!("all {done} jobs done");
                    break;
                }
            },
            recv(too_slow) -> _ => {
                println!("no result for 100ms: giving up on the rest ({done} of {JOBS} done)");
                break;
            }
        }
    }
    drop(results_rx);
    feeder.join().expect("feeder panicked");
    for worker in workers {
        worker.join().expect("worker panicked");
    }
}
