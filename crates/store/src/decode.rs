//! Turning foreign values into a [`RecordedEvent`]'s fields: payload bytes, times and ids.
//!
//! Every reader of a foreign format goes through these, so a BLOB, a JSON string holding JSON,
//! a zlib-compressed payload or a naive `YYYY-MM-DD HH:MM:SS` time is handled the same way
//! whatever the file it came from.

use std::io::Read;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use rewind_core::{PAYLOAD_ENCODING, PAYLOAD_NOTE, Payload};

/// A payload as it came out of a store, before decoding.
pub enum RawPayload<'a> {
    Text(&'a str),
    OwnedText(String),
    Bytes(&'a [u8]),
    Json(Value),
}

/// What reading a payload found worth saying: a problem (the engine reports it as a replay
/// issue), and how a payload read fine was stored (said, not an issue).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Note {
    pub problem: Option<String>,
    pub encoding: Option<&'static str>,
}

impl Note {
    pub fn problem(problem: String) -> Self {
        Self {
            problem: Some(problem),
            encoding: None,
        }
    }

    /// With `problem` too, unless there is one already (the first is the one said).
    #[must_use]
    pub fn or_problem(mut self, problem: Option<String>) -> Self {
        if self.problem.is_none() {
            self.problem = problem;
        }
        self
    }
}

/// Decodes a payload to JSON. Payloads that are not JSON become a string (the text, or hex
/// for binary) and a note saying so, which the engine reports as a replay issue. JSON text is
/// checked and kept as text (see [`Payload`]).
pub fn decode_payload(raw: RawPayload<'_>) -> (Payload, Note) {
    match raw {
        RawPayload::Json(value) => (value.into(), Note::default()),
        RawPayload::Text(text) => decode_payload(RawPayload::OwnedText(text.to_owned())),
        RawPayload::OwnedText(text) => match Payload::from_json(text) {
            Ok(payload) => (payload, Note::default()),
            Err(not_json) => (
                Value::String(not_json.text).into(),
                Note::problem(format!(
                    "payload is not JSON ({}); shown as text",
                    first_line(&not_json.error.to_string())
                )),
            ),
        },
        RawPayload::Bytes(bytes) => decode_bytes(bytes),
    }
}

/// [`decode_payload`] as a JSON tree, for readers that work on the tree anyway (and metadata):
/// JSON text is parsed once, straight into the tree.
pub fn decode_payload_value(raw: RawPayload<'_>) -> (Value, Note) {
    let text = match &raw {
        RawPayload::Text(text) => Some(*text),
        RawPayload::OwnedText(text) => Some(text.as_str()),
        RawPayload::Bytes(_) | RawPayload::Json(_) => None,
    };
    if let Some(Ok(value)) = text.map(serde_json::from_str) {
        return (value, Note::default());
    }
    let (payload, note) = decode_payload(raw);
    (payload.into_value(), note)
}

