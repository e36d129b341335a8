//! Replay issues: what went wrong at one position. Replay never stops at bad data.

use serde::Serialize;

use crate::event::GlobalPosition;

/// One problem found while replaying, pinned to the event where it showed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReplayIssue {
    pub position: GlobalPosition,
    pub stream_id: String,
    pub kind: ReplayIssueKind,
    /// Human-readable: what failed and why.
    pub message: String,
}

/// The kinds of replay issue, from bad data to broken domain rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReplayIssueKind {
    UnknownEventType,
    InvalidPayload,
    UpcastFailed,
    /// The aggregate refused to apply the event.
    ApplyRejected,
    /// A stream version was skipped.
    VersionGap {
        expected: u64,
        found: u64,
    },
    /// A stream version appeared again (or went backwards).
    VersionDuplicate {
        expected: u64,
        found: u64,
    },
    DuplicateEventId,
    /// `recorded_at` is earlier than the previous event's.
    TimeWentBackwards,
    /// A domain invariant broke at this event.
    InvariantViolated {
        invariant: String,
    },
}

impl ReplayIssueKind {
    /// Short stable label (`invariant_violated`), for lists and filters.
    pub fn label(&self) -> &'static str {
        match self {
            Self::UnknownEventType => "unknown_event_type",
            Self::InvalidPayload => "invalid_payload",
            Self::UpcastFailed => "upcast_failed",
            Self::ApplyRejected => "apply_rejected",
            Self::VersionGap { .. } => "version_gap",
            Self::VersionDuplicate { .. } => "version_duplicate",
            Self::DuplicateEventId => "duplicate_event_id",
            Self::TimeWentBackwards => "time_went_backwards",
            Self::InvariantViolated { .. } => "invariant_violated",
        }
    }

    pub fn is_invariant_violation(&self) -> bool {
        matches!(self, Self::InvariantViolated { .. })
    }
}
