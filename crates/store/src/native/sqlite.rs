//! The native SQLite event store: one STRICT `events` table, a `snapshots` table for the write side.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use chrono::{DateTime, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde_json::Value;
use uuid::Uuid;

use rewind_core::{Payload, RecordedEvent, SmolStr};

use super::raw;
use crate::encoded::EncodedEvent;
use crate::error::{Result, StoreError};
use crate::source::{BareScan, EventSource, StreamInfo};
use crate::sqlite_file::{self, sqlite_reason};
use crate::time::{format_stored_time, format_time, parse_rfc3339, parse_time, parse_written_time};

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS events (
    global_position INTEGER PRIMARY KEY,
    stream_id       TEXT    NOT NULL,
    stream_type     TEXT    NOT NULL,
    stream_version  INTEGER NOT NULL,
    event_id        TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    schema_version  INTEGER NOT NULL,
    recorded_at     TEXT    NOT NULL,
    data            TEXT    NOT NULL,
    metadata        TEXT    NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS snapshots (
    stream_id      TEXT    NOT NULL,
    stream_version INTEGER NOT NULL,
    state          TEXT    NOT NULL,
    PRIMARY KEY (stream_id, stream_version)
) STRICT;
";

/// `UNIQUE (stream_id, stream_version)` and `UNIQUE (event_id)`, as named indexes so a bulk
/// load can build them once at the end (a sort) instead of a random insert per event.
const STREAM_INDEX: &str =
    "CREATE UNIQUE INDEX IF NOT EXISTS events_stream_version ON events (stream_id, stream_version);";
const EVENT_ID_INDEX: &str = "CREATE UNIQUE INDEX IF NOT EXISTS events_event_id ON events (event_id);";

const COLUMNS: &str = "global_position, stream_id, stream_type, stream_version, event_id, event_type, \
                       schema_version, recorded_at, data, metadata";

/// The version a writer expects a stream to be at (optimistic concurrency).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Append whatever the stream's version.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be at exactly this version.
    Exact(u64),
}

/// An event to append; the store assigns its global position and stream version.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    pub recorded_at: DateTime<Utc>,
    pub data: Value,
    pub metadata: Value,
}

/// What an append did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendOutcome {
    /// The stream's version after the append.
    pub stream_version: u64,
    /// Global positions of the events written (empty when every event was already stored).
    pub positions: Vec<u64>,
}

/// A connection to a native Rewind SQLite store.
pub struct SqliteStore {
    connection: Connection,
    /// The private copy read instead of the file, if one was needed (dropped after the
    /// connection).
    _copy: Option<tempfile::TempDir>,
    /// How the file had to be read, when that is worth saying.
    note: Option<String>,
    path: PathBuf,
    read_only: bool,
    /// The file has a unique index on exactly `event_id` (see [`EventSource::unique_event_ids`]).
    unique_ids: bool,
    /// An id was read that is not in the one spelling Rewind writes (lowercase, hyphenated): the
    /// index keeps texts apart, so it does not stop that id repeating another's UUID.
    uncovered_id: AtomicBool,
    /// The `events` table is STRICT and each of its text columns is declared `TEXT NOT NULL`,
    /// so SQLite itself keeps anything but text out of them: a full read takes their texts
    /// without asking each value its type ([`raw`]).
    strict_texts: bool,
}

impl SqliteStore {
    /// Creates (or opens for writing) a store at `path`, in WAL mode so readers never block.
    pub fn create(path: &Path) -> Result<Self> {
        let pragmas = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;";
        Self::open_writer(path, &[pragmas, TABLES, STREAM_INDEX, EVENT_ID_INDEX])
    }

    /// Creates a new store for one writer loading many events with [`Self::insert_recorded`]:
    /// no write-ahead log, no fsync per commit, a large page cache, and the unique indexes
    /// built once by [`Self::finish_bulk_load`]. Only for files rebuilt from scratch if the
    /// load fails (the sample generator, imports).
    pub fn create_for_bulk_load(path: &Path) -> Result<Self> {
        let pragmas = "PRAGMA page_size = 16384; PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; \
                       PRAGMA cache_size = -524288; PRAGMA temp_store = MEMORY; PRAGMA threads = 2;";
        Self::open_writer(path, &[pragmas, TABLES])
    }

