//! The default flavor's three cores, one per capacity class, each with the
//! same internal interface (`try_send`, `send`, `try_recv`, `recv`, `close`,
//! `len`, ...), dispatched from `channel.rs`; plus the receive-only timer
//! flavors behind `after`, `at`, `tick` and `never`.

pub(crate) mod at;
pub(crate) mod list;
pub(crate) mod never;
pub(crate) mod ring;
pub(crate) mod tick;
pub(crate) mod zero;
