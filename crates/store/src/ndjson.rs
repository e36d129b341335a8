//! Rewind's NDJSON format: one [`RecordedEvent`] per line, fields named as in `rewind_core`.
//!
//! [`NdjsonStore`] streams the file once to index it (position, stream, version and the line's
//! byte range: about 40 bytes an event) and reads the lines it is asked for again when they are
//! needed, so a file larger than memory opens, and opening runs at JSON-scanning speed.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::IgnoredAny;
use uuid::Uuid;

use rewind_core::RecordedEvent;

use crate::error::{Result, StoreError};
use crate::source::{EventSource, Skipped, StreamInfo};
use crate::sqlite::EncodedEvent;

/// Where the lines are: the file itself, or bytes held in memory (decompressed `.gz`, the
/// bundled sample).
enum Bytes {
    File(std::fs::File),
    Memory(Vec<u8>),
}

impl Bytes {
    fn read(&self, offset: u64, len: usize) -> std::io::Result<Cow<'_, [u8]>> {
        match self {
            Self::File(file) => {
                let mut buffer = vec![0; len];
                file.read_exact_at(&mut buffer, offset)?;
                Ok(Cow::Owned(buffer))
            }
            Self::Memory(bytes) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX);
                bytes
                    .get(start..start.saturating_add(len))
                    .map(Cow::Borrowed)
                    .ok_or_else(|| std::io::ErrorKind::UnexpectedEof.into())
            }
        }
    }
}

/// One indexed line.
#[derive(Clone, Copy)]
struct Line {
    position: u64,
    offset: u64,
    version: u64,
    len: u32,
    stream: u32,
    number: u32,
}

struct StreamEntry {
    id: String,
    stream_type: String,
    /// Indexes into `lines`, in version order.
    lines: Vec<u32>,
    first_recorded_at: DateTime<Utc>,
    last_recorded_at: DateTime<Utc>,
}

/// The fields of a line the index needs; the others are checked for type and skipped, so a
/// line indexed here always reads back as a [`RecordedEvent`].
#[derive(Deserialize)]
struct Header<'a> {
    global_position: u64,
    #[serde(borrow)]
    stream_id: Cow<'a, str>,
    #[serde(borrow)]
    stream_type: Cow<'a, str>,
    stream_version: u64,
    #[serde(rename = "event_id")]
    _event_id: Uuid,
    #[serde(rename = "event_type", borrow)]
    _event_type: Cow<'a, str>,
    #[serde(rename = "schema_version")]
    _schema_version: u32,
    recorded_at: DateTime<Utc>,
    #[serde(rename = "data")]
    _data: IgnoredAny,
    #[serde(rename = "metadata", default)]
    _metadata: Option<IgnoredAny>,
}

/// A Rewind NDJSON export, indexed by position and stream; lines are read again on demand.
pub struct NdjsonStore {
    path: PathBuf,
    description: String,
    bytes: Bytes,
    /// In global-position order.
    lines: Vec<Line>,
    streams: Vec<StreamEntry>,
    stream_ids: HashMap<String, u32>,
    skipped: Vec<Skipped>,
}

