//! Domains that fold elsewhere, in batches: a plug-in process speaks for them.
//!
//! An in-process domain folds through [`AggregateState`](crate::AggregateState) one event at a
//! time. A domain behind a process boundary cannot afford a round trip per event, nor to hand
//! its states over at every checkpoint, so it offers a [`BatchFold`] instead: the engine sends
//! it the events of the streams it claims (and those its read models read) in batches, with
//! several in flight, and takes back only what happened: rejections, broken invariants, read
//! model rows that changed, and a stream's state where the engine asked for one (to keep as a
//! checkpoint, as JSON text). A seek later sends a stream's events with the state to start
//! from, so the process keeps nothing between requests that it would need after a restart.

use std::sync::Arc;

use serde_json::Value;
use smol_str::SmolStr;
use thiserror::Error;

use crate::domain::{ApplyError, Violation};
use crate::event::RecordedEvent;

/// Why a batch fold failed: the process is gone, silent, or not speaking the protocol.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{message}")]
pub struct FoldError {
    /// What happened, in one line: what failed, why, and where.
    pub message: String,
    /// The global positions of the batch that was being folded, when there was one.
    pub positions: Option<(u64, u64)>,
    /// The last lines the folder (a plug-in process) wrote to its stderr.
    pub stderr: Vec<String>,
}

impl FoldError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            positions: None,
            stderr: Vec::new(),
        }
    }
}

/// One event to fold in a batch.
#[derive(Clone, Copy, Debug)]
pub struct FoldItem<'a> {
    pub event: &'a RecordedEvent,
    /// The engine's number for the event's stream, the same for every event of the stream in
    /// one session.
    pub stream: u32,
    /// The aggregate (of this domain) that replays the stream; `None` when the stream is not
    /// this domain's and the event is sent only for its read models.
    pub aggregate: Option<&'a str>,
    /// Answer the stream's state after this event (as JSON text).
    pub want_state: bool,
}

/// What folding one event did, when it did anything worth saying. Events with nothing to
/// say are not answered at all.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoldOutcome {
    /// Which event of the batch (its index in what was sent).
    pub index: usize,
    /// The aggregate refused the event; the stream's state stays as it was before it.
    pub rejected: Option<ApplyError>,
    pub violations: Vec<Violation>,
    /// The stream's state after the event, as JSON text, when it was asked for.
    pub state: Option<Arc<str>>,
    /// Read-model rows the event changed: `(read model, key, the row or None when removed)`.
    pub rows: Vec<RowUpdate>,
}

/// A read-model row as an event left it.
#[derive(Clone, Debug, PartialEq)]
pub struct RowUpdate {
    pub projection: SmolStr,
    pub key: SmolStr,
    /// The row as JSON text; `None`: the event removed the row.
    pub row: Option<Arc<str>>,
}

/// A read model kept by Rewind from the row changes a batch fold answers, and what it reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectionReads {
    pub name: String,
    /// What its rows are keyed by, for people to read (`account id`).
    pub key: String,
    pub stream_types: Vec<String>,
    pub categories: Vec<String>,
    pub event_types: Vec<String>,
}

impl ProjectionReads {
    /// Whether the read model reads `event`.
    pub fn reads(&self, event: &RecordedEvent) -> bool {
        self.stream_types.iter().any(|t| *t == event.stream_type)
            || crate::category(&event.stream_id).is_some_and(|c| self.categories.iter().any(|claimed| claimed == c))
            || self.event_types.iter().any(|t| *t == event.event_type)
    }
}

/// A domain that folds in batches, elsewhere.
pub trait BatchFold: Send + Sync {
    /// Starts folding a whole store in order: the folder keeps each stream's state from batch
    /// to batch until the session is dropped.
    fn session(&self) -> Result<Box<dyn FoldSession>, FoldError>;

    /// Folds one stream's `events` from `start` (its state before them, as JSON text; `None`
    /// for a new stream), answering the state after each event whose `want_state` is set.
    fn fold_stream(
        &self,
        stream_id: &str,
        aggregate: &str,
        start: Option<&str>,
        events: &[RecordedEvent],
        want_state: &dyn Fn(usize) -> bool,
    ) -> Result<Vec<FoldOutcome>, FoldError>;

    /// The events upcast to their current schema, as the domain reads them (`None` for each that
    /// already is, or that it does not know).
    fn upcast(&self, events: &[RecordedEvent]) -> Result<Vec<Option<RecordedEvent>>, FoldError>;

    /// The read models it keeps, and what each reads.
    fn projections(&self) -> Vec<ProjectionReads>;
}

/// A fold of a whole store, batch after batch, several in flight.
pub trait FoldSession: Send {
    /// Adds events to the batch being made; [`FoldSession::flush`] sends it.
    fn push(&mut self, items: &[FoldItem<'_>]) -> Result<(), FoldError>;

    /// Events in the batch being made.
    fn pending(&self) -> usize;

    /// Sends the batch being made, if it holds any event. Its outcomes come back from
    /// [`FoldSession::receive`], in the order the batches were sent.
    fn flush(&mut self) -> Result<(), FoldError>;

    /// The outcomes of the oldest batch sent and not yet received, indexed by the order of its
    /// events as they were pushed; waits for them.
    fn receive(&mut self) -> Result<Vec<FoldOutcome>, FoldError>;

    /// Batches sent and not yet received.
    fn in_flight(&self) -> usize;
}

/// The state of a stream folded elsewhere, as Rewind holds it: the JSON text the folder last
/// answered (a checkpoint), or nothing for a new stream. It cannot fold events itself: the
/// engine sends them to the folder with this as their starting state.
#[derive(Clone, Debug, Default)]
pub struct RemoteState {
    pub snapshot: Option<Arc<str>>,
}

impl crate::AggregateState for RemoteState {
    fn apply(&mut self, event: &RecordedEvent) -> Result<Vec<Violation>, ApplyError> {
        Err(ApplyError::Rejected {
            event_type: event.event_type.to_string(),
            reason: "this stream is folded by a plug-in, not in Rewind".into(),
        })
    }

    fn to_json(&self) -> Value {
        self.snapshot
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or(Value::Null)
    }

    fn clone_box(&self) -> Box<dyn crate::AggregateState> {
        Box::new(self.clone())
    }

    fn snapshot(&self) -> Option<Arc<str>> {
        self.snapshot.clone()
    }
}
