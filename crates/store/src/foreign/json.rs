//! JSON event files other than Rewind's NDJSON: JSON arrays, `EventStoreDB` Atom feed pages,
//! CloudEvents (array or NDJSON, and `EventSourcingDB`'s `{"type":"event","payload":…}`
//! lines), and generic JSON of event-like objects through a [`Mapping`].
//!
//! They are read whole (they are exports, not databases) and converted record by record; a
//! record that cannot be converted is skipped and reported with its line or record number.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use rewind_core::RecordedEvent;

use super::memory::MemoryStore;
use crate::decode::{self, Note, RawPayload};
use crate::error::{Result, StoreError};
use crate::mapping::Mapping;
use crate::source::Skipped;

/// The JSON shapes Rewind recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonShape {
    /// Rewind's own events (`global_position`, `stream_id`, …), as an array.
    Rewind,
    /// `EventStoreDB`/`KurrentDB` `AtomPub` feed pages (`embed=body`) or their entries.
    AtomFeed,
    /// CloudEvents, structured mode.
    CloudEvents,
    /// `EventSourcingDB`'s read API: `{"type":"event","payload":{…CloudEvent…}}` lines.
    EventSourcingDb,
    /// Anything else: needs a mapping.
    Generic,
}

impl JsonShape {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Rewind => "Rewind events (JSON array)",
            Self::AtomFeed => "EventStoreDB Atom feed (JSON)",
            Self::CloudEvents => "CloudEvents (JSON)",
            Self::EventSourcingDb => "EventSourcingDB events (NDJSON)",
            Self::Generic => "JSON events (mapped)",
        }
    }
}

/// One record found in the file, with where it came from.
struct Record {
    value: Value,
    /// `line 12`, or `record 3` in a pretty-printed document.
    location: String,
    /// Atom feeds: the stream of the page, for entries that do not name one.
    order: usize,
}

