//! The engine's payload requests, answered from the opened store.

use rewind_engine::{EventFetch, FetchError};
use rewind_store::EventSource;

/// Answers [`EventFetch`] from an [`EventSource`].
pub struct StoreFetch<'a>(pub &'a dyn EventSource);

impl EventFetch for StoreFetch<'_> {
    fn events_between(&self, from: u64, to: u64) -> Result<Vec<rewind_core::RecordedEvent>, FetchError> {
        self.0.read_between(from, to).map_err(|e| FetchError(e.to_string()))
    }

    fn events_at(&self, positions: &[u64]) -> Result<Vec<rewind_core::RecordedEvent>, FetchError> {
        self.0.read_positions(positions).map_err(|e| FetchError(e.to_string()))
    }
}
