//! Search and filter: header conditions answered from the index, payload conditions from
//! events fetched in batches. Results are ordinals the cursor can jump to.

use rewind_core::RecordedEvent;

use crate::engine::{Engine, EventFetch, SeekError};
use crate::filter::Condition;
use crate::index::{EventHeader, Ordinal, StreamIdx};

/// What to look for; every set field must match.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    pub stream: Option<StreamIdx>,
    /// Any of these event types (empty: any type).
    pub event_types: Vec<u16>,
    /// Recorded at or after this time (ms since the Unix epoch).
    pub from_ms: Option<i64>,
    /// Recorded at or before this time.
    pub to_ms: Option<i64>,
    pub correlation_id: Option<String>,
    /// A filter in the language of [`Condition`] (conditions, or text anywhere).
    pub condition: Option<Condition>,
    /// Match the payload as stored, not as the domain reads it (upcast to its current schema).
    pub stored: bool,
}

impl Query {
    fn needs_payload(&self) -> bool {
        self.correlation_id.is_some() || self.condition.is_some()
    }

    fn matches_header(&self, header: &EventHeader) -> bool {
        self.stream.is_none_or(|s| header.stream == s)
            && (self.event_types.is_empty() || self.event_types.contains(&header.event_type))
            // An event of unknown time is in no time range.
            && self.from_ms.is_none_or(|t| header.recorded_at_ms().is_some_and(|at| at >= t))
            && self.to_ms.is_none_or(|t| header.recorded_at_ms().is_some_and(|at| at <= t))
    }

    fn matches_event(&self, event: &RecordedEvent) -> bool {
        self.correlation_id
            .as_deref()
            .is_none_or(|c| event.correlation_id() == Some(c))
            && self.condition.as_ref().is_none_or(|c| c.matches(event))
    }
}

impl Engine {
    /// Ordinals of the events matching `query`, in global order. Header conditions come from
    /// the index; payload conditions fetch the candidates in batches.
    pub fn search(&self, query: &Query, fetch: &dyn EventFetch) -> Result<Vec<Ordinal>, SeekError> {
        let headers = self.index().headers();
        let candidates: Vec<Ordinal> = match query.stream.and_then(|s| self.index().stream(s)) {
            Some(entry) => entry
                .ordinals
                .iter()
                .map(|&o| o as usize)
                .filter(|&o| query.matches_header(&headers[o]))
                .collect(),
            None => (0..headers.len())
                .filter(|&o| query.matches_header(&headers[o]))
                .collect(),
        };
        if !query.needs_payload() {
            return Ok(candidates);
        }
        let mut found = Vec::new();
        for chunk in candidates.chunks(4096) {
            let positions: Vec<u64> = chunk.iter().map(|&o| self.index().position(o)).collect();
            let events = if chunk.len() as u64 * 2 > positions[positions.len() - 1] - positions[0] + 1 {
                // Dense: one range read is cheaper than a position list.
                let range = fetch.events_between(positions[0], positions[positions.len() - 1])?;
                range
                    .into_iter()
                    .filter(|e| positions.binary_search(&e.global_position).is_ok())
                    .collect()
            } else {
                fetch.events_at(&positions)?
            };
            for event in &events {
                let Ok(i) = positions.binary_search(&event.global_position) else {
                    continue;
                };
                // What the domain reads; an event that does not upcast is matched as stored
                // (its failure is a replay issue of its own).
                let upcast = if query.stored {
                    None
                } else {
                    let route = self.route(headers[chunk[i]].stream);
                    self.domain().upcast_on(route, event).ok().flatten()
                };
                if query.matches_event(upcast.as_ref().unwrap_or(event)) {
                    found.push(chunk[i]);
                }
            }
        }
        Ok(found)
    }

    /// How many of `ordinals` (sorted) fall in each of `buckets` equal slices of the ordinal
    /// range `from..to`: the density graph, one bucket per pixel.
    pub fn density(ordinals: &[Ordinal], from: Ordinal, to: Ordinal, buckets: usize) -> Vec<u32> {
        let mut counts = vec![0u32; buckets];
        if buckets == 0 || to <= from {
            return counts;
        }
        let span = (to - from) as f64;
        let start = ordinals.partition_point(|&o| o < from);
        for &o in &ordinals[start..] {
            if o >= to {
                break;
            }
            let bucket = (((o - from) as f64 / span) * buckets as f64) as usize;
            counts[bucket.min(buckets - 1)] += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn density_counts_ordinals_per_bucket() {
        assert_eq!(Engine::density(&[0, 1, 2, 9], 0, 10, 5), vec![2, 1, 0, 0, 1]);
        assert_eq!(Engine::density(&[5], 0, 10, 0), Vec::<u32>::new());
    }
}
