//! `rewind_engine`: replay and time travel.
//!
//! - [`Replay`]: a full replay in global order through a [`Domain`](rewind_core::Domain),
//!   with every issue pinned to a global position; replay never stops at bad data.
//! - [`TimelineIndex`]: one 20-byte header per event, in global order, with per-stream lists.
//! - [`Engine`] (built by [`EngineBuilder`] in one pass): the selected aggregate's state and
//!   every projection's state at any cursor, from checkpoints plus a short replay.
//! - [`diff`]: field-level changes between two JSON states.
//! - [`Timeline`]: the cursor and playback, changed only through [`TimelineCommand`]s.
//!
//! It does no I/O: the app reads events from a store and hands them in, and answers
//! [`EventFetch`] requests when a seek needs payloads.

pub mod diff;
pub mod engine;
pub mod filter;
pub mod index;
mod remote;
pub mod replay;
pub mod search;
pub mod timeline;

pub use diff::{FieldChange, diff};
pub use engine::{
    AggregateAt, Blame, Engine, EngineBuilder, EngineConfig, EventFetch, FetchError, IndexBuilder, ProjectionAt,
    RowChange, SeekError,
};
pub use filter::{Condition, ConditionError, Op};
pub use index::{EventHeader, Ordinal, StreamIdx, TimelineIndex, Times};
pub use replay::{DuplicateIds, GENERIC, Replay, StreamReplay, issue_kind, route_of};
pub use search::Query;
pub use timeline::{CursorMode, Timeline, TimelineCommand};