    /// Opens `path` for writing and runs `setup`, statement batch by batch.
    fn open_writer(path: &Path, setup: &[&str]) -> Result<Self> {
        let connection = Connection::open(path).map_err(|e| StoreError::Open {
            path: path.to_owned(),
            reason: sqlite_reason(&e),
        })?;
        let store = Self {
            connection,
            _copy: None,
            note: None,
            path: path.to_owned(),
            read_only: false,
            unique_ids: false,
            uncovered_id: AtomicBool::new(false),
            strict_texts: false,
        };
        for batch in setup {
            store.connection.execute_batch(batch).map_err(|e| store.sqlite(e))?;
        }
        Ok(store)
    }

    /// Builds the unique indexes (failing if the loaded events repeat an event id or a stream
    /// version) and leaves the file in rollback-journal mode, self-contained.
    pub fn finish_bulk_load(self) -> Result<()> {
        self.connection
            .execute_batch(STREAM_INDEX)
            .map_err(|e| self.sqlite(e))?;
        self.connection
            .execute_batch(EVENT_ID_INDEX)
            .map_err(|e| self.sqlite(e))?;
        self.connection
            .execute_batch("PRAGMA journal_mode = DELETE;")
            .map_err(|e| self.sqlite(e))
    }

    /// Opens an existing store for debugging: read-only, so the file is never modified.
    ///
    /// Works while another process writes (WAL readers see a consistent snapshot per query).
    pub fn open_read_only(path: &Path) -> Result<Self> {
        Self::with_read_only_connection(sqlite_file::open_read_only(path)?, path)
    }

    /// The store over a connection [`sqlite_file::open_read_only`] opened.
    pub(crate) fn with_read_only_connection(file: sqlite_file::ReadOnlyFile, path: &Path) -> Result<Self> {
        let mut store = Self {
            connection: file.connection,
            _copy: file.copy,
            note: file.note,
            path: path.to_owned(),
            read_only: true,
            unique_ids: false,
            uncovered_id: AtomicBool::new(false),
            strict_texts: false,
        };
        store.check_schema()?;
        store.unique_ids = store.has_unique_id_index()?;
        store.strict_texts = store.has_strict_texts()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a unique, whole-table index covers exactly the `event_id` column.
    fn has_unique_id_index(&self) -> Result<bool> {
        self.connection
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM pragma_index_list('events') AS l \
                 WHERE l.\"unique\" = 1 AND l.partial = 0 \
                 AND (SELECT group_concat(name) FROM pragma_index_info(l.name)) = 'event_id')",
                [],
                |row| row.get(0),
            )
            .map_err(|e| self.sqlite(e))
    }

    /// Whether the `events` table is STRICT with every text column Rewind reads declared
    /// `TEXT NOT NULL` (as Rewind creates it).
    fn has_strict_texts(&self) -> Result<bool> {
        self.connection
            .query_row(
                "SELECT (SELECT strict FROM pragma_table_list WHERE schema = 'main' AND name = 'events') = 1 \
                 AND (SELECT count(*) FROM pragma_table_info('events') \
                      WHERE name IN ('stream_id', 'stream_type', 'event_id', 'event_type', 'recorded_at', 'data', 'metadata') \
                      AND type = 'TEXT' AND \"notnull\" = 1) = 7",
                [],
                |row| row.get::<_, Option<bool>>(0),
            )
            .map(|strict| strict.unwrap_or(false))
            .map_err(|e| self.sqlite(e))
    }

