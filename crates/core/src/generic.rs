//! The generic plug-in: replays streams that no domain claims.
//!
//! The state it shows is the fold of the payloads: each field keeps its latest value, and nested
//! objects are merged key by key. It never rejects an event, so it lists, scrubs and diffs any
//! stream; the app labels its states as generic.

use serde_json::{Map, Value};

use crate::domain::{AggregateState, ApplyError, Domain, ProjectionState, UpcastError, Violation};
use crate::event::RecordedEvent;

/// Folds payloads field by field; claims every stream type.
#[derive(Clone, Copy, Debug, Default)]
pub struct GenericDomain;

/// The state of a stream no domain claims.
#[derive(Clone, Debug, Default)]
pub struct GenericState {
    fields: Map<String, Value>,
}

impl GenericState {
    /// Merges `data` into the state: objects key by key, anything else replaces.
    fn merge(target: &mut Map<String, Value>, data: &Map<String, Value>) {
        for (key, value) in data {
            match (target.get_mut(key), value) {
                (Some(Value::Object(existing)), Value::Object(incoming)) => {
                    Self::merge(existing, incoming);
                }
                _ => {
                    target.insert(key.clone(), value.clone());
                }
            }
        }
    }
}

impl AggregateState for GenericState {
    fn apply(&mut self, event: &RecordedEvent) -> Result<Vec<Violation>, ApplyError> {
        match event.data.value() {
            // A serde externally tagged enum (`{"Deposited": {…}}`, cqrs-es): fold the variant's
            // fields, not the tag.
            Value::Object(data)
                if data.len() == 1
                    && let Some(Value::Object(inner)) = data.get(event.event_type.as_str()) =>
            {
                Self::merge(&mut self.fields, inner);
            }
            Value::Object(data) => Self::merge(&mut self.fields, data),
            Value::Null => {}
            other => {
                // A scalar or array payload has no field names: keep it under the event type.
                self.fields.insert(event.event_type.to_string(), other.clone());
            }
        }
        Ok(Vec::new())
    }

    fn to_json(&self) -> Value {
        Value::Object(self.fields.clone())
    }

    fn clone_box(&self) -> Box<dyn AggregateState> {
        Box::new(self.clone())
    }
}

impl Domain for GenericDomain {
    fn name(&self) -> &'static str {
        "generic"
    }

    fn stream_types(&self) -> Vec<&'static str> {
        Vec::new()
    }

    fn new_aggregate(&self, _stream_type: &str) -> Option<Box<dyn AggregateState>> {
        Some(Box::new(GenericState::default()))
    }

    fn projections(&self) -> Vec<Box<dyn ProjectionState>> {
        Vec::new()
    }

    fn latest_schema_version(&self, _event_type: &str) -> Option<u32> {
        None
    }

    fn upcast(&self, _event: &RecordedEvent) -> Result<Option<RecordedEvent>, UpcastError> {
        Ok(None)
    }
}

/// Several domains behind one [`Domain`]: each stream goes to the first domain that claims its
/// type, and to the generic plug-in otherwise.
pub struct DomainSet {
    domains: Vec<Box<dyn Domain>>,
    /// `(stream type, index of the domain that claims it)`, first claim first: asked at every
    /// event, so it is built once.
    claims: Vec<(&'static str, usize)>,
}

impl DomainSet {
    pub fn new(domains: Vec<Box<dyn Domain>>) -> Self {
        let claims = domains
            .iter()
            .enumerate()
            .flat_map(|(i, domain)| domain.stream_types().into_iter().map(move |t| (t, i)))
            .collect();
        Self { domains, claims }
    }

    /// The domain that replays `stream_type` (`None`: the generic plug-in does).
    pub fn domain_for(&self, stream_type: &str) -> Option<&dyn Domain> {
        self.claims
            .iter()
            .find(|(claimed, _)| *claimed == stream_type)
            .map(|&(_, i)| self.domains[i].as_ref())
    }

    /// Whether `stream_type` is replayed by the generic plug-in.
    pub fn is_generic(&self, stream_type: &str) -> bool {
        self.domain_for(stream_type).is_none()
    }
}

impl Domain for DomainSet {
    fn name(&self) -> &'static str {
        "domains"
    }

    fn stream_types(&self) -> Vec<&'static str> {
        self.domains.iter().flat_map(|d| d.stream_types()).collect()
    }

    fn new_aggregate(&self, stream_type: &str) -> Option<Box<dyn AggregateState>> {
        match self.domain_for(stream_type) {
            Some(domain) => domain.new_aggregate(stream_type),
            None => GenericDomain.new_aggregate(stream_type),
        }
    }

    fn projections(&self) -> Vec<Box<dyn ProjectionState>> {
        self.domains.iter().flat_map(|d| d.projections()).collect()
    }

    fn latest_schema_version(&self, event_type: &str) -> Option<u32> {
        self.domains.iter().find_map(|d| d.latest_schema_version(event_type))
    }

    fn upcast(&self, event: &RecordedEvent) -> Result<Option<RecordedEvent>, UpcastError> {
        match self.domain_for(&event.stream_type) {
            Some(domain) => domain.upcast(event),
            None => Ok(None),
        }
    }

    fn prepare(&self, event: &mut RecordedEvent) {
        if let Some(domain) = self.domain_for(&event.stream_type) {
            domain.prepare(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(version: u64, data: Value) -> RecordedEvent {
        RecordedEvent {
            global_position: version,
            stream_id: "thing-1".into(),
            stream_type: "Thing".into(),
            stream_version: version,
            event_id: uuid::Uuid::nil(),
            event_type: "ThingChanged".into(),
            schema_version: 1,
            recorded_at: chrono::DateTime::UNIX_EPOCH,
            data: data.into(),
            metadata: json!({}).into(),
        }
    }

    #[test]
    fn given_two_payloads_when_folded_then_latest_fields_win_and_objects_merge() {
        let steps = GenericDomain.replay_stream(&[
            event(1, json!({"amount": 1, "owner": {"name": "ada", "city": "x"}})),
            event(2, json!({"amount": 5, "owner": {"city": "y"}})),
        ]);
        assert_eq!(
            steps[0].state,
            Ok(json!({"amount": 1, "owner": {"name": "ada", "city": "x"}}))
        );
        assert_eq!(
            steps[1].state,
            Ok(json!({"amount": 5, "owner": {"name": "ada", "city": "y"}}))
        );
    }

    #[test]
    fn given_externally_tagged_payloads_when_folded_then_the_variant_fields_are_folded() {
        let mut deposited = event(1, json!({"ThingChanged": {"amount": 5}}));
        deposited.event_type = "ThingChanged".into();
        let steps = GenericDomain.replay_stream(&[deposited]);
        assert_eq!(steps[0].state, Ok(json!({"amount": 5})));
    }

    #[test]
    fn given_a_scalar_payload_when_folded_then_it_is_kept_under_the_event_type() {
        let steps = GenericDomain.replay_stream(&[event(1, json!(42))]);
        assert_eq!(steps[0].state, Ok(json!({"ThingChanged": 42})));
    }
}
