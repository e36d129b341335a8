//! Rewind's NDJSON format: one [`RecordedEvent`] per line, fields named as in `rewind_core`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use rewind_core::RecordedEvent;

use crate::error::{Result, StoreError};
use crate::source::{EventSource, StreamInfo};

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

    pub fn finish(mut self) -> Result<()> {
        self.writer.flush().map_err(|e| StoreError::Write {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }
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