/// Splits a JSON document into records: NDJSON lines, array items, feed `entries`, or the
/// `events`/`items`/`messages` array of a wrapper object. Lines that are not JSON are skipped.
fn records(path: &Path, bytes: &[u8], skipped: &mut Vec<Skipped>) -> Vec<Record> {
    let mut values: Vec<(Value, String)> = Vec::new();
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let lines = || {
        bytes
            .split(|b| *b == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
    };
    let first_line = lines().find(|l| !l.trim_ascii().is_empty()).unwrap_or(&[]);
    let line_oriented =
        first_line.trim_ascii_start().starts_with(b"{") && serde_json::from_slice::<Value>(first_line).is_ok();
    if line_oriented {
        for (index, line) in lines().enumerate() {
            if line.trim_ascii().is_empty() {
                continue;
            }
            match serde_json::from_slice::<Value>(line) {
                Ok(value) => values.push((value, format!("line {}", index + 1))),
                Err(e) => skipped.push(Skipped {
                    record: format!("line {}", index + 1),
                    reason: match std::str::from_utf8(line) {
                        Err(utf8) => format!("not UTF-8 at byte {}", utf8.valid_up_to() + 1),
                        Ok(_) => e.to_string(),
                    },
                }),
            }
        }
    } else {
        // One document, or several concatenated (Atom pages saved one after another).
        let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<Value>();
        let mut document = 0;
        loop {
            match stream.next() {
                None => break,
                Some(Ok(value)) => {
                    document += 1;
                    values.push((value, format!("document {document}")));
                }
                Some(Err(e)) => {
                    skipped.push(Skipped {
                        record: format!("line {}", e.line()),
                        reason: format!("{e}; the rest of {} is unreadable", path.display()),
                    });
                    break;
                }
            }
        }
    }
    let mut records = Vec::new();
    let multiple = values.len() > 1;
    for (value, location) in values {
        let (items, container) = match value {
            Value::Array(items) => (items, "item"),
            Value::Object(mut map) => {
                let key = ["entries", "events", "items", "messages"]
                    .into_iter()
                    .find(|key| map.get(*key).is_some_and(Value::is_array));
                if let Some(Value::Array(items)) = key.and_then(|key| map.remove(key)) {
                    (items, "entry")
                } else {
                    let order = records.len();
                    records.push(Record {
                        value: Value::Object(map),
                        location,
                        order,
                    });
                    continue;
                }
            }
            other => {
                skipped.push(Skipped {
                    record: location,
                    reason: format!("expected an event object, found {}", decode::kind(&other)),
                });
                continue;
            }
        };
        for (index, item) in items.into_iter().enumerate() {
            let order = records.len();
            let location = if multiple {
                format!("{container} {} of {location}", index + 1)
            } else {
                format!("{container} {}", index + 1)
            };
            records.push(Record {
                value: item,
                location,
                order,
            });
        }
    }
    records
}

/// Recognises the shape by the first records.
fn shape_of(records: &[Record]) -> JsonShape {
    let Some(first) = records.iter().find(|r| r.value.is_object()) else {
        return JsonShape::Generic;
    };
    let value = &first.value;
    let has = |key: &str| value.get(key).is_some();
    if has("global_position") && has("stream_id") && has("event_type") && has("stream_version") {
        JsonShape::Rewind
    } else if has("eventType") && (has("eventNumber") || has("positionEventNumber")) {
        JsonShape::AtomFeed
    } else if value.get("type").and_then(Value::as_str).is_some() && value.get("payload").is_some_and(Value::is_object)
    {
        JsonShape::EventSourcingDb
    } else if has("specversion") {
        JsonShape::CloudEvents
    } else {
        JsonShape::Generic
    }
}

/// What reading a JSON file gives: a store, or the mapping Rewind proposes for it.
pub enum JsonRead {
    Store(MemoryStore),
    /// The proposal, and the field names seen in the first records.
    NeedsMapping {
        proposal: Box<Mapping>,
        names: Vec<String>,
        examples: Vec<String>,
    },
}

/// Reads JSON events from `text`; `mapping` is used for generic JSON (and overrides detection).
pub fn read_json(path: &Path, bytes: &[u8], mapping: Option<&Mapping>) -> Result<JsonRead> {
    let mut skipped = Vec::new();
    let records = records(path, bytes, &mut skipped);
    if records.is_empty() {
        return Err(StoreError::NotAStore {
            path: path.to_owned(),
            reason: match skipped.first() {
                Some(first) => format!("no JSON events could be read ({}: {})", first.record, first.reason),
                None => "no events in it; expected JSON events (NDJSON, an array, an Atom feed or CloudEvents)".into(),
            },
        });
    }
    let shape = if mapping.is_some() {
        JsonShape::Generic
    } else {
        shape_of(&records)
    };
    if shape == JsonShape::Generic && mapping.is_none() {
        let mut keys: Vec<String> = Vec::new();
        let mut examples: Vec<String> = Vec::new();
        for record in records.iter().take(20) {
            if let Value::Object(map) = &record.value {
                for (key, value) in map {
                    if !keys.contains(key) {
                        keys.push(key.clone());
                        examples.push(decode::clip(&match value {
                            Value::String(text) => text.clone(),
                            other => other.to_string(),
                        }));
                    }
                }
            }
        }
        return Ok(JsonRead::NeedsMapping {
            proposal: Box::new(Mapping::propose(None, &keys, false)),
            names: keys,
            examples,
        });
    }
    let location = path.display().to_string();
    let mut convert = Converter::default();
    let mut events = Vec::with_capacity(records.len());
    for record in &records {
        let converted = match shape {
            JsonShape::Rewind => serde_json::from_value::<RecordedEvent>(record.value.clone())
                .map(Some)
                .map_err(|e| e.to_string()),
            JsonShape::AtomFeed => convert.atom_entry(&record.value),
            JsonShape::CloudEvents => Converter::cloud_event(&record.value),
            JsonShape::EventSourcingDb => match record.value.get("type").and_then(Value::as_str) {
                Some("event") => Converter::cloud_event(record.value.get("payload").unwrap_or(&Value::Null)),
                Some(other) => {
                    // Heartbeats and other control lines are not events; not worth reporting.
                    let _ = other;
                    continue;
                }
                None => Err("no `type`".into()),
            },
            JsonShape::Generic => Converter::mapped(&record.value, mapping.unwrap_or(&Mapping::default()), &location),
        };
        match converted {
            Ok(Some(event)) => events.push((record.order, event)),
            Ok(None) => {}
            Err(reason) => skipped.push(Skipped {
                record: record.location.clone(),
                reason,
            }),
        }
    }
    if shape != JsonShape::Rewind {
        number(&mut events, &location);
    }
    if !convert.system_events.is_empty() {
        skipped.push(Skipped {
            record: format!("{} entries", convert.system_events.len()),
            reason: "EventStoreDB system events ($-prefixed types or streams) are hidden".into(),
        });
    }
    let events = events.into_iter().map(|(_, e)| e).collect();
    Ok(JsonRead::Store(
        MemoryStore::new(path, shape.describe().into(), events, skipped).native(shape == JsonShape::Rewind),
    ))
}

#[derive(Default)]
struct Converter {
    system_events: Vec<String>,
}

/// Orders converted events and gives them positions and versions where the format has none:
/// by global position when every event has one, else by time (stable: file order breaks
/// ties); versions count per stream in that order unless the format numbered them.
fn number(events: &mut [(usize, RecordedEvent)], location: &str) {
    let all_positioned = events.iter().all(|(_, e)| e.global_position > 0);
    if all_positioned {
        events.sort_by_key(|(order, e)| (e.global_position, *order));
    } else {
        // Atom entries are newest first and have no global position: order by time, then by
        // stream and version (a total order, so equal times keep each stream's versions in order).
        events.sort_by(|(a_order, a), (b_order, b)| {
            (a.recorded_at, &a.stream_id, a.stream_version, a_order).cmp(&(
                b.recorded_at,
                &b.stream_id,
                b.stream_version,
                b_order,
            ))
        });
        for (index, (_, event)) in events.iter_mut().enumerate() {
            event.global_position = index as u64 + 1;
        }
    }
    let mut versions: HashMap<String, u64> = HashMap::new();
    for (_, event) in events.iter_mut() {
        let counter = versions.entry(event.stream_id.to_string()).or_default();
        if event.stream_version == 0 {
            *counter += 1;
            event.stream_version = *counter;
        } else {
            *counter = event.stream_version;
        }
        if event.event_id.is_nil() {
            event.event_id = decode::event_id_for_position(location, event.global_position);
        }
    }
}

fn string_field<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn required<'v>(value: &'v Value, key: &str) -> Result<&'v str, String> {
    string_field(value, key).ok_or_else(|| format!("no `{key}`"))
}

