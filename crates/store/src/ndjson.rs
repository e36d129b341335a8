//! Rewind's NDJSON format: one [`RecordedEvent`] per line, fields named as in `rewind_core`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use rewind_core::RecordedEvent;

use crate::error::{Result, StoreError};
use crate::source::{EventSource, StreamInfo};
use crate::sqlite::EncodedEvent;

/// An NDJSON export held in memory, indexed by stream.
pub struct NdjsonStore {
    path: PathBuf,
    events: Vec<RecordedEvent>,
    /// Indexes into `events`, per stream, in version order.
    streams: HashMap<String, Vec<usize>>,
    stream_order: Vec<String>,
}

impl NdjsonStore {
    /// Reads the file line by line; a line that is not a valid event is an error naming it.
    pub fn open(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| StoreError::Io {
            path: path.to_owned(),
            source: e,
        })?;
        Self::from_reader(path, BufReader::with_capacity(1 << 20, file))
    }

    /// Reads NDJSON from any reader; `path` names it in errors.
    pub fn from_reader(path: &Path, reader: impl BufRead) -> Result<Self> {
        let mut events = read_events(path, reader)?;
        events.sort_by_key(|e| e.global_position);
        let mut streams: HashMap<String, Vec<usize>> = HashMap::new();
        let mut stream_order = Vec::new();
        for (index, event) in events.iter().enumerate() {
            streams
                .entry(event.stream_id.clone())
                .or_insert_with(|| {
                    stream_order.push(event.stream_id.clone());
                    Vec::new()
                })
                .push(index);
        }
        for indexes in streams.values_mut() {
            indexes.sort_by_key(|&i| events[i].stream_version);
        }
        Ok(Self {
            path: path.to_owned(),
            events,
            streams,
            stream_order,
        })
    }
}

/// Parses NDJSON events; blank lines are allowed.
pub fn read_events(path: &Path, reader: impl BufRead) -> Result<Vec<RecordedEvent>> {
    let mut events = Vec::new();
    for (index, line) in reader.split(b'\n').enumerate() {
        let line_number = index as u64 + 1;
        let line = line.map_err(|e| StoreError::Io {
            path: path.to_owned(),
            source: e,
        })?;
        let text = std::str::from_utf8(&line).map_err(|e| StoreError::BadLine {
            path: path.to_owned(),
            line: line_number,
            reason: format!("not UTF-8 at byte {}", e.valid_up_to() + 1),
        })?;
        if text.trim().is_empty() {
            continue;
        }
        let event: RecordedEvent = serde_json::from_str(text).map_err(|e| StoreError::BadLine {
            path: path.to_owned(),
            line: line_number,
            reason: format!("{e}"),
        })?;
        events.push(event);
    }
    Ok(events)
}

/// Writes every event of `source` to `out` as NDJSON, in global order. Returns the count.
pub fn export_ndjson(source: &dyn EventSource, out: &Path) -> Result<u64> {
    let write_error = |e: std::io::Error| StoreError::Write {
        path: out.to_owned(),
        reason: e.to_string(),
    };
    let file = std::fs::File::create(out).map_err(write_error)?;
    let mut writer = NdjsonWriter::new(BufWriter::with_capacity(1 << 20, file), out);
    let mut count = 0;
    source.read_all(8192, &mut |batch| {
        count += batch.len() as u64;
        writer.write_all(&batch)
    })?;
    writer.finish()?;
    Ok(count)
}

/// Writes events as NDJSON lines.
pub struct NdjsonWriter<W: Write> {
    writer: W,
    path: PathBuf,
}

impl<W: Write> NdjsonWriter<W> {
    pub fn new(writer: W, path: &Path) -> Self {
        Self {
            writer,
            path: path.to_owned(),
        }
    }

