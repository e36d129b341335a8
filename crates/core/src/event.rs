//! The recorded event: one immutable fact as a store holds it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::payload::Payload;

/// Total order across all streams of a store (1-based, gaps allowed).
pub type GlobalPosition = u64;

/// One event as it was recorded, normalized across store formats.
///
/// Field names are the vocabulary of `STYLE.md`; the NDJSON export writes exactly these names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub global_position: GlobalPosition,
    pub stream_id: String,
    pub stream_type: String,
    /// 1-based position inside the stream.
    pub stream_version: u64,
    pub event_id: Uuid,
    pub event_type: String,
    /// The payload's shape; the input to upcasters.
    pub schema_version: u32,
    pub recorded_at: DateTime<Utc>,
    pub data: Payload,
    /// `correlation_id`, `causation_id` and anything else the writer attached.
    #[serde(default = "empty_object")]
    pub metadata: Value,
}

/// Metadata key under which a store reader notes that the payload is not the event's JSON
/// (binary, XML, compressed or encrypted data shown as text or hex). The engine reports it as a
/// replay issue.
pub const PAYLOAD_NOTE: &str = "$rewind.payload";

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

impl RecordedEvent {
    /// The correlation id in the metadata, if any (`correlation_id`, or the common `$correlationId`).
    pub fn correlation_id(&self) -> Option<&str> {
        metadata_str(&self.metadata, &["correlation_id", "$correlationId", "correlationId"])
    }

    /// Why the payload is not the event's JSON, when the reader could not decode it.
    pub fn payload_note(&self) -> Option<&str> {
        self.metadata.get(PAYLOAD_NOTE).and_then(Value::as_str)
    }

    /// The causation id in the metadata, if any: the id of the event that caused this one.
    pub fn causation_id(&self) -> Option<&str> {
        metadata_str(&self.metadata, &["causation_id", "$causationId", "causationId"])
    }
}

fn metadata_str<'a>(metadata: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|key| metadata.get(*key).and_then(Value::as_str))
}

/// Metadata for an event written by the domain: correlation and causation ids.
pub fn metadata(correlation_id: Option<&str>, causation_id: Option<&str>) -> Value {
    let mut map = serde_json::Map::new();
    if let Some(id) = correlation_id {
        map.insert("correlation_id".into(), Value::String(id.to_owned()));
    }
    if let Some(id) = causation_id {
        map.insert("causation_id".into(), Value::String(id.to_owned()));
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_and_causation_ids_are_read_from_metadata() {
        let event = RecordedEvent {
            global_position: 1,
            stream_id: "account-1".into(),
            stream_type: "BankAccount".into(),
            stream_version: 1,
            event_id: Uuid::nil(),
            event_type: "AccountOpened".into(),
            schema_version: 1,
            recorded_at: DateTime::UNIX_EPOCH,
            data: serde_json::json!({}).into(),
            metadata: metadata(Some("order-1"), Some("abc")),
        };
        assert_eq!(event.correlation_id(), Some("order-1"));
        assert_eq!(event.causation_id(), Some("abc"));
    }

    #[test]
    fn missing_metadata_deserializes_as_an_empty_object() {
        let json = r#"{"global_position":1,"stream_id":"s","stream_type":"T","stream_version":1,
            "event_id":"00000000-0000-0000-0000-000000000000","event_type":"E","schema_version":1,
            "recorded_at":"2024-01-01T00:00:00Z","data":{}}"#;
        let event: RecordedEvent = serde_json::from_str(json).expect("valid event");
        assert_eq!(event.metadata, serde_json::json!({}));
        assert_eq!(event.correlation_id(), None);
    }
}