    fn check_schema(&self) -> Result<()> {
        let mut statement = self
            .connection
            .prepare("SELECT name FROM pragma_table_info('events')")
            .map_err(|e| self.not_a_store(&e))?;
        let columns: Vec<String> = statement
            .query_map([], |row| row.get(0))
            .and_then(Iterator::collect)
            .map_err(|e| self.not_a_store(&e))?;
        if columns.is_empty() {
            return Err(StoreError::NotAStore {
                path: self.path.clone(),
                reason: "it is a SQLite database, but it has no `events` table".into(),
            });
        }
        let missing: Vec<&str> = COLUMNS
            .split(", ")
            .map(str::trim)
            .filter(|wanted| !columns.iter().any(|c| c == wanted))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(StoreError::NotAStore {
                path: self.path.clone(),
                reason: format!("its `events` table lacks the column(s) {}", missing.join(", ")),
            })
        }
    }

    /// Appends `events` to `stream_id`, all or none, if the stream is at `expected`.
    ///
    /// Events whose `event_id` is already stored are skipped (idempotent retries); if all of
    /// them are, nothing is written and the expected version is not checked.
    pub fn append(
        &mut self,
        stream_id: &str,
        stream_type: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
    ) -> Result<AppendOutcome> {
        let path = self.path.clone();
        let sqlite = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        // IMMEDIATE takes the write lock up front, so the version read below cannot go stale.
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        let actual: u64 = tx
            .query_row(
                "SELECT COALESCE(MAX(stream_version), 0) FROM events WHERE stream_id = ?1",
                [stream_id],
                |r| r.get::<_, i64>(0),
            )
            .map_err(sqlite)? as u64;
        let mut fresh = Vec::with_capacity(events.len());
        {
            let mut known = tx
                .prepare_cached("SELECT 1 FROM events WHERE event_id = ?1")
                .map_err(sqlite)?;
            for event in events {
                if !known.exists([event.event_id.to_string()]).map_err(sqlite)? {
                    fresh.push(event);
                }
            }
        }
        if fresh.is_empty() {
            return Ok(AppendOutcome {
                stream_version: actual,
                positions: Vec::new(),
            });
        }
        match expected {
            ExpectedVersion::NoStream if actual != 0 => {
                return Err(StoreError::StreamExists {
                    stream_id: stream_id.into(),
                    actual,
                });
            }
            ExpectedVersion::Exact(expected) if expected != actual => {
                return Err(StoreError::Concurrency {
                    stream_id: stream_id.into(),
                    expected,
                    actual,
                });
            }
            _ => {}
        }
        let mut positions = Vec::with_capacity(fresh.len());
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO events (stream_id, stream_type, stream_version, event_id, event_type, schema_version, \
                     recorded_at, data, metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(sqlite)?;
            for (offset, event) in fresh.iter().enumerate() {
                insert
                    .execute(params![
                        stream_id,
                        stream_type,
                        (actual + 1 + offset as u64) as i64,
                        event.event_id.to_string(),
                        event.event_type,
                        event.schema_version,
                        format_time(event.recorded_at),
                        event.data.to_string(),
                        event.metadata.to_string(),
                    ])
                    .map_err(sqlite)?;
                positions.push(tx.last_insert_rowid() as u64);
            }
        }
        tx.commit().map_err(sqlite)?;
        Ok(AppendOutcome {
            stream_version: actual + fresh.len() as u64,
            positions,
        })
    }

    /// Writes already-recorded events as they are (positions and versions included), in one
    /// transaction: the import and sample path.
    pub fn insert_recorded(&mut self, events: &[RecordedEvent]) -> Result<()> {
        let encoded: Vec<EncodedEvent> = events.iter().cloned().map(EncodedEvent::new).collect();
        self.insert_encoded(&encoded)
    }

    /// Like [`Self::insert_recorded`], with payloads already serialized (the sample generator
    /// serializes each payload once for both the NDJSON and the SQLite file).
    pub fn insert_encoded(&mut self, events: &[EncodedEvent]) -> Result<()> {
        let path = self.path.clone();
        let sqlite = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.connection.transaction().map_err(sqlite)?;
        {
            let mut insert = tx
                .prepare_cached(&format!(
                    "INSERT INTO events ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                ))
                .map_err(sqlite)?;
            let mut uuid = Uuid::encode_buffer();
            for encoded in events {
                let event = &encoded.event;
                insert
                    .execute(params![
                        event.global_position as i64,
                        event.stream_id.as_str(),
                        event.stream_type.as_str(),
                        event.stream_version as i64,
                        event.event_id.hyphenated().encode_lower(&mut uuid) as &str,
                        event.event_type.as_str(),
                        event.schema_version.unwrap_or(0),
                        format_stored_time(event.recorded_at),
                        encoded.data,
                        encoded.metadata,
                    ])
                    .map_err(sqlite)?;
            }
        }
        tx.commit().map_err(sqlite)
    }

    /// Folds the write-ahead log into the main file and leaves it in rollback-journal mode, so
    /// the store is one self-contained file (for sample data and copies).
    pub fn finish_as_single_file(self) -> Result<()> {
        self.connection
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;")
            .map_err(|e| self.sqlite(e))
    }

    /// Saves a snapshot of a stream's state (write side only; the debugger never reads them as truth).
    pub fn save_snapshot(&self, stream_id: &str, stream_version: u64, state: &Value) -> Result<()> {
        self.connection
            .execute(
                "INSERT OR REPLACE INTO snapshots (stream_id, stream_version, state) VALUES (?1, ?2, ?3)",
                params![stream_id, stream_version as i64, state.to_string()],
            )
            .map(|_| ())
            .map_err(|e| self.sqlite(e))
    }

    /// The latest snapshot of a stream, if any.
    pub fn latest_snapshot(&self, stream_id: &str) -> Result<Option<(u64, Value)>> {
        let row: Option<(i64, String)> = self
            .connection
            .query_row(
                "SELECT stream_version, state FROM snapshots WHERE stream_id = ?1 ORDER BY stream_version DESC LIMIT 1",
                [stream_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.sqlite(e))?;
        row.map(|(version, state)| {
            serde_json::from_str(&state)
                .map(|state| (version as u64, state))
                .map_err(|e| StoreError::BadRow {
                    path: self.path.clone(),
                    position: version as u64,
                    column: "snapshots.state",
                    reason: e.to_string(),
                })
        })
        .transpose()
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    fn sqlite(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn not_a_store(&self, error: &rusqlite::Error) -> StoreError {
        StoreError::NotAStore {
            path: self.path.clone(),
            reason: sqlite_reason(error),
        }
    }

    /// The events `sql` selects; `expected` is about how many (a batch's size), so the list is
    /// allocated once instead of growing by copies, each into fresh memory the kernel zeroes.
    fn query_events(&self, sql: &str, params: impl rusqlite::Params, expected: usize) -> Result<Vec<RecordedEvent>> {
        let mut statement = self.connection.prepare_cached(sql).map_err(|e| self.sqlite(e))?;
        let mut rows = statement.query(params).map_err(|e| self.sqlite(e))?;
        let mut events = Vec::with_capacity(expected.min(1 << 16));
        let mut names = Names::default();
        while let Some(row) = rows.next().map_err(|e| self.sqlite(e))? {
            events.push(self.event_from_row(row, &mut names)?);
        }
        Ok(events)
    }

    fn event_from_row(&self, row: &impl Columns, names: &mut Names) -> Result<RecordedEvent> {
        let position = row.integer(0).map_err(|reason| StoreError::BadRow {
            path: self.path.clone(),
            position: 0,
            column: "global_position",
            reason,
        })? as u64;
        let bad = |column: &'static str, reason: String| StoreError::BadRow {
            path: self.path.clone(),
            position,
            column,
            reason,
        };
        // Text is borrowed from SQLite's row, and copied only where it is kept.
        let text_bytes = |index: usize, column: &'static str| -> Result<&[u8]> {
            row.text(index, column).map_err(|reason| bad(column, reason))
        };
        let borrowed = |index: usize, column: &'static str| -> Result<&str> {
            utf8(text_bytes(index, column)?).map_err(|e| bad(column, e.to_string()))
        };
        let name = |names: &mut Names, index: usize, column: &'static str| -> Result<SmolStr> {
            let bytes = text_bytes(index, column)?;
            names.get(bytes, || {
                utf8(bytes).map(SmolStr::new).map_err(|e| bad(column, e.to_string()))
            })
        };
        let integer = |index: usize, column: &'static str| -> Result<i64> {
            row.integer(index).map_err(|reason| bad(column, reason))
        };
        // The id and the time are parsed from their bytes: what parses is ASCII, and only what
        // does not is checked as text, for the error.
        let event_id = text_bytes(4, "event_id")?;
        // A UUID that parses from 36 characters is hyphenated; lowercase makes it the one
        // spelling the unique index compares ids in.
        if event_id.len() != 36 || event_id.iter().any(u8::is_ascii_uppercase) {
            self.uncovered_id.store(true, Ordering::Relaxed);
        }
        let event_id = Uuid::try_parse_ascii(event_id).map_err(|e| {
            let text = String::from_utf8_lossy(event_id);
            bad("event_id", format!("`{text}` is not a UUID: {e}"))
        })?;
        // Empty: imported from a store that recorded no time.
        let recorded_at = text_bytes(7, "recorded_at")?;
        let recorded_at = match parse_written_time(recorded_at) {
            Some(time) => Some(time),
            None if recorded_at.is_empty() => None,
            None => Some(
                std::str::from_utf8(recorded_at)
                    .map_err(|e| e.to_string())
                    .and_then(parse_rfc3339)
                    .map_err(|e| bad("recorded_at", e))?,
            ),
        };
        // The payload and metadata columns hold JSON: each is checked by the first parse of it
        // (for a payload usually the domain's), and a replay reports one that is not (see
        // `Payload::from_stored_json`); the row is not lost for it.
        let metadata = Payload::from_stored_json(borrowed(9, "metadata")?.to_owned());
        let data = Payload::from_stored_json(borrowed(8, "data")?.to_owned());
        let stream_version = integer(3, "stream_version")?;
        let schema_version = integer(6, "schema_version")?;
        Ok(RecordedEvent {
            global_position: position,
            stream_id: borrowed(1, "stream_id")?.into(),
            stream_type: name(names, 2, "stream_type")?,
            stream_version: u64::try_from(stream_version)
                .map_err(|_| bad("stream_version", format!("{stream_version} is negative")))?,
            event_id,
            event_type: name(names, 5, "event_type")?,
            // 0: the event was imported from a store that recorded no schema version.
            schema_version: Some(
                u32::try_from(schema_version)
                    .map_err(|_| bad("schema_version", format!("{schema_version} is out of range")))?,
            )
            .filter(|&v| v != 0),
            recorded_at,
            data,
            metadata,
        })
    }
}

