//! `rewind_store`: reading and writing event stores.
//!
//! - [`SqliteStore`]: Rewind's native SQLite store. Writers append with optimistic
//!   concurrency ([`ExpectedVersion`]) and idempotent event ids; the debugger opens it
//!   read-only ([`SqliteStore::open_read_only`]) and never modifies the file.
//! - [`NdjsonStore`] and [`export_ndjson`]: the NDJSON export (one [`RecordedEvent`] per line).
//! - [`EventSource`]: the read side every format offers; [`open_store`] picks the reader by
//!   the file's content.
//! - Foreign stores: SQLite files of other libraries ([`MappedSqliteStore`], recognised by
//!   [`inspect_sqlite`]), JSON arrays, Atom feeds and CloudEvents ([`json`]), `.gz` files, and
//!   anything else through a user-confirmed [`Mapping`]. Records a reader cannot use are
//!   [`Skipped`] and reported, never silently dropped.
//!
//! It knows no domain: events come out as [`RecordedEvent`]s, replay is `rewind_engine`'s job.
//!
//! [`RecordedEvent`]: rewind_core::RecordedEvent

pub mod decode;
pub mod error;
pub mod foreign;
pub mod json;
pub mod mapping;
pub mod memory;
pub mod ndjson;
pub mod postgres;
pub mod source;
pub mod sqlite;

pub use error::{Result, StoreError};
pub use foreign::{MappedSqliteStore, SqliteSchema, inspect_sqlite};
pub use mapping::{Filter, Mapping, Part};
pub use memory::MemoryStore;
pub use ndjson::{NdjsonStore, NdjsonWriter, export_ndjson, read_events};
pub use postgres::{PostgresStore, PostgresWriter, is_postgres_url, redact};
pub use source::{
    BareScan, EventSource, OpenOptions, ReadProgress, Skipped, StoreFormat, StreamInfo, detect_format, open_store,
    open_store_with, streams_by_scan,
};
pub use sqlite::{AppendOutcome, EncodedEvent, ExpectedVersion, NewEvent, SqliteStore, format_time};
