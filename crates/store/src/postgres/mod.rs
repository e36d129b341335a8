//! A live PostgreSQL event store, read through the same detection and [`Mapping`]s as SQLite
//! files, and read-only by construction.
//!
//! Every session is opened with `default_transaction_read_only=on`, so any write through the
//! connection fails in the server; reads of the whole store stream through a server-side cursor
//! (a portal) in batches. Names from the database are quoted as identifiers and values are
//! bound parameters.

use std::sync::Mutex;
use std::time::Duration;

use postgres::{Client, Config, NoTls, Row, Statement};
use rustc_hash::FxHashMap as HashMap;
use serde_json::Value;

use rewind_core::RecordedEvent;

use self::cell::{Cell, DIRECT_TYPES, cell};
use crate::decode;
use crate::error::{Result, StoreError};
use crate::location::redact;
use crate::mapping::{MappedRow, Mapping, RowTime};
use crate::schema::{Column, Recognised, Table, quote, recognise};
use crate::source::{EventSource, Skipped, StreamInfo, streams_by_scan};

mod cell;
mod writer;

pub use writer::PostgresWriter;

pub(super) fn error(location: &str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Postgres {
        location: location.to_owned(),
        reason: reason.to_string(),
    }
}

/// `postgres::Error`'s own text is terse ("db error"); its source says what the server said.
pub(super) fn describe(e: &postgres::Error) -> String {
    match std::error::Error::source(e) {
        Some(source) => format!("{e}: {source}"),
        None => e.to_string(),
    }
}

/// The password from the URL, `PGPASSWORD`, or `~/.pgpass`, in that order (as libpq does).
pub(super) fn with_password(mut config: Config) -> Config {
    if config.get_password().is_some() {
        return config;
    }
    if let Ok(password) = std::env::var("PGPASSWORD") {
        config.password(password);
        return config;
    }
    let Some(home) = std::env::var_os("HOME") else {
        return config;
    };
    let path = std::env::var_os("PGPASSFILE").map_or_else(|| std::path::Path::new(&home).join(".pgpass"), Into::into);
    let Ok(text) = std::fs::read_to_string(path) else {
        return config;
    };
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(host)) => host.clone(),
        _ => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432).to_string();
    let database = config.get_dbname().unwrap_or_default().to_owned();
    let user = config.get_user().unwrap_or_default().to_owned();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.splitn(5, ':').collect();
        if let [h, p, d, u, password] = fields.as_slice() {
            let matches = |pattern: &str, value: &str| *pattern == *"*" || pattern == value;
            if matches(h, &host) && matches(p, &port) && matches(d, &database) && matches(u, &user) {
                config.password(*password);
                break;
            }
        }
    }
    config
}

/// Connects with every transaction read-only.
pub fn connect(url: &str) -> Result<Client> {
    let shown = redact(url);
    let mut config: Config = url
        .parse()
        .map_err(|e: postgres::Error| error(&shown, format!("not a PostgreSQL URL: {e}")))?;
    let options = config.get_options().unwrap_or_default().to_owned();
    config.options(format!("{options} -c default_transaction_read_only=on").trim());
    config.application_name("rewind");
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    with_password(config)
        .connect(NoTls)
        .map_err(|e| error(&shown, format!("cannot connect: {}", describe(&e))))
}

