//! The native SQLite event store: one STRICT `events` table, a `snapshots` table for the write side.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior, params};
use serde_json::Value;
use uuid::Uuid;

use rewind_core::{Payload, RecordedEvent, SmolStr};

use crate::error::{Result, StoreError};
use crate::source::{BareScan, EventSource, StreamInfo};

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

/// An event with its payload and metadata serialized once, for writers of several formats.
#[derive(Clone, Debug)]
pub struct EncodedEvent {
    pub event: RecordedEvent,
    /// `event.data` as JSON text.
    pub data: String,
    /// `event.metadata` as JSON text.
    pub metadata: String,
}

impl EncodedEvent {
    pub fn new(event: RecordedEvent) -> Self {
        Self {
            data: event.data.to_string(),
            metadata: event.metadata.to_string(),
            event,
        }
    }
}

/// A connection to a native Rewind SQLite store.
pub struct SqliteStore {
    connection: Connection,
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
        let connection = Connection::open(path).map_err(|e| open_error(path, &e))?;
        let store = Self {
            connection,
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
        let metadata = std::fs::metadata(path).map_err(|e| StoreError::Open {
            path: path.to_owned(),
            reason: io_reason(&e),
        })?;
        if metadata.is_dir() {
            return Err(StoreError::Open {
                path: path.to_owned(),
                reason: "it is a directory".into(),
            });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags).map_err(|e| open_error(path, &e))?;
        let mut store = Self {
            connection,
            path: path.to_owned(),
            read_only: true,
            unique_ids: false,
            uncovered_id: AtomicBool::new(false),
            strict_texts: false,
        };
        store
            .connection
            .execute_batch("PRAGMA query_only = ON; PRAGMA busy_timeout = 10000;")
            .map_err(|e| store.not_a_store(&e))?;
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
                        event.schema_version,
                        format_time(event.recorded_at),
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
        let recorded_at = text_bytes(7, "recorded_at")?;
        let recorded_at = match parse_written_time(recorded_at) {
            Some(time) => time,
            None => std::str::from_utf8(recorded_at)
                .map_err(|e| e.to_string())
                .and_then(parse_rfc3339)
                .map_err(|e| bad("recorded_at", e))?,
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
            schema_version: u32::try_from(schema_version)
                .map_err(|_| bad("schema_version", format!("{schema_version} is out of range")))?,
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
        "Rewind SQLite store".into()
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
                 MIN(recorded_at), MAX(recorded_at) FROM events GROUP BY stream_id ORDER BY MIN(global_position)",
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
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })
            .map_err(|e| self.sqlite(e))?;
        let mut streams = Vec::new();
        for row in rows {
            let (stream_id, stream_type, count, first, last, first_at, last_at) = row.map_err(|e| self.sqlite(e))?;
            let time = |text: &str, position: i64| {
                parse_time(text).map_err(|reason| StoreError::BadRow {
                    path: self.path.clone(),
                    position: position as u64,
                    column: "recorded_at",
                    reason,
                })
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

/// The one statement that walks a whole STRICT table, stepped through SQLite's C interface.
///
/// rusqlite asks every value for its type and checks its column number before reading it (four
/// calls into SQLite for each text); here a text costs two (its bytes and their length), since
/// SQLite keeps anything but text out of a STRICT `TEXT NOT NULL` column. Stepping through the
/// 10M sample with each value read took 4.7–6.1 s through rusqlite against 3.7–4.6 s here
/// (3.0–3.3 s stepping alone), on the thread that limits an index build.
#[allow(unsafe_code)]
mod raw {
    use std::ffi::{CStr, c_int};
    use std::marker::PhantomData;
    use std::ptr::{self, NonNull};

    use rusqlite::{Connection, ffi};

    pub struct Statement<'c> {
        handle: NonNull<ffi::sqlite3_stmt>,
        database: *mut ffi::sqlite3,
        _connection: PhantomData<&'c Connection>,
    }

    /// The row a [`Statement`] is at; it borrows the statement, so its texts cannot outlive
    /// the next step.
    pub struct Row<'s> {
        statement: *mut ffi::sqlite3_stmt,
        _step: PhantomData<&'s mut ()>,
    }

    impl<'c> Statement<'c> {
        pub fn prepare(connection: &'c Connection, sql: &str) -> Result<Self, rusqlite::Error> {
            let length = c_int::try_from(sql.len()).map_err(|_| rusqlite::Error::InvalidQuery)?;
            // SAFETY: the handle is the open connection's, which outlives the statement (the
            // lifetime `'c`); rusqlite's `Connection` is not `Sync`, so no other thread uses it
            // meanwhile, and SQLite allows many statements on one connection.
            let database = unsafe { connection.handle() };
            let mut statement = ptr::null_mut();
            // SAFETY: `sql` is valid for `length` bytes (SQLite reads no further), and
            // `statement` is a place for the statement's pointer.
            let code = unsafe {
                ffi::sqlite3_prepare_v2(
                    database,
                    sql.as_ptr().cast(),
                    length,
                    &raw mut statement,
                    ptr::null_mut(),
                )
            };
            if code != ffi::SQLITE_OK {
                return Err(error(database, code));
            }
            let statement = NonNull::new(statement).ok_or(rusqlite::Error::InvalidQuery)?;
            Ok(Self {
                handle: statement,
                database,
                _connection: PhantomData,
            })
        }

        /// Steps to the next row; `None` after the last.
        pub fn step(&mut self) -> Result<Option<Row<'_>>, rusqlite::Error> {
            // SAFETY: the statement is prepared and not finalized; no row of it is borrowed
            // (`Row` borrows `self` mutably), so nothing points into the values a step frees.
            match unsafe { ffi::sqlite3_step(self.handle.as_ptr()) } {
                ffi::SQLITE_ROW => Ok(Some(Row {
                    statement: self.handle.as_ptr(),
                    _step: PhantomData,
                })),
                ffi::SQLITE_DONE => Ok(None),
                code => Err(error(self.database, code)),
            }
        }
    }

