//! `rewind_store`: reading and writing event stores.
//!
//! - [`EventSource`]: the read side every store offers; [`open_store`] picks the reader by the
//!   file's content, or opens the PostgreSQL database a [`StoreLocation`] names.
//! - Rewind's own formats: [`SqliteStore`] (writers append with optimistic concurrency,
//!   [`ExpectedVersion`], and idempotent event ids; the debugger opens it read-only and never
//!   modifies the file) and the NDJSON export ([`NdjsonStore`], [`export_ndjson`]).
//! - Other libraries' stores: SQLite files ([`MappedSqliteStore`], recognised by
//!   [`inspect_sqlite`]), JSON arrays, Atom feeds and CloudEvents (read into a [`MemoryStore`]),
//!   `.gz` files, PostgreSQL tables ([`PostgresStore`]), and anything else through a
//!   user-confirmed [`Mapping`]. Records a reader cannot use are [`Skipped`] and reported,
//!   never silently dropped.
//!
//! It knows no domain: events come out as [`RecordedEvent`]s, replay is `rewind_engine`'s job.
//!
//! Layout: `source` (the trait; no backend), `open` (the only module that names every
//! backend), `native/`, `foreign/` and `postgres/` (the backends, which never import each
//! other), and what two backends share in modules of neutral names (`schema`, `sqlite_file`,
//! `mapping`, `decode`, `encoded`, `time`, `location`).
//!
//! [`RecordedEvent`]: rewind_core::RecordedEvent

mod decode;
mod encoded;
mod error;
mod foreign;
mod location;
mod mapping;
mod merged;
mod native;
mod open;
mod postgres;
mod schema;
mod source;
mod sqlite_file;
mod time;

pub use encoded::EncodedEvent;
pub use error::{Result, StoreError};
pub use foreign::memory::MemoryStore;
pub use foreign::sqlite::{MappedSqliteStore, inspect_sqlite};
pub use location::{PostgresLocation, StoreLocation, is_postgres_url, redact};
pub use mapping::{Filter, Mapping, Part};
pub use merged::{MergedStore, TablePart};
pub use native::ndjson::{NdjsonStore, NdjsonWriter, export_ndjson, read_events};
pub use native::sqlite::{AppendOutcome, ExpectedVersion, NewEvent, SqliteStore};
pub use open::{OpenOptions, ReadProgress, StoreFormat, detect_format, open_store, open_store_with};
pub use postgres::{PostgresStore, PostgresWriter, connect as connect_postgres_read_only};
pub use schema::Recognised;
pub use source::{BareScan, EventSource, Skipped, StreamInfo, streams_by_scan};
pub use time::format_time;
