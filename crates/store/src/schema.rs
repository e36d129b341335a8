//! Which table of a database holds events, and how: recognised by table and column names, the
//! same way for a SQLite file and for every schema of a PostgreSQL database.
//!
//! Known libraries' tables come with their mapping; any other table that looks like events gets
//! a proposal the user confirms. Names are compared normalised (lower case, no `_`).

use crate::mapping::{Filter, Mapping, normalise};

/// What a database holds, as far as events go.
#[derive(Clone, Debug, PartialEq)]
pub enum Recognised {
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

impl Recognised {
    /// Why a database whose tables are `tables` holds no events Rewind can see.
    pub(crate) fn no_events_reason(what: &str, tables: &[String]) -> String {
        if tables.is_empty() {
            format!("{what} with no tables; expected an event table")
        } else {
            format!(
                "{what}, but none of its tables ({}) looks like events: expected a stream column, a payload column and a version, type or time column",
                tables.join(", ")
            )
        }
    }
}

pub(crate) struct Table {
    /// PostgreSQL only: the schema the table is in.
    pub schema: Option<String>,
    pub name: String,
    pub columns: Vec<Column>,
    /// A view or a materialized view (PostgreSQL): rows with no place of their own (`ctid`).
    pub view: bool,
}

pub(crate) struct Column {
    pub name: String,
    pub declared_type: String,
    pub primary_key: bool,
}

impl Table {
    pub(crate) fn qualified_name(&self) -> String {
        match &self.schema {
            Some(schema) if schema != "public" => format!("{schema}.{}", self.name),
            _ => self.name.clone(),
        }
    }

    pub(crate) fn has(&self, normalised: &[&str]) -> bool {
        normalised.iter().all(|n| self.column(n).is_some())
    }

    /// The column whose normalised name is `normalised`, as the file spells it.
    pub(crate) fn column(&self, normalised: &str) -> Option<String> {
        self.columns
            .iter()
            .find(|c| normalise(&c.name) == normalised)
            .map(|c| c.name.clone())
    }

    pub(crate) fn names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }
}

/// Recognises the event table among `tables` (of a SQLite file, or of every schema of a
/// PostgreSQL database). `has_rowid`: SQLite's implicit row id can order rows that have no
/// position column.
pub(crate) fn recognise(tables: &[Table], has_rowid: bool) -> Recognised {
    let find = |name: &str| tables.iter().find(|t| t.name.eq_ignore_ascii_case(name));
    let rowid = || has_rowid.then(|| "rowid".to_owned());
    let known = |name: &'static str, table: &Table, mapping: Mapping| Recognised::Known {
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
        return Recognised::Rewind;
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
    let mut candidates = candidates.into_iter();
    match candidates.next() {
        Some((named_event, mut proposal, columns)) => {
            // A table per aggregate type: the other tables named like events with exactly these
            // columns are the same store's, merged with it (each table's name its streams' type).
            let same_shape: Vec<Mapping> = candidates
                .filter(|(other_named_event, mapping, other)| {
                    named_event && *other_named_event && *other == columns && mapping.table.is_some()
                })
                .map(|(_, mapping, _)| Mapping {
                    stream_type_name: mapping.table.as_deref().map(aggregate_type_of_table),
                    ..mapping
                })
                .collect();
            if !same_shape.is_empty() {
                proposal.stream_type_name = proposal.table.as_deref().map(aggregate_type_of_table);
                proposal.more_tables = same_shape;
            }
            Recognised::Unknown {
                examples: vec![String::new(); columns.len()],
                proposal,
                columns,
            }
        }
        None => Recognised::NoEvents {
            tables: tables.iter().map(Table::qualified_name).collect(),
        },
    }
}

/// The aggregate type a table per aggregate type is named after: `bank_account_events` →
/// `bank_account`.
fn aggregate_type_of_table(table: &str) -> String {
    let lower = table.to_ascii_lowercase();
    ["_events", "-events", "events"]
        .iter()
        .find_map(|suffix| {
            lower
                .ends_with(suffix)
                .then(|| table[..table.len() - suffix.len()].to_owned())
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| table.to_owned())
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
