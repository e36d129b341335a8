//! SQLite files written by other event-sourcing libraries, read through a [`Mapping`].
//!
//! [`inspect_sqlite`] recognises the schema by its tables and columns (Python `eventsourcing`,
//! Emmett, cqrs-es/sqlite-es, the common tutorial `events` table, Rewind's own) and
//! [`MappedSqliteStore`] reads any table a mapping describes. Names from the file are always
//! quoted as identifiers, and filter values are bound as parameters: nothing from the file is
//! pasted into SQL as code.

use std::path::{Path, PathBuf};

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, OpenFlags, Row};
use serde_json::Value;
use uuid::Uuid;

use rewind_core::RecordedEvent;

use crate::decode::{self, RawPayload};
use crate::error::{Result, StoreError};
use crate::mapping::{Filter, MappedRow, Mapping, RowTime, normalise};
use crate::source::{EventSource, Skipped, StreamInfo, streams_by_scan};

/// What a SQLite file holds, as far as events go.
#[derive(Clone, Debug, PartialEq)]
pub enum SqliteSchema {
    /// Rewind's own store.
    Rewind,
    /// A schema a known library writes, with its mapping.
    Known { name: &'static str, mapping: Mapping },
    /// A table that looks like events, with the mapping Rewind proposes; the user confirms it.
    Unknown {
        proposal: Mapping,
        columns: Vec<String>,
        /// The first row's value of each column, as text (empty when the table is empty).
        examples: Vec<String>,
    },
    /// No table looks like events.
    NoEvents { tables: Vec<String> },
}

pub(crate) struct Table {
    /// PostgreSQL only: the schema the table is in.
    pub schema: Option<String>,
    pub name: String,
    pub columns: Vec<Column>,
}

pub(crate) struct Column {
    pub name: String,
    pub declared_type: String,
    pub primary_key: bool,
}

impl Table {
    fn qualified_name(&self) -> String {
        match &self.schema {
            Some(schema) if schema != "public" => format!("{schema}.{}", self.name),
            _ => self.name.clone(),
        }
    }

    fn has(&self, normalised: &[&str]) -> bool {
        normalised.iter().all(|n| self.column(n).is_some())
    }

    /// The column whose normalised name is `normalised`, as the file spells it.
    fn column(&self, normalised: &str) -> Option<String> {
        self.columns
            .iter()
            .find(|c| normalise(&c.name) == normalised)
            .map(|c| c.name.clone())
    }

    fn names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }
}

fn sqlite_error(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.to_owned(),
        source,
    }
}

