//! SQLite files written by other event-sourcing libraries, read through a [`Mapping`].
//!
//! [`inspect_sqlite`] recognises the schema by its tables and columns (Python `eventsourcing`,
//! Emmett, cqrs-es/sqlite-es, the common tutorial `events` table, Rewind's own) and
//! [`MappedSqliteStore`] reads any table a mapping describes. Names from the file are always
//! quoted as identifiers, and filter values are bound as parameters: nothing from the file is
//! pasted into SQL as code.

use std::path::{Path, PathBuf};

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, Row};
use serde_json::Value;
use uuid::Uuid;

use rewind_core::RecordedEvent;

use crate::decode::{self, RawPayload};
use crate::error::{Result, StoreError};
use crate::mapping::{MappedRow, Mapping, RowTime};
use crate::schema::{Column, Recognised, Table, quote, recognise};
use crate::source::{EventSource, Skipped, StreamInfo, streams_by_scan};
use crate::sqlite_file::{self, sqlite_error};

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
            view: false,
            schema: None,
            name,
            columns,
        });
    }
    Ok(tables)
}

/// Whether `version` (quoted) can be the version of `stream` (quoted) in `table` (quoted): it
/// is not NULL in every row, and it varies within the streams that have several rows. A
/// question SQLite cannot answer is taken for yes: the mapping is the user's to check.
pub(crate) fn version_holds(connection: &Connection, table: &str, stream: &str, version: &str) -> bool {
    let sql = format!(
        "SELECT COUNT({version}), (SELECT MAX(d) FROM (SELECT COUNT(DISTINCT {version}) AS d FROM {table} \
         GROUP BY {stream} HAVING COUNT(*) > 1)) FROM {table}"
    );
    let counts = connection.query_row(&sql, [], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, Option<i64>>(1)?))
    });
    !matches!(counts, Ok((0, _) | (_, Some(1))))
}

/// Whether rows of `table` (quoted) repeat the values of `columns` (SQL), together.
fn repeats(connection: &Connection, table: &str, columns: &[String]) -> bool {
    let columns = columns.join(", ");
    let sql = format!("SELECT 1 FROM {table} GROUP BY {columns} HAVING COUNT(*) > 1 LIMIT 1");
    connection.query_row(&sql, [], |_| Ok(())).is_ok()
}

/// Whether `column` holds several values for one value of `by` in `table` (quoted).
fn varies(connection: &Connection, table: &str, by: &str, column: &str) -> bool {
    let sql = format!(
        "SELECT 1 FROM {table} GROUP BY {} HAVING COUNT(DISTINCT {}) > 1 LIMIT 1",
        quote(by),
        quote(column)
    );
    connection.query_row(&sql, [], |_| Ok(())).is_ok()
}

/// A known schema's mapping, with a category where its data needs one (see
/// [`Mapping::separating`]).
pub(crate) fn separated(connection: &Connection, mapping: Mapping) -> Mapping {
    let Some(table) = mapping.table.as_deref().map(quote) else {
        return mapping;
    };
    mapping.separating(
        &[],
        &mut |columns| repeats(connection, &table, columns),
        &mut |by, column| varies(connection, &table, by, column),
    )
}

/// A proposal checked against its table's data (versions that hold versions, the column that
/// separates streams, counting from 0, a type inside the payload), with the table's first row
/// as examples.
fn refined(connection: &Connection, proposal: Mapping, columns: &[String]) -> (Mapping, Vec<String>) {
    let table = proposal.table.clone().unwrap_or_default();
    let examples = connection
        .query_row(&format!("SELECT * FROM {} LIMIT 1", quote(&table)), [], |row| {
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
    // A version column must hold versions: not NULL everywhere, varying within a stream.
    let table = quote(&table);
    let proposal = proposal
        .checking_versions(columns, &mut |stream, version| {
            version_holds(connection, &table, &quote(stream), &quote(version))
        })
        .separating(
            columns,
            &mut |columns| repeats(connection, &table, columns),
            &mut |by, column| varies(connection, &table, by, column),
        )
        .counting_from(columns, &examples)
        .typing_from_payload(columns, &examples);
    (proposal, examples)
}

/// Recognises the event table of a SQLite file.
pub fn inspect_sqlite(connection: &Connection, path: &Path) -> Result<Recognised> {
    let tables = tables(connection, path)?;
    Ok(match recognise(&tables, true) {
        Recognised::Unknown { proposal, columns, .. } => {
            let more = proposal.more_tables.clone();
            let (first, examples) = refined(
                connection,
                Mapping {
                    more_tables: Vec::new(),
                    ..proposal
                },
                &columns,
            );
            // Each other table of a table-per-type store is looked at in its own data.
            let more_tables = more
                .into_iter()
                .map(|mapping| refined(connection, mapping, &columns).0)
                .collect();
            Recognised::Unknown {
                proposal: Mapping { more_tables, ..first },
                columns,
                examples,
            }
        }
        other => other,
    })
}

/// A foreign table read through a mapping. Opened read-only; never writes.
pub struct MappedSqliteStore {
    connection: Connection,
    /// The private copy read instead of the file, if one was needed (dropped after the
    /// connection).
    _copy: Option<tempfile::TempDir>,
    /// How the file had to be read, when that is worth saying.
    note: Option<String>,
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
        let connection = sqlite_file::open_read_only(path)?;
        Self::with_connection(connection, path, mapping, library)
    }

    pub(crate) fn with_connection(
        file: sqlite_file::ReadOnlyFile,
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
        let tables = tables(&file.connection, path)?;
        let Some(table) = tables.iter().find(|t| t.name == table_name) else {
            return Err(bad_mapping(format!(
                "no table `{table_name}` (tables: {})",
                tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
            )));
        };
        let columns = [
            &Some(mapping.stream.clone()),
            &mapping.category,
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
        // With a category, a stream is told by both: `order-17`.
        let stream = match &mapping.category {
            Some(category) => format!("({} || '-' || {})", quote(category), quote(&mapping.stream)),
            None => quote(&mapping.stream),
        };
        let position = quote(mapping.position.as_deref().unwrap_or("rowid"));
        // Stored versions counted from 0 become Rewind's, counted from 1.
        let version = match &mapping.version {
            Some(column) => format!("({} + {})", quote(column), 1 - i64::from(mapping.version_base >= 1)),
            None => format!("row_number() OVER (PARTITION BY {stream} ORDER BY {position})"),
        };
        let optional = |name: &Option<String>| name.as_deref().map_or_else(|| "NULL".to_owned(), quote);
        let mut valid = vec![format!("{stream} IS NOT NULL"), format!("{position} IS NOT NULL")];
        if let Some(category) = &mapping.category {
            valid.push(format!("{} IS NOT NULL", quote(category)));
        }
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
            optional(&mapping.stream_type_column().cloned()),
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
        // Also the seed of the ids made for events without one: how the file was read must
        // not change them.
        let description = format!("{library} SQLite (table {table_name})");
        let mut store = Self {
            connection: file.connection,
            _copy: file.copy,
            note: file.note,
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
        if let Some(category) = &self.mapping.category {
            checks.push((quote(category), "no stream category"));
        }
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
        match &self.note {
            Some(note) => format!("{}, {note}", self.description),
            None => self.description.clone(),
        }
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