/// Every table, view and materialized view of every schema but the system ones, with its
/// columns: views are how events are often shown to a read-only role. (Materialized views are
/// not in `information_schema`; their types are named as it would name them.)
fn tables(client: &mut Client, shown: &str) -> Result<Vec<Table>> {
    let rows = client
        .query(
            "SELECT c.table_schema::text, c.table_name::text, c.column_name::text, c.data_type::text, \
                    t.table_type <> 'BASE TABLE', c.ordinal_position::int \
             FROM information_schema.columns c \
             JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
             WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') \
             UNION ALL \
             SELECT n.nspname::text, m.relname::text, a.attname::text, format_type(a.atttypid, NULL), true, a.attnum::int \
             FROM pg_class m JOIN pg_namespace n ON n.oid = m.relnamespace \
             JOIN pg_attribute a ON a.attrelid = m.oid AND a.attnum > 0 AND NOT a.attisdropped \
             WHERE m.relkind = 'm' AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
             ORDER BY 1, 2, 6",
            &[],
        )
        .map_err(|e| error(shown, format!("cannot read the schema: {}", describe(&e))))?;
    let mut tables: Vec<Table> = Vec::new();
    for row in rows {
        let (schema, name): (String, String) = (row.get(0), row.get(1));
        let column = Column {
            name: row.get(2),
            declared_type: row.get(3),
            primary_key: false,
        };
        match tables.last_mut() {
            Some(table) if table.schema.as_deref() == Some(&schema) && table.name == name => table.columns.push(column),
            _ => tables.push(Table {
                schema: Some(schema),
                name,
                columns: vec![column],
                view: row.get(4),
            }),
        }
    }
    Ok(tables)
}

/// Whether rows of `from` repeat the values of `columns` (SQL), together.
fn pg_repeats(client: &mut Client, from: &str, columns: &[String]) -> bool {
    let sql = format!(
        "SELECT 1 FROM {from} GROUP BY {} HAVING COUNT(*) > 1 LIMIT 1",
        columns.join(", ")
    );
    matches!(client.query_opt(&sql, &[]), Ok(Some(_)))
}

/// Whether `column` holds several values for one value of `by` in `from`.
fn pg_varies(client: &mut Client, from: &str, by: &str, column: &str) -> bool {
    let sql = format!(
        "SELECT 1 FROM {from} GROUP BY {} HAVING COUNT(DISTINCT {}) > 1 LIMIT 1",
        quote(by),
        quote(column)
    );
    matches!(client.query_opt(&sql, &[]), Ok(Some(_)))
}

/// A proposal checked against its table's data (versions that hold versions, counting from 0,
/// a type inside the payload, the column that separates streams), with its first row.
fn refined(client: &mut Client, proposal: Mapping, columns: &[String]) -> (Mapping, Vec<String>) {
    let examples = first_row(client, &proposal, columns);
    let from = from_of(&proposal);
    let proposal = proposal
        .checking_versions(columns, &mut |stream, version| {
            version_holds(client, &from, &quote(stream), &quote(version))
        })
        .counting_from(columns, &examples)
        .typing_from_payload(columns, &examples);
    let client = std::cell::RefCell::new(client);
    let proposal = proposal.separating(
        columns,
        &mut |columns| pg_repeats(&mut client.borrow_mut(), &from, columns),
        &mut |by, column| pg_varies(&mut client.borrow_mut(), &from, by, column),
    );
    (proposal, examples)
}

/// A known schema's mapping, with a category where its data needs one (see
/// [`Mapping::separating`]).
fn separated(client: &mut Client, mapping: Mapping) -> Mapping {
    if mapping.table.is_none() {
        return mapping;
    }
    let from = from_of(&mapping);
    let client = std::cell::RefCell::new(client);
    mapping.separating(
        &[],
        &mut |columns| pg_repeats(&mut client.borrow_mut(), &from, columns),
        &mut |by, column| pg_varies(&mut client.borrow_mut(), &from, by, column),
    )
}

/// The proposal's table, as SQL.
fn from_of(proposal: &Mapping) -> String {
    let table = proposal.table.as_deref().unwrap_or_default();
    match &proposal.schema {
        Some(schema) => format!("{}.{}", quote(schema), quote(table)),
        None => quote(table),
    }
}

/// Whether `version` (quoted) can be the version of `stream` (quoted) in `from`: it is not NULL
/// in every row, and it varies within the streams that have several rows. A question the
/// server cannot answer is taken for yes: the mapping is the user's to check.
fn version_holds(client: &mut Client, from: &str, stream: &str, version: &str) -> bool {
    let sql = format!(
        "SELECT COUNT({version}), (SELECT MAX(d) FROM (SELECT COUNT(DISTINCT {version}) AS d FROM {from} \
         GROUP BY {stream} HAVING COUNT(*) > 1) AS per_stream) FROM {from}"
    );
    match client.query_one(&sql, &[]) {
        Ok(row) => !matches!(
            (row.get::<_, i64>(0), row.get::<_, Option<i64>>(1)),
            (0, _) | (_, Some(1))
        ),
        Err(_) => true,
    }
}

