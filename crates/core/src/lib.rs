//! `rewind_core`: the event-sourcing vocabulary every other Rewind crate speaks.
//!
//! - [`RecordedEvent`]: one immutable fact as a store holds it, normalized across formats.
//! - The traits a domain implements: [`Aggregate`] (pure `decide`, fallible `apply`),
//!   [`DomainEvent`], [`Projection`] and [`Upcaster`] (one `schema_version` hop each).
//! - [`Domain`]: the object-safe plug-in through which the engine and the app replay any stream
//!   as JSON states, without naming a concrete aggregate. [`GenericDomain`] replays streams no
//!   domain claims; [`DomainSet`] routes each stream to the domain that claims it.
//! - [`ReplayIssue`]: what can go wrong while replaying, pinned to a global position.
//!
//! It deliberately does no I/O and knows nothing of `SQLite`, files or `egui`.

pub mod domain;
pub mod event;
pub mod generic;
pub mod issue;
pub mod json_rows;
pub mod payload;
pub mod remote;

pub use domain::{
    Aggregate, AggregateClaim, AggregateState, ApplyError, Domain, DomainEvent, MoneyField, Projection,
    ProjectionState, ProjectionView, ReplayError, StreamStep, TypedAggregate, UpcastError, Upcaster, UpcasterChain,
    Violation, category, format_money, is_uuid, replay_stream_here, rows_of,
};
pub use event::{GlobalPosition, PAYLOAD_ENCODING, PAYLOAD_NOTE, RecordedEvent, metadata};
pub use generic::{DomainSet, GenericDomain, GenericState};
pub use issue::{ReplayIssue, ReplayIssueKind, Severity};
pub use json_rows::{JsonRowHistory, JsonRowsAt};
pub use payload::{NotJson, Payload, Typed};
pub use remote::{BatchFold, FoldError, FoldItem, FoldOutcome, FoldSession, ProjectionReads, RemoteState, RowUpdate};
pub use smol_str::SmolStr;
pub use uuid::Uuid;