fn time_field(value: &Value, keys: &[&str]) -> (Option<DateTime<Utc>>, Option<String>) {
    decode::recorded_time(keys.iter().find_map(|k| value.get(*k)))
}

impl Converter {
    /// One Atom entry (`embed=body`: `data` and `metaData` are JSON inside strings), or a
    /// `content` entry whose `data` is an object.
    fn atom_entry(&mut self, entry: &Value) -> Result<Option<RecordedEvent>, String> {
        let content = entry.get("content").filter(|c| c.is_object()).unwrap_or(entry);
        let stream_id = string_field(content, "streamId")
            .or_else(|| string_field(content, "eventStreamId"))
            .or_else(|| string_field(entry, "positionStreamId"))
            .ok_or("no `streamId`")?
            .to_owned();
        let event_type = required(content, "eventType")?.to_owned();
        if event_type.starts_with('$') || stream_id.starts_with('$') {
            self.system_events.push(event_type);
            return Ok(None);
        }
        let number = content
            .get("eventNumber")
            .or_else(|| entry.get("positionEventNumber"))
            .and_then(decode::as_u64)
            .ok_or("no `eventNumber`")?;
        let is_json = content.get("isJson").and_then(Value::as_bool).unwrap_or(true);
        let (data, note) = match content.get("data") {
            None => (
                Value::Null,
                Note::problem("the entry has no `data` (read the feed with embed=body)".to_owned()),
            ),
            Some(Value::String(text)) if is_json => decode::decode_payload_value(RawPayload::Text(text)),
            Some(Value::String(text)) => (
                Value::String(text.clone()),
                Note::problem("payload is not JSON (isJson is false); shown as text".into()),
            ),
            Some(other) => (other.clone(), Note::default()),
        };
        let metadata = match content.get("metaData").or_else(|| content.get("metadata")) {
            Some(Value::String(text)) => decode::decode_payload_value(RawPayload::Text(text)).0,
            Some(other) => other.clone(),
            None => Value::Object(Map::new()),
        };
        let (recorded_at, time_note) = time_field(entry, &["updated"]);
        Ok(Some(RecordedEvent {
            global_position: 0,
            stream_type: decode::derive_stream_type(&stream_id, &event_type).into(),
            stream_id: stream_id.into(),
            stream_version: number + 1,
            event_id: string_field(content, "eventId")
                .map(decode::event_id_from)
                .unwrap_or_default(),
            event_type: event_type.into(),
            schema_version: None,
            recorded_at,
            data: data.into(),
            metadata: decode::with_note(metadata, note.or_problem(time_note)),
        }))
    }