fn decode_bytes(bytes: &[u8]) -> (Payload, Note) {
    if is_zlib(bytes) {
        let mut inflated = Vec::new();
        let mut decoder = flate2::read::ZlibDecoder::new(bytes);
        if decoder.read_to_end(&mut inflated).is_ok() {
            let (value, note) = decode_bytes(&inflated);
            return match note.problem {
                Some(problem) => (value, Note::problem(format!("zlib-compressed {problem}"))),
                None => (
                    value,
                    Note {
                        problem: None,
                        encoding: Some(INFLATED),
                    },
                ),
            };
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => decode_payload(RawPayload::Text(text)),
        Err(_) => (
            Value::String(hex(bytes)).into(),
            Note::problem(format!(
                "payload is {} bytes of binary data (not UTF-8 JSON; encrypted, compressed or another encoding?); shown as hex",
                bytes.len()
            )),
        ),
    }
}

/// How a payload stored zlib-compressed and read fine was stored: not an issue, said in the
/// metadata under [`PAYLOAD_ENCODING`] by [`with_note`].
pub const INFLATED: &str = "stored zlib-compressed; shown inflated";

/// zlib's two-byte header: deflate with a 32 KiB window, any level.
fn is_zlib(bytes: &[u8]) -> bool {
    bytes.len() > 2 && bytes[0] == 0x78 && matches!(bytes[1], 0x01 | 0x5e | 0x9c | 0xda)
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// Lower-case hex, at most 4 KiB of input shown.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let shown = &bytes[..bytes.len().min(4096)];
    let mut out = String::with_capacity(shown.len() * 2 + 16);
    for byte in shown {
        let _ = write!(out, "{byte:02x}");
    }
    if shown.len() < bytes.len() {
        let _ = write!(out, "… ({} bytes)", bytes.len());
    }
    out
}

/// Metadata as the event keeps it: no metadata is an empty object, and the note's problem
/// ([`PAYLOAD_NOTE`]) and encoding ([`PAYLOAD_ENCODING`]), if any, are added, making metadata
/// an object if it was not. JSON text with nothing to add is kept as text.
pub fn with_note(metadata: impl Into<Payload>, note: Note) -> Payload {
    let metadata = metadata.into();
    let noted = note.problem.is_some() || note.encoding.is_some();
    if !noted && metadata.text().is_some_and(|text| text.trim() != "null") {
        return metadata;
    }
    let mut map = match (metadata.into_value(), noted) {
        (Value::Object(map), _) => map,
        (Value::Null, _) => Map::new(),
        (other, false) => return other.into(),
        (other, true) => {
            let mut map = Map::new();
            map.insert("metadata".into(), other);
            map
        }
    };
    if let Some(problem) = note.problem {
        map.insert(PAYLOAD_NOTE.into(), Value::String(problem));
    }
    if let Some(encoding) = note.encoding {
        map.insert(PAYLOAD_ENCODING.into(), Value::String(encoding.to_owned()));
    }
    Value::Object(map).into()
}

/// Python `eventsourcing`'s JSON transcoder wraps values it cannot write as plain JSON as
/// `{"_type_": "datetime_iso", "_data_": "…"}`; shows them as their plain value.
pub fn unwrap_type_tags(value: Value) -> Value {
    match value {
        Value::Object(mut map) => {
            if map.len() == 2 && map.contains_key("_type_") && map.contains_key("_data_") {
                return unwrap_type_tags(map.remove("_data_").unwrap_or(Value::Null));
            }
            Value::Object(map.into_iter().map(|(k, v)| (k, unwrap_type_tags(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(unwrap_type_tags).collect()),
        other => other,
    }
}

/// A time in any of the shapes stores use: RFC 3339, `YYYY-MM-DD HH:MM:SS[.f]` (UTC), unix
/// seconds, milliseconds or microseconds (told apart by size), or a type-tagged wrapper.
/// The recorded time in `value`, when there is one: `(None, None)` without one (absent or
/// null), `(None, why)` when it does not read. A time the store does not give is unknown,
/// never made up.
pub fn recorded_time(value: Option<&Value>) -> (Option<DateTime<Utc>>, Option<String>) {
    match value {
        None | Some(Value::Null) => (None, None),
        Some(time) => match parse_time(time) {
            Ok(time) => (Some(time), None),
            Err(reason) => (None, Some(format!("recorded time unreadable: {reason}"))),
        },
    }
}

pub fn parse_time(value: &Value) -> Result<DateTime<Utc>, String> {
    match value {
        Value::String(text) => parse_time_text(text),
        Value::Number(number) => {
            let n = number
                .as_i64()
                .or_else(|| number.as_f64().map(|f| f as i64))
                .ok_or_else(|| format!("time {number} is out of range"))?;
            unix_time(n).ok_or_else(|| format!("time {number} is out of range"))
        }
        Value::Object(map) if map.contains_key("_data_") => parse_time(&map["_data_"]),
        other => Err(format!("expected a time, found {}", kind(other))),
    }
}

pub fn parse_time_text(text: &str) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f%#z",
    ] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(time.and_utc());
        }
        if let Ok(time) = DateTime::parse_from_str(text, format) {
            return Ok(time.with_timezone(&Utc));
        }
    }
    if let Ok(n) = text.parse::<i64>() {
        return unix_time(n).ok_or_else(|| format!("time {text} is out of range"));
    }
    Err(format!(
        "`{}` is not a time (expected RFC 3339 or YYYY-MM-DD HH:MM:SS)",
        clip(text)
    ))
}

/// Unix seconds, milliseconds or microseconds, whichever puts the time between 1973 and 5138.
fn unix_time(n: i64) -> Option<DateTime<Utc>> {
    if n.abs() < 100_000_000_000 {
        DateTime::from_timestamp(n, 0)
    } else if n.abs() < 100_000_000_000_000 {
        DateTime::from_timestamp_millis(n)
    } else {
        DateTime::from_timestamp_micros(n)
    }
}

/// An event id: a UUID as it is, anything else hashed (UUID v5) so equal ids stay equal.
pub fn event_id_from(text: &str) -> Uuid {
    Uuid::parse_str(text.trim()).unwrap_or_else(|_| Uuid::new_v5(&Uuid::NAMESPACE_OID, text.as_bytes()))
}

/// A stand-in id for a store that keeps none: unique per (store, position).
pub fn event_id_for_position(location: &str, position: u64) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, format!("{location}#{position}").as_bytes())
}

