//! `rewind_store`: reading and writing event stores.
//!
//! - [`SqliteStore`]: Rewind's native SQLite store. Writers append with optimistic
//!   concurrency ([`ExpectedVersion`]) and idempotent event ids; the debugger opens it
//!   read-only ([`SqliteStore::open_read_only`]) and never modifies the file.
//! - [`NdjsonStore`] and [`export_ndjson`]: the NDJSON export (one [`RecordedEvent`] per line).
//! - [`EventSource`]: the read side every format offers; [`open_store`] picks the reader by
//!   the file's content.
//!
//! It knows no domain: events come out as [`RecordedEvent`]s, replay is `rewind_engine`'s job.
//!
//! [`RecordedEvent`]: rewind_core::RecordedEvent

pub mod error;
pub mod ndjson;
pub mod source;
pub mod sqlite;

pub use error::{Result, StoreError};
pub use ndjson::{NdjsonStore, NdjsonWriter, export_ndjson, read_events};
pub use source::{EventSource, StoreFormat, StreamInfo, detect_format, open_store};
pub use sqlite::{AppendOutcome, EncodedEvent, ExpectedVersion, NewEvent, SqliteStore, format_time};