    impl Drop for Statement<'_> {
        fn drop(&mut self) {
            // SAFETY: the statement was prepared by `prepare` and is finalized once, here.
            unsafe { ffi::sqlite3_finalize(self.handle.as_ptr()) };
        }
    }

    impl Row<'_> {
        /// The text in column `index`; `None` when it is NULL (or `index` is not a column).
        pub fn text(&self, index: usize) -> Option<&[u8]> {
            let index = c_int::try_from(index).ok()?;
            // SAFETY: the statement is at a row (a `Row` exists only then). SQLite returns a
            // pointer to the value's text and its length in bytes, valid until the statement
            // steps again or the value is converted to another type; the statement cannot step
            // while `self` is borrowed, and nothing here converts a value once it is text.
            unsafe {
                let text = ffi::sqlite3_column_text(self.statement, index);
                let length = ffi::sqlite3_column_bytes(self.statement, index);
                if text.is_null() {
                    return None;
                }
                Some(std::slice::from_raw_parts(text, usize::try_from(length).ok()?))
            }
        }

        /// The integer in column `index`; `None` for a value of another type.
        pub fn integer(&self, index: usize) -> Option<i64> {
            let index = c_int::try_from(index).ok()?;
            // SAFETY: the statement is at a row; asking a value's type converts nothing.
            unsafe {
                (ffi::sqlite3_column_type(self.statement, index) == ffi::SQLITE_INTEGER)
                    .then(|| ffi::sqlite3_column_int64(self.statement, index))
            }
        }
    }

    /// SQLite's error for `code` on `database`, with its message.
    fn error(database: *mut ffi::sqlite3, code: c_int) -> rusqlite::Error {
        // SAFETY: the connection is open; the message SQLite returns is NUL-terminated and
        // copied before anything else runs on the connection.
        let message = unsafe {
            let message = ffi::sqlite3_errmsg(database);
            (!message.is_null()).then(|| CStr::from_ptr(message).to_string_lossy().into_owned())
        };
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), message)
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

/// RFC 3339 UTC with milliseconds and a `Z`: sorts as text in time order.
pub fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_time(text: &str) -> std::result::Result<DateTime<Utc>, String> {
    match parse_written_time(text.as_bytes()) {
        Some(time) => Ok(time),
        None => parse_rfc3339(text),
    }
}

/// Any RFC 3339 time, read by chrono (which words what is wrong).
fn parse_rfc3339(text: &str) -> std::result::Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{text}` is not an RFC 3339 time: {e}"))
}

/// The one spelling [`format_time`] writes, `YYYY-MM-DDTHH:MM:SS.mmmZ`, read without a general
/// RFC 3339 parser (which took a twentieth of reading a store); `None` for anything else,
/// which the general parser reads or explains.
fn parse_written_time(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() != 24
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range]
            .iter()
            .try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let date = chrono::NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)?;
    let time = date.and_hms_milli_opt(number(11..13)?, number(14..16)?, number(17..19)?, number(20..23)?)?;
    Some(time.and_utc())
}

fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => error.to_string(),
    }
}

fn sqlite_reason(error: &rusqlite::Error) -> String {
    match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => "it is not a SQLite database (or it is encrypted or corrupt)".into(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => "the SQLite database is corrupt".into(),
        _ => error.to_string(),
    }
}

fn open_error(path: &Path, error: &rusqlite::Error) -> StoreError {
    StoreError::Open {
        path: path.to_owned(),
        reason: sqlite_reason(error),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use proptest::prelude::*;

    use std::path::Path;

    use rusqlite::Connection;
    use uuid::Uuid;

    use super::{ExpectedVersion, NewEvent, SqliteStore, format_time, parse_time, parse_written_time};
    use crate::{EventSource, StoreError};

    proptest! {
        /// The fast reading of the written spelling agrees with the general parser.
        #[test]
        fn written_times_read_back_as_the_general_parser_reads_them(ms in 0i64..253_402_300_799_999) {
            let time = Utc.timestamp_millis_opt(ms).single().expect("in range");
            let text = format_time(time);
            prop_assert_eq!(parse_written_time(text.as_bytes()), Some(time));
            prop_assert_eq!(DateTime::parse_from_rfc3339(&text).map(|t| t.with_timezone(&Utc)).ok(), Some(time));
        }
    }

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

    #[test]
    fn other_spellings_go_to_the_general_parser() {
        for text in [
            "2024-01-01T08:00:40Z",
            "2024-01-01T08:00:40.913+02:00",
            "2024-01-01t08:00:40.913Z",
            "2024-02-30T08:00:40.913Z",
            "2016-12-31T23:59:60.500Z",
            "2024-01-01T08:00:4a.913Z",
            "not a time at all, 24 ch",
        ] {
            assert_eq!(parse_written_time(text.as_bytes()), None, "{text}");
        }
        assert_eq!(
            parse_time("2024-01-01T10:00:40.913+02:00"),
            Ok(Utc.with_ymd_and_hms(2024, 1, 1, 8, 0, 40).unwrap() + chrono::Duration::milliseconds(913))
        );
        assert!(
            parse_time("2024-02-30T08:00:40.913Z")
                .unwrap_err()
                .contains("2024-02-30T08:00:40.913Z")
        );
    }
}