/// The first row of the proposal's table, each column as text, to show beside the columns when
/// a mapping is asked for (the columns' order). Examples only: a row that cannot be read leaves
/// them empty, and opening the table says why.
fn first_row(client: &mut Client, proposal: &Mapping, columns: &[String]) -> Vec<String> {
    let empty = vec![String::new(); columns.len()];
    if proposal.table.is_none() {
        return empty;
    }
    let from = from_of(proposal);
    let texts: Vec<String> = columns.iter().map(|c| format!("({})::text", quote(c))).collect();
    let sql = format!("SELECT {} FROM {from} LIMIT 1", texts.join(", "));
    match client.query_opt(&sql, &[]) {
        Ok(Some(row)) => (0..columns.len())
            .map(|i| row.get::<_, Option<String>>(i).unwrap_or_default())
            .collect(),
        _ => empty,
    }
}

/// The mapping of Rewind's own table, as `rewind sample --postgres` writes it.
fn native_mapping(table: &Table) -> Mapping {
    Mapping {
        table: Some(table.name.clone()),
        schema: table.schema.clone(),
        stream: "stream_id".into(),
        stream_type: Some("stream_type".into()),
        version: Some("stream_version".into()),
        position: Some("global_position".into()),
        event_id: Some("event_id".into()),
        event_type: Some("event_type".into()),
        schema_version: Some("schema_version".into()),
        time: Some("recorded_at".into()),
        payload: Some("data".into()),
        metadata: Some("metadata".into()),
        ..Mapping::default()
    }
}

/// Whether `error` means the session is gone (closed socket, or the server ending it with a
/// FATAL error such as `pg_terminate_backend`), so reconnecting may help. The FATAL error can
/// arrive before the client has seen the socket close.
fn connection_lost(client: &Client, error: &postgres::Error) -> bool {
    client.is_closed()
        || error.is_closed()
        || error.as_db_error().is_some_and(|db| db.severity() == "FATAL")
        || error
            .code()
            .is_some_and(|code| code.code().starts_with("08") || code.code().starts_with("57P"))
}

/// A connection and the statements prepared on it, dropped with it when it is reopened.
struct Connection {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl Connection {
    fn new(client: Client) -> Self {
        Self {
            client,
            statements: HashMap::default(),
        }
    }

    /// Runs `sql`, prepared once per connection: later runs take one round trip, not two.
    fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        let statement = if let Some(statement) = self.statements.get(sql) {
            statement.clone()
        } else {
            let statement = self.client.prepare(sql)?;
            self.statements.insert(sql.to_owned(), statement.clone());
            statement
        };
        self.client.query(&statement, params)
    }
}

/// A PostgreSQL table read through a mapping. Never writes.
pub struct PostgresStore {
    connection: Mutex<Connection>,
    url: String,
    shown: String,
    description: String,
    /// `FROM (SELECT … AS rw_… FROM table WHERE valid rows) AS rw`.
    from: String,
    filter_values: Vec<String>,
    mapping: Mapping,
    table_name: String,
    native: bool,
    /// Event ids are a `uuid` column under a unique index (see [`EventSource::unique_event_ids`]).
    unique_ids: bool,
    skipped: Vec<Skipped>,
    /// How the global order was chosen, when the table has no position column.
    order: Option<String>,
    /// A view or materialized view: its rows have no `ctid`.
    view: bool,
}

