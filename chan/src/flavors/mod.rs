//! The default flavor's three cores, one per capacity class, each with the
//! same internal interface (`try_send`, `send`, `try_recv`, `recv`, `close`,
//! `len`, ...), dispatched from `channel.rs`.

pub(crate) mod list;
pub(crate) mod ring;
pub(crate) mod zero;
