//! `rewind_engine`: replay and time travel.
//!
//! - [`Replay`]: a full replay in global order through a [`Domain`](rewind_core::Domain),
//!   with every issue pinned to a global position; replay never stops at bad data.
//!
//! It does no I/O: the app or CLI reads events from a store and hands them in.

pub mod replay;

pub use replay::{Replay, StreamReplay, issue_kind};