/// A stream's type when the store keeps none: the class of a Python topic
/// (`bank.domain:Account.Opened` gives `Account`), the category of a `category-id` stream name
/// (`account-42` gives `account`; a UUID has none), the first part of a path (`/books/42`
/// gives `books`); otherwise unknown: empty, never a piece of the id.
pub fn derive_stream_type(stream_id: &str, event_type: &str) -> String {
    if let Some((_, qualname)) = event_type.split_once(':')
        && let Some((class, _)) = qualname.rsplit_once('.')
        && !class.is_empty()
    {
        return class.rsplit('.').next().unwrap_or(class).to_owned();
    }
    if let Some(category) = rewind_core::category(stream_id)
        && !category.starts_with('/')
    {
        return category.to_owned();
    }
    if let Some(rest) = stream_id.strip_prefix('/')
        && let Some((category, _)) = rest.split_once('/')
    {
        return category.to_owned();
    }
    String::new()
}

/// The tag of a serde externally tagged enum payload (`{"Deposited": {…}}`).
/// A unit variant is stored as a bare string (`"AccountClosed"`).
pub fn enum_tag(payload: &Value) -> Option<&str> {
    match payload {
        Value::Object(map) if map.len() == 1 => map.keys().next().map(String::as_str),
        Value::String(tag) if !tag.is_empty() && !tag.contains(char::is_whitespace) => Some(tag),
        _ => None,
    }
}

/// Follows a dotted path (`payload.timestamp`) into a JSON value.
pub fn path<'v>(value: &'v Value, dotted: &str) -> Option<&'v Value> {
    if let Some(found) = value.get(dotted) {
        return Some(found);
    }
    dotted.split('.').try_fold(value, |v, key| v.get(key))
}

pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON value as a stream id or type: strings as they are, numbers written out.
pub fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A JSON value as a non-negative integer (numbers, or strings of digits such as `"0042"`).
pub fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn clip(text: &str) -> String {
    if text.chars().count() <= 60 {
        text.to_owned()
    } else {
        let mut clipped: String = text.chars().take(57).collect();
        clipped.push('…');
        clipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Write;

    #[test]
    fn metadata_is_an_object_and_carries_the_note() {
        let text = |json: &str| Payload::from_json(json.to_owned()).expect("JSON");
        let kept = with_note(text(r#"{"a":1}"#), Note::default());
        assert_eq!(kept.text(), Some(r#"{"a":1}"#), "JSON text with no note stays text");
        assert_eq!(with_note(text("null"), Note::default()), json!({}));
        assert_eq!(with_note(Value::Null, Note::default()), json!({}));
        assert_eq!(with_note(json!("x"), Note::default()), json!("x"));
        let noted = Note::problem("not JSON".to_owned());
        assert_eq!(
            with_note(text(r#"{"a":1}"#), noted.clone()),
            json!({"a": 1, PAYLOAD_NOTE: "not JSON"})
        );
        assert_eq!(
            with_note(json!("x"), noted),
            json!({"metadata": "x", PAYLOAD_NOTE: "not JSON"})
        );
    }

    #[test]
    fn text_json_blob_zlib_and_binary_payloads_decode_or_say_why_not() {
        assert_eq!(
            decode_payload(RawPayload::Text(r#"{"a":1}"#)),
            (json!({"a": 1}).into(), Note::default())
        );
        assert_eq!(
            decode_payload(RawPayload::Bytes(br#"{"a":1}"#)),
            (json!({"a": 1}).into(), Note::default())
        );
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(br#"{"amount":5}"#).expect("compresses");
        let compressed = encoder.finish().expect("compresses");
        assert_eq!(
            decode_payload(RawPayload::Bytes(&compressed)),
            (
                json!({"amount": 5}).into(),
                Note {
                    problem: None,
                    encoding: Some(INFLATED)
                }
            ),
            "read, and said how"
        );
        let metadata = with_note(
            json!({}),
            Note {
                problem: None,
                encoding: Some(INFLATED),
            },
        );
        assert_eq!(metadata.value()[PAYLOAD_ENCODING], INFLATED);
        assert!(metadata.value().get(PAYLOAD_NOTE).is_none(), "not an issue");

        let (value, note) = decode_payload(RawPayload::Text("<deposit amount=\"5\"/>"));
        assert_eq!(value, json!("<deposit amount=\"5\"/>"));
        assert!(note.problem.expect("a note").contains("not JSON"));
        let (value, note) = decode_payload(RawPayload::Bytes(&[0xff, 0x00, 0x10]));
        assert_eq!(value, json!("ff0010"));
        assert!(note.problem.expect("a note").contains("shown as hex"));
    }

    #[test]
    fn times_in_every_shape_stores_write_them() {
        let expected = "2024-05-01T10:00:00Z".parse::<DateTime<Utc>>().expect("valid");
        for value in [
            json!("2024-05-01T10:00:00Z"),
            json!("2024-05-01T12:00:00+02:00"),
            json!("2024-05-01 10:00:00"),
            json!("2024-05-01 10:00:00.000"),
            json!(1_714_557_600),
            json!(1_714_557_600_000_i64),
            json!({"_type_": "datetime_iso", "_data_": "2024-05-01T10:00:00+00:00"}),
        ] {
            assert_eq!(parse_time(&value), Ok(expected), "{value}");
        }
        assert!(
            parse_time(&json!("yesterday"))
                .expect_err("not a time")
                .contains("yesterday")
        );
    }

    #[test]
    fn stream_types_come_from_python_topics_or_stream_categories() {
        assert_eq!(derive_stream_type("x", "bank.domain:Account.Opened"), "Account");
        assert_eq!(derive_stream_type("x", "__main__:BankAccount.Deposited"), "BankAccount");
        assert_eq!(derive_stream_type("account-42", "Opened"), "account");
        assert_eq!(derive_stream_type("/books/42", "acquired"), "books");
        assert_eq!(derive_stream_type("42", "Opened"), "", "unknown");
        assert_eq!(
            derive_stream_type("c180068f-0b6f-4d2a-9c1e-7f3b2a1d0e99", "Opened"),
            "",
            "a UUID's first group is no type"
        );
    }

    #[test]
    fn python_type_tags_unwrap_to_plain_values() {
        let state = json!({"amount": 5, "timestamp": {"_type_": "datetime_iso", "_data_": "2024-01-01"}});
        assert_eq!(unwrap_type_tags(state), json!({"amount": 5, "timestamp": "2024-01-01"}));
    }
}
