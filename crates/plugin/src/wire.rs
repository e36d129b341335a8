//! The protocol's lines: requests written as text (payloads go as stored, not re-encoded), and
//! answers read and held to what the plug-in declared.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use serde_json::Value;

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
        self.events.push('"');
        self.events
            .push_str(&event.recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        self.events.push_str("\",");
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

/// The outcomes of a fold answer for `sent` events, held to the handshake: an invariant it
/// did not declare, or a read model it did not declare, is not the protocol.
pub fn outcomes(answer: &Value, sent: usize, handshake: &Handshake) -> Result<Vec<FoldOutcome>, String> {
    if answer.get("type").and_then(Value::as_str) != Some("folded") {
        return Err(format!(
            "expected a `folded` answer, got `{}`",
            crate::process::clip(&answer.to_string())
        ));
    }
    let Some(list) = answer.get("outcomes").and_then(Value::as_array) else {
        return Err("the `folded` answer has no `outcomes` list".into());
    };
    let mut outcomes = Vec::with_capacity(list.len());
    for item in list {
        let index = item.get("i").and_then(Value::as_u64).ok_or_else(|| {
            format!(
                "an outcome has no event index `i`: {}",
                crate::process::clip(&item.to_string())
            )
        })? as usize;
        if index >= sent {
            return Err(format!("an outcome names event {index} of a batch of {sent}"));
        }
        let mut outcome = FoldOutcome {
            index,
            ..FoldOutcome::default()
        };
        if let Some(rejected) = item.get("rejected").filter(|v| !v.is_null()) {
            outcome.rejected = Some(rejection(rejected)?);
        }
        if let Some(violations) = item.get("violations").and_then(Value::as_array) {
            for violation in violations {
                let name = violation
                    .get("invariant")
                    .and_then(Value::as_str)
                    .ok_or("a violation names no `invariant`")?;
                if !handshake.invariants.iter().any(|i| i.name == name) {
                    return Err(format!(
                        "the plug-in reported invariant `{name}`, which its hello did not declare"
                    ));
                }
                outcome.violations.push(Violation {
                    invariant: name.to_owned(),
                    message: violation
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or(name)
                        .to_owned(),
                });
            }
        }
        if let Some(state) = item.get("state") {
            outcome.state = Some(Arc::from(state.to_string()));
        }
        if let Some(rows) = item.get("rows").and_then(Value::as_array) {
            for row in rows {
                let projection = row
                    .get("projection")
                    .and_then(Value::as_str)
                    .ok_or("a row names no `projection`")?;
                if !handshake.projections.iter().any(|p| p.name == projection) {
                    return Err(format!(
                        "the plug-in changed a row of `{projection}`, a read model its hello did not declare"
                    ));
                }
                let key = match row.get("key") {
                    Some(Value::String(key)) => key.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => return Err(format!("a row of `{projection}` has no `key`")),
                };
                outcome.rows.push(RowUpdate {
                    projection: projection.to_owned(),
                    key,
                    row: row.get("row").filter(|r| !r.is_null()).cloned(),
                });
            }
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
pub fn upcasts(answer: &Value, events: &[RecordedEvent]) -> Result<Vec<Option<RecordedEvent>>, String> {
    if answer.get("type").and_then(Value::as_str) != Some("upcast") {
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
