//! The protocol's lines: requests written as text (payloads go as stored, not re-encoded), and
//! answers read and held to what the plug-in declared.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use rewind_core::{ApplyError, FoldOutcome, RecordedEvent, RowUpdate, SmolStr, Violation};

use crate::Handshake;

/// Flag: the payload is not JSON; it goes as a JSON string of the text Rewind read.
const TEXT_PAYLOAD: u32 = 1;
/// Flag: answer the stream's state after this event.
const WANT_STATE: u32 = 2;

/// A request's events, streams and event types, being written.
#[derive(Default)]
pub struct Batch {
    streams: String,
    types: String,
    starts: String,
    events: String,
    count: usize,
}

/// `text` as a JSON string.
fn string(out: &mut String, text: &str) {
    out.push_str(&Value::from(text).to_string());
}

fn comma(out: &mut String) {
    if !out.is_empty() {
        out.push(',');
    }
}

impl Batch {
    /// Events written so far.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Tells the plug-in about stream number `stream`: its id, the aggregate of the
    /// plug-in's that replays it (`None`: sent only for the read models), and the stream type
    /// the store gives it.
    pub fn stream(&mut self, stream: u32, stream_id: &str, aggregate: Option<&str>, stream_type: &str) {
        comma(&mut self.streams);
        let _ = write!(self.streams, "[{stream},");
        string(&mut self.streams, stream_id);
        self.streams.push(',');
        match aggregate {
            Some(aggregate) => string(&mut self.streams, aggregate),
            None => self.streams.push_str("null"),
        }
        self.streams.push(',');
        string(&mut self.streams, stream_type);
        self.streams.push(']');
    }

    /// The state stream number `stream` starts from (JSON text the plug-in answered before;
    /// `None`: a new stream).
    pub fn start(&mut self, stream: u32, state: Option<&str>) {
        comma(&mut self.starts);
        let _ = write!(self.starts, "[{stream},{}]", state.unwrap_or("null"));
    }

    /// Writes an event: `[stream, type, position, version, schema version, time, payload,
    /// flags]`. Event types are numbered once per connection (`types` remembers them).
    pub fn event(&mut self, types: &mut HashMap<SmolStr, u32>, event: &RecordedEvent, stream: u32, want_state: bool) {
        let next = types.len() as u32;
        let kind = *types.entry(event.event_type.clone()).or_insert_with(|| {
            comma(&mut self.types);
            let _ = write!(self.types, "[{next},");
            string(&mut self.types, &event.event_type);
            self.types.push(']');
            next
        });
        comma(&mut self.events);
        let _ = write!(
            self.events,
            "[{stream},{kind},{},{},",
            event.global_position, event.stream_version
        );
        match event.schema_version {
            Some(version) => {
                let _ = write!(self.events, "{version},");
            }
            None => self.events.push_str("null,"),
        }
        match event.recorded_at {
            Some(time) => {
                self.events.push('"');
                self.events
                    .push_str(&time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
                self.events.push_str("\",");
            }
            None => self.events.push_str("null,"),
        }
        let mut flags = if want_state { WANT_STATE } else { 0 };
        // A payload goes as it is stored when it is JSON; otherwise as a string of its text.
        let json = event.payload_note().is_none() && event.data.check().is_ok();
        match (json, event.data.text()) {
            (true, Some(text)) => self.events.push_str(text),
            (true, None) => self.events.push_str(&event.data.value().to_string()),
            (false, Some(text)) => {
                flags |= TEXT_PAYLOAD;
                string(&mut self.events, text);
            }
            (false, None) => {
                flags |= TEXT_PAYLOAD;
                match event.data.value() {
                    Value::String(text) => string(&mut self.events, text),
                    other => string(&mut self.events, &other.to_string()),
                }
            }
        }
        let _ = write!(self.events, ",{flags}]");
        self.count += 1;
    }

    /// The fold request: `keep` says the plug-in keeps the session's states for the next
    /// request and folds its read models too (a whole store's fold), or may forget them after
    /// answering and leave its read models alone (a seek).
    pub fn fold_line(self, id: u64, session: u64, keep: bool) -> Vec<u8> {
        let mut line = String::with_capacity(self.events.len() + self.streams.len() + 128);
        let _ = writeln!(
            line,
            "{{\"id\":{id},\"type\":\"fold\",\"session\":{session},\"keep\":{keep},\"projections\":{keep},\"streams\":[{}],\"types\":[{}],\"starts\":[{}],\"events\":[{}]}}",
            self.streams, self.types, self.starts, self.events
        );
        line.into_bytes()
    }

    /// The upcast request.
    pub fn upcast_line(self, id: u64) -> Vec<u8> {
        format!(
            "{{\"id\":{id},\"type\":\"upcast\",\"streams\":[{}],\"types\":[{}],\"events\":[{}]}}\n",
            self.streams, self.types, self.events
        )
        .into_bytes()
    }
}

/// A `folded` answer (or an `error`), read with its states and rows left as the text they are.
#[derive(Deserialize)]
struct Folded<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    outcomes: Option<Vec<Outcome<'a>>>,
}

