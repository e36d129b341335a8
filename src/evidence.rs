//! Evidence: one stream's history up to a point, with its state after every event and the
//! issues its replay finds, as one JSON document an auditor can keep or hand on.
//!
//! The app writes it for the stream and cursor on screen (Export evidence, Ctrl+E); the
//! command line with `rewind evidence`. Both read the stream from the store, read-only, and
//! replay it in global order through the same domain as everything else.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::ser::{Serialize, SerializeSeq, Serializer};
use serde_json::{Value, json};

use rewind_core::{Domain, RecordedEvent, ReplayError, StreamStep};
use rewind_engine::Replay;
use rewind_store::{EventSource, format_time};

/// The document's format, written in it as `rewind_evidence`.
pub const FORMAT: u32 = 1;

/// Where the evidence stops: the events of the stream, in global order, up to the first one
/// past this point (so the events kept are a beginning of the stream's history, whatever
/// their clocks say).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Until {
    /// After the stream's last event.
    End,
    /// After its last event at or before this global position.
    Position(u64),
    /// After its events recorded at or before this time, up to the first recorded after it.
    Time(DateTime<Utc>),
}

impl Until {
    fn includes(self, event: &RecordedEvent) -> bool {
        match self {
            Self::End => true,
            Self::Position(position) => event.global_position <= position,
            // `history` refuses a time for a stream with events of unknown time.
            Self::Time(time) => event.recorded_at.is_some_and(|at| at <= time),
        }
    }

    fn to_json(self) -> Value {
        match self {
            Self::End => json!("end"),
            Self::Position(position) => json!({ "global_position": position }),
            Self::Time(time) => json!({ "recorded_at": format_time(time) }),
        }
    }

    fn describe(self) -> String {
        match self {
            Self::End => "at all".into(),
            Self::Position(position) => format!("at or before position {position}"),
            Self::Time(time) => format!("recorded at or before {}", format_time(time)),
        }
    }
}

/// A stream's events as [`history`] reads them.
pub struct History {
    /// The stream's id as the store spells it (a UUID asked for with or without dashes).
    pub stream_id: String,
    /// In global order, up to the point asked for (possibly none).
    pub events: Vec<RecordedEvent>,
    pub stream_type: String,
    /// Where the stream's first event is, whether or not it was kept.
    pub first_position: u64,
}

/// The events of stream `stream_id` (of versions up to `up_to_version`, when given) in global
/// order, the order the engine folds them in, up to the first past `until`: a beginning of the
/// stream's history, even where its versions or clocks are out of order. An error when the
/// store has no such stream.
pub fn history(
    source: &dyn EventSource,
    stream_id: &str,
    up_to_version: Option<u64>,
    until: Until,
) -> Result<History, String> {
    let read = |id: &str| {
        source
            .read_stream(id, up_to_version)
            .map_err(|e| format!("cannot read stream `{id}`: {e}"))
    };
    let mut events = read(stream_id)?;
    let mut spelled = stream_id.to_owned();
    // A UUID is one stream whether it is written with dashes or as 32 hex digits.
    if events.is_empty()
        && let Some(other) = other_uuid_spelling(stream_id)
    {
        events = read(&other)?;
        spelled = other;
    }
    // A store lists a stream by version.
    events.sort_by_key(|e| e.global_position);
    let Some(first) = events.first() else {
        return Err(format!("no stream named `{stream_id}` in {}", source.location()));
    };
    let stream_id = spelled.as_str();
    let (stream_type, first_position) = (first.stream_type.to_string(), first.global_position);
    let untimed = events.iter().filter(|e| e.recorded_at.is_none()).count();
    if let Until::Time(_) = until
        && untimed > 0
    {
        return Err(format!(
            "the store records no time for {untimed} of `{stream_id}`'s {} events, so a time cannot say where to stop: give a position (or a version) instead",
            events.len()
        ));
    }
    let kept = events.iter().take_while(|e| until.includes(e)).count();
    events.truncate(kept);
    Ok(History {
        stream_id: stream_id.to_owned(),
        events,
        stream_type,
        first_position,
    })
}

/// The other spelling of a UUID: hyphenated for 32 hex digits, 32 hex digits for a hyphenated
/// one (lowercase either way, as stores write them); `None` for an id that is no UUID.
pub fn other_uuid_spelling(id: &str) -> Option<String> {
    if !rewind_core::is_uuid(id) {
        return None;
    }
    let uuid = rewind_core::Uuid::try_parse(id).ok()?;
    Some(if id.len() == 32 {
        uuid.hyphenated().to_string()
    } else {
        uuid.simple().to_string()
    })
}