    /// One `CloudEvent`: `subject` (else `source`) is the stream; `data` or `data_base64` the
    /// payload; `streamversion` the version and `globalposition`, `sequence` (or
    /// `EventSourcingDB`'s numeric `id`) the position; every other attribute is metadata.
    fn cloud_event(event: &Value) -> Result<Option<RecordedEvent>, String> {
        let Value::Object(attributes) = event else {
            return Err(format!("expected a CloudEvent object, found {}", decode::kind(event)));
        };
        let stream_id = string_field(event, "subject")
            .or_else(|| string_field(event, "source"))
            .ok_or("no `subject` or `source`")?
            .to_owned();
        let event_type = required(event, "type")?.to_owned();
        let id = string_field(event, "id").ok_or("no `id`")?;
        let json_content = string_field(event, "datacontenttype").is_none_or(|t| t.ends_with("json"));
        let (data, note) = if let Some(encoded) = string_field(event, "data_base64") {
            match base64::engine::general_purpose::STANDARD.decode(encoded) {
                Ok(bytes) => decode::decode_payload_value(RawPayload::Bytes(&bytes)),
                Err(e) => (
                    Value::String(encoded.to_owned()),
                    Note::problem(format!("data_base64 is not base64: {e}")),
                ),
            }
        } else {
            match event.get("data") {
                Some(Value::String(text)) if !json_content => (
                    Value::String(text.clone()),
                    Note::problem(format!(
                        "payload is {} (not JSON); shown as text",
                        string_field(event, "datacontenttype").unwrap_or("text")
                    )),
                ),
                Some(value) => (value.clone(), Note::default()),
                None => (Value::Null, Note::default()),
            }
        };
        // The `sequence` extension orders a source's events (all streams): a global position.
        let global_position = event
            .get("globalposition")
            .or_else(|| event.get("sequence"))
            .and_then(decode::as_u64)
            .or_else(|| id.parse::<u64>().ok().map(|n| n + 1))
            .unwrap_or(0);
        let stream_version = event.get("streamversion").and_then(decode::as_u64).unwrap_or(0);
        let (recorded_at, time_note) = time_field(event, &["recordedtime", "time"]);
        let metadata: Map<String, Value> = attributes
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "data" | "data_base64" | "subject" | "type" | "time"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut metadata = Value::Object(metadata);
        if let Some(correlation) = string_field(event, "correlationid") {
            metadata["correlation_id"] = Value::String(correlation.to_owned());
        }
        if let Some(causation) = string_field(event, "causationid") {
            metadata["causation_id"] = Value::String(causation.to_owned());
        }
        Ok(Some(RecordedEvent {
            global_position,
            stream_type: decode::derive_stream_type(&stream_id, &event_type).into(),
            stream_id: stream_id.into(),
            stream_version,
            event_id: decode::event_id_from(id),
            event_type: event_type.into(),
            schema_version: None,
            recorded_at,
            data: data.into(),
            metadata: decode::with_note(metadata, note.or_problem(time_note)),
        }))
    }

