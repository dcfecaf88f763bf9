//! The tracing-appender scenarios (`../scenario.rs`) on the real
//! tracing-appender, whose channel here is chan (see `../Cargo.toml`).

#[path = "../scenario.rs"]
mod scenario;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("{}", scenario::run(&args));
}
