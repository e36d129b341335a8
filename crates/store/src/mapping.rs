//! Which column (or JSON field) of a foreign store holds which part of an event.
//!
//! Known schemas come with a built-in mapping ([`crate::foreign`]); for anything else Rewind
//! proposes one from the names it sees ([`Mapping::propose`]) and the user confirms or edits it,
//! in the app's mapping dialog or as a TOML file (`--mapping FILE.toml`):
//!
//! ```toml
//! table = "domain_events"      # SQLite only
//! stream = "aggregate_id"
//! version = "seq"
//! position = "rowid"           # SQLite's implicit row id, or a column
//! event_type = "kind"
//! time = "created_at"
//! payload = "body"
//! ```

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use rewind_core::{Payload, RecordedEvent};

use crate::decode;

/// Where each part of an event comes from. Names are columns (SQLite) or dotted field paths
/// (JSON); they are always quoted when put into SQL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The table (SQLite and PostgreSQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// PostgreSQL: the schema the table is in (`public` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The stream (aggregate) id.
    pub stream: String,
    /// A column that tells streams apart together with `stream`, where the same id is used
    /// under several categories (`order`/`17` and `payment`/`17`): the stream id is then
    /// `{category}-{stream}` (`order-17`), and the category is the stream type unless
    /// `stream_type` names another column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The stream's type; when absent it is derived from the event type or stream id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_type: Option<String>,
    /// The version inside the stream; when absent, events are numbered in position order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The first version of a stream as stored: 1 for most stores, 0 for `EventStoreDB`,
    /// Message DB and Axon. Rewind counts from 1.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub version_base: u64,
    /// The global order: a column, `rowid` (SQLite), or absent for file order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// The event type; when absent, `event_type_in_payload`, else the tag of an externally
    /// tagged payload (`{"Deposited": …}`, or `"Closed"` for a unit variant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// A field inside the payload that holds the event type (`{"event_type": "limit_changed",
    /// …}`), on every backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type_in_payload: Option<String>,
    /// The payload's schema version (a number, or text such as `1.0` whose major part counts);
    /// unknown when absent, and then nothing is upcast.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// When the event was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// A field inside the payload that holds the time (Python `eventsourcing`: `timestamp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_in_payload: Option<String>,
    /// The payload; for JSON, absent means "the record without the mapped fields".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<String>,
    /// Only rows whose column equals the value (Emmett: `message_kind = 'E'`). Values are bound
    /// as SQL parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filter: Vec<Filter>,
    /// Unwrap `{"_type_": …, "_data_": …}` values (Python `eventsourcing`'s transcoder).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unwrap_type_tags: bool,
    /// The stream type of every stream in this table, for a store kept in a table per
    /// aggregate type (default there: the table's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_type_name: Option<String>,
    /// The store's other tables, each mapped like this one, all merged into one global order
    /// (by time, then stream version, then stream): a store kept in a table per aggregate type.
    /// A stream id is then `{stream type}-{id}`, so one id in two tables is two streams.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_tables: Vec<Mapping>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub column: String,
    pub equals: toml::Value,
}

impl Default for Mapping {
    fn default() -> Self {
        Self {
            table: None,
            schema: None,
            stream: String::new(),
            category: None,
            stream_type: None,
            version: None,
            version_base: 1,
            position: None,
            event_id: None,
            event_type: None,
            event_type_in_payload: None,
            schema_version: None,
            time: None,
            time_in_payload: None,
            payload: None,
            metadata: None,
            filter: Vec::new(),
            unwrap_type_tags: false,
            stream_type_name: None,
            more_tables: Vec::new(),
        }
    }
}

fn one() -> u64 {
    1
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_one(value: &u64) -> bool {
    *value == 1
}

/// The parts of an event, for the mapping dialog and for proposals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Stream,
    Category,
    StreamType,
    Version,
    Position,
    EventId,
    EventType,
    Time,
    Payload,
    Metadata,
}