impl NdjsonStore {
    /// Indexes the file in one streaming pass; lines that are not events are skipped and
    /// reported (see [`EventSource::skipped`]).
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with_progress(path, &mut |_| {})
    }

    /// As [`Self::open`], calling `progress` with the bytes read so far every few megabytes.
    pub fn open_with_progress(path: &Path, progress: &mut dyn FnMut(u64)) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| StoreError::Io {
            path: path.to_owned(),
            source: e,
        })?;
        let reader = BufReader::with_capacity(1 << 20, &file);
        let index = Index::scan(path, reader, progress)?;
        Ok(index.into_store(path, Bytes::File(file), "Rewind NDJSON export".into()))
    }

    /// Reads NDJSON from any reader into memory; `path` names it in errors.
    pub fn from_reader(path: &Path, mut reader: impl Read) -> Result<Self> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).map_err(|e| StoreError::Io {
            path: path.to_owned(),
            source: e,
        })?;
        Self::from_bytes(path, bytes, "Rewind NDJSON export".into())
    }

    pub(crate) fn from_bytes(path: &Path, bytes: Vec<u8>, description: String) -> Result<Self> {
        let index = Index::scan(path, bytes.as_slice(), &mut |_| {})?;
        Ok(index.into_store(path, Bytes::Memory(bytes), description))
    }

    fn bad_line(&self, line: &Line, reason: String) -> StoreError {
        StoreError::BadLine {
            path: self.path.clone(),
            line: u64::from(line.number),
            reason,
        }
    }

    /// Reads and parses these lines (indexes into `lines`), in the order given.
    fn read_lines(&self, indexes: impl ExactSizeIterator<Item = usize> + Clone) -> Result<Vec<RecordedEvent>> {
        let mut events = Vec::with_capacity(indexes.len());
        let lines: Vec<Line> = indexes.map(|i| self.lines[i]).collect();
        // Lines next to each other in the file are read with one call.
        let mut run_start = 0;
        for i in 1..=lines.len() {
            let contiguous = i < lines.len() && {
                let previous = &lines[i - 1];
                lines[i].offset == previous.offset + u64::from(previous.len) + 1
            };
            if contiguous {
                continue;
            }
            let run = &lines[run_start..i];
            let (Some(first), Some(last)) = (run.first(), run.last()) else {
                continue;
            };
            let span = (last.offset + u64::from(last.len) - first.offset) as usize;
            let bytes = self.bytes.read(first.offset, span).map_err(|e| StoreError::Io {
                path: self.path.clone(),
                source: e,
            })?;
            for line in run {
                let start = (line.offset - first.offset) as usize;
                let text = &bytes[start..start + line.len as usize];
                let event: RecordedEvent = serde_json::from_slice(text)
                    .map_err(|e| self.bad_line(line, format!("{e} (the file changed since it was opened?)")))?;
                events.push(event);
            }
            run_start = i;
        }
        Ok(events)
    }
}

/// The index built by one pass over the lines.
#[derive(Default)]
struct Index {
    lines: Vec<Line>,
    streams: Vec<StreamEntry>,
    stream_ids: HashMap<String, u32>,
    skipped: Vec<Skipped>,
}

impl Index {
    fn scan(path: &Path, mut reader: impl BufRead, progress: &mut dyn FnMut(u64)) -> Result<Self> {
        let mut index = Self::default();
        let mut buffer = Vec::with_capacity(4096);
        let mut offset = 0u64;
        let mut number = 0u32;
        let mut next_report = 0u64;
        loop {
            buffer.clear();
            let read = reader.read_until(b'\n', &mut buffer).map_err(|e| StoreError::Io {
                path: path.to_owned(),
                source: e,
            })?;
            if read == 0 {
                break;
            }
            number = number.saturating_add(1);
            let mut line = buffer.as_slice();
            if line.last() == Some(&b'\n') {
                line = &line[..line.len() - 1];
            }
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            index.add(line, offset, number);
            offset += read as u64;
            if offset >= next_report {
                progress(offset);
                next_report = offset + (4 << 20);
            }
        }
        progress(offset);
        index.finish();
        Ok(index)
    }

