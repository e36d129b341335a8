//! Events with their payload and metadata serialized once, for writers of several formats.

use rewind_core::RecordedEvent;

/// An event with its payload and metadata serialized once, for writers of several formats.
#[derive(Clone, Debug)]
pub struct EncodedEvent {
    pub event: RecordedEvent,
    /// `event.data` as JSON text.
    pub data: String,
    /// `event.metadata` as JSON text.
    pub metadata: String,
}

impl EncodedEvent {
    pub fn new(event: RecordedEvent) -> Self {
        Self {
            data: event.data.to_string(),
            metadata: event.metadata.to_string(),
            event,
        }
    }
}
