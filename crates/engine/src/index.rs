//! The timeline index: one compact header per event, in global order, with per-stream lists.
//!
//! Payloads are not kept: a header is 32 bytes, so 10 million events index in about 320 MB.
//! Everything the timeline draws (density, markers, seeks by position, version or time) is
//! answered from headers alone.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use rewind_core::RecordedEvent;
use smol_str::SmolStr;

/// Index of an event in global order (0-based): what cursors hold.
pub type Ordinal = usize;

/// Interned stream id.
pub type StreamIdx = u32;

/// One event, without its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventHeader {
    pub position: u64,
    pub recorded_at_ms: i64,
    pub stream: StreamIdx,
    /// The stream version as recorded (u32 holds any realistic stream).
    pub stream_version: u32,
    pub event_type: u16,
    /// Bit flags: [`EventHeader::HAS_ISSUE`], [`EventHeader::VIOLATION`].
    pub flags: u16,
}

impl EventHeader {
    pub const HAS_ISSUE: u16 = 1;
    pub const VIOLATION: u16 = 2;

    pub fn recorded_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.recorded_at_ms).unwrap_or(DateTime::UNIX_EPOCH)
    }
}

/// One stream's entry in the index. Its id is allocated once and shared with the lookup map
/// and the replay; its type is one of a handful, shared by every stream of that type.
#[derive(Clone, Debug)]
pub struct StreamEntry {
    pub stream_id: Arc<str>,
    pub stream_type: Arc<str>,
    /// Ordinals of its events, in global order.
    pub ordinals: Vec<u32>,
}

#[derive(Clone, Debug, Default)]
pub struct TimelineIndex {
    headers: Vec<EventHeader>,
    streams: Vec<StreamEntry>,
    /// Keys are small strings held in the table itself: an id up to 23 bytes is compared
    /// without following a pointer, which for a store with many streams was a cache miss at
    /// every event.
    stream_lookup: HashMap<SmolStr, StreamIdx>,
    stream_types: HashSet<Arc<str>>,
    event_types: Vec<String>,
    event_type_lookup: HashMap<String, u16>,
}

impl TimelineIndex {
    /// Adds an event (in global order) and returns its ordinal and stream.
    pub(crate) fn push(&mut self, event: &RecordedEvent) -> (Ordinal, StreamIdx) {
        let ordinal = self.headers.len();
        let stream = if let Some(&stream) = self.stream_lookup.get(event.stream_id.as_str()) {
            stream
        } else {
            let stream = self.streams.len() as StreamIdx;
            let stream_id: Arc<str> = Arc::from(event.stream_id.as_str());
            let stream_type = if let Some(known) = self.stream_types.get(event.stream_type.as_str()) {
                Arc::clone(known)
            } else {
                let new: Arc<str> = Arc::from(event.stream_type.as_str());
                self.stream_types.insert(Arc::clone(&new));
                new
            };
            self.streams.push(StreamEntry {
                stream_id: Arc::clone(&stream_id),
                stream_type,
                ordinals: Vec::new(),
            });
            self.stream_lookup.insert(SmolStr::new(&*stream_id), stream);
            stream
        };
        let event_type = if let Some(&t) = self.event_type_lookup.get(&event.event_type) {
            t
        } else {
            // More than 65,535 distinct types share the last id; nothing real comes close.
            let t = self.event_types.len().min(usize::from(u16::MAX)) as u16;
            if self.event_types.len() < usize::from(u16::MAX) {
                self.event_types.push(event.event_type.clone());
                self.event_type_lookup.insert(event.event_type.clone(), t);
            }
            t
        };
        self.streams[stream as usize].ordinals.push(ordinal as u32);
        self.headers.push(EventHeader {
            position: event.global_position,
            recorded_at_ms: event.recorded_at.timestamp_millis(),
            stream,
            stream_version: event.stream_version.min(u64::from(u32::MAX)) as u32,
            event_type,
            flags: 0,
        });
        (ordinal, stream)
    }

    pub(crate) fn flag(&mut self, ordinal: Ordinal, flag: u16) {
        if let Some(header) = self.headers.get_mut(ordinal) {
            header.flags |= flag;
        }
    }

    pub(crate) fn shrink(&mut self) {
        self.headers.shrink_to_fit();
        for stream in &mut self.streams {
            stream.ordinals.shrink_to_fit();
        }
    }

    pub fn len(&self) -> usize {
        self.headers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    pub fn headers(&self) -> &[EventHeader] {
        &self.headers
    }

    pub fn header(&self, ordinal: Ordinal) -> Option<&EventHeader> {
        self.headers.get(ordinal)
    }

    pub fn streams(&self) -> &[StreamEntry] {
        &self.streams
    }

    pub fn stream(&self, stream: StreamIdx) -> Option<&StreamEntry> {
        self.streams.get(stream as usize)
    }

    pub fn stream_idx(&self, stream_id: &str) -> Option<StreamIdx> {
        self.stream_lookup.get(stream_id).copied()
    }

    pub fn event_type_name(&self, event_type: u16) -> &str {
        self.event_types
            .get(usize::from(event_type))
            .map_or("?", String::as_str)
    }

    pub fn event_type_id(&self, name: &str) -> Option<u16> {
        self.event_type_lookup.get(name).copied()
    }

    pub fn event_types(&self) -> &[String] {
        &self.event_types
    }

    /// The ordinal of the event at `position`, or of the last one before it.
    pub fn ordinal_at_or_before_position(&self, position: u64) -> Option<Ordinal> {
        self.headers.partition_point(|h| h.position <= position).checked_sub(1)
    }

    /// The ordinal of the last event recorded at or before `time` (events are in global
    /// order; if `recorded_at` goes backwards somewhere this finds the last event whose
    /// running maximum time is at or before `time`).
    pub fn ordinal_at_or_before_time(&self, time: DateTime<Utc>) -> Option<Ordinal> {
        let ms = time.timestamp_millis();
        self.headers.partition_point(|h| h.recorded_at_ms <= ms).checked_sub(1)
    }

    /// Within one stream: the index (0-based, = version - 1 for a contiguous stream) of the
    /// last event at or before the global `ordinal`.
    pub fn stream_index_at(&self, stream: StreamIdx, ordinal: Ordinal) -> Option<usize> {
        let entry = self.stream(stream)?;
        entry
            .ordinals
            .partition_point(|&o| o as usize <= ordinal)
            .checked_sub(1)
    }

    /// Approximate heap bytes held by the index.
    pub fn heap_bytes(&self) -> usize {
        self.headers.capacity() * std::mem::size_of::<EventHeader>()
            + self
                .streams
                .iter()
                .map(|s| s.ordinals.capacity() * 4 + s.stream_id.len() + 80)
                .sum::<usize>()
    }
}
