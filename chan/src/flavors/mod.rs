//! The channel cores, each with the same internal interface (`try_send`,
//! `send`, `try_recv`, `recv`, `close`, `len`, ...), dispatched from
//! `channel.rs`: the default flavor's three (`ring`, `list`, `zero`, one per
//! capacity class), Go's mutex-based `hchan`, and the receive-only timer
//! flavors behind `after`, `at`, `tick` and `never`. A flavor never names
//! the public handles (`channel.rs`, `hchan.rs` and `timers.rs` wrap it).

/// The sending half of a receive-only flavor (`at`, `tick`, `never`).
/// `channel.rs` dispatches every operation to every flavor, but no `Sender`
/// of these is ever made, so a send fails as disconnected and gives the
/// message back; they are never closed.
macro_rules! receive_only {
    () => {
        pub(crate) fn try_send(&self, msg: T) -> Result<(), $crate::err::TrySendError<T>> {
            Err($crate::err::TrySendError::Disconnected(msg))
        }

        pub(crate) fn send(
            &self,
            msg: T,
            _deadline: Option<std::time::Instant>,
        ) -> Result<(), $crate::err::SendTimeoutError<T>> {
            Err($crate::err::SendTimeoutError::Disconnected(msg))
        }

        /// Timer channels are never closed.
        pub(crate) fn close(&self) -> bool {
            false
        }

        pub(crate) fn is_closed(&self) -> bool {
            false
        }
    };
}

pub(crate) mod at;
pub(crate) mod hchan;
pub(crate) mod list;
pub(crate) mod never;
pub(crate) mod ring;
pub(crate) mod tick;
pub(crate) mod zero;
