//! One store kept in several tables (a table per aggregate type, as some libraries do), read
//! as one: each table through its own mapping, merged into one global order.
//!
//! The order is by time, then stream version, then stream id (then table and row, which only
//! break exact ties of all three); events without a time come after those with one, by stream
//! version, then stream: with no time there is no order across tables to find. A table's streams are its own: a stream id is `{stream type}-{id}`, so the same id in
//! two tables is two streams. Opening reads every table once to learn the order; events are
//! then read from their tables by position.

use std::collections::HashMap;
use std::sync::Arc;

use rewind_core::RecordedEvent;

use crate::error::{Result, StoreError};
use crate::source::{EventSource, Skipped, StreamInfo, streams_by_scan};

/// A table's events, read through its own source, with the stream type its streams have.
pub struct TablePart {
    pub source: Box<dyn EventSource>,
    pub stream_type: String,
}

/// Where an event goes in the merged order: (time, if known; stream version; stream; table;
/// position in its table).
type Key = (Option<i64>, u64, Arc<str>, u16, u64);

/// Several tables' events in one global order (see the module's documentation).
pub struct MergedStore {
    parts: Vec<TablePart>,
    location: String,
    description: String,
    /// For each global position (from 1, as the index), the table and the position there.
    order: Vec<(u16, u64)>,
    /// For each table, its positions in order with their global position.
    global: Vec<Vec<(u64, u64)>>,
    skipped: Vec<Skipped>,
}

impl MergedStore {
    /// Reads every part once to learn the order. `library` names what wrote the store.
    pub fn new(parts: Vec<TablePart>, library: &str) -> Result<Self> {
        let location = parts.first().map(|p| p.source.location()).unwrap_or_default();
        if parts.len() > usize::from(u16::MAX) {
            return Err(StoreError::Open {
                path: std::path::PathBuf::from(&location),
                reason: format!("{} tables are more than Rewind merges", parts.len()),
            });
        }
        let mut keys: Vec<Key> = Vec::new();
        let mut streams: HashMap<String, Arc<str>> = HashMap::new();
        let mut skipped = Vec::new();
        for (table, part) in parts.iter().enumerate() {
            let table = table as u16;
            part.source.read_all(8192, &mut |batch| {
                for event in batch.iter() {
                    let stream = if let Some(stream) = streams.get(event.stream_id.as_str()) {
                        Arc::clone(stream)
                    } else {
                        let stream: Arc<str> = Arc::from(event.stream_id.as_str());
                        streams.insert(event.stream_id.to_string(), Arc::clone(&stream));
                        stream
                    };
                    keys.push((
                        event.recorded_at.map(|t| t.timestamp_millis()),
                        event.stream_version,
                        stream,
                        table,
                        event.global_position,
                    ));
                }
                Ok(())
            })?;
            let name = part.stream_type.as_str();
            skipped.extend(part.source.skipped().iter().map(|s| Skipped {
                record: format!("{name}: {}", s.record),
                reason: s.reason.clone(),
            }));
        }
        keys.sort_by(|a, b| (a.0.is_none(), a.0, a.1, &a.2, a.3, a.4).cmp(&(b.0.is_none(), b.0, b.1, &b.2, b.3, b.4)));
        let order: Vec<(u16, u64)> = keys.iter().map(|k| (k.3, k.4)).collect();
        let mut global: Vec<Vec<(u64, u64)>> = vec![Vec::new(); parts.len()];
        for (i, &(table, position)) in order.iter().enumerate() {
            global[usize::from(table)].push((position, i as u64 + 1));
        }
        for positions in &mut global {
            positions.sort_unstable();
        }
        let untimed = keys.iter().filter(|k| k.0.is_none()).count();
        let tables: Vec<String> = parts.iter().map(|p| p.source.describe()).collect();
        let description = format!(
            "{library}, {} tables merged by time, then stream version, then stream{} ({})",
            parts.len(),
            if untimed > 0 {
                format!("; {untimed} event(s) without a time come last, by stream version, then stream")
            } else {
                String::new()
            },
            tables.join("; ")
        );
        Ok(Self {
            parts,
            location,
            description,
            order,
            global,
            skipped,
        })
    }

    /// The event as this store shows it: its merged position, its stream told apart by type.
    fn shown(&self, table: usize, mut event: RecordedEvent) -> Option<RecordedEvent> {
        let positions = &self.global[table];
        let at = positions.binary_search_by_key(&event.global_position, |p| p.0).ok()?;
        event.global_position = positions[at].1;
        let stream_type = &self.parts[table].stream_type;
        event.stream_id = format!("{stream_type}-{}", event.stream_id).into();
        event.stream_type = stream_type.as_str().into();
        Some(event)
    }