/// What a written document holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Written {
    pub events: usize,
    pub issues: usize,
}

/// Writes the evidence for stream `stream_id` to `path`: its events up to `until`, each with
/// the state after it, the state they leave, and the issues found replaying them (a version
/// gap, an event the aggregate rejects, a broken invariant; issues that take the whole store to
/// see, such as an event id repeated in another stream, are `rewind verify`'s). The events are
/// written one by one, so a long stream does not make a long document in memory first. See
/// [`write_json`] for how the file is put in place, and what `replace` does.
pub fn write(
    source: &dyn EventSource,
    domain: Arc<dyn Domain>,
    stream_id: &str,
    until: Until,
    path: &Path,
    replace: bool,
) -> Result<Written, String> {
    let History {
        stream_id,
        events,
        stream_type,
        first_position,
    } = history(source, stream_id, None, until)?;
    let stream_id = stream_id.as_str();
    if events.is_empty() {
        return Err(format!(
            "`{stream_id}` has no event {} (its first is at position {first_position})",
            until.describe()
        ));
    }
    // A first replay for what the document opens with: the state the events leave, the issues.
    let mut replay = Replay::new(Arc::clone(&domain));
    for event in &events {
        replay.apply(event);
    }
    replay.finish();
    if let Some(fault) = replay.fault() {
        return Err(format!("the domain plug-in failed: {fault}"));
    }
    // A stream folded elsewhere is folded there whole, in one request, with the state after
    // each event; the others are folded again here as the events are written.
    let folded_elsewhere = events
        .first()
        .and_then(|first| domain.route(first))
        .is_some_and(|route| domain.batch_fold_on(route).is_some());
    let states = if folded_elsewhere {
        Some(states_after(&domain.replay_stream(&events))?)
    } else {
        None
    };
    let state = match &states {
        Some(states) => states.last().cloned().unwrap_or(Value::Null),
        None => replay.stream(stream_id).map_or(Value::Null, |s| s.state.to_json()),
    };
    let last = &events[events.len() - 1];
    let head = json!({
        "rewind_evidence": FORMAT,
        "store": source.location(),
        "store_format": source.describe(),
        "exported_at": format_time(Utc::now()),
        "stream_id": stream_id,
        "stream_type": stream_type,
        "as_of": {
            "requested": until.to_json(),
            "global_position": last.global_position,
            "stream_version": last.stream_version,
            "recorded_at": last.recorded_at.map(format_time),
        },
        "state": state,
        "state_money": money_in(&state, &domain.money_fields()),
        "event_count": events.len(),
        "issues": replay.issues(),
    });
    let written = Written {
        events: events.len(),
        issues: replay.issues().len(),
    };
    let Value::Object(head) = head else {
        unreachable!("built as an object")
    };
    let document = Document {
        head,
        events: EventsWithStates {
            domain,
            stream_id,
            events: &events,
            states,
        },
    };
    write_json(&document, path, replace)?;
    Ok(written)
}

/// The document: its opening fields, then the events, replayed again as they are written.
struct Document<'a> {
    head: serde_json::Map<String, Value>,
    events: EventsWithStates<'a>,
}

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.head.len() + 1))?;
        for (key, value) in &self.head {
            map.serialize_entry(key, value)?;
        }
        map.serialize_entry("events", &self.events)?;
        map.end()
    }
}

/// The amounts of money in `state` as people write them, by field path (`balance_cents`:
/// `1,416.43 EUR`), beside the raw values the state keeps; `null` when it has none.
pub(crate) fn money_in(state: &Value, fields: &[rewind_core::MoneyField]) -> Value {
    fn walk(value: &Value, path: &str, fields: &[rewind_core::MoneyField], out: &mut serde_json::Map<String, Value>) {
        let Value::Object(object) = value else { return };
        for field in fields {
            if let Some(text) = field.format_in(object) {
                let key = if path.is_empty() {
                    field.field.clone()
                } else {
                    format!("{path}.{}", field.field)
                };
                out.insert(key, Value::String(text));
            }
        }
        for (key, child) in object {
            let path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            walk(child, &path, fields, out);
        }
    }
    let mut out = serde_json::Map::new();
    walk(state, "", fields, &mut out);
    if out.is_empty() {
        Value::Null
    } else {
        Value::Object(out)
    }
}

/// The state after each step: an event the domain could not fold leaves the state before it.
/// An error when the folder failed.
fn states_after(steps: &[StreamStep]) -> Result<Vec<Value>, String> {
    let mut state = Value::Null;
    steps
        .iter()
        .map(|step| {
            match &step.state {
                Ok(after) => state = after.clone(),
                Err(ReplayError::Fold(error)) => return Err(format!("the domain plug-in failed: {error}")),
                Err(_) => {}
            }
            Ok(state.clone())
        })
        .collect()
}