impl EventSource for SqliteStore {
    fn is_native(&self) -> bool {
        true
    }

    fn unique_event_ids(&self) -> bool {
        self.unique_ids && !self.uncovered_id.load(Ordering::Relaxed)
    }

    fn describe(&self) -> String {
        match &self.note {
            Some(note) => format!("Rewind SQLite store, {note}"),
            None => "Rewind SQLite store".into(),
        }
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    /// SQLite stepping over every row and summing the lengths of its longest texts, so each
    /// row's record is read, but nothing is copied out of it and no event is made.
    fn bare_scan(&self) -> Result<Option<BareScan>> {
        let query = "SELECT count(*), sum(length(data)), sum(length(stream_id)), sum(length(metadata)) FROM events";
        let started = Instant::now();
        let events = self
            .connection
            .query_row(query, [], |r| r.get::<_, i64>(0))
            .map_err(|e| self.sqlite(e))?;
        Ok(Some(BareScan {
            query: query.into(),
            events: events as u64,
            elapsed: started.elapsed(),
        }))
    }

    fn event_count(&self) -> Result<u64> {
        self.connection
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.sqlite(e))
    }

    fn streams(&self) -> Result<Vec<StreamInfo>> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT stream_id, MIN(stream_type), COUNT(*), MIN(global_position), MAX(global_position), \
                 MIN(NULLIF(recorded_at, '')), MAX(NULLIF(recorded_at, '')) FROM events GROUP BY stream_id \
                 ORDER BY MIN(global_position)",
            )
            .map_err(|e| self.sqlite(e))?;
        let rows = statement
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })
            .map_err(|e| self.sqlite(e))?;
        let mut streams = Vec::new();
        for row in rows {
            let (stream_id, stream_type, count, first, last, first_at, last_at) = row.map_err(|e| self.sqlite(e))?;
            let time = |text: &Option<String>, position: i64| {
                text.as_deref()
                    .map(|text| {
                        parse_time(text).map_err(|reason| StoreError::BadRow {
                            path: self.path.clone(),
                            position: position as u64,
                            column: "recorded_at",
                            reason,
                        })
                    })
                    .transpose()
            };
            streams.push(StreamInfo {
                first_recorded_at: time(&first_at, first)?,
                last_recorded_at: time(&last_at, last)?,
                stream_id,
                stream_type,
                event_count: count as u64,
                first_position: first as u64,
                last_position: last as u64,
            });
        }
        Ok(streams)
    }

    fn read_stream(&self, stream_id: &str, up_to_version: Option<u64>) -> Result<Vec<RecordedEvent>> {
        let limit = up_to_version.map_or(i64::MAX, |v| v.min(i64::MAX as u64) as i64);
        self.query_events(
            &format!(
                "SELECT {COLUMNS} FROM events WHERE stream_id = ?1 AND stream_version <= ?2 ORDER BY stream_version"
            ),
            params![stream_id, limit],
            0,
        )
    }

    /// Through the unique index on the id when the store has one and every id read so far is
    /// in the one spelling Rewind writes (so the index, which compares text, sees them all);
    /// otherwise by reading every event, whose ids are parsed whatever their spelling.
    fn find_event_id(&self, event_id: Uuid) -> Result<Option<u64>> {
        if !self.unique_event_ids() {
            return crate::source::find_event_id_by_scan(self, event_id);
        }
        self.connection
            .prepare_cached("SELECT global_position FROM events WHERE event_id = ?1")
            .and_then(|mut statement| {
                statement
                    .query_row([event_id.hyphenated().to_string()], |r| r.get::<_, i64>(0))
                    .optional()
            })
            .map(|found| found.map(|p| p as u64))
            .map_err(|e| self.sqlite(e))
    }

    fn read_positions(&self, positions: &[u64]) -> Result<Vec<RecordedEvent>> {
        // One statement whatever the count: the positions travel as a JSON array.
        let list = serde_json::to_string(positions).unwrap_or_else(|_| "[]".into());
        self.query_events(
            &format!(
                "SELECT {COLUMNS} FROM events WHERE global_position IN (SELECT value FROM json_each(?1)) \
                 ORDER BY global_position"
            ),
            [list],
            positions.len(),
        )
    }

    /// One statement walks the whole table in order: a batch costs no new query (SQLite
    /// prepares a range query again for each new bound value) and no new search of the table.
    fn read_all(&self, batch_size: usize, each: &mut dyn FnMut(&mut Vec<RecordedEvent>) -> Result<()>) -> Result<()> {
        let batch_size = batch_size.max(1);
        let sql = format!("SELECT {COLUMNS} FROM events ORDER BY global_position");
        let mut batch = Vec::with_capacity(batch_size);
        let mut names = Names::default();
        let mut push = |event: RecordedEvent, batch: &mut Vec<RecordedEvent>| -> Result<()> {
            batch.push(event);
            if batch.len() == batch_size {
                each(batch)?;
                batch.clear();
                batch.reserve(batch_size);
            }
            Ok(())
        };
        if self.strict_texts {
            let mut statement = raw::Statement::prepare(&self.connection, &sql).map_err(|e| self.sqlite(e))?;
            while let Some(row) = statement.step().map_err(|e| self.sqlite(e))? {
                let event = self.event_from_row(&row, &mut names)?;
                push(event, &mut batch)?;
            }
        } else {
            let mut statement = self.connection.prepare(&sql).map_err(|e| self.sqlite(e))?;
            let mut rows = statement.query([]).map_err(|e| self.sqlite(e))?;
            while let Some(row) = rows.next().map_err(|e| self.sqlite(e))? {
                push(self.event_from_row(row, &mut names)?, &mut batch)?;
            }
        }
        if batch.is_empty() { Ok(()) } else { each(&mut batch) }
    }

    fn read_batch(&self, after_position: u64, limit: usize) -> Result<Vec<RecordedEvent>> {
        self.query_events(
            &format!("SELECT {COLUMNS} FROM events WHERE global_position > ?1 ORDER BY global_position LIMIT ?2"),
            params![after_position.min(i64::MAX as u64) as i64, limit as i64],
            limit,
        )
    }
}

