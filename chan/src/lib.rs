//! Go-style channels for Rust.