/// A stream's events, each with the state after it, replayed while they are written (or, for a
/// stream folded elsewhere, as folded there).
struct EventsWithStates<'a> {
    domain: Arc<dyn Domain>,
    stream_id: &'a str,
    events: &'a [RecordedEvent],
    states: Option<Vec<Value>>,
}

impl Serialize for EventsWithStates<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut replay = Replay::new(Arc::clone(&self.domain));
        let money = self.domain.money_fields();
        let mut list = serializer.serialize_seq(Some(self.events.len()))?;
        for (i, event) in self.events.iter().enumerate() {
            let state = if let Some(states) = &self.states {
                states.get(i).cloned().unwrap_or(Value::Null)
            } else {
                replay.apply(event);
                replay.stream(self.stream_id).map_or(Value::Null, |s| s.state.to_json())
            };
            list.serialize_element(&json!({
                "global_position": event.global_position,
                "stream_version": event.stream_version,
                "event_type": event.event_type,
                "schema_version": event.schema_version,
                "recorded_at": event.recorded_at.map(format_time),
                "event_id": event.event_id,
                "data": event.data,
                "metadata": event.metadata,
                "state_money_after": money_in(&state, &money),
                "state_after": state,
            }))?;
        }
        list.end()
    }
}

/// Writes `document` to `path` as indented JSON, whole or not at all: it is written to a file
/// beside `path` and renamed into place, so a failure leaves no half-written file. With
/// `replace` false, a file already at `path` is never replaced. The file can be read by others
/// as the user's umask allows, like any file the user saves.
pub fn write_json(document: &impl Serialize, path: &Path, replace: bool) -> Result<(), String> {
    let failed = |what: &str, reason: String| format!("cannot write evidence to {}: {what}: {reason}", path.display());
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".rewind-evidence-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A temporary file is private (0600); this one is a document to hand on.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let file = builder.tempfile_in(dir).map_err(|e| {
        // The reason without the temporary file's made-up name, which tempfile appends.
        let reason = e.to_string();
        let reason = reason.split(" at path ").next().unwrap_or_default().to_owned();
        failed(&format!("cannot create a file in {}", dir.display()), reason)
    })?;
    let mut out = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut out, document).map_err(|e| failed("writing", e.to_string()))?;
    out.write_all(b"\n").map_err(|e| failed("writing", e.to_string()))?;
    let file = out.into_inner().map_err(|e| failed("writing", e.error().to_string()))?;
    file.as_file()
        .sync_all()
        .map_err(|e| failed("writing", e.to_string()))?;
    let persisted = if replace {
        file.persist(path)
    } else {
        file.persist_noclobber(path)
    };
    persisted.map_err(|e| {
        let reason = if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            "the file exists (choose another name, or remove it first)".to_owned()
        } else {
            e.error.to_string()
        };
        failed("putting it in place", reason)
    })?;
    Ok(())
}

/// A file name for the evidence of `stream_id` at global position `position`:
/// `account-0002-at-1759.json`, with characters a file name cannot hold replaced.
pub fn file_name(stream_id: &str, position: Option<u64>) -> String {
    let stream: String = stream_id
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match position {
        Some(position) => format!("{stream}-at-{position}.json"),
        None => format!("{stream}.json"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_hold_only_safe_characters() {
        assert_eq!(file_name("account-0002", Some(1759)), "account-0002-at-1759.json");
        assert_eq!(file_name("Order/7 a:b", None), "Order_7_a_b.json");
    }

    /// Written through a temporary file: what was there stays unless replacing was asked for,
    /// nothing else is left behind, and the file is not private to its owner.
    #[test]
    fn a_document_is_put_in_place_whole_and_replaces_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.json");
        write_json(&json!({"a": 1}), &path, false).unwrap();
        let refused = write_json(&json!({"a": 2}), &path, false).unwrap_err();
        assert!(refused.contains("the file exists"), "{refused}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\n  \"a\": 1\n}\n");
        write_json(&json!({"a": 3}), &path, true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\n  \"a\": 3\n}\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let plain = dir.path().join("plain");
            std::fs::write(&plain, "").unwrap();
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), mode(&plain), "as any file the user makes, not private");
        }
        let missing = write_json(&json!({}), &dir.path().join("no").join("e.json"), false).unwrap_err();
        assert!(
            missing.contains("cannot create a file in") && missing.contains("/no"),
            "{missing}"
        );
    }
}
