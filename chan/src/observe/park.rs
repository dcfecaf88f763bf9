//! What a wait is and how it ends: the records that the park paths (see
//! `trace.rs`) hand to the events, the profile and the timeline.

/// What is waiting, for the events, the profile and the timeline.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Park {
    pub(crate) id: usize,
    pub(crate) op: &'static str,
    pub(crate) flavor: &'static str,
    pub(crate) capacity: Option<usize>,
    pub(crate) len: usize,
}

/// How a wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Completed,
    Closed,
    Timeout,
}

impl Outcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Closed => "closed",
            Outcome::Timeout => "timeout",
        }
    }
}
