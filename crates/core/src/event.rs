//! The recorded event: one immutable fact as a store holds it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use smol_str::SmolStr;
use uuid::Uuid;

use crate::payload::Payload;

/// Total order across all streams of a store (1-based, gaps allowed).
pub type GlobalPosition = u64;

/// One event as it was recorded, normalized across store formats.
///
/// Field names are Rewind's vocabulary (docs/store-schemas.md); the NDJSON export writes exactly
/// these names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub global_position: GlobalPosition,
    /// Names are `SmolStr`s: the usual ones (up to 23 bytes) are held inline, so reading an
    /// event allocates nothing for them.
    pub stream_id: SmolStr,
    pub stream_type: SmolStr,
    /// 1-based position inside the stream.
    pub stream_version: u64,
    pub event_id: Uuid,
    pub event_type: SmolStr,
    /// The payload's shape, as the store recorded it (the input to upcasters); `None` when the
    /// store records none (JSON exports, most other libraries' tables): the domain's tolerant
    /// reader then decides, and nothing is upcast.
    #[serde(default)]
    pub schema_version: Option<u32>,
    /// When the event was recorded; `None` when the store does not say (cqrs-es tables, a
    /// mapping without a time, an unreadable time). Never made up.
    #[serde(default)]
    pub recorded_at: Option<DateTime<Utc>>,
    pub data: Payload,
    /// `correlation_id`, `causation_id` and anything else the writer attached.
    /// Kept as the store's JSON text; a tree is built only when something reads a key.
    #[serde(default = "empty_object")]
    pub metadata: Payload,
}

/// Metadata key under which a store reader notes that the payload is not the event's JSON
/// (binary, XML, compressed or encrypted data shown as text or hex). The engine reports it as a
/// replay issue.
pub const PAYLOAD_NOTE: &str = "$rewind.payload";

/// Metadata key under which a store reader says how it decoded a payload that it could read
/// (`stored zlib-compressed; shown inflated`): worth showing, not an issue.
pub const PAYLOAD_ENCODING: &str = "$rewind.payload_encoding";

fn empty_object() -> Payload {
    Payload::from(Value::Object(serde_json::Map::new()))
}

impl RecordedEvent {
    /// The correlation id in the metadata, if any (`correlation_id`, or the common `$correlationId`).
    pub fn correlation_id(&self) -> Option<&str> {
        metadata_str(&self.metadata, &["correlation_id", "$correlationId", "correlationId"])
    }

    /// Why the payload is not the event's JSON, when the reader could not decode it.
    pub fn payload_note(&self) -> Option<&str> {
        // Readers write the note's key as it is; metadata whose text does not hold it is not
        // parsed (this runs for every event replayed).
        if self.metadata.text().is_some_and(|text| !text.contains(PAYLOAD_NOTE)) {
            return None;
        }
        self.metadata.value().get(PAYLOAD_NOTE).and_then(Value::as_str)
    }

    /// How the reader decoded the payload, when it was stored otherwise than as JSON text
    /// (compressed) and read fine.
    pub fn payload_encoding(&self) -> Option<&str> {
        if self
            .metadata
            .text()
            .is_some_and(|text| !text.contains(PAYLOAD_ENCODING))
        {
            return None;
        }
        self.metadata.value().get(PAYLOAD_ENCODING).and_then(Value::as_str)
    }

    /// The causation id in the metadata, if any: the id of the event that caused this one.
    pub fn causation_id(&self) -> Option<&str> {
        metadata_str(&self.metadata, &["causation_id", "$causationId", "causationId"])
    }
}

fn metadata_str<'a>(metadata: &'a Payload, keys: &[&str]) -> Option<&'a str> {
    let metadata = metadata.value();
    keys.iter().find_map(|key| metadata.get(*key).and_then(Value::as_str))
}

/// Metadata for an event written by the domain: correlation and causation ids.
pub fn metadata(correlation_id: Option<&str>, causation_id: Option<&str>) -> Payload {
    let mut map = serde_json::Map::new();
    if let Some(id) = correlation_id {
        map.insert("correlation_id".into(), Value::String(id.to_owned()));
    }
    if let Some(id) = causation_id {
        map.insert("causation_id".into(), Value::String(id.to_owned()));
    }
    Payload::from(Value::Object(map))
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
            schema_version: Some(1),
            recorded_at: None,
            data: serde_json::json!({}).into(),
            metadata: metadata(Some("order-1"), Some("abc")),
        };
        assert_eq!(event.correlation_id(), Some("order-1"));
        assert_eq!(event.causation_id(), Some("abc"));
    }

    #[test]
    fn metadata_kept_as_text_answers_the_same_questions() {
        let text = |json: &str| Payload::from_json(json.to_owned()).expect("JSON");
        let mut event = RecordedEvent {
            global_position: 1,
            stream_id: "s".into(),
            stream_type: "T".into(),
            stream_version: 1,
            event_id: Uuid::nil(),
            event_type: "E".into(),
            schema_version: Some(1),
            recorded_at: None,
            data: serde_json::json!({}).into(),
            metadata: text(r#"{"$correlationId":"c-1","$rewind.payload":"binary, 12 bytes"}"#),
        };
        assert_eq!(event.correlation_id(), Some("c-1"));
        assert_eq!(event.payload_note(), Some("binary, 12 bytes"));
        event.metadata = text(r#"{"causation_id":"e-7","note":"$rewind"}"#);
        assert_eq!(event.payload_note(), None);
        assert_eq!(event.causation_id(), Some("e-7"));
        assert_eq!(
            event.metadata,
            serde_json::json!({"causation_id": "e-7", "note": "$rewind"})
        );
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
