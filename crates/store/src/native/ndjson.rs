//! Rewind's NDJSON format: one [`RecordedEvent`] per line, fields named as in `rewind_core`.
//!
//! [`NdjsonStore`] streams the file once to index it (position, stream, version and the line's
//! byte range: about 40 bytes an event) and reads the lines it is asked for again when they are
//! needed, so a file larger than memory opens, and opening runs at JSON-scanning speed.

use std::borrow::Cow;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde::de::IgnoredAny;
use uuid::Uuid;

use rewind_core::RecordedEvent;

use crate::encoded::EncodedEvent;
use crate::error::{Result, StoreError};
use crate::source::{EventSource, Skipped, StreamInfo};

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
    first_recorded_at: Option<DateTime<Utc>>,
    last_recorded_at: Option<DateTime<Utc>>,
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
    #[serde(rename = "schema_version", default)]
    _schema_version: Option<u32>,
    /// `null` when the store the export came from recorded no time.
    #[serde(borrow, default)]
    recorded_at: Option<Cow<'a, str>>,
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
    stream_ids: FxHashMap<String, u32>,
    skipped: Vec<Skipped>,
}

impl NdjsonStore {
    /// Indexes the file in one streaming pass; lines that are not events are skipped and
    /// reported (see [`EventSource::skipped`]).
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with_progress(path, &mut |_| {})
    }

    /// As [`Self::open`], calling `progress` with the bytes read so far a few times a second.
    /// A large file is scanned by one thread per core, each over its own part of the file.
    pub fn open_with_progress(path: &Path, progress: &mut dyn FnMut(u64)) -> Result<Self> {
        let io_error = |e: std::io::Error| StoreError::Io {
            path: path.to_owned(),
            source: e,
        };
        let file = std::fs::File::open(path).map_err(io_error)?;
        let size = file.metadata().map_err(io_error)?.len();
        let parts = if size < PARALLEL_SCAN_BYTES {
            1
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
        };
        let bounds = part_bounds(size, parts, |at, buffer| file.read_at(buffer, at)).map_err(io_error)?;
        let read = AtomicU64::new(0);
        let index = scan_parts(path, &bounds, &read, progress, |start, end| {
            let mut part = std::fs::File::open(path)?;
            part.seek(SeekFrom::Start(start))?;
            Ok(BufReader::with_capacity(1 << 20, part.take(end - start)))
        })?;
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
        let size = bytes.len() as u64;
        let parts = if size < PARALLEL_SCAN_BYTES {
            1
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
        };
        let bounds = part_bounds(size, parts, |at, buffer| {
            let start = usize::try_from(at).unwrap_or(usize::MAX).min(bytes.len());
            let n = buffer.len().min(bytes.len() - start);
            buffer[..n].copy_from_slice(&bytes[start..start + n]);
            Ok(n)
        })
        .map_err(|e| StoreError::Io {
            path: path.to_owned(),
            source: e,
        })?;
        let read = AtomicU64::new(0);
        let index = scan_parts(path, &bounds, &read, &mut |_| {}, |start, end| {
            Ok(&bytes[start as usize..end as usize])
        })?;
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

/// A line without its `\n` or `\r\n`.
fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// RFC 3339 to UTC, with a fast path for the `2024-05-01T10:00:00.123Z` shape Rewind writes.
fn parse_utc(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?
            .iter()
            .try_fold(0u32, |n, d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    let fast = (|| {
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        if *b.last()? != b'Z' {
            return None;
        }
        let nanos = match b[19] {
            b'Z' if b.len() == 20 => 0,
            b'.' if (21..=30).contains(&b.len()) => {
                let fraction = &b[20..b.len() - 1];
                let value = digits(20..b.len() - 1)?;
                value * 10u32.pow(9 - fraction.len() as u32)
            }
            _ => return None,
        };
        let date = chrono::NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)?;
        let time = chrono::NaiveTime::from_hms_nano_opt(digits(11..13)?, digits(14..16)?, digits(17..19)?, nanos)?;
        Some(date.and_time(time).and_utc())
    })();
    fast.or_else(|| DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc)))
}

/// Files from this size up are scanned in parallel parts.
const PARALLEL_SCAN_BYTES: u64 = 16 << 20;

/// Splits `0..size` into `parts` byte ranges that each start at the beginning of a line.
fn part_bounds(
    size: u64,
    parts: usize,
    read_at: impl Fn(u64, &mut [u8]) -> std::io::Result<usize>,
) -> std::io::Result<Vec<(u64, u64)>> {
    let mut starts = vec![0u64];
    let mut buffer = vec![0u8; 64 << 10];
    for part in 1..parts {
        let mut at = (size / parts as u64 * part as u64).max(*starts.last().unwrap_or(&0));
        // The part starts after the next newline.
        let start = loop {
            let n = read_at(at, &mut buffer)?;
            if n == 0 {
                break size;
            }
            if let Some(newline) = buffer[..n].iter().position(|b| *b == b'\n') {
                break at + newline as u64 + 1;
            }
            at += n as u64;
        };
        if start < size && start > *starts.last().unwrap_or(&0) {
            starts.push(start);
        }
    }
    let mut bounds: Vec<(u64, u64)> = starts.windows(2).map(|w| (w[0], w[1])).collect();
    bounds.push((*starts.last().unwrap_or(&0), size));
    Ok(bounds)
}

