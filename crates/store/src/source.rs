//! The read side every store format offers, and opening a file by its content.

use std::io::Read;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use rewind_core::RecordedEvent;

use crate::error::{Result, StoreError};
use crate::ndjson::NdjsonStore;
use crate::sqlite::SqliteStore;

/// One stream as a store lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StreamInfo {
    pub stream_id: String,
    pub stream_type: String,
    pub event_count: u64,
    pub first_position: u64,
    pub last_position: u64,
    pub first_recorded_at: DateTime<Utc>,
    pub last_recorded_at: DateTime<Utc>,
}

/// Read access to an event store, whatever its format. Never writes.
pub trait EventSource: Send {
    /// What kind of store this is (`Rewind SQLite store`), for the status bar and stderr.
    fn describe(&self) -> String;
    /// Where it is (a file path).
    fn location(&self) -> String;
    fn event_count(&self) -> Result<u64>;
    /// Every stream, in order of first appearance.
    fn streams(&self) -> Result<Vec<StreamInfo>>;
    /// One stream in version order, optionally only up to `up_to_version`.
    fn read_stream(&self, stream_id: &str, up_to_version: Option<u64>) -> Result<Vec<RecordedEvent>>;
    /// Up to `limit` events with a global position above `after_position`, in global order.
    fn read_batch(&self, after_position: u64, limit: usize) -> Result<Vec<RecordedEvent>>;

    /// The events with global positions in `from..=to`, in global order.
    fn read_between(&self, from: u64, to: u64) -> Result<Vec<RecordedEvent>> {
        if to < from {
            return Ok(Vec::new());
        }
        // Positions may have gaps, so at most `to - from + 1` events are in the range.
        let limit = usize::try_from(to - from).unwrap_or(usize::MAX).saturating_add(1);
        let mut events = self.read_batch(from.saturating_sub(1), limit)?;
        events.retain(|e| e.global_position <= to);
        Ok(events)
    }

    /// The events at these global positions (ascending), in global order; positions with no
    /// event are left out.
    fn read_positions(&self, positions: &[u64]) -> Result<Vec<RecordedEvent>> {
        let mut events = Vec::with_capacity(positions.len());
        let mut run_start = 0;
        for i in 1..=positions.len() {
            if i == positions.len() || positions[i] != positions[i - 1] + 1 {
                events.extend(self.read_between(positions[run_start], positions[i - 1])?);
                run_start = i;
            }
        }
        Ok(events)
    }

    /// Every event in global order, handed over in batches. Stops early when `each` fails.
    fn read_all(&self, batch_size: usize, each: &mut dyn FnMut(Vec<RecordedEvent>) -> Result<()>) -> Result<()> {
        let mut after = 0;
        loop {
            let batch = self.read_batch(after, batch_size)?;
            let Some(last) = batch.last() else {
                return Ok(());
            };
            after = last.global_position;
            each(batch)?;
        }
    }
}

/// The formats Rewind recognises by content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreFormat {
    Sqlite,
    Ndjson,
}

/// Recognises a file by its first bytes, not its extension.
pub fn detect_format(path: &Path) -> Result<StoreFormat> {
    let mut file = std::fs::File::open(path).map_err(|e| StoreError::Open {
        path: path.to_owned(),
        reason: match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".into(),
            std::io::ErrorKind::PermissionDenied => "permission denied".into(),
            _ => e.to_string(),
        },
    })?;
    if path.is_dir() {
        return Err(StoreError::Open {
            path: path.to_owned(),
            reason: "it is a directory".into(),
        });
    }
    let mut head = [0u8; 16];
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) => {
                return Err(StoreError::Io {
                    path: path.to_owned(),
                    source: e,
                });
            }
        }
    }
    let head = &head[..filled];
    if head.starts_with(b"SQLite format 3\0") {
        return Ok(StoreFormat::Sqlite);
    }
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        Some(b'{') => Ok(StoreFormat::Ndjson),
        None => Err(StoreError::NotAStore {
            path: path.to_owned(),
            reason: "the file is empty; expected a SQLite event store or NDJSON events".into(),
        }),
        Some(_) => Err(StoreError::NotAStore {
            path: path.to_owned(),
            reason: "expected a SQLite event store or NDJSON events (one JSON object per line)".into(),
        }),
    }
}

/// Opens a store read-only, picking the reader by the file's content.
pub fn open_store(path: &Path) -> Result<Box<dyn EventSource>> {
    match detect_format(path)? {
        StoreFormat::Sqlite => Ok(Box::new(SqliteStore::open_read_only(path)?)),
        StoreFormat::Ndjson => Ok(Box::new(NdjsonStore::open(path)?)),
    }
}
