//! The timeline index: one compact header per event, in global order, with per-stream lists.
//!
//! Payloads are not kept: a header is 32 bytes, so 10 million events index in about 320 MB.
//! Everything the timeline draws (density, markers, seeks by position, version or time) is
//! answered from headers alone.
//!
//! Streams are many (a store of 10 million events has about 2 million), so a stream costs a
//! few bytes, not a few allocations: ids are held back to back in one string, types as a small
//! number, and every stream's event list is a slice of one array made when indexing ends
//! ([`TimelineIndex::seal`]).

use std::hash::BuildHasher;

use chrono::{DateTime, Utc};
use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap as HashMap};

use rewind_core::RecordedEvent;

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

/// One stream as the index holds it.
#[derive(Clone, Copy, Debug)]
pub struct StreamEntry<'a> {
    pub stream_id: &'a str,
    pub stream_type: &'a str,
    /// Ordinals of its events, in global order.
    pub ordinals: &'a [u32],
}

#[derive(Clone, Debug, Default)]
pub struct TimelineIndex {
    headers: Vec<EventHeader>,
    /// Every stream's id, back to back, in stream order.
    ids: String,
    /// Where each stream's id ends in `ids` (it starts where the one before ends).
    id_ends: Vec<usize>,
    /// Each stream's type, as an index into `stream_types`.
    types: Vec<u16>,
    stream_types: Vec<String>,
    stream_type_lookup: HashMap<String, u16>,
    /// Stream numbers, found by their id's hash (the id itself is in `ids`).
    lookup: HashTable<StreamIdx>,
    /// Every stream's ordinals, stream after stream (made by [`TimelineIndex::seal`]).
    ordinals: Vec<u32>,
    /// Where each stream's ordinals start in `ordinals`, and a last entry for the end.
    ordinal_starts: Vec<u32>,
    event_types: Vec<String>,
    event_type_lookup: HashMap<String, u16>,
}

fn hash(id: &str) -> u64 {
    FxBuildHasher.hash_one(id)
}

/// More than 65,535 distinct names share the last number; nothing real comes close.
fn intern(names: &mut Vec<String>, lookup: &mut HashMap<String, u16>, name: &str) -> u16 {
    if let Some(&n) = lookup.get(name) {
        return n;
    }
    let n = names.len().min(usize::from(u16::MAX)) as u16;
    if names.len() < usize::from(u16::MAX) {
        names.push(name.to_owned());
        lookup.insert(name.to_owned(), n);
    }
    n
}

impl TimelineIndex {
    /// An index with room for `events` headers: growing by doubling would leave up to half the
    /// largest structure unused, and copy it on the way.
    pub fn with_capacity(events: usize) -> Self {
        Self {
            headers: Vec::with_capacity(events),
            ..Self::default()
        }
    }

    /// Adds an event (in global order) and returns its ordinal and stream. Until
    /// [`TimelineIndex::seal`], streams list no events.
    pub(crate) fn push(&mut self, event: &RecordedEvent) -> (Ordinal, StreamIdx) {
        let ordinal = self.headers.len();
        let stream = self.stream_or_add(&event.stream_id, &event.stream_type);
        let event_type = intern(&mut self.event_types, &mut self.event_type_lookup, &event.event_type);
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

    fn stream_or_add(&mut self, stream_id: &str, stream_type: &str) -> StreamIdx {
        let Self {
            ids, id_ends, lookup, ..
        } = self;
        let id_of = |s: StreamIdx| {
            let s = s as usize;
            &ids[if s == 0 { 0 } else { id_ends[s - 1] }..id_ends[s]]
        };
        let hash = hash(stream_id);
        if let Some(&stream) = lookup.find(hash, |&s| id_of(s) == stream_id) {
            return stream;
        }
        let stream = id_ends.len() as StreamIdx;
        lookup.insert_unique(hash, stream, |&s| self::hash(id_of(s)));
        ids.push_str(stream_id);
        id_ends.push(ids.len());
        let t = intern(&mut self.stream_types, &mut self.stream_type_lookup, stream_type);
        self.types.push(t);
        stream
    }

    pub(crate) fn flag(&mut self, ordinal: Ordinal, flag: u16) {
        if let Some(header) = self.headers.get_mut(ordinal) {
            header.flags |= flag;
        }
    }

    /// Ends indexing: lists every stream's events and gives back spare room.
    pub(crate) fn seal(&mut self) {
        self.headers.shrink_to_fit();
        self.ids.shrink_to_fit();
        self.id_ends.shrink_to_fit();
        self.types.shrink_to_fit();
        let streams = self.id_ends.len();
        let mut starts = vec![0u32; streams + 1];
        for header in &self.headers {
            starts[header.stream as usize + 1] += 1;
        }
        for s in 0..streams {
            starts[s + 1] += starts[s];
        }
        let mut next = starts.clone();
        let mut ordinals = vec![0u32; self.headers.len()];
        for (ordinal, header) in self.headers.iter().enumerate() {
            let at = &mut next[header.stream as usize];
            ordinals[*at as usize] = ordinal as u32;
            *at += 1;
        }
        self.ordinals = ordinals;
        self.ordinal_starts = starts;
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

    pub fn stream_count(&self) -> usize {
        self.id_ends.len()
    }

    /// Every stream, in stream order.
    pub fn streams(&self) -> impl ExactSizeIterator<Item = StreamEntry<'_>> + '_ {
        (0..self.stream_count()).map(|s| self.entry(s))
    }

    pub fn stream(&self, stream: StreamIdx) -> Option<StreamEntry<'_>> {
        let s = stream as usize;
        (s < self.stream_count()).then(|| self.entry(s))
    }

    /// Stream `s`, which exists.
    fn entry(&self, s: usize) -> StreamEntry<'_> {
        let start = if s == 0 { 0 } else { self.id_ends[s - 1] };
        let ordinals = match (self.ordinal_starts.get(s), self.ordinal_starts.get(s + 1)) {
            (Some(&from), Some(&to)) => &self.ordinals[from as usize..to as usize],
            _ => &[],
        };
        StreamEntry {
            stream_id: &self.ids[start..self.id_ends[s]],
            stream_type: &self.stream_types[usize::from(self.types[s])],
            ordinals,
        }
    }