/// The global order of a table without a position column, as SQL terms and in words: by time,
/// then stream version, then stream id, so that events recorded together (one transaction's
/// share its time) come in the order they say, never in the order their rows happen to lie.
/// Without a time, where the rows lie (`ctid`) is all that is left of the order they were
/// written in; said so, since `VACUUM FULL` or `CLUSTER` changes it.
///
/// A view's rows lie nowhere of their own: without a time, a view is ordered by its streams.
/// The stream id, as SQL text: the stream column, or `{category}-{stream}` with a category.
fn stream_expression(mapping: &Mapping) -> String {
    match &mapping.category {
        Some(category) => format!(
            "(({})::text || '-' || ({})::text)",
            quote(category),
            quote(&mapping.stream)
        ),
        None => format!("({})::text", quote(&mapping.stream)),
    }
}

fn order_without_position(mapping: &Mapping, view: bool) -> (Vec<String>, String) {
    let mut terms = Vec::new();
    let mut words = Vec::new();
    if let Some(time) = &mapping.time {
        terms.push(quote(time));
        words.push(time.clone());
    } else if view {
        terms.push(stream_expression(mapping));
        terms.extend(mapping.version.iter().map(|v| quote(v)));
        let said = format!(
            "ordered by {}{} (a view with no position or time column: its streams follow one another)",
            mapping.stream,
            mapping
                .version
                .as_deref()
                .map(|v| format!(", then {v}"))
                .unwrap_or_default()
        );
        return (terms, said);
    } else {
        terms.push("ctid".to_owned());
        words.push("as its rows lie".to_owned());
    }
    if let Some(version) = &mapping.version {
        terms.push(quote(version));
        words.push(version.clone());
    }
    terms.push(stream_expression(mapping));
    words.push(mapping.stream.clone());
    let said = if mapping.time.is_some() {
        format!("ordered by {} (no position column)", words.join(", then "))
    } else {
        format!(
            "ordered as its rows lie, then by {} (no position or time column; VACUUM FULL or CLUSTER can change that)",
            words[1..].join(", then ")
        )
    };
    (terms, said)
}

impl PostgresStore {
    /// Connects read-only, recognises the event table (or uses `mapping`) and checks it.
    /// `only`: look only at this table (`schema.table`, or `table` in any schema).
    pub fn open(url: &str, mapping: Option<Mapping>, only: Option<&str>) -> Result<Self> {
        let shown = redact(url);
        let mut client = connect(url)?;
        let mut tables = tables(&mut client, &shown)?;
        if let Some(only) = only.map(str::trim).filter(|o| !o.is_empty()) {
            let (schema, name) = match only.split_once('.') {
                Some((schema, name)) => (Some(schema), name),
                None => (None, only),
            };
            tables.retain(|t| t.name == name && schema.is_none_or(|s| t.schema.as_deref() == Some(s)));
            if tables.is_empty() {
                return Err(error(&shown, format!("no table `{only}` in the database")));
            }
        }
        let (mapping, library, native) = match mapping {
            Some(mapping) => (mapping, "mapped", false),
            None => match recognise(&tables, false) {
                Recognised::Rewind => {
                    let table = tables
                        .iter()
                        .find(|t| t.name == "events")
                        .ok_or_else(|| error(&shown, "the events table vanished"))?;
                    (native_mapping(table), "Rewind", true)
                }
                Recognised::Known { name, mapping } => (separated(&mut client, mapping), name, false),
                Recognised::Unknown {
                    mut proposal, columns, ..
                } => {
                    let more = std::mem::take(&mut proposal.more_tables);
                    let (first, examples) = refined(&mut client, proposal, &columns);
                    // Each other table of a table-per-type store is looked at in its own data.
                    let more_tables = more
                        .into_iter()
                        .map(|mapping| refined(&mut client, mapping, &columns).0)
                        .collect();
                    let proposal = Mapping { more_tables, ..first };
                    return Err(StoreError::NeedsMapping {
                        path: shown.clone().into(),
                        what: format!(
                            "table `{}` looks like events but its schema is not one Rewind knows",
                            proposal.table.as_deref().unwrap_or("?")
                        ),
                        examples,
                        names: columns,
                        proposal: Box::new(proposal),
                    });
                }
                Recognised::NoEvents { tables } => {
                    return Err(StoreError::NotAStore {
                        path: shown.clone().into(),
                        reason: Recognised::no_events_reason("it is a PostgreSQL database", &tables),
                    });
                }
            },
        };
        Self::with_mapping(client, url, &tables, &mapping, library, native)
    }