/// Opens a SQLite file so that nothing can write to it.
pub(crate) fn open_read_only_connection(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags).map_err(|e| StoreError::Open {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    connection
        .execute_batch("PRAGMA query_only = ON; PRAGMA busy_timeout = 10000;")
        .map_err(|e| StoreError::NotAStore {
            path: path.to_owned(),
            reason: format!("SQLite cannot read it: {e}"),
        })?;
    Ok(connection)
}

fn tables(connection: &Connection, path: &Path) -> Result<Vec<Table>> {
    let names: Vec<String> = connection
        .prepare(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .and_then(|mut s| s.query_map([], |row| row.get(0))?.collect())
        .map_err(|e| StoreError::NotAStore {
            path: path.to_owned(),
            reason: format!("SQLite cannot read its schema: {e}"),
        })?;
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        let columns = connection
            .prepare("SELECT name, type, pk FROM pragma_table_info(?1)")
            .and_then(|mut s| {
                s.query_map([&name], |row| {
                    Ok(Column {
                        name: row.get(0)?,
                        declared_type: row.get::<_, Option<String>>(1)?.unwrap_or_default(),
                        primary_key: row.get::<_, i64>(2)? > 0,
                    })
                })?
                .collect()
            })
            .map_err(|e| sqlite_error(path, e))?;
        tables.push(Table {
            schema: None,
            name,
            columns,
        });
    }
    Ok(tables)
}

/// Recognises the event table of a SQLite file.
pub fn inspect_sqlite(connection: &Connection, path: &Path) -> Result<SqliteSchema> {
    let tables = tables(connection, path)?;
    Ok(match recognise(&tables, true) {
        SqliteSchema::Unknown { proposal, columns, .. } => {
            let table = proposal.table.as_deref().unwrap_or_default();
            let examples = connection
                .query_row(&format!("SELECT * FROM {} LIMIT 1", quote(table)), [], |row| {
                    Ok((0..columns.len())
                        .map(|i| {
                            row.get_ref(i)
                                .ok()
                                .and_then(text_of)
                                .map(|t| decode::clip(&t))
                                .unwrap_or_default()
                        })
                        .collect::<Vec<String>>())
                })
                .unwrap_or_else(|_| vec![String::new(); columns.len()]);
            SqliteSchema::Unknown {
                proposal,
                columns,
                examples,
            }
        }
        other => other,
    })
}

/// Recognises the event table among `tables` (of a SQLite file, or of every schema of a
/// PostgreSQL database). `has_rowid`: SQLite's implicit row id can order rows that have no
/// position column.
pub(crate) fn recognise(tables: &[Table], has_rowid: bool) -> SqliteSchema {
    let find = |name: &str| tables.iter().find(|t| t.name.eq_ignore_ascii_case(name));
    let rowid = || has_rowid.then(|| "rowid".to_owned());
    let known = |name: &'static str, table: &Table, mapping: Mapping| SqliteSchema::Known {
        name,
        mapping: Mapping {
            table: Some(table.name.clone()),
            schema: table.schema.clone(),
            ..mapping
        },
    };

    if let Some(events) = find("events")
        && events.has(&[
            "globalposition",
            "streamid",
            "streamtype",
            "streamversion",
            "eventid",
            "eventtype",
            "schemaversion",
            "recordedat",
            "data",
        ])
    {
        return SqliteSchema::Rewind;
    }
    for (table_name, prefix) in [("emt_messages", "message"), ("emt_events", "event")] {
        if let Some(table) = find(table_name)
            && table.has(&[
                "streamid",
                "streamposition",
                "globalposition",
                &format!("{prefix}type"),
                &format!("{prefix}data"),
            ])
        {
            let mut filter = Vec::new();
            if let Some(kind) = table.column("messagekind") {
                filter.push(Filter {
                    column: kind,
                    equals: toml::Value::String("E".into()),
                });
            }
            filter.extend(not_archived(table));
            return known(
                if prefix == "message" {
                    "Emmett"
                } else {
                    "Emmett (emt_events, before 2025)"
                },
                table,
                Mapping {
                    stream: table.column("streamid").unwrap_or_default(),
                    version: table.column("streamposition"),
                    position: table.column("globalposition"),
                    event_id: table.column(&format!("{prefix}id")),
                    event_type: table.column(&format!("{prefix}type")),
                    time: table.column("created"),
                    payload: table.column(&format!("{prefix}data")),
                    metadata: table.column(&format!("{prefix}metadata")),
                    filter,
                    ..Mapping::default()
                },
            );
        }
    }
    let python =
        |t: &&Table| t.has(&["originatorid", "originatorversion", "topic", "state"]) && !t.name.contains("snapshot");
    if let Some(table) = find("stored_events")
        .filter(python)
        .or_else(|| tables.iter().find(python))
    {
        return known(
            "Python eventsourcing",
            table,
            Mapping {
                stream: table.column("originatorid").unwrap_or_default(),
                version: table.column("originatorversion"),
                position: table.column("notificationid").or_else(rowid),
                event_type: table.column("topic"),
                payload: table.column("state"),
                time_in_payload: Some("timestamp".into()),
                unwrap_type_tags: true,
                ..Mapping::default()
            },
        );
    }
    if let Some(table) = find("events")
        && table.has(&["aggregatetype", "aggregateid", "sequence", "payload", "metadata"])
    {
        return known(
            if table.has(&["eventtype"]) {
                "cqrs-es"
            } else {
                "cqrs-es (legacy, no event_type)"
            },
            table,
            Mapping {
                stream: table.column("aggregateid").unwrap_or_default(),
                stream_type: table.column("aggregatetype"),
                version: table.column("sequence"),
                schema_version: table.column("eventversion"),
                position: rowid(),
                event_type: table.column("eventtype"),
                time: table.column("timestamp"),
                payload: table.column("payload"),
                metadata: table.column("metadata"),
                ..Mapping::default()
            },
        );
    }
    if let Some(table) = ["events", "event_store", "event"].into_iter().find_map(find)
        && table.has(&[
            "eventid",
            "aggregateid",
            "eventtype",
            "eventversion",
            "eventdata",
            "createdat",
        ])
    {
        return known(
            "tutorial events table",
            table,
            Mapping {
                stream: table.column("aggregateid").unwrap_or_default(),
                stream_type: table.column("aggregatetype"),
                version: table.column("eventversion"),
                position: integer_key(table).or_else(rowid),
                event_id: table.column("eventid"),
                event_type: table.column("eventtype"),
                time: table.column("createdat"),
                payload: table.column("eventdata"),
                metadata: table.column("metadata"),
                ..Mapping::default()
            },
        );
    }
    if let Some(table) = find("mt_events")
        && table.has(&["seqid", "id", "streamid", "version", "data", "type", "timestamp"])
    {
        let filter = not_archived(table).into_iter().collect();
        return known(
            "Marten",
            table,
            Mapping {
                stream: table.column("streamid").unwrap_or_default(),
                version: table.column("version"),
                position: table.column("seqid"),
                event_id: table.column("id"),
                event_type: table.column("type"),
                time: table.column("timestamp"),
                payload: table.column("data"),
                metadata: table.column("headers"),
                filter,
                ..Mapping::default()
            },
        );
    }
    if let Some(table) = find("messages")
        && table.has(&[
            "globalposition",
            "position",
            "streamname",
            "type",
            "data",
            "metadata",
            "time",
        ])
    {
        return known(
            "Message DB",
            table,
            Mapping {
                stream: table.column("streamname").unwrap_or_default(),
                version: table.column("position"),
                version_base: 0,
                position: table.column("globalposition"),
                event_id: table.column("id"),
                event_type: table.column("type"),
                time: table.column("time"),
                payload: table.column("data"),
                metadata: table.column("metadata"),
                ..Mapping::default()
            },
        );
    }
    // Anything else: the best-looking table gets a proposal, tables named like events first.
    let mut candidates: Vec<(bool, Mapping, Vec<String>)> = tables
        .iter()
        .map(|table| {
            let mut mapping = Mapping::propose(Some(&table.name), &table.names(), has_rowid);
            mapping.schema.clone_from(&table.schema);
            if let Some(position) = &mapping.position
                && position != "rowid"
                && !is_integer_column(table, position)
            {
                mapping.position = rowid();
            }
            (
                table.name.to_ascii_lowercase().contains("event"),
                mapping,
                table.names(),
            )
        })
        .filter(|(_, mapping, _)| mapping.looks_like_events())
        .collect();
    candidates.sort_by_key(|(named_event, _, _)| !named_event);
    match candidates.into_iter().next() {
        Some((_, proposal, columns)) => SqliteSchema::Unknown {
            examples: vec![String::new(); columns.len()],
            proposal,
            columns,
        },
        None => SqliteSchema::NoEvents {
            tables: tables.iter().map(Table::qualified_name).collect(),
        },
    }
}

