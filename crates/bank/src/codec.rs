//! Payload encoding shared by the bank's event types.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use rewind_core::{ApplyError, Payload};

/// Decodes a payload into `T` (from its text when it has one, without building a JSON tree).
pub(crate) fn decode_payload<T: DeserializeOwned>(event_type: &str, data: &Payload) -> Result<T, ApplyError> {
    data.decode().map_err(|error| ApplyError::InvalidPayload {
        event_type: event_type.to_owned(),
        reason: error.to_string(),
    })
}

/// Encodes a payload struct as a JSON object.
pub(crate) fn encode_payload<T: Serialize>(payload: &T) -> Value {
    // Payload structs hold only strings, integers and vectors of those: serialization cannot fail.
    serde_json::to_value(payload).unwrap_or(Value::Null)
}