impl Part {
    pub const ALL: [Self; 10] = [
        Self::Stream,
        Self::Category,
        Self::StreamType,
        Self::Version,
        Self::Position,
        Self::EventId,
        Self::EventType,
        Self::Time,
        Self::Payload,
        Self::Metadata,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Stream => "stream",
            Self::Category => "stream category",
            Self::StreamType => "stream type",
            Self::Version => "version",
            Self::Position => "global position",
            Self::EventId => "event id",
            Self::EventType => "event type",
            Self::Time => "time",
            Self::Payload => "payload",
            Self::Metadata => "metadata",
        }
    }

    /// Names that usually hold this part, strongest first, normalised (lower case, no `_`).
    /// From the survey of real schemas in docs/store-schemas.md, plus camelCase JSON keys.
    fn synonyms(self) -> &'static [&'static str] {
        match self {
            Self::Stream => &[
                "streamid",
                "streamname",
                "stream",
                "aggregateid",
                "aggregateuuid",
                "aggregateidentifier",
                "originatorid",
                "entityid",
                "subject",
                "sourceid",
                "aggregate",
                "entity",
            ],
            // Proposed from the data only (see `Mapping::separating`), never by name.
            Self::Category => &[],
            Self::StreamType => &["streamtype", "aggregatetype", "aggregatename", "aggregate", "category"],
            Self::Version => &[
                "streamversion",
                "version",
                "streamposition",
                "sequence",
                "sequencenumber",
                "seq",
                "aggregateversion",
                "originatorversion",
                "revision",
                "eventnumber",
                "eventversion",
                "playhead",
                "ver",
            ],
            Self::Position => &[
                "globalposition",
                "globalindex",
                "seqid",
                "globaloffset",
                "notificationid",
                "position",
                "offset",
                "id",
            ],
            Self::EventId => &["eventid", "messageid", "eventidentifier", "identifier", "uuid"],
            Self::EventType => &[
                "eventtype",
                "type",
                "messagetype",
                "eventname",
                "name",
                "payloadtype",
                "topic",
                "kind",
            ],
            Self::Time => &[
                "recordedat",
                "createdat",
                "created",
                "timestamp",
                "time",
                "occurredat",
                "occurredon",
                "insertedat",
                "storedat",
                "eventtimestamp",
                "updated",
                "date",
                "at",
                "when",
            ],
            Self::Payload => &[
                "data",
                "payload",
                "eventdata",
                "eventpayload",
                "body",
                "state",
                "messagedata",
                "event",
                "json",
                "content",
            ],
            Self::Metadata => &["metadata", "meta", "headers", "eventmetadata", "messagemetadata"],
        }
    }

    pub fn get(self, mapping: &Mapping) -> Option<&str> {
        match self {
            Self::Stream => Some(mapping.stream.as_str()).filter(|s| !s.is_empty()),
            Self::Category => mapping.category.as_deref(),
            Self::StreamType => mapping.stream_type.as_deref(),
            Self::Version => mapping.version.as_deref(),
            Self::Position => mapping.position.as_deref(),
            Self::EventId => mapping.event_id.as_deref(),
            Self::EventType => mapping.event_type.as_deref(),
            Self::Time => mapping.time.as_deref(),
            Self::Payload => mapping.payload.as_deref(),
            Self::Metadata => mapping.metadata.as_deref(),
        }
    }

    pub fn set(self, mapping: &mut Mapping, name: Option<String>) {
        match self {
            Self::Stream => mapping.stream = name.unwrap_or_default(),
            Self::Category => mapping.category = name,
            Self::StreamType => mapping.stream_type = name,
            Self::Version => mapping.version = name,
            Self::Position => mapping.position = name,
            Self::EventId => mapping.event_id = name,
            Self::EventType => mapping.event_type = name,
            Self::Time => mapping.time = name,
            Self::Payload => mapping.payload = name,
            Self::Metadata => mapping.metadata = name,
        }
    }
}

/// `global_index`, `globalIndex` and `GLOBALINDEX` are the same name.
pub fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

