//! Replay issues: what went wrong at one position. Replay never stops at bad data.

use serde::Serialize;

use crate::event::GlobalPosition;

/// One problem found while replaying, pinned to the event where it showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayIssue {
    pub position: GlobalPosition,
    pub stream_id: String,
    pub kind: ReplayIssueKind,
    /// Human-readable: what failed and why.
    pub message: String,
}

impl ReplayIssue {
    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }
}

/// Written with its severity, so a script can tell notes from integrity issues.
impl Serialize for ReplayIssue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut issue = serializer.serialize_struct("ReplayIssue", 5)?;
        issue.serialize_field("position", &self.position)?;
        issue.serialize_field("stream_id", &self.stream_id)?;
        issue.serialize_field("kind", &self.kind)?;
        issue.serialize_field("severity", &self.severity())?;
        issue.serialize_field("message", &self.message)?;
        issue.end()
    }
}

/// How much an issue says about the history's integrity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The history is wrong, or the domain says it is: a version gap or duplicate, a repeated
    /// event id, a payload that does not read, an event the domain refuses, a broken invariant.
    Integrity,
    /// Worth a look, not wrong in itself: clock oddities.
    Note,
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

    /// A clock oddity is a note; everything else speaks to the history's integrity.
    pub fn severity(&self) -> Severity {
        match self {
            Self::TimeWentBackwards => Severity::Note,
            Self::UnknownEventType
            | Self::InvalidPayload
            | Self::UpcastFailed
            | Self::ApplyRejected
            | Self::VersionGap { .. }
            | Self::VersionDuplicate { .. }
            | Self::DuplicateEventId
            | Self::InvariantViolated { .. } => Severity::Integrity,
        }
    }

    pub fn is_invariant_violation(&self) -> bool {
        matches!(self, Self::InvariantViolated { .. })
    }
}