#[derive(Deserialize)]
struct Outcome<'a> {
    #[serde(default)]
    i: Option<u64>,
    #[serde(borrow, default)]
    rejected: Option<&'a RawValue>,
    #[serde(borrow, default)]
    violations: Option<Vec<Reported<'a>>>,
    /// Present (even as `null`) when the state was answered.
    #[serde(borrow, default, deserialize_with = "present")]
    state: Option<&'a RawValue>,
    #[serde(borrow, default)]
    rows: Option<Vec<RowChange<'a>>>,
}

#[derive(Deserialize)]
struct Reported<'a> {
    #[serde(borrow, default)]
    invariant: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RowChange<'a> {
    #[serde(borrow, default)]
    projection: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    key: Option<&'a RawValue>,
    /// `null` or absent: the row was removed.
    #[serde(borrow, default)]
    row: Option<&'a RawValue>,
}

/// A field that is there, whatever its value (`null` included).
fn present<'a, D: serde::Deserializer<'a>>(deserializer: D) -> Result<Option<&'a RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

/// What an `error` answer says, if `kind` is one.
fn refused(kind: Option<&str>, message: Option<&str>) -> Option<String> {
    (kind == Some("error")).then(|| {
        format!(
            "the plug-in could not do what was asked: {}",
            message.unwrap_or("no reason given")
        )
    })
}

/// A row's key: a string, or a number as written.
fn key(raw: &RawValue) -> Option<SmolStr> {
    let text = raw.get();
    if text.starts_with('"') {
        if !text.contains('\\') {
            return Some(SmolStr::from(&text[1..text.len() - 1]));
        }
        return serde_json::from_str::<String>(text).ok().map(SmolStr::from);
    }
    serde_json::from_str::<serde_json::Number>(text)
        .ok()
        .map(|_| SmolStr::from(text))
}