impl Mapping {
    /// Proposes a mapping from the names available (columns or top-level JSON keys): each part
    /// takes the unused name with the strongest synonym. `implicit_rowid` offers SQLite's
    /// `rowid` as the position when no column is one.
    pub fn propose(table: Option<&str>, names: &[String], implicit_rowid: bool) -> Self {
        let mut used: Vec<&str> = Vec::new();
        let mut pick = |part: Part| -> Option<String> {
            let mut best: Option<(usize, &String)> = None;
            for name in names {
                if used.contains(&name.as_str()) {
                    continue;
                }
                let normalised = normalise(name);
                if let Some(rank) = part.synonyms().iter().position(|s| *s == normalised)
                    && best.is_none_or(|(r, _)| rank < r)
                {
                    best = Some((rank, name));
                }
            }
            let (_, name) = best?;
            used.push(name);
            Some(name.clone())
        };
        // The most specific parts pick first, so `id` goes to the position only when nothing
        // else is one, and `event_id` is never taken for the stream.
        let event_id = pick(Part::EventId);
        let stream = pick(Part::Stream).unwrap_or_default();
        let version = pick(Part::Version);
        let event_type = pick(Part::EventType);
        let time = pick(Part::Time);
        let payload = pick(Part::Payload);
        let metadata = pick(Part::Metadata);
        let stream_type = pick(Part::StreamType);
        let position = pick(Part::Position).or_else(|| implicit_rowid.then(|| "rowid".to_owned()));
        Self {
            table: table.map(str::to_owned),
            schema: None,
            stream,
            category: None,
            stream_type,
            version,
            version_base: 1,
            position,
            event_id,
            event_type,
            event_type_in_payload: None,
            schema_version: None,
            time,
            time_in_payload: None,
            payload,
            metadata,
            filter: Vec::new(),
            unwrap_type_tags: false,
            stream_type_name: None,
            more_tables: Vec::new(),
        }
    }

