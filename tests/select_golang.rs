//! Go's classic select programs, each run over the default flavor and over
//! hchan: the Go tour's Fibonacci with a quit channel, the prime sieve
//! (with a select to stop it), the timeout pattern, and fan-in.

use std::thread;
use std::time::{Duration, Instant};

use chan::{select, Receiver, Sender};

type Make = fn(usize) -> (Sender<u64>, Receiver<u64>);
const FLAVORS: [(&str, Make); 2] = [("default", chan::bounded), ("hchan", chan::hchan::bounded)];

/// The Go tour's `fibonacci(c, quit chan int)`: send on `c` until `quit`
/// has something.
#[test]
fn fibonacci_with_quit() {
    for (name, make) in FLAVORS {
        let (c_s, c_r) = make(0);
        let (quit_s, quit_r) = make(0);
        let consumer = thread::spawn(move || {
            let got: Vec<u64> = (0..10).map(|_| c_r.recv().unwrap()).collect();
            quit_s.send(0).unwrap();
            got
        });
        let (mut x, mut y) = (0u64, 1u64);
        loop {
            select! {
                send(c_s, x) -> res => {
                    res.unwrap();
                    (x, y) = (y, x + y);
                }
                recv(quit_r) -> _ => break,
            }
        }
        assert_eq!(consumer.join().unwrap(), [0, 1, 1, 2, 3, 5, 8, 13, 21, 34], "{name}");
    }
}

/// The concurrent prime sieve: a generator and a chain of filters, each
/// filter a thread. Every stage selects on its input and a shared `done`,
/// so closing `done` shuts the whole chain down.
#[test]
fn prime_sieve() {
    for (name, make) in FLAVORS {
        let (done_s, done_r) = make(0);
        let (gen_s, gen_r) = make(0);
        let mut threads = Vec::new();
        {
            let done_r = done_r.clone();
            threads.push(thread::spawn(move || {
                let mut i = 2;
                loop {
                    select! {
                        send(gen_s, i) -> res => if res.is_err() { return },
                        recv(done_r) -> _ => return,
                    }
                    i += 1;
                }
            }));
        }
        let mut input = gen_r;
        let mut primes = Vec::new();
        for _ in 0..25 {
            let prime = input.recv().unwrap();
            primes.push(prime);
            let (out_s, out_r) = make(0);
            let done_r = done_r.clone();
            let filter_in = input;
            threads.push(thread::spawn(move || loop {
                let v = select! {
                    recv(filter_in) -> v => match v { Ok(v) => v, Err(_) => return },
                    recv(done_r) -> _ => return,
                };
                if v % prime != 0 {
                    select! {
                        send(out_s, v) -> res => if res.is_err() { return },
                        recv(done_r) -> _ => return,
                    }
                }
            }));
            input = out_r;
        }
        done_s.close();
        drop(input);
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(
            primes,
            [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97],
            "{name}"
        );
    }
}

/// `select { case v := <-c: ...; case <-time.After(d): ... }`: the timer
/// wins over a slow producer, the producer over a slow timer.
#[test]
fn timeout_pattern() {
    for (name, make) in FLAVORS {
        let (s, r) = make(1);
        let (go_s, go_r) = make(0);
        // A producer that is slow for sure: it sends only when told to.
        let slow = thread::spawn(move || {
            go_r.recv().unwrap();
            s.send(1).unwrap();
        });
        let start = Instant::now();
        let timed_out = select! {
            recv(r) -> _ => false,
            recv(chan::after(Duration::from_millis(20))) -> _ => true,
        };
        assert!(timed_out, "{name}");
        assert!(start.elapsed() >= Duration::from_millis(20), "{name}");

        go_s.send(0).unwrap();
        let got = select! {
            recv(r) -> v => v.ok(),
            recv(chan::after(Duration::from_secs(10))) -> _ => None,
        };
        assert_eq!(got, Some(1), "{name}");
        slow.join().unwrap();
    }
}

/// Fan-in: three producers on their own channels, one consumer selecting
/// over all of them until every one is closed (Go sets a closed case's
/// channel to nil; we swap in `never()`).
#[test]
fn fan_in() {
    for (name, make) in FLAVORS {
        let inputs: Vec<Receiver<u64>> = (0..3u64)
            .map(|k| {
                let (s, r) = make(k as usize);
                thread::spawn(move || {
                    for i in 0..200 {
                        s.send(k * 1000 + i).unwrap();
                    }
                });
                r
            })
            .collect();
        let [mut a, mut b, mut c]: [Receiver<u64>; 3] = inputs.try_into().unwrap();
        let mut open = 3;
        let mut got = Vec::new();
        while open > 0 {
            select! {
                recv(a) -> v => match v { Ok(v) => got.push(v), Err(_) => { a = chan::never(); open -= 1; } },
                recv(b) -> v => match v { Ok(v) => got.push(v), Err(_) => { b = chan::never(); open -= 1; } },
                recv(c) -> v => match v { Ok(v) => got.push(v), Err(_) => { c = chan::never(); open -= 1; } },
            }
        }
        got.sort_unstable();
        let want: Vec<u64> = (0..3).flat_map(|k| (0..200).map(move |i| k * 1000 + i)).collect();
        assert_eq!(got, want, "{name}");
    }
}