    fn with_mapping(
        client: Client,
        url: &str,
        tables: &[Table],
        mapping: &Mapping,
        library: &str,
        native: bool,
    ) -> Result<Self> {
        let shown = redact(url);
        let bad = |reason: String| StoreError::BadMapping {
            path: shown.clone().into(),
            reason,
        };
        let problems = mapping.problems();
        if !problems.is_empty() {
            return Err(bad(problems.join("; ")));
        }
        let table_name = mapping
            .table
            .clone()
            .ok_or_else(|| bad("the mapping names no `table`".into()))?;
        let schema = mapping.schema.clone().unwrap_or_else(|| "public".into());
        let table = tables
            .iter()
            .find(|t| t.name == table_name && t.schema.as_deref() == Some(schema.as_str()))
            .ok_or_else(|| bad(format!("no table `{schema}.{table_name}`")))?;
        let type_of = |column: &str| -> Result<String> {
            table
                .columns
                .iter()
                .find(|c| c.name == column)
                .map(|c| c.declared_type.clone())
                .ok_or_else(|| {
                    bad(format!(
                        "table `{table_name}` has no column `{column}` (columns: {})",
                        table
                            .columns
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
        };
        let text = |column: &Option<String>| -> Result<String> {
            column.as_deref().map_or(Ok("NULL::text".to_owned()), |c| {
                type_of(c).map(|_| format!("({})::text", quote(c)))
            })
        };
        // Columns whose types the row decoder reads directly (binary protocol) are selected as
        // they are; anything else is converted to text by the server.
        let raw = |column: &Option<String>| -> Result<String> {
            column.as_deref().map_or(Ok("NULL::text".to_owned()), |c| {
                type_of(c).map(|declared| {
                    if DIRECT_TYPES.contains(&declared.as_str()) {
                        quote(c)
                    } else {
                        format!("({})::text", quote(c))
                    }
                })
            })
        };
        let time = raw(&mapping.time)?;
        let payload = raw(&mapping.payload)?;
        let metadata = raw(&mapping.metadata)?;
        let event_id = raw(&mapping.event_id)?;
        // A `uuid` column holds one spelling of each id, so a unique index on it rules repeats out.
        let uuid_id_column = match &mapping.event_id {
            Some(column) if type_of(column)? == "uuid" => Some(column.clone()),
            _ => None,
        };
        type_of(&mapping.stream)?;
        if let Some(category) = &mapping.category {
            type_of(category)?;
        }
        let stream = stream_expression(mapping);
        let position = if let Some(column) = &mapping.position {
            type_of(column)?;
            format!("({})::bigint", quote(column))
        } else {
            format!(
                "row_number() OVER (ORDER BY {})",
                order_without_position(mapping, table.view).0.join(", ")
            )
        };
        let version = match &mapping.version {
            Some(column) => {
                type_of(column)?;
                format!(
                    "({})::bigint + {}",
                    quote(column),
                    1 - i64::from(mapping.version_base >= 1)
                )
            }
            None => format!("row_number() OVER (PARTITION BY {stream} ORDER BY {position})"),
        };
        let mut valid = vec![format!("{} IS NOT NULL", quote(&mapping.stream))];
        if let Some(category) = &mapping.category {
            valid.push(format!("{} IS NOT NULL", quote(category)));
        }
        for column in [&mapping.position, &mapping.version, &mapping.event_type]
            .into_iter()
            .flatten()
        {
            valid.push(format!("{} IS NOT NULL", quote(column)));
        }
        let mut filter_values = Vec::new();
        for filter in &mapping.filter {
            let column = quote(&filter.column);
            let value = match &filter.equals {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            filter_values.push(value);
            let cast = if type_of(&filter.column)? == "boolean" {
                format!("({column})::int::text")
            } else {
                format!("({column})::text")
            };
            valid.push(format!("{cast} = ${}", filter_values.len()));
        }
        let from = format!(
            "FROM (SELECT {position} AS rw_position, {stream} AS rw_stream, {} AS rw_stream_type, {version} AS rw_version, \
             {event_id} AS rw_event_id, {} AS rw_event_type, {time} AS rw_time, {payload} AS rw_payload, {metadata} AS rw_metadata, \
             {} AS rw_schema_version FROM {}.{} WHERE {}) AS rw",
            text(&mapping.stream_type_column().cloned())?,
            text(&mapping.event_type)?,
            text(&mapping.schema_version)?,
            quote(&schema),
            quote(&table_name),
            valid.join(" AND "),
        );
        let qualified = if schema == "public" {
            table_name.clone()
        } else {
            format!("{schema}.{table_name}")
        };
        let mut store = Self {
            connection: Mutex::new(Connection::new(client)),
            url: url.to_owned(),
            description: format!("{library} PostgreSQL (table {qualified})"),
            shown,
            from,
            filter_values,
            mapping: mapping.clone(),
            table_name: format!("{}.{}", quote(&schema), quote(&table_name)),
            native,
            unique_ids: false,
            skipped: Vec::new(),
            order: mapping
                .position
                .is_none()
                .then(|| order_without_position(mapping, table.view).1),
            view: table.view,
        };
        store.skipped = store.rows_left_out(mapping)?;
        if let Some(column) = uuid_id_column {
            store.unique_ids = store.has_unique_index(&column)?;
        }
        Ok(store)
    }

    /// Whether a unique, whole-table index covers exactly `column`, which holds no nulls.
    fn has_unique_index(&self, column: &str) -> Result<bool> {
        let sql = "SELECT EXISTS (SELECT 1 FROM pg_index i \
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
                   WHERE i.indrelid = ($1::text)::regclass AND i.indisunique AND i.indnatts = 1 \
                   AND i.indpred IS NULL AND a.attname = $2 AND a.attnotnull)";
        let row = self.with_client(|connection| connection.client.query_one(sql, &[&self.table_name, &column]))?;
        Ok(row.get(0))
    }

    /// Runs `f` with the connection; a dropped connection is reopened once and `f` retried.
    fn with_client<T>(&self, f: impl Fn(&mut Connection) -> Result<T, postgres::Error>) -> Result<T> {
        let mut connection = self
            .connection
            .lock()
            .map_err(|_| error(&self.shown, "the connection was poisoned by a failed read"))?;
        match f(&mut connection) {
            Ok(value) => Ok(value),
            Err(first) if connection_lost(&connection.client, &first) => {
                *connection = Connection::new(connect(&self.url)?);
                f(&mut connection).map_err(|retry| {
                    let reason = format!(
                        "{} (after reconnecting; first failure: {})",
                        describe(&retry),
                        describe(&first)
                    );
                    error(&self.shown, reason)
                })
            }
            Err(e) => Err(error(&self.shown, describe(&e))),
        }
    }

    fn rows_left_out(&self, mapping: &Mapping) -> Result<Vec<Skipped>> {
        let mut checks = vec![(mapping.stream.clone(), "no stream id")];
        if let Some(category) = &mapping.category {
            checks.push((category.clone(), "no stream category"));
        }
        for (column, reason) in [
            (&mapping.position, "no global position"),
            (&mapping.version, "no stream version"),
            (&mapping.event_type, "no event type"),
        ] {
            if let Some(column) = column {
                checks.push((column.clone(), reason));
            }
        }
        let mut skipped = Vec::new();
        // A row is named by where it lies; a view's, by its stream and version.
        let named = if self.view {
            format!(
                "concat_ws(' ', 'of stream', ({})::text, 'version', ({})::text)",
                quote(&mapping.stream),
                mapping.version.as_deref().map_or_else(|| "NULL".to_owned(), quote)
            )
        } else {
            "ctid::text".to_owned()
        };
        for (column, reason) in checks {
            let sql = format!(
                "SELECT {named} FROM {} WHERE {} IS NULL LIMIT 1000",
                self.table_name,
                quote(&column)
            );
            let rows = self.with_client(|connection| connection.client.query(&sql, &[]))?;
            skipped.extend(rows.iter().map(|row| Skipped {
                record: format!("row {}", row.get::<_, String>(0)),
                reason: format!("{reason} (column {} is NULL)", quote(&column)),
            }));
        }
        Ok(skipped)
    }

    fn params<'a>(
        &'a self,
        extra: &'a [&'a (dyn postgres::types::ToSql + Sync)],
    ) -> Vec<&'a (dyn postgres::types::ToSql + Sync)> {
        self.filter_values
            .iter()
            .map(|v| v as &(dyn postgres::types::ToSql + Sync))
            .chain(extra.iter().copied())
            .collect()
    }

    fn query(
        &self,
        condition: &str,
        order: &str,
        extra: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<RecordedEvent>> {
        let sql = format!("SELECT * {} WHERE {condition} ORDER BY {order}", self.from);
        let params = self.params(extra);
        let rows = self.with_client(|connection| connection.query(&sql, &params))?;
        rows.iter().map(|row| self.event(row)).collect()
    }

    fn event(&self, row: &Row) -> Result<RecordedEvent> {
        let fail = |e: postgres::Error| error(&self.shown, describe(&e));
        let get_text = |i: usize| -> Result<Option<String>> { row.try_get::<_, Option<String>>(i).map_err(fail) };
        let event_id = match cell(row, 4).map_err(fail)? {
            Cell::Uuid(id) => Some(id),
            Cell::Null => None,
            other => Some(decode::event_id_from(&other.into_text())),
        };
        let time = match cell(row, 6).map_err(fail)? {
            Cell::Time(time) => RowTime::Parsed(time),
            Cell::Null => RowTime::Missing,
            Cell::Integer(n) => RowTime::Raw(Value::from(n)),
            other => RowTime::Raw(Value::String(other.into_text())),
        };
        let row = MappedRow {
            position: u64::try_from(row.try_get::<_, i64>(0).map_err(fail)?).unwrap_or(0),
            stream_id: get_text(1)?.unwrap_or_default(),
            stream_type: get_text(2)?,
            version: u64::try_from(row.try_get::<_, i64>(3).map_err(fail)?).unwrap_or(0),
            event_id,
            event_type: get_text(5)?,
            time,
            payload: cell(row, 7).map_err(fail)?.into_payload(),
            // Metadata is read as a payload is (its note, if any, is not kept).
            metadata: cell(row, 8).map_err(fail)?.into_payload().0,
            schema_version: get_text(9)?,
        };
        Ok(row.into_event(&self.mapping, &self.description))
    }
}

impl EventSource for PostgresStore {
    fn describe(&self) -> String {
        match &self.order {
            Some(order) => format!("{}, {order}", self.description),
            None => self.description.clone(),
        }
    }

    fn location(&self) -> String {
        self.shown.clone()
    }

    fn is_native(&self) -> bool {
        self.native
    }

    fn unique_event_ids(&self) -> bool {
        self.unique_ids
    }

    fn event_count(&self) -> Result<u64> {
        let sql = format!("SELECT count(*) {}", self.from);
        let params = self.params(&[]);
        let row = self.with_client(|connection| connection.client.query_one(&sql, &params))?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }

    fn streams(&self) -> Result<Vec<StreamInfo>> {
        streams_by_scan(self)
    }

    fn read_stream(&self, stream_id: &str, up_to_version: Option<u64>) -> Result<Vec<RecordedEvent>> {
        let n = self.filter_values.len();
        let up_to = up_to_version.map_or(i64::MAX, |v| i64::try_from(v).unwrap_or(i64::MAX));
        self.query(
            &format!("rw_stream = ${} AND rw_version <= ${}", n + 1, n + 2),
            "rw_version",
            &[&stream_id, &up_to],
        )
    }

    fn read_batch(&self, after_position: u64, limit: usize) -> Result<Vec<RecordedEvent>> {
        let n = self.filter_values.len();
        let after = i64::try_from(after_position).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query(
            &format!("rw_position > ${}", n + 1),
            &format!("rw_position LIMIT ${}", n + 2),
            &[&after, &limit],
        )
    }

    fn read_positions(&self, positions: &[u64]) -> Result<Vec<RecordedEvent>> {
        let n = self.filter_values.len();
        let wanted: Vec<i64> = positions.iter().filter_map(|&p| i64::try_from(p).ok()).collect();
        self.query(&format!("rw_position = ANY(${})", n + 1), "rw_position", &[&wanted])
    }

    /// A batch is a round trip to the server: fewer, larger ones.
    fn preferred_batch(&self) -> usize {
        8192
    }

    /// One server-side cursor over the whole store, fetched `batch_size` rows at a time. If the
    /// connection drops, it is reopened once and the read resumes after the last event handed
    /// over.
    fn read_all(&self, batch_size: usize, each: &mut dyn FnMut(&mut Vec<RecordedEvent>) -> Result<()>) -> Result<()> {
        let mut connection = self
            .connection
            .lock()
            .map_err(|_| error(&self.shown, "the connection was poisoned by a failed read"))?;
        let mut after: i64 = 0;
        let mut reconnected = false;
        loop {
            if connection.client.is_closed() {
                *connection = Connection::new(connect(&self.url)?);
            }
            match self.stream_from(&mut connection.client, after, batch_size, each) {
                Ok(()) => return Ok(()),
                Err(Interrupted::Callback(e)) => return Err(e),
                Err(Interrupted::Database(e, last)) => {
                    after = last;
                    if reconnected || !connection_lost(&connection.client, &e) {
                        return Err(error(&self.shown, describe(&e)));
                    }
                    *connection = Connection::new(connect(&self.url)?);
                    reconnected = true;
                }
            }
        }
    }

    fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }
}

/// Why a streamed read stopped: the consumer's error, or the database's after the last
/// position handed over.
enum Interrupted {
    Callback(StoreError),
    Database(postgres::Error, i64),
}

impl PostgresStore {
    /// Streams the events after position `after` through a portal.
    fn stream_from(
        &self,
        client: &mut Client,
        mut after: i64,
        batch_size: usize,
        each: &mut dyn FnMut(&mut Vec<RecordedEvent>) -> Result<()>,
    ) -> Result<(), Interrupted> {
        let n = self.filter_values.len();
        let sql = format!(
            "SELECT * {} WHERE rw_position > ${} ORDER BY rw_position",
            self.from,
            n + 1
        );
        let start = after;
        let extra: [&(dyn postgres::types::ToSql + Sync); 1] = [&start];
        let params = self.params(&extra);
        let mut transaction = client
            .build_transaction()
            .read_only(true)
            .start()
            .map_err(|e| Interrupted::Database(e, after))?;
        let statement = transaction.prepare(&sql).map_err(|e| Interrupted::Database(e, after))?;
        let portal = transaction
            .bind(&statement, &params)
            .map_err(|e| Interrupted::Database(e, after))?;
        let batch = i32::try_from(batch_size.max(1)).unwrap_or(i32::MAX);
        loop {
            // The whole batch is received in one go, then decoded: taking rows one by one
            // re-entered the client's async runtime for every row.
            let rows = transaction
                .query_portal(&portal, batch)
                .map_err(|e| Interrupted::Database(e, after))?;
            let mut events = rows
                .iter()
                .map(|row| self.event(row))
                .collect::<Result<Vec<_>>>()
                .map_err(Interrupted::Callback)?;
            drop(rows);
            if events.is_empty() {
                break;
            }
            if let Some(last) = events.last() {
                after = i64::try_from(last.global_position).unwrap_or(i64::MAX);
            }
            each(&mut events).map_err(Interrupted::Callback)?;
        }
        transaction.commit().map_err(|e| Interrupted::Database(e, after))
    }
}