    /// The columns the mapping names, whatever for.
    fn used(&self) -> Vec<&str> {
        [
            Some(&self.stream),
            self.category.as_ref(),
            self.stream_type.as_ref(),
            self.version.as_ref(),
            self.position.as_ref(),
            self.event_id.as_ref(),
            self.event_type.as_ref(),
            self.schema_version.as_ref(),
            self.time.as_ref(),
            self.payload.as_ref(),
            self.metadata.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect()
    }

    /// The proposal with its version column checked against the data: `holds(stream, column)`
    /// says whether a column can be a stream's version (it is not NULL in every row, and it
    /// varies within a stream that has several rows). A column that cannot is replaced by the
    /// next one whose name says version and whose data agrees, or by none (events are then
    /// numbered within their stream).
    #[must_use]
    pub fn checking_versions(mut self, names: &[String], holds: &mut dyn FnMut(&str, &str) -> bool) -> Self {
        let mut refused: Vec<String> = Vec::new();
        while let Some(version) = self.version.clone() {
            if holds(&self.stream, &version) {
                break;
            }
            refused.push(version);
            self.version = None;
            let used: Vec<String> = self.used().into_iter().map(str::to_owned).collect();
            self.version = Part::Version
                .synonyms()
                .iter()
                .find_map(|synonym| {
                    names
                        .iter()
                        .find(|name| normalise(name) == *synonym && !used.contains(name) && !refused.contains(name))
                })
                .cloned();
        }
        self
    }

    /// The proposal, counting versions from 0 when the first row's version is 0 (`examples`
    /// are the first row's values, in the order of `columns`).
    #[must_use]
    pub fn counting_from(mut self, columns: &[String], examples: &[String]) -> Self {
        let first_version = self
            .version
            .as_ref()
            .and_then(|version| columns.iter().position(|c| c == version))
            .and_then(|i| examples.get(i));
        if first_version.is_some_and(|v| v.trim() == "0") {
            self.version_base = 0;
        }
        self
    }

    /// The mapping with a category where the data needs one: where one stream id holds events
    /// of several stream types (cqrs-es's `aggregate_type` with the same `aggregate_id` under
    /// two), or where a stream's versions repeat and another of `names` tells the repeats
    /// apart. `repeats(columns)` says whether rows repeat the values of these SQL expressions
    /// (quoted columns), together; `varies(by, column)` whether `column` holds several values
    /// for one value of `by`. Both are asked of the table, not its first rows.
    #[must_use]
    pub fn separating(
        mut self,
        names: &[String],
        repeats: &mut dyn FnMut(&[String]) -> bool,
        varies: &mut dyn FnMut(&str, &str) -> bool,
    ) -> Self {
        if self.category.is_some() || self.stream.is_empty() {
            return self;
        }
        if let Some(stream_type) = self.stream_type.clone()
            && varies(&self.stream, &stream_type)
        {
            self.category = Some(stream_type);
            return self;
        }
        let Some(version) = self.version.clone() else {
            return self;
        };
        let quote = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
        if !repeats(&[quote(&self.stream), quote(&version)]) {
            return self;
        }
        let used: Vec<String> = self.used().into_iter().map(str::to_owned).collect();
        let separator = names
            .iter()
            .filter(|name| !used.contains(name) && !name.eq_ignore_ascii_case("rowid"))
            .find(|name| !repeats(&[quote(name), quote(&self.stream), quote(&version)]))
            .cloned();
        self.category = separator;
        self
    }

    /// The event type in `payload`, at `event_type_in_payload`.
    pub fn type_in_payload(&self, payload: &Value) -> Option<String> {
        let field = self.event_type_in_payload.as_deref()?;
        decode::path(payload, field).and_then(decode::as_text)
    }

    /// The proposal, taking the event type from a field of the payload when no column holds it
    /// and the first row's payload (`examples`, in the order of `columns`) has one named like
    /// an event type.
    #[must_use]
    pub fn typing_from_payload(mut self, columns: &[String], examples: &[String]) -> Self {
        if self.event_type.is_some() || self.event_type_in_payload.is_some() {
            return self;
        }
        let payload = self
            .payload
            .as_ref()
            .and_then(|payload| columns.iter().position(|c| c == payload))
            .and_then(|i| examples.get(i))
            .and_then(|text| serde_json::from_str::<Value>(text).ok());
        if let Some(Value::Object(fields)) = payload {
            self.event_type_in_payload = Part::EventType.synonyms().iter().find_map(|synonym| {
                fields
                    .iter()
                    .find(|(key, value)| normalise(key) == *synonym && value.is_string())
                    .map(|(key, _)| key.clone())
            });
        }
        self
    }

    /// The stream type's column: `stream_type`, or else the category.
    pub fn stream_type_column(&self) -> Option<&String> {
        self.stream_type.as_ref().or(self.category.as_ref())
    }

    /// The stream id of a record: `{category}-{stream}` with a category, else the stream.
    pub fn stream_id(&self, category: Option<&str>, stream: &str) -> String {
        match (&self.category, category) {
            (Some(_), Some(category)) => format!("{category}-{stream}"),
            _ => stream.to_owned(),
        }
    }

    /// Whether the proposal found enough to be an event table: a stream and a payload, and one
    /// of version, type or time (docs/store-schemas.md).
    pub fn looks_like_events(&self) -> bool {
        !self.stream.is_empty()
            && self.payload.is_some()
            && (self.version.is_some() || self.event_type.is_some() || self.time.is_some())
    }

    /// What is missing for this mapping to be usable, if anything.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.stream.is_empty() {
            problems.push("no stream column or field is chosen".to_owned());
        }
        if self.payload.is_none() && self.table.is_some() {
            problems.push("no payload column is chosen".to_owned());
        }
        if self.version_base > 1 {
            problems.push(format!("version_base must be 0 or 1, not {}", self.version_base));
        }
        if !self.more_tables.is_empty() && self.table.is_none() {
            problems.push("more_tables needs a `table` for the first one too".to_owned());
        }
        for (i, more) in self.more_tables.iter().enumerate() {
            let name = more.table.clone().unwrap_or_else(|| format!("more_tables[{i}]"));
            if more.table.is_none() {
                problems.push(format!("more_tables[{i}] names no `table`"));
            }
            if !more.more_tables.is_empty() {
                problems.push(format!(
                    "{name}: more_tables go at the top of the mapping, not inside one"
                ));
            }
            problems.extend(more.problems().into_iter().map(|p| format!("{name}: {p}")));
        }
        problems
    }

    /// Each table of a store kept in several (this one, then `more_tables`), with the stream
    /// type its streams have; empty for a mapping of one table.
    pub fn tables(&self) -> Vec<(Mapping, String)> {
        if self.more_tables.is_empty() {
            return Vec::new();
        }
        let first = Mapping {
            more_tables: Vec::new(),
            ..self.clone()
        };
        std::iter::once(first)
            .chain(self.more_tables.iter().cloned())
            .map(|m| {
                let stream_type = m
                    .stream_type_name
                    .clone()
                    .or_else(|| m.table.clone())
                    .unwrap_or_default();
                (m, stream_type)
            })
            .collect()
    }

    /// The mapping as a file a person can read and edit: every key, with its value or, where
    /// it has none, commented out with what its absence means (docs/mapping.md has them all).
    pub fn to_toml(&self) -> String {
        use std::fmt::Write as _;
        let quoted = |text: &str| toml::Value::String(text.to_owned()).to_string();
        let mut out = String::from(
            "# Which column (or JSON field) holds each part of an event; docs/mapping.md explains every key.\n",
        );
        let key = |out: &mut String, name: &str, value: Option<&String>, absent: &str| {
            let _ = match value {
                Some(value) => writeln!(out, "{name} = {}", quoted(value)),
                None => writeln!(out, "# {name} = \"…\"    # absent: {absent}"),
            };
        };
        key(&mut out, "table", self.table.as_ref(), "a JSON file's records");
        key(
            &mut out,
            "schema",
            self.schema.as_ref(),
            "PostgreSQL's `public`, or any schema with the table",
        );
        let _ = writeln!(out, "stream = {}", quoted(&self.stream));
        key(
            &mut out,
            "category",
            self.category.as_ref(),
            "the stream column alone tells streams apart",
        );
        key(
            &mut out,
            "stream_type",
            self.stream_type.as_ref(),
            "from the stream id's category or a Python topic, else unknown",
        );
        key(
            &mut out,
            "version",
            self.version.as_ref(),
            "events are numbered within their stream in global order",
        );
        let _ = writeln!(
            out,
            "version_base = {}    # the version of a stream's first event as stored (0 or 1)",
            self.version_base
        );
        key(
            &mut out,
            "position",
            self.position.as_ref(),
            "PostgreSQL orders by time, then version, then stream; JSON by where records are",
        );
        key(
            &mut out,
            "event_id",
            self.event_id.as_ref(),
            "an id is made from the store and the position",
        );
        key(
            &mut out,
            "event_type",
            self.event_type.as_ref(),
            "the tag of an externally tagged payload ({\"Deposited\": …})",
        );
        key(
            &mut out,
            "event_type_in_payload",
            self.event_type_in_payload.as_ref(),
            "no type inside the payload",
        );
        key(
            &mut out,
            "schema_version",
            self.schema_version.as_ref(),
            "unknown: nothing is upcast",
        );
        key(&mut out, "time", self.time.as_ref(), "time_in_payload, else unknown");
        key(
            &mut out,
            "time_in_payload",
            self.time_in_payload.as_ref(),
            "no time inside the payload",
        );
        key(
            &mut out,
            "payload",
            self.payload.as_ref(),
            "for JSON, the record without the fields above",
        );
        key(&mut out, "metadata", self.metadata.as_ref(), "none");
        key(
            &mut out,
            "stream_type_name",
            self.stream_type_name.as_ref(),
            "with more_tables, the table's name is its streams' type",
        );
        let _ = writeln!(
            out,
            "unwrap_type_tags = {}    # unwrap Python eventsourcing's {{\"_type_\": …, \"_data_\": …}} values",
            self.unwrap_type_tags
        );
        if self.filter.is_empty() {
            out.push_str(
                "# [[filter]]    # absent: every row is an event; a filter keeps rows whose column equals the value\n",
            );
            out.push_str("# column = \"…\"\n# equals = \"…\"\n");
        }
        for filter in &self.filter {
            let _ = writeln!(
                out,
                "[[filter]]\ncolumn = {}\nequals = {}",
                quoted(&filter.column),
                filter.equals
            );
        }
        for more in &self.more_tables {
            // The same keys, for the next table (its filters are that table's).
            out.push_str("\n[[more_tables]]\n");
            for line in more.to_toml().lines().skip(1) {
                if line.starts_with("# [[more_tables]]") || line.starts_with("# stream_type_name") {
                    continue;
                }
                let line = line.replace("[[filter]]", "[[more_tables.filter]]");
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }

    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

/// A time as a row gave it.
pub enum RowTime {
    /// No time column, or NULL: look in the payload (`time_in_payload`).
    Missing,
    Parsed(DateTime<Utc>),
    /// Text or a number, still to be parsed.
    Raw(Value),
}

/// One row of a mapped table (SQLite or PostgreSQL), its columns read but not yet turned into
/// an event: the rules both share are in [`MappedRow::into_event`].
pub struct MappedRow {
    pub position: u64,
    pub stream_id: String,
    pub stream_type: Option<String>,
    pub version: u64,
    /// `None`: the table keeps no ids; one is derived from the position.
    pub event_id: Option<Uuid>,
    pub event_type: Option<String>,
    pub time: RowTime,
    /// The decoded payload and, if it was not JSON, why.
    pub payload: (Payload, decode::Note),
    pub metadata: Payload,
    pub schema_version: Option<String>,
}

impl MappedRow {
    /// Applies the mapping's rules: unwrap type tags, take the type from an enum tag when there
    /// is no type column, derive the stream type, find the time (in the payload if need be),
    /// and note what could not be read. `location` names the store for derived ids.
    pub fn into_event(self, mapping: &Mapping, location: &str) -> RecordedEvent {
        let (payload, mut note) = self.payload;
        let data = if mapping.unwrap_type_tags {
            Payload::from(decode::unwrap_type_tags(payload.into_value()))
        } else {
            payload
        };
        let event_type = self
            .event_type
            .or_else(|| mapping.type_in_payload(data.value()))
            .or_else(|| decode::enum_tag(data.value()).map(str::to_owned))
            .unwrap_or_else(|| "(no type)".into());
        let stream_type = self
            .stream_type
            .unwrap_or_else(|| decode::derive_stream_type(&self.stream_id, &event_type));
        let time = match self.time {
            RowTime::Parsed(time) => Some(Ok(time)),
            RowTime::Raw(value) => Some(decode::parse_time(&value)),
            RowTime::Missing => mapping
                .time_in_payload
                .as_deref()
                .and_then(|field| decode::path(data.value(), field))
                .map(decode::parse_time),
        };
        // A time the row does not give is unknown, not made up.
        let recorded_at = match time {
            Some(Ok(time)) => Some(time),
            Some(Err(reason)) => {
                note = note.or_problem(Some(format!("recorded time unreadable: {reason}")));
                None
            }
            None => None,
        };
        RecordedEvent {
            global_position: self.position,
            event_id: self
                .event_id
                .unwrap_or_else(|| decode::event_id_for_position(location, self.position)),
            stream_id: self.stream_id.into(),
            stream_type: stream_type.into(),
            stream_version: self.version,
            event_type: event_type.into(),
            // `1.0` (cqrs-es) counts as 1; no column, or 0 (Rewind's own tables for an imported
            // event), is a version the store did not record.
            schema_version: self
                .schema_version
                .and_then(|v| v.split('.').next().and_then(|major| major.trim().parse().ok()))
                .filter(|&v: &u32| v != 0),
            recorded_at,
            data,
            metadata: decode::with_note(self.metadata, note),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_tutorial_events_table_gets_the_obvious_mapping() {
        let mapping = Mapping::propose(
            Some("events"),
            &names(&[
                "event_id",
                "aggregate_id",
                "event_type",
                "event_version",
                "event_data",
                "created_at",
            ]),
            true,
        );
        assert_eq!(mapping.stream, "aggregate_id");
        assert_eq!(mapping.version.as_deref(), Some("event_version"));
        assert_eq!(mapping.event_type.as_deref(), Some("event_type"));
        assert_eq!(mapping.payload.as_deref(), Some("event_data"));
        assert_eq!(mapping.time.as_deref(), Some("created_at"));
        assert_eq!(mapping.event_id.as_deref(), Some("event_id"));
        assert_eq!(mapping.position.as_deref(), Some("rowid"));
        assert!(mapping.looks_like_events());
    }

    #[test]
    fn camel_case_json_keys_are_recognised() {
        let mapping = Mapping::propose(
            None,
            &names(&[
                "id",
                "aggregateId",
                "eventType",
                "occurredAt",
                "payload",
                "globalPosition",
            ]),
            false,
        );
        assert_eq!(mapping.stream, "aggregateId");
        assert_eq!(mapping.position.as_deref(), Some("globalPosition"));
        assert_eq!(mapping.event_type.as_deref(), Some("eventType"));
        assert_eq!(mapping.time.as_deref(), Some("occurredAt"));
    }

    #[test]
    fn a_table_of_something_else_is_not_taken_for_events() {
        let mapping = Mapping::propose(Some("users"), &names(&["id", "name", "email"]), true);
        assert!(!mapping.looks_like_events());
    }

    #[test]
    fn mappings_round_trip_through_toml() {
        let mut mapping = Mapping::propose(Some("t"), &names(&["stream_id", "version", "data"]), true);
        mapping.filter.push(Filter {
            column: "kind".into(),
            equals: toml::Value::String("E".into()),
        });
        let text = mapping.to_toml();
        assert_eq!(Mapping::from_toml(&text), Ok(mapping));
        // Every key is in the file, set or commented out with what its absence means.
        for key in [
            "table",
            "schema",
            "stream",
            "category",
            "stream_type",
            "version",
            "version_base",
            "position",
            "event_id",
            "event_type",
            "event_type_in_payload",
            "schema_version",
            "time",
            "time_in_payload",
            "payload",
            "metadata",
            "unwrap_type_tags",
            "stream_type_name",
        ] {
            assert!(
                text.lines()
                    .any(|line| line.trim_start_matches("# ").starts_with(&format!("{key} ="))),
                "{key}:\n{text}"
            );
        }
        let everything = Mapping {
            table: Some("t".into()),
            schema: Some("s".into()),
            stream: "a \"b\"".into(),
            category: Some("cat".into()),
            stream_type: Some("st".into()),
            version: Some("v".into()),
            version_base: 0,
            position: Some("p".into()),
            event_id: Some("id".into()),
            event_type: Some("ty".into()),
            event_type_in_payload: Some("kind".into()),
            schema_version: Some("sv".into()),
            time: Some("tm".into()),
            time_in_payload: Some("x.ts".into()),
            payload: Some("pl".into()),
            metadata: Some("md".into()),
            filter: vec![Filter {
                column: "kind".into(),
                equals: toml::Value::Integer(3),
            }],
            unwrap_type_tags: true,
            stream_type_name: Some("first".into()),
            more_tables: vec![Mapping {
                table: Some("t2".into()),
                stream: "id".into(),
                stream_type_name: Some("second".into()),
                filter: vec![Filter {
                    column: "kind".into(),
                    equals: toml::Value::String("E".into()),
                }],
                ..Mapping::default()
            }],
        };
        assert_eq!(Mapping::from_toml(&everything.to_toml()), Ok(everything));
        assert_eq!(
            Mapping::from_toml(&Mapping::default().to_toml()),
            Ok(Mapping::default())
        );
        assert!(Mapping::from_toml("stream = 1").is_err());
        assert!(
            Mapping::from_toml("stream = \"s\"\nunknown = 1")
                .expect_err("rejected")
                .contains("unknown")
        );
    }
}