/// Emmett and Marten mark archived rows (`is_archived`); they are not replayed.
fn not_archived(table: &Table) -> Option<Filter> {
    table.column("isarchived").map(|column| Filter {
        column,
        equals: toml::Value::Integer(0),
    })
}

/// An `INTEGER PRIMARY KEY` column (SQLite's row id under its own name).
fn integer_key(table: &Table) -> Option<String> {
    let keys: Vec<&Column> = table.columns.iter().filter(|c| c.primary_key).collect();
    match keys.as_slice() {
        [key] if key.declared_type.eq_ignore_ascii_case("integer") => Some(key.name.clone()),
        _ => None,
    }
}

fn is_integer_column(table: &Table, name: &str) -> bool {
    table.columns.iter().any(|c| {
        c.name == name && (c.declared_type.to_ascii_uppercase().contains("INT") || c.declared_type == "numeric")
    })
}

/// `"name"`, with quotes inside doubled: an identifier, never code.
pub(crate) fn quote(name: &str) -> String {
    if name.eq_ignore_ascii_case("rowid") {
        return "rowid".into();
    }
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A foreign table read through a mapping. Opened read-only; never writes.
pub struct MappedSqliteStore {
    connection: Connection,
    path: PathBuf,
    description: String,
    mapping: Mapping,
    /// `SELECT … FROM … WHERE <valid rows>`, to which each read adds its own condition.
    select: String,
    from_where: String,
    position: String,
    stream: String,
    filter_values: Vec<SqlValue>,
    skipped: Vec<Skipped>,
}

impl MappedSqliteStore {
    /// Opens `path` read-only and checks that the mapping's table and columns exist.
    pub fn open(path: &Path, mapping: Mapping, library: &str) -> Result<Self> {
        let connection = open_read_only_connection(path)?;
        Self::with_connection(connection, path, mapping, library)
    }

    pub(crate) fn with_connection(
        connection: Connection,
        path: &Path,
        mapping: Mapping,
        library: &str,
    ) -> Result<Self> {
        let bad_mapping = |reason: String| StoreError::BadMapping {
            path: path.to_owned(),
            reason,
        };
        let problems = mapping.problems();
        if !problems.is_empty() {
            return Err(bad_mapping(problems.join("; ")));
        }
        let Some(table_name) = mapping.table.clone() else {
            return Err(bad_mapping("the mapping names no `table`".into()));
        };
        let tables = tables(&connection, path)?;
        let Some(table) = tables.iter().find(|t| t.name == table_name) else {
            return Err(bad_mapping(format!(
                "no table `{table_name}` (tables: {})",
                tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
            )));
        };
        let columns = [
            &Some(mapping.stream.clone()),
            &mapping.stream_type,
            &mapping.version,
            &mapping.position,
            &mapping.event_id,
            &mapping.event_type,
            &mapping.time,
            &mapping.payload,
            &mapping.metadata,
            &mapping.schema_version,
        ];
        let filter_columns = mapping
            .filter
            .iter()
            .map(|f| Some(f.column.clone()))
            .collect::<Vec<_>>();
        for column in columns.into_iter().chain(filter_columns.iter()).flatten() {
            if !column.eq_ignore_ascii_case("rowid") && !table.columns.iter().any(|c| &c.name == column) {
                return Err(bad_mapping(format!(
                    "table `{table_name}` has no column `{column}` (columns: {})",
                    table.names().join(", ")
                )));
            }
        }
        let stream = quote(&mapping.stream);
        let position = quote(mapping.position.as_deref().unwrap_or("rowid"));
        // Stored versions counted from 0 become Rewind's, counted from 1.
        let version = match &mapping.version {
            Some(column) => format!("({} + {})", quote(column), 1 - i64::from(mapping.version_base >= 1)),
            None => format!("row_number() OVER (PARTITION BY {stream} ORDER BY {position})"),
        };
        let optional = |name: &Option<String>| name.as_deref().map_or_else(|| "NULL".to_owned(), quote);
        let mut valid = vec![format!("{stream} IS NOT NULL"), format!("{position} IS NOT NULL")];
        if let Some(column) = &mapping.version {
            valid.push(format!("{} IS NOT NULL", quote(column)));
        }
        if let Some(column) = &mapping.event_type {
            valid.push(format!("{} IS NOT NULL", quote(column)));
        }
        let mut filter_values = Vec::new();
        for filter in &mapping.filter {
            filter_values.push(match &filter.equals {
                toml::Value::Integer(i) => SqlValue::Integer(*i),
                toml::Value::Float(f) => SqlValue::Real(*f),
                toml::Value::Boolean(b) => SqlValue::Integer(i64::from(*b)),
                toml::Value::String(s) => SqlValue::Text(s.clone()),
                other => SqlValue::Text(other.to_string()),
            });
            valid.push(format!("{} = ?{}", quote(&filter.column), filter_values.len()));
        }
        // Reads select from this (SQLite flattens it, so the position's index is used; a
        // computed version needs the whole table and is not flattened).
        let from_where = format!(
            "FROM (SELECT {position} AS rw_position, {stream} AS rw_stream, {} AS rw_stream_type, {version} AS rw_version, \
             {} AS rw_event_id, {} AS rw_event_type, {} AS rw_time, {} AS rw_payload, {} AS rw_metadata, \
             {} AS rw_schema_version \
             FROM {} WHERE {}) WHERE 1",
            optional(&mapping.stream_type),
            optional(&mapping.event_id),
            optional(&mapping.event_type),
            optional(&mapping.time),
            optional(&mapping.payload),
            optional(&mapping.metadata),
            optional(&mapping.schema_version),
            quote(&table_name),
            valid.join(" AND "),
        );
        let select = "SELECT *".to_owned();
        let (position, stream) = ("rw_position".to_owned(), "rw_stream".to_owned());
        let description = format!("{library} SQLite (table {table_name})");
        let mut store = Self {
            connection,
            path: path.to_owned(),
            description,
            mapping,
            select,
            from_where,
            position,
            stream,
            filter_values,
            skipped: Vec::new(),
        };
        store.skipped = store.rows_left_out(&table_name)?;
        Ok(store)
    }

    /// Rows the mapping cannot use (no stream, position, version or type), reported by row.
    fn rows_left_out(&self, table: &str) -> Result<Vec<Skipped>> {
        let mut checks = vec![(quote(&self.mapping.stream), "no stream id")];
        if let Some(position) = &self.mapping.position {
            checks.push((quote(position), "no global position"));
        }
        if let Some(version) = &self.mapping.version {
            checks.push((quote(version), "no stream version"));
        }
        if let Some(event_type) = &self.mapping.event_type {
            checks.push((quote(event_type), "no event type"));
        }
        let mut skipped = Vec::new();
        for (column, reason) in checks {
            let sql = format!("SELECT rowid FROM {} WHERE {column} IS NULL LIMIT 1000", quote(table));
            // Tables without a row id cannot name their rows; they are counted instead.
            let rows: Vec<i64> = match self.connection.prepare(&sql) {
                Ok(mut statement) => statement
                    .query_map([], |row| row.get(0))
                    .and_then(Iterator::collect)
                    .map_err(|e| sqlite_error(&self.path, e))?,
                Err(_) => Vec::new(),
            };
            skipped.extend(rows.into_iter().map(|rowid| Skipped {
                record: format!("row {rowid}"),
                reason: format!("{reason} (column {column} is NULL)"),
            }));
        }
        Ok(skipped)
    }

    /// The events of the valid rows that also meet `condition`, ordered by `order`; `extra`
    /// values are bound after the filter's.
    fn query(&self, condition: &str, order: &str, extra: &[SqlValue]) -> Result<Vec<RecordedEvent>> {
        let sql = format!("{} {} AND {condition} ORDER BY {order}", self.select, self.from_where);
        let mut statement = self
            .connection
            .prepare_cached(&sql)
            .map_err(|e| sqlite_error(&self.path, e))?;
        let params: Vec<&dyn rusqlite::ToSql> = self
            .filter_values
            .iter()
            .chain(extra)
            .map(|v| v as &dyn rusqlite::ToSql)
            .collect();
        let mut rows = statement
            .query(params.as_slice())
            .map_err(|e| sqlite_error(&self.path, e))?;
        let mut events = Vec::new();
        while let Some(row) = rows.next().map_err(|e| sqlite_error(&self.path, e))? {
            events.push(self.event(row).map_err(|e| sqlite_error(&self.path, e))?);
        }
        Ok(events)
    }

    fn event(&self, row: &Row<'_>) -> rusqlite::Result<RecordedEvent> {
        let event_id = match row.get_ref(4)? {
            ValueRef::Blob(bytes) if bytes.len() == 16 => Uuid::from_slice(bytes).ok(),
            value => text_of(value).map(|text| decode::event_id_from(&text)),
        };
        let time = match row.get_ref(6)? {
            ValueRef::Null => RowTime::Missing,
            ValueRef::Integer(n) => RowTime::Raw(Value::from(n)),
            ValueRef::Real(f) => RowTime::Raw(Value::from(f as i64)),
            value => RowTime::Raw(Value::String(text_of(value).unwrap_or_default())),
        };
        let row = MappedRow {
            position: u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0),
            stream_id: text_of(row.get_ref(1)?).unwrap_or_default(),
            stream_type: text_of(row.get_ref(2)?),
            version: u64::try_from(row.get::<_, i64>(3)?).unwrap_or(0),
            event_id,
            event_type: text_of(row.get_ref(5)?),
            time,
            payload: decode::decode_payload(raw(row.get_ref(7)?)),
            metadata: match row.get_ref(8)? {
                ValueRef::Null => Value::Null.into(),
                value => decode::decode_payload_value(raw(value)).0.into(),
            },
            schema_version: text_of(row.get_ref(9)?),
        };
        Ok(row.into_event(&self.mapping, &self.description))
    }
}