/// What a row's reader asks of its columns: SQLite's rows through rusqlite, which checks each
/// value's type, or [`raw::Row`] for tables whose types SQLite itself keeps.
trait Columns {
    /// The text in column `index` (named `column`), or why there is none.
    fn text(&self, index: usize, column: &'static str) -> std::result::Result<&[u8], String>;
    /// The integer in column `index`, or why there is none.
    fn integer(&self, index: usize) -> std::result::Result<i64, String>;
}

impl Columns for Row<'_> {
    fn text(&self, index: usize, column: &'static str) -> std::result::Result<&[u8], String> {
        match self.get_ref(index) {
            Ok(ValueRef::Text(bytes)) => Ok(bytes),
            Ok(other) => Err(rusqlite::Error::InvalidColumnType(index, column.into(), other.data_type()).to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn integer(&self, index: usize) -> std::result::Result<i64, String> {
        self.get::<_, i64>(index).map_err(|e| e.to_string())
    }
}

impl Columns for raw::Row<'_> {
    fn text(&self, index: usize, _column: &'static str) -> std::result::Result<&[u8], String> {
        // The table's STRICT `TEXT NOT NULL` columns hold text only; a damaged file's value of
        // another type is read as its text (SQLite converts it), and NULL is refused.
        self.text(index).ok_or_else(|| "it is NULL".to_owned())
    }

    fn integer(&self, index: usize) -> std::result::Result<i64, String> {
        self.integer(index)
            .ok_or_else(|| format!("column {index} does not hold an integer"))
    }
}

/// `bytes` as text, checked with SIMD (most of a row's bytes are its payload); the standard
/// library's check words the error, with where the text stops being UTF-8.
fn utf8(bytes: &[u8]) -> std::result::Result<&str, std::str::Utf8Error> {
    simdutf8::basic::from_utf8(bytes).or_else(|_| std::str::from_utf8(bytes))
}

/// Names [`Names`] keeps at most.
const KEPT_NAMES: usize = 256;

/// The names every row repeats (its stream type and event type, a few distinct ones in a whole
/// store), kept to be cloned: a row whose name is one of them is not checked and copied again.
#[derive(Default)]
struct Names {
    kept: rustc_hash::FxHashMap<Box<[u8]>, SmolStr>,
}

impl Names {
    /// The name `bytes` spell: the kept one, or what `make` makes of them (then kept).
    fn get(&mut self, bytes: &[u8], make: impl FnOnce() -> Result<SmolStr>) -> Result<SmolStr> {
        if let Some(kept) = self.kept.get(bytes) {
            return Ok(kept.clone());
        }
        let name = make()?;
        if self.kept.len() < KEPT_NAMES {
            self.kept.insert(bytes.into(), name.clone());
        }
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::{TimeZone, Utc};

    use rusqlite::Connection;
    use uuid::Uuid;

    use super::{ExpectedVersion, NewEvent, SqliteStore};
    use crate::{EventSource, StoreError};

    /// A table Rewind made (STRICT) is read through SQLite's C interface; another tool's copy
    /// of it (the same columns, not STRICT) through rusqlite's checked one. Both read the same
    /// events, and a NULL where a text belongs is an error either way.
    #[test]
    fn a_strict_table_and_a_loose_copy_of_it_read_the_same_events() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("events.sqlite");
        let mut store = SqliteStore::create(&path).expect("store is created");
        let events: Vec<NewEvent> = (0..5)
            .map(|n| NewEvent {
                event_id: Uuid::new_v4(),
                event_type: ["Opened", "Deposited"][n % 2].into(),
                schema_version: 1 + (n as u32 % 2),
                recorded_at: Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, n as u32).unwrap(),
                data: serde_json::json!({ "amount_cents": n, "note": "é" }),
                metadata: if n == 0 {
                    serde_json::json!({})
                } else {
                    serde_json::json!({ "correlation_id": "c" })
                },
            })
            .collect();
        store
            .append("account-1", "account", ExpectedVersion::Any, &events)
            .expect("appended");
        drop(store);
        let read = |path: &Path| {
            let store = SqliteStore::open_read_only(path).expect("opens");
            let mut read = Vec::new();
            let result = store.read_all(2, &mut |batch| {
                read.append(batch);
                Ok(())
            });
            (store.strict_texts, result.map(|()| read))
        };
        let (strict, from_strict) = read(&path);
        assert!(strict, "Rewind's own table is read without type checks");
        let from_strict = from_strict.expect("reads");
        assert_eq!(from_strict.len(), 5);

        let loose = dir.path().join("loose.sqlite");
        std::fs::copy(&path, &loose).expect("copied");
        let change = |sql: &str| {
            let connection = Connection::open(&loose).expect("opens");
            connection.execute_batch(sql).expect("changes");
        };
        change("CREATE TABLE copy AS SELECT * FROM events; DROP TABLE events; ALTER TABLE copy RENAME TO events;");
        let (strict, from_loose) = read(&loose);
        assert!(
            !strict,
            "a table that is not STRICT is read with each value's type checked"
        );
        assert_eq!(from_loose.expect("reads"), from_strict);

        change("UPDATE events SET stream_type = NULL WHERE global_position = 2");
        let (_, refused) = read(&loose);
        assert!(
            matches!(
                refused,
                Err(StoreError::BadRow {
                    position: 2,
                    column: "stream_type",
                    ..
                })
            ),
            "{refused:?}"
        );
    }

    /// An event is found by its id through the index, in a copy without the index by reading
    /// the events, and, once a read has met an id in another spelling (which the index, comparing
    /// text, would miss), by reading them too.
    #[test]
    fn an_event_is_found_by_its_id_with_or_without_the_index() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("events.sqlite");
        let mut store = SqliteStore::create(&path).expect("store is created");
        let ids: Vec<Uuid> = (0..6).map(|_| Uuid::new_v4()).collect();
        let events: Vec<NewEvent> = ids
            .iter()
            .enumerate()
            .map(|(n, &event_id)| NewEvent {
                event_id,
                event_type: "Deposited".into(),
                schema_version: 1,
                recorded_at: Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, n as u32).unwrap(),
                data: serde_json::json!({ "amount_cents": n }),
                metadata: serde_json::json!({}),
            })
            .collect();
        store
            .append("account-1", "account", ExpectedVersion::Any, &events)
            .expect("appended");
        drop(store);
        let stranger = Uuid::new_v4();
        let finds = |path: &Path, read_first: bool| {
            let store = SqliteStore::open_read_only(path).expect("opens");
            if read_first {
                store.read_all(4, &mut |_| Ok(())).expect("reads");
            }
            let found: Vec<Option<u64>> = ids.iter().map(|&id| store.find_event_id(id).expect("looks")).collect();
            (
                store.unique_event_ids(),
                found,
                store.find_event_id(stranger).expect("looks"),
            )
        };
        let everywhere: Vec<Option<u64>> = (1..=6).map(Some).collect();
        assert_eq!(
            finds(&path, false),
            (true, everywhere.clone(), None),
            "through the index"
        );

        // A copy of the store, changed by `sql`.
        let changed_copy = |name: &str, sql: &str| {
            let copy = dir.path().join(name);
            std::fs::copy(&path, &copy).expect("copied");
            Connection::open(&copy)
                .expect("opens")
                .execute_batch(sql)
                .expect("changes");
            copy
        };
        let upper = changed_copy(
            "upper.sqlite",
            "UPDATE events SET event_id = upper(event_id) WHERE global_position = 4",
        );
        assert_eq!(
            finds(&upper, true),
            (false, everywhere.clone(), None),
            "after meeting an id in capitals, by reading"
        );

        let loose = changed_copy("loose.sqlite", "DROP INDEX events_event_id");
        assert_eq!(
            finds(&loose, false),
            (false, everywhere, None),
            "without the index, by reading"
        );
    }
}
