//! Errors at the store boundary: what failed, why, and where.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot open {}: {reason}", path.display())]
    Open { path: PathBuf, reason: String },

    #[error("{} is not an event store Rewind can read: {reason}", path.display())]
    NotAStore { path: PathBuf, reason: String },

    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("SQLite error in {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("{}: bad event at global position {position}: column `{column}`: {reason}", path.display())]
    BadRow {
        path: PathBuf,
        position: u64,
        column: &'static str,
        reason: String,
    },

    #[error("cannot read line {line} of {}: {reason}", path.display())]
    BadLine { path: PathBuf, line: u64, reason: String },

    #[error("concurrency conflict on {stream_id}: expected version {expected}, but the stream is at version {actual}")]
    Concurrency {
        stream_id: String,
        expected: u64,
        actual: u64,
    },

    #[error("stream {stream_id} already exists (at version {actual}); expected a new stream")]
    StreamExists { stream_id: String, actual: u64 },

    #[error("no stream named `{stream_id}` in {}", path.display())]
    UnknownStream { path: PathBuf, stream_id: String },

    /// The file's shape is not one Rewind knows: it proposes a mapping for the user to confirm.
    #[error(
        "{} holds events in a shape Rewind does not know ({what}); confirm or edit this proposed mapping, save it as a file and pass it with --mapping FILE.toml:\n{}",
        path.display(),
        proposal.to_toml()
    )]
    NeedsMapping {
        path: PathBuf,
        what: String,
        proposal: Box<crate::mapping::Mapping>,
        /// The column (or top-level field) names to choose from.
        names: Vec<String>,
        /// An example value of each name, from the first row or record.
        examples: Vec<String>,
    },

    #[error("the mapping for {} does not fit: {reason}", path.display())]
    BadMapping { path: PathBuf, reason: String },

    #[error("PostgreSQL {location}: {reason}")]
    Postgres { location: String, reason: String },

    #[error("cannot write {}: {reason}", path.display())]
    Write { path: PathBuf, reason: String },

    /// Whoever was reading the store asked to stop (the user cancelled opening it).
    #[error("reading {location} was cancelled")]
    Cancelled { location: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What an I/O error means to the person who named the file.
pub(crate) fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => error.to_string(),
    }
}