    pub fn write_all(&mut self, events: &[RecordedEvent]) -> Result<()> {
        for event in events {
            serde_json::to_writer(&mut self.writer, event).map_err(|e| StoreError::Write {
                path: self.path.clone(),
                reason: e.to_string(),
            })?;
            self.writer.write_all(b"\n").map_err(|e| StoreError::Write {
                path: self.path.clone(),
                reason: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// Writes events whose payloads are already serialized; the bytes are exactly what
    /// [`Self::write_all`] writes for the same events.
    pub fn write_encoded(&mut self, events: &[EncodedEvent]) -> Result<()> {
        for encoded in events {
            write_line(&mut self.writer, encoded).map_err(|e| StoreError::Write {
                path: self.path.clone(),
                reason: e.to_string(),
            })?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<()> {
        self.writer.flush().map_err(|e| StoreError::Write {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }
}

/// One NDJSON line, fields in `RecordedEvent`'s order, payloads pasted in as they are.
fn write_line<W: Write>(out: &mut W, encoded: &EncodedEvent) -> std::io::Result<()> {
    let event = &encoded.event;
    write!(out, "{{\"global_position\":{},\"stream_id\":", event.global_position)?;
    serde_json::to_writer(&mut *out, &event.stream_id)?;
    out.write_all(b",\"stream_type\":")?;
    serde_json::to_writer(&mut *out, &event.stream_type)?;
    write!(out, ",\"stream_version\":{},\"event_id\":", event.stream_version)?;
    serde_json::to_writer(&mut *out, &event.event_id)?;
    out.write_all(b",\"event_type\":")?;
    serde_json::to_writer(&mut *out, &event.event_type)?;
    write!(out, ",\"schema_version\":{},\"recorded_at\":", event.schema_version)?;
    serde_json::to_writer(&mut *out, &event.recorded_at)?;
    out.write_all(b",\"data\":")?;
    out.write_all(encoded.data.as_bytes())?;
    out.write_all(b",\"metadata\":")?;
    out.write_all(encoded.metadata.as_bytes())?;
    out.write_all(b"}\n")
}

impl EventSource for NdjsonStore {
    fn describe(&self) -> String {
        "Rewind NDJSON export".into()
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn event_count(&self) -> Result<u64> {
        Ok(self.events.len() as u64)
    }

    fn streams(&self) -> Result<Vec<StreamInfo>> {
        Ok(self
            .stream_order
            .iter()
            .filter_map(|stream_id| {
                let indexes = self.streams.get(stream_id)?;
                let events = indexes.iter().map(|&i| &self.events[i]);
                let first = events.clone().min_by_key(|e| e.global_position)?;
                let last = events.clone().max_by_key(|e| e.global_position)?;
                Some(StreamInfo {
                    stream_id: stream_id.clone(),
                    stream_type: first.stream_type.clone(),
                    event_count: indexes.len() as u64,
                    first_position: first.global_position,
                    last_position: last.global_position,
                    first_recorded_at: events.clone().map(|e| e.recorded_at).min()?,
                    last_recorded_at: events.map(|e| e.recorded_at).max()?,
                })
            })
            .collect())
    }

    fn read_stream(&self, stream_id: &str, up_to_version: Option<u64>) -> Result<Vec<RecordedEvent>> {
        Ok(self
            .streams
            .get(stream_id)
            .map(|indexes| {
                indexes
                    .iter()
                    .map(|&i| &self.events[i])
                    .filter(|e| up_to_version.is_none_or(|v| e.stream_version <= v))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    fn read_batch(&self, after_position: u64, limit: usize) -> Result<Vec<RecordedEvent>> {
        let start = self.events.partition_point(|e| e.global_position <= after_position);
        Ok(self.events[start..].iter().take(limit).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    #[test]
    fn encoded_lines_are_byte_for_byte_what_serde_writes() {
        let at = |ms| chrono::Utc.timestamp_millis_opt(ms).single().expect("valid time");
        let events = [
            (
                at(1_704_096_000_000),
                json!({"amount_cents": 1250, "reference": "a \"quoted\" ref"}),
            ),
            (
                at(1_704_096_000_123),
                json!({"holder": "Zoë / Ünïcode", "nested": {"x": [1, 2.5, null]}}),
            ),
            (at(1_704_096_000_100), json!(null)),
        ];
        for (i, (recorded_at, data)) in events.into_iter().enumerate() {
            let event = RecordedEvent {
                global_position: i as u64 + 1,
                stream_id: "account-\u{1}odd".into(),
                stream_type: "BankAccount".into(),
                stream_version: 7,
                event_id: uuid::Uuid::from_u128(0xfeed + i as u128),
                event_type: "MoneyDeposited".into(),
                schema_version: 2,
                recorded_at,
                data,
                metadata: json!({"correlation_id": "c"}),
            };
            let mut expected = serde_json::to_vec(&event).expect("serializes");
            expected.push(b'\n');
            let mut line = Vec::new();
            write_line(&mut line, &EncodedEvent::new(event)).expect("writes");
            assert_eq!(
                String::from_utf8(line).expect("utf-8"),
                String::from_utf8(expected).expect("utf-8")
            );
        }
    }
}
