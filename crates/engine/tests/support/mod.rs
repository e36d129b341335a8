//! Test support: an in-memory event source for the engine.

use rewind_core::RecordedEvent;
use rewind_engine::{EventFetch, FetchError};

pub struct MemoryFetch<'a>(pub &'a [RecordedEvent]);

impl EventFetch for MemoryFetch<'_> {
    fn events_between(&self, from: u64, to: u64) -> Result<Vec<RecordedEvent>, FetchError> {
        Ok(self
            .0
            .iter()
            .filter(|e| (from..=to).contains(&e.global_position))
            .cloned()
            .collect())
    }

    fn events_at(&self, positions: &[u64]) -> Result<Vec<RecordedEvent>, FetchError> {
        Ok(self
            .0
            .iter()
            .filter(|e| positions.contains(&e.global_position))
            .cloned()
            .collect())
    }
}
