//! The read side every store offers, whatever its format. It names no backend: each backend
//! implements [`EventSource`], and `open` picks one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use rewind_core::RecordedEvent;

use crate::error::Result;

/// One stream as a store lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StreamInfo {
    pub stream_id: String,
    pub stream_type: String,
    pub event_count: u64,
    pub first_position: u64,
    pub last_position: u64,
    /// The earliest and latest times its events were recorded at; `None` when the store
    /// records none for them.
    pub first_recorded_at: Option<DateTime<Utc>>,
    pub last_recorded_at: Option<DateTime<Utc>>,
}

impl StreamInfo {
    /// A stream's summary from its events (any order); `None` when there are none.
    pub fn from_events(stream_id: &str, events: &[&RecordedEvent]) -> Option<Self> {
        let first = events.iter().min_by_key(|e| e.global_position)?;
        let last = events.iter().max_by_key(|e| e.global_position)?;
        Some(Self {
            stream_id: stream_id.to_owned(),
            stream_type: first.stream_type.to_string(),
            event_count: events.len() as u64,
            first_position: first.global_position,
            last_position: last.global_position,
            first_recorded_at: events.iter().filter_map(|e| e.recorded_at).min(),
            last_recorded_at: events.iter().filter_map(|e| e.recorded_at).max(),
        })
    }
}

/// The earlier of two times that may be unknown: a known one over an unknown one.
pub fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A record a reader could not turn into an event, and why. Loading goes on without it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Where it is: `line 12`, `row 5`, `entry 3 of document 2`.
    pub record: String,
    pub reason: String,
}

/// Every stream of `source`, in order of first appearance, by reading all its events once.
pub fn streams_by_scan(source: &dyn EventSource) -> Result<Vec<StreamInfo>> {
    let mut order: Vec<String> = Vec::new();
    let mut streams: std::collections::HashMap<String, StreamInfo> = std::collections::HashMap::new();
    source.read_all(8192, &mut |batch| {
        for event in batch.iter() {
            if let Some(info) = streams.get_mut(event.stream_id.as_str()) {
                info.event_count += 1;
                info.last_position = info.last_position.max(event.global_position);
                info.first_recorded_at = earliest(info.first_recorded_at, event.recorded_at);
                info.last_recorded_at = info.last_recorded_at.max(event.recorded_at);
            } else if let Some(info) = StreamInfo::from_events(&event.stream_id, &[event]) {
                order.push(event.stream_id.to_string());
                streams.insert(event.stream_id.to_string(), info);
            }
        }
        Ok(())
    })?;
    Ok(order.into_iter().filter_map(|id| streams.remove(&id)).collect())
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

    /// Whether the events are in Rewind's own format (native SQLite or NDJSON export), so that
    /// Rewind's domain plug-ins apply to them. Foreign stores hold their library's payloads and
    /// replay through the generic plug-in.
    fn is_native(&self) -> bool {
        false
    }

    /// Whether the store guarantees that no two of its events share an id (a unique index on
    /// it), so a replay need not remember every id to find repeats. Read it before a full read
    /// and again after: a reader that meets an id its guarantee does not cover (stored in
    /// another spelling, which the index tells apart) says `false` from then on, and the ids
    /// must then be checked apart.
    fn unique_event_ids(&self) -> bool {
        false
    }

    /// Records the reader left out, with where they are and why (empty for a clean store).
    fn skipped(&self) -> &[Skipped] {
        &[]
    }

    /// The batch size a full read goes best at. In-process stores: 1,024 events, so a batch's
    /// list is an ordinary allocation, not a large one taken fresh from the OS (and zeroed)
    /// each time. A database overrides
    /// it: each of its batches is a round trip.
    fn preferred_batch(&self) -> usize {
        1024
    }

    /// How long the store itself takes to walk every event, handing none over: the floor under
    /// any full read, which shows how fast the machine is at the moment (`rewind bench` reports
    /// it beside its own figures). `None` for a store that cannot say (the default).
    fn bare_scan(&self) -> Result<Option<BareScan>> {
        Ok(None)
    }

    /// The global position of the event whose id is `event_id`, if the store holds one (a
    /// causation id names the event that caused another). The default reads the store in order
    /// until it meets the id, every event when none has it; a store with an index on the id
    /// asks it instead.
    fn find_event_id(&self, event_id: Uuid) -> Result<Option<u64>> {
        find_event_id_by_scan(self, event_id)
    }

    /// Every event in global order, handed over in batches. Stops early when `each` fails.
    ///
    /// `each` may take a batch's events (`std::mem::take`, or swap in an empty list of its
    /// own, which a reader fills next: a list is then reused, not allocated for each batch);
    /// what it leaves in the list is dropped before the next batch is read.
    fn read_all(&self, batch_size: usize, each: &mut dyn FnMut(&mut Vec<RecordedEvent>) -> Result<()>) -> Result<()> {
        let mut after = 0;
        loop {
            let mut batch = self.read_batch(after, batch_size)?;
            let Some(last) = batch.last() else {
                return Ok(());
            };
            after = last.global_position;
            each(&mut batch)?;
        }
    }
}

/// [`EventSource::find_event_id`] by reading every event in order until one has the id.
pub fn find_event_id_by_scan(source: &(impl EventSource + ?Sized), event_id: Uuid) -> Result<Option<u64>> {
    let mut after = 0;
    loop {
        let batch = source.read_batch(after, 4096)?;
        let Some(last) = batch.last() else {
            return Ok(None);
        };
        if let Some(found) = batch.iter().find(|e| e.event_id == event_id) {
            return Ok(Some(found.global_position));
        }
        after = last.global_position;
    }
}

/// What [`EventSource::bare_scan`] measured.
#[derive(Clone, Debug, PartialEq)]
pub struct BareScan {
    /// What was asked of the store, as it was asked (an SQL statement).
    pub query: String,
    pub events: u64,
    pub elapsed: std::time::Duration,
}
