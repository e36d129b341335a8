//! Evidence: one stream's history up to a point, with its state after every event and the
//! issues its replay finds, as one JSON document an auditor can keep or hand on.
//!
//! The app writes it for the stream and cursor on screen (Export evidence, Ctrl+E); the
//! command line with `rewind evidence`. Both read the stream from the store, read-only, and
//! replay it through the same domain as everything else.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use rewind_core::{Domain, RecordedEvent};
use rewind_engine::Replay;
use rewind_store::{EventSource, format_time};

/// The document's format, written in it as `rewind_evidence`.
pub const FORMAT: u32 = 1;

/// Where the evidence stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Until {
    /// After the stream's last event.
    End,
    /// After its last event at or before this global position.
    Position(u64),
    /// After its last event recorded at or before this time.
    Time(DateTime<Utc>),
}

impl Until {
    fn includes(self, event: &RecordedEvent) -> bool {
        match self {
            Self::End => true,
            Self::Position(position) => event.global_position <= position,
            Self::Time(time) => event.recorded_at <= time,
        }
    }

    fn to_json(self) -> Value {
        match self {
            Self::End => json!("end"),
            Self::Position(position) => json!({ "global_position": position }),
            Self::Time(time) => json!({ "recorded_at": format_time(time) }),
        }
    }
}

/// The evidence for stream `stream_id`: its events up to `until`, each with the state after it, the state they leave, and the issues found
/// replaying them (a version gap, an event the aggregate rejects, a broken invariant; issues
/// that take the whole store to see, such as an event id repeated in another stream, are
/// `rewind verify`'s).
pub fn evidence(
    source: &dyn EventSource,
    domain: Arc<dyn Domain>,
    stream_id: &str,
    until: Until,
) -> Result<Value, String> {
    let events = source
        .read_stream(stream_id, None)
        .map_err(|e| format!("cannot read stream `{stream_id}`: {e}"))?;
    if events.is_empty() {
        return Err(format!("no stream named `{stream_id}` in {}", source.location()));
    }
    let stream_type = events[0].stream_type.to_string();
    let events: Vec<RecordedEvent> = events.into_iter().filter(|e| until.includes(e)).collect();
    let mut replay = Replay::new(domain);
    let state = |replay: &Replay| replay.stream(stream_id).map_or(Value::Null, |s| s.state.to_json());
    let mut listed = Vec::with_capacity(events.len());
    for event in &events {
        replay.apply(event);
        listed.push(json!({
            "global_position": event.global_position,
            "stream_version": event.stream_version,
            "event_type": event.event_type,
            "schema_version": event.schema_version,
            "recorded_at": format_time(event.recorded_at),
            "event_id": event.event_id,
            "data": event.data,
            "metadata": event.metadata,
            "state_after": state(&replay),
        }));
    }
    let last = events.last();
    Ok(json!({
        "rewind_evidence": FORMAT,
        "store": source.location(),
        "store_format": source.describe(),
        "exported_at": format_time(Utc::now()),
        "stream_id": stream_id,
        "stream_type": stream_type,
        "as_of": {
            "requested": until.to_json(),
            "global_position": last.map(|e| e.global_position),
            "stream_version": last.map(|e| e.stream_version),
            "recorded_at": last.map(|e| format_time(e.recorded_at)),
        },
        "state": state(&replay),
        "event_count": events.len(),
        "issues": replay.issues(),
        "events": listed,
    }))
}

/// Writes `document` to `path` as indented JSON, whole or not at all: it is written to a file
/// beside `path` and renamed into place, so a failure leaves no half-written file (and, with
/// `replace` false, an existing file is never replaced).
pub fn write(document: &Value, path: &Path, replace: bool) -> Result<(), String> {
    let failed = |what: &str, reason: String| format!("cannot write evidence to {}: {what}: {reason}", path.display());
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let file = tempfile::NamedTempFile::new_in(dir).map_err(|e| {
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
}
