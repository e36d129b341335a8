//! Events held in memory, for formats read whole (JSON arrays, Atom pages, CloudEvents, `.gz`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rewind_core::RecordedEvent;

use crate::error::Result;
use crate::source::{EventSource, Skipped, StreamInfo};

/// A store built from already-converted events, indexed by position and by stream.
pub struct MemoryStore {
    path: PathBuf,
    description: String,
    events: Vec<RecordedEvent>,
    /// Indexes into `events`, per stream, in version order.
    streams: HashMap<String, Vec<usize>>,
    stream_order: Vec<String>,
    skipped: Vec<Skipped>,
    native: bool,
}

impl MemoryStore {
    /// Sorts the events by global position; an event whose position was already taken is
    /// skipped (and reported), so positions stay a key.
    pub fn new(path: &Path, description: String, mut events: Vec<RecordedEvent>, mut skipped: Vec<Skipped>) -> Self {
        events.sort_by_key(|e| e.global_position);
        let mut kept: Vec<RecordedEvent> = Vec::with_capacity(events.len());
        for event in events {
            if kept
                .last()
                .is_some_and(|last| last.global_position == event.global_position)
            {
                skipped.push(Skipped {
                    record: format!("event {} of stream {}", event.stream_version, event.stream_id),
                    reason: format!(
                        "global position {} is already taken by another event",
                        event.global_position
                    ),
                });
            } else {
                kept.push(event);
            }
        }
        let events = kept;
        let mut streams: HashMap<String, Vec<usize>> = HashMap::new();
        let mut stream_order = Vec::new();
        for (index, event) in events.iter().enumerate() {
            streams
                .entry(event.stream_id.to_string())
                .or_insert_with(|| {
                    stream_order.push(event.stream_id.to_string());
                    Vec::new()
                })
                .push(index);
        }
        for indexes in streams.values_mut() {
            indexes.sort_by_key(|&i| events[i].stream_version);
        }
        Self {
            path: path.to_owned(),
            description,
            events,
            streams,
            stream_order,
            skipped,
            native: false,
        }
    }

    /// Marks the events as Rewind's own format (see [`EventSource::is_native`]).
    #[must_use]
    pub fn native(mut self, native: bool) -> Self {
        self.native = native;
        self
    }
}

impl MemoryStore {
    /// Adds to the description (`, gzip`).
    pub(crate) fn describe_suffix(&mut self, suffix: &str) {
        self.description.push_str(suffix);
    }
}

impl EventSource for MemoryStore {
    fn is_native(&self) -> bool {
        self.native
    }

    fn describe(&self) -> String {
        self.description.clone()
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
                let events: Vec<&RecordedEvent> =
                    self.streams.get(stream_id)?.iter().map(|&i| &self.events[i]).collect();
                StreamInfo::from_events(stream_id, &events)
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

    fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }
}
