//! The timeline index: one compact header per event, in global order, with per-stream lists.
//!
//! Payloads are not kept: a header is 20 bytes, so 10 million events index in about 200 MB. The
//! global positions are kept apart, as runs: most stores number their events 1, 2, 3 …, so
//! their positions cost nothing per event.
//! Everything the timeline draws (density, markers, seeks by position, version or time) is
//! answered from headers alone.
//!
//! Streams are many (a store of 10 million events has about 2 million), so a stream costs a
//! few bytes, not a few allocations: ids are held inline (up to 23 bytes; longer ones share the
//! event's allocation), types as a small number, and every stream's event list is a slice of
//! one array made when indexing ends ([`TimelineIndex::seal`]).

use std::hash::BuildHasher;

use chrono::{DateTime, Utc};
use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap as HashMap};

use rewind_core::{RecordedEvent, ReplayIssue, SmolStr};

/// Index of an event in global order (0-based): what cursors hold.
pub type Ordinal = usize;

/// Interned stream id.
pub type StreamIdx = u32;

/// One event, without its payload (its global position: [`TimelineIndex::position`]).
///
/// Packed to 4-byte alignment: 20 bytes, not the 24 the time's 8-byte alignment would pad it to
/// (38 MiB less at 10M events). Read its fields by value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, packed(4))]
pub struct EventHeader {
    pub recorded_at_ms: i64,
    pub stream: StreamIdx,
    /// The stream version as recorded (u32 holds any realistic stream).
    pub stream_version: u32,
    pub event_type: u16,
    /// Bit flags: [`EventHeader::HAS_ISSUE`], [`EventHeader::VIOLATION`].
    pub flags: u16,
}

// The index's size at 10M events rests on it.
const _: () = assert!(std::mem::size_of::<EventHeader>() == 20);

impl EventHeader {
    pub const HAS_ISSUE: u16 = 1;
    pub const VIOLATION: u16 = 2;
    /// Every issue at this event is a note (see [`rewind_core::Severity`]).
    pub const ONLY_NOTES: u16 = 4;

    /// `recorded_at_ms` of an event whose store recorded no time.
    pub const UNKNOWN_TIME: i64 = i64::MIN;

    /// When the event was recorded, if the store says.
    pub fn recorded_at(&self) -> Option<DateTime<Utc>> {
        if self.recorded_at_ms == Self::UNKNOWN_TIME {
            return None;
        }
        DateTime::from_timestamp_millis(self.recorded_at_ms)
    }

