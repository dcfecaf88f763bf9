//! A Go-style pipeline: generator -> square -> print, each stage a thread,
//! connected by channels, shut down by `close`.
//!
//! The Go original (from "Go Concurrency Patterns: Pipelines"):
//! `gen` sends numbers then closes its channel; `sq` ranges over its input,
//! sends squares, and closes its output when the input is drained; `main`
//! ranges over the last channel. Here `close` is `Sender::close`, and
//! `for x in &rx` ends exactly when the channel is closed and drained.
//!
//! Run: `cargo run --example pipeline`

use std::thread;

use chan::{Receiver, Sender};

/// Stage 1: emits `nums`, then closes its output.
fn generate(nums: Vec<u64>) -> Receiver<u64> {
    let (tx, rx) = chan::bounded(0); // unbuffered, as in Go
    thread::spawn(move || {
        for n in nums {
            tx.send(n).expect("downstream is alive");
        }
        tx.close();
    });
    rx
}

/// Stage 2: squares what arrives, closes its output when the input closes.
fn square(input: Receiver<u64>) -> Receiver<u64> {
    let (tx, rx): (Sender<u64>, Receiver<u64>) = chan::bounded(4);
    thread::spawn(move || {
        for n in &input {
            tx.send(n * n).expect("downstream is alive");
        }
        tx.close();
    });
    rx
}

fn main() {
    let squares = square(square(generate((1..=10).collect())));
    let mut total = 0;
    for x in &squares {
        println!("{x}");
        total += x;
    }
    println!("sum of fourth powers of 1..=10: {total}");
    assert_eq!(total, (1..=10u64).map(|n| n.pow(4)).sum());
}