    /// The events at these merged positions (ascending), in order.
    fn read_merged(&self, positions: &[u64]) -> Result<Vec<RecordedEvent>> {
        let mut wanted: Vec<Vec<u64>> = vec![Vec::new(); self.parts.len()];
        for &position in positions {
            if let Some(&(table, there)) = usize::try_from(position)
                .ok()
                .and_then(|p| p.checked_sub(1))
                .and_then(|i| self.order.get(i))
            {
                wanted[usize::from(table)].push(there);
            }
        }
        let mut events = Vec::with_capacity(positions.len());
        for (table, mut there) in wanted.into_iter().enumerate() {
            if there.is_empty() {
                continue;
            }
            there.sort_unstable();
            for event in self.parts[table].source.read_positions(&there)? {
                events.extend(self.shown(table, event));
            }
        }
        events.sort_by_key(|e| e.global_position);
        Ok(events)
    }
}

impl EventSource for MergedStore {
    fn describe(&self) -> String {
        self.description.clone()
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    fn event_count(&self) -> Result<u64> {
        Ok(self.order.len() as u64)
    }

    fn streams(&self) -> Result<Vec<StreamInfo>> {
        streams_by_scan(self)
    }

    fn read_stream(&self, stream_id: &str, up_to_version: Option<u64>) -> Result<Vec<RecordedEvent>> {
        for (table, part) in self.parts.iter().enumerate() {
            let Some(id) = stream_id
                .strip_prefix(part.stream_type.as_str())
                .and_then(|rest| rest.strip_prefix('-'))
            else {
                continue;
            };
            let events = part.source.read_stream(id, up_to_version)?;
            if !events.is_empty() {
                return Ok(events.into_iter().filter_map(|e| self.shown(table, e)).collect());
            }
        }
        Ok(Vec::new())
    }

    fn read_batch(&self, after_position: u64, limit: usize) -> Result<Vec<RecordedEvent>> {
        let first = after_position.saturating_add(1);
        let last = (self.order.len() as u64).min(after_position.saturating_add(limit as u64));
        if first > last {
            return Ok(Vec::new());
        }
        self.read_merged(&(first..=last).collect::<Vec<_>>())
    }

    fn read_positions(&self, positions: &[u64]) -> Result<Vec<RecordedEvent>> {
        self.read_merged(positions)
    }

    fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::foreign::memory::MemoryStore;

    fn event(position: u64, stream: &str, version: u64, at_ms: Option<i64>) -> RecordedEvent {
        RecordedEvent {
            global_position: position,
            stream_id: stream.into(),
            stream_type: String::new().into(),
            stream_version: version,
            event_id: uuid::Uuid::from_u128(u128::from(position) + 1000 * u128::from(version)),
            event_type: "Happened".into(),
            schema_version: None,
            recorded_at: at_ms.and_then(chrono::DateTime::from_timestamp_millis),
            data: serde_json::json!({}).into(),
            metadata: serde_json::json!({}).into(),
        }
    }

    fn part(stream_type: &str, events: Vec<RecordedEvent>) -> TablePart {
        let path = std::path::Path::new("store.sqlite");
        TablePart {
            source: Box::new(MemoryStore::new(path, stream_type.to_owned(), events, Vec::new())),
            stream_type: stream_type.to_owned(),
        }
    }

    /// Two tables merge by time, then version, then stream; an id in both is two streams;
    /// events without a time come last.
    #[test]
    fn tables_merge_by_time_then_version_then_stream() {
        let accounts = part(
            "account",
            vec![
                event(1, "17", 1, Some(10)),
                event(2, "17", 2, Some(30)),
                event(3, "9", 1, None),
            ],
        );
        let payments = part(
            "payment",
            vec![event(1, "17", 1, Some(20)), event(2, "17", 2, Some(30))],
        );
        let merged = MergedStore::new(vec![accounts, payments], "test").unwrap();
        let order: Vec<(u64, String, u64)> = merged
            .read_batch(0, 10)
            .unwrap()
            .into_iter()
            .map(|e| (e.global_position, e.stream_id.to_string(), e.stream_version))
            .collect();
        let expected = [
            (1, "account-17", 1),
            (2, "payment-17", 1),
            // A tie in time and version: the stream decides.
            (3, "account-17", 2),
            (4, "payment-17", 2),
            (5, "account-9", 1),
        ]
        .map(|(p, s, v)| (p, s.to_owned(), v));
        assert_eq!(order, expected);
        let stream: Vec<u64> = merged
            .read_stream("payment-17", None)
            .unwrap()
            .iter()
            .map(|e| e.global_position)
            .collect();
        assert_eq!(stream, [2, 4]);
        assert_eq!(merged.read_positions(&[4, 5]).unwrap()[0].stream_id, "payment-17");
        assert!(
            merged.describe().contains("1 event(s) without a time come last"),
            "{}",
            merged.describe()
        );
    }
}