    fn add(&mut self, line: &[u8], offset: u64, number: u32) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let skip = |reason: String| Skipped {
            record: format!("line {number}"),
            reason,
        };
        let header: Header<'_> = match serde_json::from_slice(line) {
            Ok(header) => header,
            Err(e) => {
                let reason = match std::str::from_utf8(line) {
                    Err(utf8) => format!("not UTF-8 at byte {}", utf8.valid_up_to() + 1),
                    Ok(_) => e.to_string(),
                };
                self.skipped.push(skip(reason));
                return;
            }
        };
        let Ok(len) = u32::try_from(line.len()) else {
            self.skipped.push(skip("line is longer than 4 GiB".into()));
            return;
        };
        if header.stream_id.is_empty() {
            self.skipped.push(skip("`stream_id` is empty".into()));
            return;
        }
        let stream = if let Some(&stream) = self.stream_ids.get(header.stream_id.as_ref()) {
            stream
        } else {
            let stream = self.streams.len() as u32;
            self.stream_ids.insert(header.stream_id.clone().into_owned(), stream);
            self.streams.push(StreamEntry {
                id: header.stream_id.into_owned(),
                stream_type: header.stream_type.into_owned(),
                lines: Vec::new(),
                first_recorded_at: header.recorded_at,
                last_recorded_at: header.recorded_at,
            });
            stream
        };
        let entry = &mut self.streams[stream as usize];
        entry.first_recorded_at = entry.first_recorded_at.min(header.recorded_at);
        entry.last_recorded_at = entry.last_recorded_at.max(header.recorded_at);
        self.lines.push(Line {
            position: header.global_position,
            offset,
            version: header.stream_version,
            len,
            stream,
            number,
        });
    }

    /// Puts lines in position order (an export is already), drops reused positions, and
    /// lists each stream's lines in version order.
    fn finish(&mut self) {
        if !self.lines.is_sorted_by_key(|l| l.position) {
            self.lines.sort_by_key(|l| l.position);
        }
        let skipped = &mut self.skipped;
        self.lines.dedup_by(|later, kept| {
            let duplicate = later.position == kept.position;
            if duplicate {
                skipped.push(Skipped {
                    record: format!("line {}", later.number),
                    reason: format!(
                        "global position {} is already taken by line {}",
                        later.position, kept.number
                    ),
                });
            }
            duplicate
        });
        self.skipped
            .sort_by_key(|s| s.record.trim_start_matches("line ").parse::<u64>().unwrap_or(0));
        for (i, line) in self.lines.iter().enumerate() {
            self.streams[line.stream as usize].lines.push(i as u32);
        }
        let lines = &self.lines;
        for stream in &mut self.streams {
            if !stream.lines.is_sorted_by_key(|&i| lines[i as usize].version) {
                stream.lines.sort_by_key(|&i| lines[i as usize].version);
            }
        }
    }

    fn into_store(self, path: &Path, bytes: Bytes, description: String) -> NdjsonStore {
        NdjsonStore {
            path: path.to_owned(),
            description,
            bytes,
            lines: self.lines,
            streams: self.streams,
            stream_ids: self.stream_ids,
            skipped: self.skipped,
        }
    }
}

/// Parses NDJSON events into memory; a line that is not an event is an error naming it.
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
    fn is_native(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        self.description.clone()
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn event_count(&self) -> Result<u64> {
        Ok(self.lines.len() as u64)
    }

    fn streams(&self) -> Result<Vec<StreamInfo>> {
        Ok(self
            .streams
            .iter()
            .filter(|s| !s.lines.is_empty())
            .map(|s| {
                let positions = s.lines.iter().map(|&i| self.lines[i as usize].position);
                StreamInfo {
                    stream_id: s.id.clone(),
                    stream_type: s.stream_type.clone(),
                    event_count: s.lines.len() as u64,
                    first_position: positions.clone().min().unwrap_or(0),
                    last_position: positions.max().unwrap_or(0),
                    first_recorded_at: s.first_recorded_at,
                    last_recorded_at: s.last_recorded_at,
                }
            })
            .collect())
    }

    fn read_stream(&self, stream_id: &str, up_to_version: Option<u64>) -> Result<Vec<RecordedEvent>> {
        let Some(&stream) = self.stream_ids.get(stream_id) else {
            return Ok(Vec::new());
        };
        let lines: Vec<usize> = self.streams[stream as usize]
            .lines
            .iter()
            .map(|&i| i as usize)
            .filter(|&i| up_to_version.is_none_or(|v| self.lines[i].version <= v))
            .collect();
        self.read_lines(lines.into_iter())
    }

    fn read_batch(&self, after_position: u64, limit: usize) -> Result<Vec<RecordedEvent>> {
        let start = self.lines.partition_point(|l| l.position <= after_position);
        let end = start.saturating_add(limit).min(self.lines.len());
        self.read_lines(start..end)
    }

    fn read_positions(&self, positions: &[u64]) -> Result<Vec<RecordedEvent>> {
        let indexes: Vec<usize> = positions
            .iter()
            .filter_map(|&p| self.lines.binary_search_by_key(&p, |l| l.position).ok())
            .collect();
        self.read_lines(indexes.into_iter())
    }

    fn skipped(&self) -> &[Skipped] {
        &self.skipped
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