    /// The time in milliseconds, if the store recorded one.
    pub fn recorded_at_ms(&self) -> Option<i64> {
        (self.recorded_at_ms != Self::UNKNOWN_TIME).then_some(self.recorded_at_ms)
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

/// Global positions by ordinal.
#[derive(Clone, Debug)]
enum Positions {
    /// `(first ordinal, its position)` of each run of consecutive positions.
    Runs(Vec<(u32, u64)>),
    /// Every position, once runs would take more room.
    Listed(Vec<u64>),
}

impl Default for Positions {
    fn default() -> Self {
        Self::Runs(Vec::new())
    }
}

impl Positions {
    /// Records that the event at `ordinal` (the next one) has `position`.
    fn push(&mut self, ordinal: usize, position: u64) {
        match self {
            Self::Runs(runs) => {
                let follows = runs.last().is_some_and(|&(start, first)| {
                    position.checked_sub(first) == Some((ordinal - start as usize) as u64)
                });
                if follows {
                    return;
                }
                // A run is 16 bytes: past one run per two events, a list is smaller.
                if runs.len() >= 64 && runs.len() * 2 > ordinal {
                    let mut listed = Vec::with_capacity(ordinal + 1);
                    listed.extend((0..ordinal).map(|o| self.get(o)));
                    listed.push(position);
                    *self = Self::Listed(listed);
                } else {
                    runs.push((ordinal as u32, position));
                }
            }
            Self::Listed(listed) => listed.push(position),
        }
    }

    /// The position of the event at `ordinal` (one that was pushed).
    fn get(&self, ordinal: usize) -> u64 {
        match self {
            Self::Runs(runs) => {
                let run = runs.partition_point(|&(start, _)| start as usize <= ordinal);
                let (start, first) = runs[run.saturating_sub(1)];
                first + (ordinal - start as usize) as u64
            }
            Self::Listed(listed) => listed[ordinal],
        }
    }

    /// The last of the first `len` ordinals whose position is at or before `position`.
    fn at_or_before(&self, position: u64, len: usize) -> Option<usize> {
        match self {
            Self::Runs(runs) => {
                let run = runs.partition_point(|&(_, first)| first <= position).checked_sub(1)?;
                let (start, first) = runs[run];
                let end = runs.get(run + 1).map_or(len, |&(next, _)| next as usize);
                let offset = usize::try_from(position - first).unwrap_or(usize::MAX);
                Some((start as usize).saturating_add(offset).min(end - 1))
            }
            Self::Listed(listed) => listed.partition_point(|&p| p <= position).checked_sub(1),
        }
    }

    fn shrink_to_fit(&mut self) {
        match self {
            Self::Runs(runs) => runs.shrink_to_fit(),
            Self::Listed(listed) => listed.shrink_to_fit(),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Self::Runs(runs) => runs.capacity() * 16,
            Self::Listed(listed) => listed.capacity() * 8,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct TimelineIndex {
    headers: Vec<EventHeader>,
    positions: Positions,
    /// Every stream's id, in stream order. Ids up to 23 bytes are held inline, so checking a
    /// stream found by its hash reads one place (a cache miss fewer per event than ids back to
    /// back with where each ends, at the cost of a few bytes a stream).
    ids: Vec<SmolStr>,
    /// Heap bytes of the ids too long to be held inline.
    long_id_bytes: usize,
    /// Each stream's type, as an index into `stream_types`.
    types: Vec<u16>,
    stream_types: Vec<String>,
    stream_type_lookup: HashMap<String, u16>,
    /// Stream numbers, each with its id's [`Fingerprint`], found by that (the id itself is in
    /// `ids`). Holding the fingerprint, a search can name its stream before reading the id,
    /// so the ids of several searches are read together (see [`TimelineIndex::push_all`]), and
    /// growing the table reads no id.
    lookup: HashTable<(StreamIdx, Fingerprint)>,
    /// Every stream's ordinals, stream after stream (made by [`TimelineIndex::seal`]).
    ordinals: Vec<u32>,
    /// Where each stream's ordinals start in `ordinals`, and a last entry for the end.
    ordinal_starts: Vec<u32>,
    event_types: Vec<String>,
    event_type_lookup: HashMap<String, u16>,
    /// How many events have no recorded time.
    untimed: usize,
    /// The earliest and latest known times (ms), wherever they are in the order.
    time_range: Option<(i64, i64)>,
}

/// Whether events can be laid out by the times they were recorded at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Times {
    /// Every event has a time, and they spread from the earliest to the latest.
    Spread { first_ms: i64, last_ms: i64 },
    /// This many events (of all) have no recorded time.
    Unrecorded { events: usize },
    /// Every event has the same time.
    Same,
}

/// 32 bits of a stream id's hash: what the stream table holds beside each stream number.
type Fingerprint = u32;

fn fingerprint(id: &str) -> Fingerprint {
    (FxBuildHasher.hash_one(id) >> 32) as Fingerprint
}

/// The stream table's hash of a fingerprint: spread over 64 bits, since the table takes where
/// to look from the low bits and a tag to compare from the top ones.
fn table_hash(fingerprint: Fingerprint) -> u64 {
    u64::from(fingerprint).wrapping_mul(0x9E37_79B9_7F4A_7C15)
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
        self.push_found(event, None)
    }

    /// Adds the next `events` (in global order), returning their streams. Their streams are
    /// looked up first, a few at a time: at millions of streams each lookup misses the cache,
    /// and lookups that do not wait on each other overlap their misses.
    pub(crate) fn push_all(&mut self, events: &[RecordedEvent]) -> Vec<StreamIdx> {
        const AHEAD: usize = 16;
        let mut streams = Vec::with_capacity(events.len());
        for chunk in events.chunks(AHEAD) {
            // First the table's entries for all of them, then the ids those name.
            let mut found = [None; AHEAD];
            for (found, event) in found.iter_mut().zip(chunk) {
                *found = self.candidate(fingerprint(&event.stream_id));
            }
            for (found, event) in found.iter_mut().zip(chunk) {
                if let Some(stream) = *found
                    && self.ids[stream as usize] != event.stream_id
                {
                    // Another id with the same fingerprint came first: a search of its own.
                    *found = self.stream_idx(&event.stream_id);
                }
            }
            streams.extend(
                chunk
                    .iter()
                    .zip(found)
                    .map(|(event, found)| self.push_found(event, found).1),
            );
        }
        streams
    }

    /// [`TimelineIndex::push`], given the event's stream if it was found (one not found may
    /// have been added since, by an event before it).
    fn push_found(&mut self, event: &RecordedEvent, found: Option<StreamIdx>) -> (Ordinal, StreamIdx) {
        let ordinal = self.headers.len();
        let stream = match found {
            Some(stream) => stream,
            None => self.stream_or_add(&event.stream_id, &event.stream_type),
        };
        let event_type = intern(&mut self.event_types, &mut self.event_type_lookup, &event.event_type);
        self.positions.push(ordinal, event.global_position);
        self.untimed += usize::from(event.recorded_at.is_none());
        if let Some(at) = event.recorded_at {
            let ms = at.timestamp_millis();
            self.time_range = Some(
                self.time_range
                    .map_or((ms, ms), |(low, high)| (low.min(ms), high.max(ms))),
            );
        }
        self.headers.push(EventHeader {
            recorded_at_ms: event
                .recorded_at
                .map_or(EventHeader::UNKNOWN_TIME, |at| at.timestamp_millis()),
            stream,
            stream_version: event.stream_version.min(u64::from(u32::MAX)) as u32,
            event_type,
            flags: 0,
        });
        (ordinal, stream)
    }

    fn stream_or_add(&mut self, stream_id: &SmolStr, stream_type: &str) -> StreamIdx {
        if let Some(stream) = self.stream_idx(stream_id) {
            return stream;
        }
        let stream = self.ids.len() as StreamIdx;
        let fingerprint = fingerprint(stream_id);
        self.lookup
            .insert_unique(table_hash(fingerprint), (stream, fingerprint), |&(_, f)| table_hash(f));
        self.ids.push(stream_id.clone());
        if stream_id.is_heap_allocated() {
            self.long_id_bytes += stream_id.len();
        }
        let t = intern(&mut self.stream_types, &mut self.stream_type_lookup, stream_type);
        self.types.push(t);
        stream
    }

    /// Marks the event at `ordinal` with `issue`: it has one, and maybe a broken invariant.
    pub(crate) fn mark_issue(&mut self, ordinal: Ordinal, issue: &ReplayIssue) {
        if let Some(header) = self.headers.get_mut(ordinal) {
            let note = issue.severity() == rewind_core::Severity::Note;
            if header.flags & EventHeader::HAS_ISSUE == 0 && note {
                header.flags |= EventHeader::ONLY_NOTES;
            } else if !note {
                header.flags &= !EventHeader::ONLY_NOTES;
            }
            header.flags |= EventHeader::HAS_ISSUE;
            if issue.kind.is_invariant_violation() {
                header.flags |= EventHeader::VIOLATION;
            }
        }
    }

    /// Ends indexing: lists every stream's events and gives back spare room.
    pub(crate) fn seal(&mut self) {
        self.headers.shrink_to_fit();
        self.positions.shrink_to_fit();
        self.ids.shrink_to_fit();
        self.types.shrink_to_fit();
        // A counting sort of the ordinals by stream, in place: `ends[s]` is where stream `s`'s
        // list ends; filling each list from its end, last event first, leaves `ends[s]` at
        // where it starts.
        let streams = self.ids.len();
        let mut ends = vec![0u32; streams + 1];
        for header in &self.headers {
            ends[header.stream as usize] += 1;
        }
        for s in 1..=streams {
            ends[s] += ends[s - 1];
        }
        let mut ordinals = vec![0u32; self.headers.len()];
        for (ordinal, header) in self.headers.iter().enumerate().rev() {
            let end = &mut ends[header.stream as usize];
            *end -= 1;
            ordinals[*end as usize] = ordinal as u32;
        }
        // Now each entry is its stream's start; the last is the end of them all.
        ends[streams] = self.headers.len() as u32;
        self.ordinals = ordinals;
        self.ordinal_starts = ends;
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

    /// The global position of the event at `ordinal`, if it is in the index.
    pub fn position_of(&self, ordinal: Ordinal) -> Option<u64> {
        (ordinal < self.len()).then(|| self.positions.get(ordinal))
    }

    /// The global position of the event at `ordinal`, which is in the index.
    pub fn position(&self, ordinal: Ordinal) -> u64 {
        debug_assert!(ordinal < self.len(), "ordinal {ordinal} is past the index");
        self.positions.get(ordinal)
    }

    pub fn stream_count(&self) -> usize {
        self.ids.len()
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
        let ordinals = match (self.ordinal_starts.get(s), self.ordinal_starts.get(s + 1)) {
            (Some(&from), Some(&to)) => &self.ordinals[from as usize..to as usize],
            _ => &[],
        };
        StreamEntry {
            stream_id: &self.ids[s],
            stream_type: &self.stream_types[usize::from(self.types[s])],
            ordinals,
        }
    }

    pub fn stream_idx(&self, stream_id: &str) -> Option<StreamIdx> {
        let fingerprint = fingerprint(stream_id);
        self.lookup
            .find(table_hash(fingerprint), |&(s, f)| {
                f == fingerprint && self.ids[s as usize] == stream_id
            })
            .map(|&(stream, _)| stream)
    }

    /// The first stream whose id has `fingerprint`, without reading its id: the stream of an id
    /// with that fingerprint, if it is the first such id, which only reading the id tells.
    fn candidate(&self, fingerprint: Fingerprint) -> Option<StreamIdx> {
        self.lookup
            .find(table_hash(fingerprint), |&(_, f)| f == fingerprint)
            .map(|&(stream, _)| stream)
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

    /// Whether the events can be laid out by their recorded times (see [`Times`]); `None`
    /// for an empty index.
    pub fn times(&self) -> Option<Times> {
        if self.headers.is_empty() {
            return None;
        }
        Some(match self.time_range {
            _ if self.untimed > 0 => Times::Unrecorded { events: self.untimed },
            Some((earliest, latest)) if latest > earliest => Times::Spread {
                first_ms: earliest,
                last_ms: latest,
            },
            _ => Times::Same,
        })
    }

    /// The ordinal of the event at `position`, or of the last one before it.
    pub fn ordinal_at_or_before_position(&self, position: u64) -> Option<Ordinal> {
        self.positions.at_or_before(position, self.len())
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
            + self.positions.heap_bytes()
            + self.ids.capacity() * std::mem::size_of::<SmolStr>()
            + self.long_id_bytes
            + self.types.capacity() * 2
            + self.lookup.capacity() * (std::mem::size_of::<(StreamIdx, Fingerprint)>() + 1)
            + (self.ordinals.capacity() + self.ordinal_starts.capacity()) * 4
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn event(position: u64, stream: &str, stream_type: &str) -> RecordedEvent {
        RecordedEvent {
            global_position: position,
            stream_id: stream.into(),
            stream_type: stream_type.into(),
            stream_version: 1,
            event_id: uuid::Uuid::from_u128(u128::from(position)),
            event_type: "E".into(),
            schema_version: Some(1),
            recorded_at: Some(DateTime::UNIX_EPOCH),
            data: serde_json::json!({}).into(),
            metadata: serde_json::json!({}).into(),
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

    /// Two ids with the same fingerprint are two streams, whichever comes first, whether
    /// found one by one or a batch at a time.
    #[test]
    fn ids_that_share_a_fingerprint_are_told_apart() {
        let mut seen = HashMap::default();
        let (a, b) = (0..1_000_000u32)
            .map(|n| format!("order-{n}"))
            .find_map(|id| seen.insert(fingerprint(&id), id.clone()).map(|other| (other, id)))
            .expect("32-bit fingerprints of a million ids collide");
        assert_ne!(a, b);
        let ids = [&a, &b, "other", &b, &a, &a, "other", &b];
        let events: Vec<_> = (1..).zip(ids).map(|(p, id)| event(p, id, "Order")).collect();
        let mut batched = TimelineIndex::default();
        let streams = batched.push_all(&events);
        assert_eq!(streams, [0, 1, 2, 1, 0, 0, 2, 1]);
        let mut single = TimelineIndex::default();
        let one_by_one: Vec<_> = events.iter().map(|e| single.push(e).1).collect();
        assert_eq!(one_by_one, streams);
        for index in [&batched, &single] {
            assert_eq!(index.stream_idx(&a), Some(0));
            assert_eq!(index.stream_idx(&b), Some(1));
            assert_eq!(index.stream_idx("other"), Some(2));
        }
        // The second id of the pair, met first in a batch, is found through the first.
        let mut later = TimelineIndex::default();
        later.push_all(&events[..1]);
        assert_eq!(later.push_all(&events[1..2]), [1]);
        assert_eq!(later.push_all(&events[1..2]), [1]);
    }

    proptest! {
        /// Positions in runs, with gaps, or all apart (kept as a list then) read back by
        /// ordinal, and a position finds the last event at or before it.
        #[test]
        fn positions_read_back_and_find_the_event_at_or_before_them(
            first in 0u64..5,
            steps in prop::collection::vec(prop_oneof![4 => Just(1u64), 1 => 2u64..40], 0..400),
            apart in any::<bool>(),
        ) {
            let mut index = TimelineIndex::default();
            let mut model = Vec::new();
            let mut position = first;
            for (ordinal, step) in steps.iter().enumerate() {
                position += if apart { step + 1 } else { *step };
                index.push(&event(position, "s", "T"));
                model.push(position);
                prop_assert_eq!(index.position(ordinal), position);
            }
            index.seal();
            for (ordinal, &position) in model.iter().enumerate() {
                prop_assert_eq!(index.position_of(ordinal), Some(position));
            }
            prop_assert_eq!(index.position_of(model.len()), None);
            for p in 0..=position + 1 {
                let expected = model.partition_point(|&m| m <= p).checked_sub(1);
                prop_assert_eq!(index.ordinal_at_or_before_position(p), expected, "at {}", p);
            }
        }
    }
}