    /// A generic record through a mapping whose names are dotted field paths.
    fn mapped(record: &Value, mapping: &Mapping, location: &str) -> Result<Option<RecordedEvent>, String> {
        if !record.is_object() {
            return Err(format!("expected an event object, found {}", decode::kind(record)));
        }
        let field = |name: &Option<String>| name.as_deref().and_then(|n| decode::path(record, n));
        let stream_id = decode::path(record, &mapping.stream)
            .and_then(decode::as_text)
            .ok_or_else(|| format!("no stream id in `{}`", mapping.stream))?;
        let category = match &mapping.category {
            Some(name) => Some(
                decode::path(record, name)
                    .and_then(decode::as_text)
                    .ok_or_else(|| format!("no stream category in `{name}`"))?,
            ),
            None => None,
        };
        let stream_id = mapping.stream_id(category.as_deref(), &stream_id);
        // (The category is the stream's type unless the mapping names one.)
        let data = if let Some(name) = &mapping.payload {
            decode::path(record, name).cloned().unwrap_or(Value::Null)
        } else {
            // The record without the fields the mapping already uses.
            let used: Vec<&str> = crate::mapping::Part::ALL
                .iter()
                .filter(|p| **p != crate::mapping::Part::Payload)
                .filter_map(|p| p.get(mapping))
                .collect();
            match record {
                Value::Object(map) => Value::Object(
                    map.iter()
                        .filter(|(k, _)| !used.contains(&k.as_str()))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                ),
                other => other.clone(),
            }
        };
        let (data, note) = match data {
            Value::String(text) => decode::decode_payload_value(RawPayload::Text(&text)),
            other => (other, Note::default()),
        };
        let event_type = match field(&mapping.event_type) {
            Some(value) => decode::as_text(value)
                .ok_or_else(|| format!("no event type in `{}`", mapping.event_type.as_deref().unwrap_or("")))?,
            None => mapping
                .type_in_payload(&data)
                .or_else(|| decode::enum_tag(&data).map(str::to_owned))
                .ok_or("no event type (map one)")?,
        };
        let version = match field(&mapping.version) {
            Some(value) => {
                decode::as_u64(value).ok_or_else(|| format!("version {value} is not a whole number"))? + 1
                    - mapping.version_base.min(1)
            }
            None => 0,
        };
        let position = field(&mapping.position).and_then(decode::as_u64).unwrap_or(0);
        let (recorded_at, time_note) = decode::recorded_time(
            field(&mapping.time).or_else(|| mapping.time_in_payload.as_deref().and_then(|p| decode::path(&data, p))),
        );
        let metadata = match field(&mapping.metadata) {
            Some(Value::String(text)) => decode::decode_payload_value(RawPayload::Text(text)).0,
            Some(value) => value.clone(),
            None => Value::Object(Map::new()),
        };
        let data = if mapping.unwrap_type_tags {
            decode::unwrap_type_tags(data)
        } else {
            data
        };
        let stream_type = field(&mapping.stream_type)
            .and_then(decode::as_text)
            .or(category)
            .unwrap_or_else(|| decode::derive_stream_type(&stream_id, &event_type));
        let _ = location;
        Ok(Some(RecordedEvent {
            global_position: position,
            stream_id: stream_id.into(),
            stream_type: stream_type.into(),
            stream_version: version,
            event_id: field(&mapping.event_id)
                .and_then(decode::as_text)
                .map(|t| decode::event_id_from(&t))
                .unwrap_or_default(),
            event_type: event_type.into(),
            schema_version: None,
            recorded_at,
            data: data.into(),
            metadata: decode::with_note(metadata, note.or_problem(time_note)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::EventSource;
    use serde_json::json;

    fn store(text: &str, mapping: Option<&Mapping>) -> MemoryStore {
        match read_json(Path::new("test.json"), text.as_bytes(), mapping).expect("reads") {
            JsonRead::Store(store) => store,
            JsonRead::NeedsMapping { proposal, .. } => panic!("asked for a mapping: {proposal:?}"),
        }
    }

    #[test]
    fn atom_entries_come_newest_first_and_are_replayed_oldest_first() {
        let feed = json!({
            "title": "Event stream 'account-1'", "streamId": "account-1", "links": [],
            "entries": [
                {"eventId": "fbf4a1a1-b4a3-4dfe-a01f-ec52c34e16e4", "eventType": "Deposited", "eventNumber": 1,
                 "data": "{\"amount\": 5}", "metaData": "{\"$correlationId\": \"c-1\"}", "streamId": "account-1",
                 "isJson": true, "positionEventNumber": 1, "updated": "2024-01-01T10:00:01Z"},
                {"eventId": "0bf4a1a1-b4a3-4dfe-a01f-ec52c34e16e4", "eventType": "Opened", "eventNumber": 0,
                 "data": "{\"owner\": \"Ada\"}", "streamId": "account-1", "isJson": true,
                 "positionEventNumber": 0, "updated": "2024-01-01T10:00:00Z"}
            ]
        });
        let store = store(&feed.to_string(), None);
        let events = store.read_batch(0, 10).expect("reads");
        assert_eq!(store.describe(), "EventStoreDB Atom feed (JSON)");
        assert_eq!(events.len(), 2);
        assert_eq!((events[0].event_type.as_str(), events[0].stream_version), ("Opened", 1));
        assert_eq!(
            (events[1].event_type.as_str(), events[1].stream_version),
            ("Deposited", 2)
        );
        assert_eq!(events[1].data, json!({"amount": 5}));
        assert_eq!(events[1].correlation_id(), Some("c-1"));
    }

    #[test]
    fn several_saved_atom_pages_concatenated_read_as_one_history() {
        let page = |numbers: [u64; 2], stream: &str| {
            json!({"title": "page", "links": [], "entries": numbers.iter().rev().map(|n| json!({
                "eventId": format!("00000000-0000-0000-0000-00000000000{n}"), "eventType": "Step",
                "eventNumber": n, "data": format!("{{\"n\": {n}}}"), "streamId": stream, "isJson": true,
                "positionEventNumber": n, "updated": format!("2024-01-01T10:00:0{n}Z")
            })).collect::<Vec<_>>()})
        };
        let text = format!("{}\n{}", page([2, 3], "s-1"), page([0, 1], "s-1"));
        let store = store(&text, None);
        let events = store.read_stream("s-1", None).expect("reads");
        let numbers: Vec<u64> = events
            .iter()
            .map(|e| e.data.value()["n"].as_u64().expect("n"))
            .collect();
        assert_eq!(numbers, [0, 1, 2, 3]);
        assert_eq!(events[3].stream_version, 4);
        assert!(store.skipped().is_empty());
    }

    #[test]
    fn cloud_events_map_subject_type_time_and_extensions() {
        let batch = json!([
            {"specversion": "1.0", "id": "a", "source": "urn:bank", "subject": "account-1", "type": "Opened",
             "time": "2024-01-01T10:00:00Z", "data": {"owner": "Ada"}},
            {"specversion": "1.0", "id": "b", "source": "urn:bank", "subject": "account-1", "type": "Note",
             "time": "2024-01-01T10:00:01Z", "datacontenttype": "application/xml", "data": "<note/>",
             "correlationid": "c-9"}
        ]);
        let store = store(&batch.to_string(), None);
        let events = store.read_batch(0, 10).expect("reads");
        assert_eq!(events[0].stream_id, "account-1");
        assert_eq!(events[1].stream_version, 2);
        assert_eq!(events[1].correlation_id(), Some("c-9"));
        assert!(events[1].payload_note().expect("noted").contains("application/xml"));
    }

    #[test]
    fn bad_lines_are_skipped_and_reported_with_their_line_number() {
        let text = "{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"subject\":\"x\",\"type\":\"A\"}\nnot json\n{\"specversion\":\"1.0\",\"source\":\"s\",\"subject\":\"x\",\"type\":\"B\"}\n";
        let store = store(text, None);
        assert_eq!(store.event_count().expect("counts"), 1);
        let skipped: Vec<&str> = store.skipped().iter().map(|s| s.record.as_str()).collect();
        assert_eq!(skipped, ["line 2", "line 3"]);
        assert!(store.skipped()[1].reason.contains("no `id`"));
    }

    #[test]
    fn unknown_json_asks_for_a_mapping_and_reads_with_one() {
        let text = r#"[{"aggregateId": "a-1", "eventType": "Opened", "occurredAt": "2024-01-01T00:00:00Z", "payload": {"x": 1}},
                       {"aggregateId": "a-1", "eventType": "Changed", "occurredAt": "2024-01-01T00:00:01Z", "payload": {"x": 2}}]"#;
        let JsonRead::NeedsMapping { proposal, .. } =
            read_json(Path::new("t.json"), text.as_bytes(), None).expect("reads")
        else {
            panic!("expected a proposal");
        };
        assert_eq!(proposal.stream, "aggregateId");
        assert_eq!(proposal.payload.as_deref(), Some("payload"));
        let store = store(text, Some(&proposal));
        let events = store.read_stream("a-1", None).expect("reads");
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].data, json!({"x": 2}));
        assert_eq!(events[1].stream_version, 2);
    }
}