fn raw(value: ValueRef<'_>) -> RawPayload<'_> {
    match value {
        ValueRef::Null => RawPayload::Json(Value::Null),
        ValueRef::Integer(n) => RawPayload::Json(Value::from(n)),
        ValueRef::Real(f) => RawPayload::Json(Value::from(f)),
        ValueRef::Text(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => RawPayload::Text(text),
            Err(_) => RawPayload::Bytes(bytes),
        },
        ValueRef::Blob(bytes) => RawPayload::Bytes(bytes),
    }
}

/// A column as text: strings as they are, numbers written out, 16-byte blobs as UUIDs.
fn text_of(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()).filter(|s| !s.is_empty()),
        ValueRef::Blob(bytes) if bytes.len() == 16 => Uuid::from_slice(bytes).ok().map(|u| u.to_string()),
        ValueRef::Blob(bytes) => Some(decode::hex(bytes)),
    }
}

impl EventSource for MappedSqliteStore {
    fn describe(&self) -> String {
        self.description.clone()
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn event_count(&self) -> Result<u64> {
        let sql = format!("SELECT count(*) {}", self.from_where);
        let params: Vec<&dyn rusqlite::ToSql> = self.filter_values.iter().map(|v| v as &dyn rusqlite::ToSql).collect();
        self.connection
            .query_row(&sql, params.as_slice(), |row| row.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| sqlite_error(&self.path, e))
    }

    fn streams(&self) -> Result<Vec<StreamInfo>> {
        streams_by_scan(self)
    }

    fn read_stream(&self, stream_id: &str, up_to_version: Option<u64>) -> Result<Vec<RecordedEvent>> {
        let n = self.filter_values.len();
        let mut events = self.query(
            &format!("{} = ?{}", self.stream, n + 1),
            &self.position,
            &[SqlValue::Text(stream_id.to_owned())],
        )?;
        // A numeric stream id is stored as an integer: try that too.
        if events.is_empty()
            && let Ok(number) = stream_id.parse::<i64>()
        {
            events = self.query(
                &format!("{} = ?{}", self.stream, n + 1),
                &self.position,
                &[SqlValue::Integer(number)],
            )?;
        }
        events.sort_by_key(|e| e.stream_version);
        events.retain(|e| up_to_version.is_none_or(|v| e.stream_version <= v));
        Ok(events)
    }

    fn read_batch(&self, after_position: u64, limit: usize) -> Result<Vec<RecordedEvent>> {
        let n = self.filter_values.len();
        self.query(
            &format!("{} > ?{}", self.position, n + 1),
            &format!("{} LIMIT ?{}", self.position, n + 2),
            &[
                SqlValue::Integer(i64::try_from(after_position).unwrap_or(i64::MAX)),
                SqlValue::Integer(i64::try_from(limit).unwrap_or(i64::MAX)),
            ],
        )
    }

    fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }
}