/// The outcomes of a fold answer for `sent` events, held to the handshake: an invariant it
/// did not declare, or a read model it did not declare, is not the protocol.
pub fn outcomes(answer: &str, sent: usize, handshake: &Handshake) -> Result<Vec<FoldOutcome>, String> {
    let folded: Folded = serde_json::from_str(answer).map_err(|e| {
        format!(
            "the answer to a fold does not read ({e}): `{}`",
            crate::process::clip(answer.trim_end())
        )
    })?;
    if let Some(why) = refused(folded.kind.as_deref(), folded.message.as_deref()) {
        return Err(why);
    }
    if folded.kind.as_deref() != Some("folded") {
        return Err(format!(
            "expected a `folded` answer, got `{}`",
            crate::process::clip(answer.trim_end())
        ));
    }
    let Some(list) = folded.outcomes else {
        return Err("the `folded` answer has no `outcomes` list".into());
    };
    let mut outcomes = Vec::with_capacity(list.len());
    for item in list {
        let index = item.i.ok_or("an outcome has no event index `i`")? as usize;
        if index >= sent {
            return Err(format!("an outcome names event {index} of a batch of {sent}"));
        }
        let mut outcome = FoldOutcome {
            index,
            ..FoldOutcome::default()
        };
        if let Some(rejected) = item.rejected {
            let value: Value = serde_json::from_str(rejected.get()).map_err(|e| e.to_string())?;
            outcome.rejected = Some(rejection(&value)?);
        }
        for violation in item.violations.into_iter().flatten() {
            let name = violation.invariant.ok_or("a violation names no `invariant`")?;
            if !handshake.invariants.iter().any(|i| i.name == name) {
                return Err(format!(
                    "the plug-in reported invariant `{name}`, which its hello did not declare"
                ));
            }
            outcome.violations.push(Violation {
                message: violation.message.unwrap_or_else(|| name.clone()).into_owned(),
                invariant: name.into_owned(),
            });
        }
        if let Some(state) = item.state {
            outcome.state = Some(Arc::from(state.get()));
        }
        for row in item.rows.into_iter().flatten() {
            let projection = row.projection.ok_or("a row names no `projection`")?;
            if !handshake.projections.iter().any(|p| p.name == projection) {
                return Err(format!(
                    "the plug-in changed a row of `{projection}`, a read model its hello did not declare"
                ));
            }
            let key = row
                .key
                .and_then(key)
                .ok_or_else(|| format!("a row of `{projection}` has no `key` (a string or a number)"))?;
            outcome.rows.push(RowUpdate {
                projection: SmolStr::from(projection.as_ref()),
                key,
                row: row.row.map(|row| Arc::from(row.get())),
            });
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// A rejection: `{"kind": "rejected" | "unknown_event_type" | "invalid_payload", "message"}`.
fn rejection(value: &Value) -> Result<ApplyError, String> {
    let message = value
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("no reason given")
        .to_owned();
    let event_type = value
        .get("event_type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok(match value.get("kind").and_then(Value::as_str).unwrap_or("rejected") {
        "unknown_event_type" => ApplyError::UnknownEventType {
            stream_type: value
                .get("aggregate")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            event_type,
        },
        "invalid_payload" => ApplyError::InvalidPayload {
            event_type,
            reason: message,
        },
        "rejected" => ApplyError::Rejected {
            event_type,
            reason: message,
        },
        other => return Err(format!("a rejection of an unknown kind `{other}`")),
    })
}

/// The events an upcast answer changed: `{"events": [{"i", "schema_version", "payload"}]}`.
pub fn upcasts(answer: &str, events: &[RecordedEvent]) -> Result<Vec<Option<RecordedEvent>>, String> {
    let answer: Value =
        serde_json::from_str(answer).map_err(|e| format!("the answer to an upcast does not read: {e}"))?;
    let kind = answer.get("type").and_then(Value::as_str);
    if let Some(why) = refused(kind, answer.get("message").and_then(Value::as_str)) {
        return Err(why);
    }
    if kind != Some("upcast") {
        return Err("expected an `upcast` answer".into());
    }
    let mut upcast: Vec<Option<RecordedEvent>> = vec![None; events.len()];
    for item in answer.get("events").and_then(Value::as_array).into_iter().flatten() {
        let index = item
            .get("i")
            .and_then(Value::as_u64)
            .ok_or("an upcast event has no index `i`")? as usize;
        let event = events
            .get(index)
            .ok_or_else(|| format!("an upcast names event {index} of {}", events.len()))?;
        let payload = item.get("payload").cloned().unwrap_or(Value::Null);
        upcast[index] = Some(RecordedEvent {
            schema_version: item
                .get("schema_version")
                .and_then(Value::as_u64)
                .and_then(|v| u32::try_from(v).ok()),
            data: payload.into(),
            ..event.clone()
        });
    }
    Ok(upcast)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handshake() -> Handshake {
        serde_json::from_str(
            r#"{"protocol": 1, "name": "t", "projections": [{"name": "balances", "key": "account"}],
                "invariants": [{"name": "never_negative"}]}"#,
        )
        .expect("a hello")
    }

    /// States and rows keep the text they were answered in; a null or absent row removes it;
    /// keys may be numbers; only events with an outcome are listed.
    #[test]
    fn a_folded_answer_keeps_states_and_rows_as_their_text() {
        let answer = r#"{"id": 3, "type": "folded", "outcomes": [
            {"i": 0, "state": {"b": 1,  "a": [2]}, "rows": [{"projection": "balances", "key": "x\"y", "row": {"v": 1.50}}]},
            {"i": 2, "state": null, "violations": [{"invariant": "never_negative", "message": "below zero"}],
             "rows": [{"projection": "balances", "key": 17, "row": null}, {"projection": "balances", "key": "gone"}]},
            {"i": 3, "rejected": {"kind": "invalid_payload", "event_type": "E", "message": "bad"}}]}"#;
        let outcomes = outcomes(answer, 4, &handshake()).expect("reads");
        assert_eq!(outcomes.iter().map(|o| o.index).collect::<Vec<_>>(), [0, 2, 3]);
        assert_eq!(outcomes[0].state.as_deref(), Some(r#"{"b": 1,  "a": [2]}"#));
        assert_eq!(outcomes[0].rows[0].key, "x\"y");
        assert_eq!(outcomes[0].rows[0].row.as_deref(), Some(r#"{"v": 1.50}"#));
        assert_eq!(outcomes[1].state.as_deref(), Some("null"), "a null state is a state");
        assert_eq!(outcomes[1].violations[0].message, "below zero");
        assert_eq!(outcomes[1].rows[0].key, "17");
        assert_eq!(outcomes[1].rows[0].row, None);
        assert_eq!(outcomes[1].rows[1].row, None);
        assert_eq!(
            outcomes[2].rejected,
            Some(ApplyError::InvalidPayload {
                event_type: "E".into(),
                reason: "bad".into()
            })
        );
        assert_eq!(outcomes[2].state, None);
    }

    #[test]
    fn answers_outside_the_protocol_say_what_is_wrong() {
        let said = |answer: &str| outcomes(answer, 2, &handshake()).expect_err("refused");
        assert_eq!(
            said(r#"{"id": 1, "type": "error", "message": "out of memory"}"#),
            "the plug-in could not do what was asked: out of memory"
        );
        assert!(said(r#"{"id": 1, "type": "hello"}"#).starts_with("expected a `folded` answer"));
        assert_eq!(
            said(r#"{"id": 1, "type": "folded", "outcomes": [{"i": 2}]}"#),
            "an outcome names event 2 of a batch of 2"
        );
        assert_eq!(
            said(r#"{"id": 1, "type": "folded", "outcomes": [{"i": 0, "violations": [{"invariant": "other"}]}]}"#),
            "the plug-in reported invariant `other`, which its hello did not declare"
        );
        assert_eq!(
            said(
                r#"{"id": 1, "type": "folded", "outcomes": [{"i": 0, "rows": [{"projection": "nope", "key": "k"}]}]}"#
            ),
            "the plug-in changed a row of `nope`, a read model its hello did not declare"
        );
        assert_eq!(
            said(
                r#"{"id": 1, "type": "folded", "outcomes": [{"i": 0, "rows": [{"projection": "balances", "key": [1]}]}]}"#
            ),
            "a row of `balances` has no `key` (a string or a number)"
        );
        assert!(
            said(r#"{"id": 1, "type": "folded", "outcomes": [{"i": "0"}]}"#)
                .starts_with("the answer to a fold does not read")
        );
    }
}