/// Scans each part on its own thread and merges the indexes in file order; reports the bytes
/// read through `progress` from this thread meanwhile.
fn scan_parts<R: BufRead>(
    path: &Path,
    bounds: &[(u64, u64)],
    read: &AtomicU64,
    progress: &mut dyn FnMut(u64),
    open_part: impl Fn(u64, u64) -> std::io::Result<R> + Sync,
) -> Result<Index> {
    let io_error = |e: std::io::Error| StoreError::Io {
        path: path.to_owned(),
        source: e,
    };
    let total = bounds.last().map_or(0, |b| b.1);
    let indexes: Vec<Result<Index>> = std::thread::scope(|scope| {
        let handles: Vec<_> = bounds
            .iter()
            .map(|&(start, end)| {
                let open_part = &open_part;
                scope.spawn(move || {
                    let reader = open_part(start, end).map_err(io_error)?;
                    // The first part's index becomes the whole file's: sized for all of it.
                    let expected = if start == 0 { total } else { end - start };
                    Index::scan(path, reader, start, read, expected)
                })
            })
            .collect();
        while !handles.iter().all(std::thread::ScopedJoinHandle::is_finished) {
            progress(read.load(Ordering::Relaxed));
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        progress(read.load(Ordering::Relaxed));
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(StoreError::Io {
                        path: path.to_owned(),
                        source: std::io::Error::other("a scanning thread failed"),
                    })
                })
            })
            .collect()
    });
    let mut merged: Option<Index> = None;
    for index in indexes {
        let index = index?;
        match &mut merged {
            None => merged = Some(index),
            Some(merged) => merged.append(index),
        }
    }
    let mut index = merged.unwrap_or_default();
    index.finish();
    Ok(index)
}

/// The index built by one pass over (part of) the lines.
#[derive(Default)]
struct Index {
    lines: Vec<Line>,
    streams: Vec<StreamEntry>,
    stream_ids: FxHashMap<String, u32>,
    /// Line number and reason.
    skipped: Vec<(u32, String)>,
    /// Every line seen, blank and skipped ones included: numbers the next part's lines.
    line_count: u32,
}

impl Index {
    /// Indexes lines from `reader`, which starts at byte `base` of the file and holds about
    /// `bytes` bytes. Lines are parsed where they lie in the reader's buffer; only a line that
    /// straddles two reads is copied.
    fn scan(path: &Path, mut reader: impl BufRead, base: u64, read: &AtomicU64, bytes: u64) -> Result<Self> {
        let io_error = |e: std::io::Error| StoreError::Io {
            path: path.to_owned(),
            source: e,
        };
        let mut index = Self::default();
        let mut offset = base;
        let mut number = 0u32;
        let mut carry: Vec<u8> = Vec::new();
        let mut sized = false;
        loop {
            let block = reader.fill_buf().map_err(io_error)?;
            if block.is_empty() {
                break;
            }
            if !sized {
                // Sized from the first lines, so the index does not grow (and copy) as it fills.
                sized = true;
                let newlines = memchr::memchr_iter(b'\n', block).count();
                if let Some(line_length) = block.len().checked_div(newlines) {
                    let estimate = bytes / line_length.max(1) as u64;
                    index
                        .lines
                        .reserve(usize::try_from(estimate + estimate / 8).unwrap_or(0));
                }
            }
            let consumed = block.len();
            let mut rest = block;
            if !carry.is_empty() {
                // Finish the line the previous block ended in.
                let Some(end) = memchr::memchr(b'\n', rest) else {
                    carry.extend_from_slice(rest);
                    reader.consume(consumed);
                    continue;
                };
                carry.extend_from_slice(&rest[..=end]);
                rest = &rest[end + 1..];
                number = number.saturating_add(1);
                let line_start = offset;
                offset += carry.len() as u64;
                index.add(trim_line(&carry), line_start, number);
                carry.clear();
            }
            while let Some(end) = memchr::memchr(b'\n', rest) {
                number = number.saturating_add(1);
                index.add(trim_line(&rest[..=end]), offset, number);
                offset += end as u64 + 1;
                rest = &rest[end + 1..];
            }
            carry.extend_from_slice(rest);
            read.fetch_add(consumed as u64, Ordering::Relaxed);
            reader.consume(consumed);
        }
        if !carry.is_empty() {
            // A last line without a newline.
            number = number.saturating_add(1);
            index.add(trim_line(&carry), offset, number);
        }
        index.line_count = number;
        Ok(index)
    }