    pub fn stream_idx(&self, stream_id: &str) -> Option<StreamIdx> {
        self.lookup
            .find(hash(stream_id), |&s| {
                self.stream(s).is_some_and(|e| e.stream_id == stream_id)
            })
            .copied()
    }

    /// The distinct stream types, in order of first appearance.
    pub fn stream_types(&self) -> &[String] {
        &self.stream_types
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
            + self.ids.capacity()
            + self.id_ends.capacity() * std::mem::size_of::<usize>()
            + self.types.capacity() * 2
            + self.lookup.capacity() * (std::mem::size_of::<StreamIdx>() + 1)
            + (self.ordinals.capacity() + self.ordinal_starts.capacity()) * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(position: u64, stream: &str, stream_type: &str) -> RecordedEvent {
        RecordedEvent {
            global_position: position,
            stream_id: stream.into(),
            stream_type: stream_type.into(),
            stream_version: 1,
            event_id: uuid::Uuid::from_u128(u128::from(position)),
            event_type: "E".into(),
            schema_version: 1,
            recorded_at: DateTime::UNIX_EPOCH,
            data: serde_json::json!({}).into(),
            metadata: serde_json::json!({}),
        }
    }

    #[test]
    fn streams_keep_their_ids_types_and_events_through_table_growth() {
        let mut index = TimelineIndex::with_capacity(0);
        let mut expected: Vec<(String, &str, Vec<u32>)> = Vec::new();
        // Streams come and come back in a scrambled order; ids of every length, one empty.
        for ordinal in 0..20_000u64 {
            let s = (ordinal * 7_919 % 5_003) as usize;
            let id = if s == 0 {
                String::new()
            } else {
                format!("{}-{s}", "x".repeat(s % 40))
            };
            let stream_type = ["Order", "Account", "Payment"][s % 3];
            let (at, stream) = index.push(&event(ordinal + 1, &id, stream_type));
            assert_eq!(at, ordinal as usize);
            if stream as usize == expected.len() {
                expected.push((id.clone(), stream_type, Vec::new()));
            }
            assert_eq!(expected[stream as usize].0, id);
            expected[stream as usize].2.push(ordinal as u32);
        }
        index.seal();
        assert_eq!(index.stream_count(), expected.len());
        assert_eq!(index.stream_types(), ["Order", "Account", "Payment"]);
        for ((id, stream_type, ordinals), (s, entry)) in expected.iter().zip(index.streams().enumerate()) {
            assert_eq!(entry.stream_id, id);
            assert_eq!(entry.stream_type, *stream_type);
            assert_eq!(entry.ordinals, ordinals.as_slice());
            assert_eq!(index.stream_idx(id), Some(s as StreamIdx));
        }
        assert_eq!(index.stream_idx("not-a-stream"), None);
        assert!(index.stream(expected.len() as StreamIdx).is_none());
    }
}