    fn add(&mut self, line: &[u8], offset: u64, number: u32) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let header: Header<'_> = match serde_json::from_slice(line) {
            Ok(header) => header,
            Err(e) => {
                let reason = match std::str::from_utf8(line) {
                    Err(utf8) => format!("not UTF-8 at byte {}", utf8.valid_up_to() + 1),
                    Ok(_) => e.to_string(),
                };
                self.skipped.push((number, reason));
                return;
            }
        };
        let Ok(len) = u32::try_from(line.len()) else {
            self.skipped.push((number, "line is longer than 4 GiB".into()));
            return;
        };
        if header.stream_id.is_empty() {
            self.skipped.push((number, "`stream_id` is empty".into()));
            return;
        }
        let recorded_at = match header.recorded_at.as_deref().map(parse_utc) {
            None => None,
            Some(Some(time)) => Some(time),
            Some(None) => {
                self.skipped.push((
                    number,
                    format!(
                        "`recorded_at` {:?} is not an RFC 3339 time",
                        header.recorded_at.as_deref().unwrap_or_default()
                    ),
                ));
                return;
            }
        };
        let stream = self.stream(&header.stream_id, &header.stream_type, recorded_at, recorded_at);
        self.lines.push(Line {
            position: header.global_position,
            offset,
            version: header.stream_version,
            len,
            stream,
            number,
        });
    }

    /// The stream's number, adding it if new, and widening its time range.
    fn stream(
        &mut self,
        id: &str,
        stream_type: &str,
        first: Option<DateTime<Utc>>,
        last: Option<DateTime<Utc>>,
    ) -> u32 {
        let stream = if let Some(&stream) = self.stream_ids.get(id) {
            stream
        } else {
            let stream = self.streams.len() as u32;
            self.stream_ids.insert(id.to_owned(), stream);
            self.streams.push(StreamEntry {
                id: id.to_owned(),
                stream_type: stream_type.to_owned(),
                lines: Vec::new(),
                first_recorded_at: first,
                last_recorded_at: last,
            });
            stream
        };
        let entry = &mut self.streams[stream as usize];
        entry.first_recorded_at = crate::source::earliest(entry.first_recorded_at, first);
        entry.last_recorded_at = entry.last_recorded_at.max(last);
        stream
    }

    /// Adds the index of the part of the file that follows this one.
    fn append(&mut self, next: Index) {
        let remap: Vec<u32> = next
            .streams
            .iter()
            .map(|s| self.stream(&s.id, &s.stream_type, s.first_recorded_at, s.last_recorded_at))
            .collect();
        let before = self.line_count;
        self.lines.extend(next.lines.into_iter().map(|mut line| {
            line.stream = remap[line.stream as usize];
            line.number += before;
            line
        }));
        self.skipped.extend(
            next.skipped
                .into_iter()
                .map(|(number, reason)| (number + before, reason)),
        );
        self.line_count += next.line_count;
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
                skipped.push((
                    later.number,
                    format!(
                        "global position {} is already taken by line {}",
                        later.position, kept.number
                    ),
                ));
            }
            duplicate
        });
        self.skipped.sort_by_key(|(number, _)| *number);
        let mut counts = vec![0u32; self.streams.len()];
        for line in &self.lines {
            counts[line.stream as usize] += 1;
        }
        for (stream, count) in self.streams.iter_mut().zip(counts) {
            stream.lines = Vec::with_capacity(count as usize);
        }
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
            skipped: self
                .skipped
                .into_iter()
                .map(|(number, reason)| Skipped {
                    record: format!("line {number}"),
                    reason,
                })
                .collect(),
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

/// Writes every event of `source` to `out` as NDJSON, in global order, handing each batch to
/// `written` once it is written. Returns the count.
pub fn export_ndjson(source: &dyn EventSource, out: &Path, written: &mut dyn FnMut(&[RecordedEvent])) -> Result<u64> {
    let write_error = |e: std::io::Error| StoreError::Write {
        path: out.to_owned(),
        reason: e.to_string(),
    };
    let file = std::fs::File::create(out).map_err(write_error)?;
    let mut writer = NdjsonWriter::new(BufWriter::with_capacity(1 << 20, file), out);
    let mut count = 0;
    source.read_all(8192, &mut |batch| {
        count += batch.len() as u64;
        writer.write_all(batch)?;
        written(batch);
        Ok(())
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
    match event.schema_version {
        Some(version) => write!(out, ",\"schema_version\":{version},\"recorded_at\":")?,
        None => out.write_all(b",\"schema_version\":null,\"recorded_at\":")?,
    }
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
                schema_version: Some(2),
                recorded_at: Some(recorded_at),
                data: data.into(),
                metadata: json!({"correlation_id": "c"}).into(),
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
