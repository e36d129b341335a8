//! Any cqrs-es aggregate and view, replayed by Rewind through their own code: an event's
//! stored payload (serde's JSON of the aggregate's event enum, as the cqrs-es repositories
//! store it) is decoded to `A::Event` and given to `Aggregate::apply` and `View::update`.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::fmt::Debug;
use std::marker::PhantomData;

use cqrs_es::{Aggregate, DomainEvent as _, EventEnvelope, View};
use rewind::core::{
    AggregateState, ApplyError, JsonRowHistory, ProjectionState, ProjectionView, RecordedEvent, Violation,
};
use rewind::serde;
use rewind::serde_json::{self, Value};

/// What Rewind checks of an aggregate beyond what cqrs-es asks of it.
pub trait Invariants: Aggregate + Clone + Debug + 'static {
    /// What the invariants compare across one event (a balance): a few copied fields.
    type Watched;

    /// What the invariants watch in the current state.
    fn watched(&self) -> Self::Watched;

    /// The invariants an event broke, moving the state from `before` (what
    /// [`Invariants::watched`] saw) to `after`. Only transitions: the event that did the damage.
    fn broken_invariants(before: &Self::Watched, after: &Self) -> Vec<Violation>;
}

/// The stored payload of `event` as the aggregate's event. A payload whose tag is not the
/// event's type is refused: the store's row is not what it says it is.
fn decode<A: Aggregate>(event: &RecordedEvent) -> Result<A::Event, ApplyError> {
    let invalid = |reason: String| ApplyError::InvalidPayload {
        event_type: event.event_type.to_string(),
        reason,
    };
    let typed: A::Event = event.data.decode().map_err(|e| invalid(e.to_string()))?;
    if typed.event_type() != event.event_type.as_str() {
        return Err(invalid(format!("the payload is a {}", typed.event_type())));
    }
    Ok(typed)
}

/// A JSON text of anything serde writes, or why not (said in the value, never hidden).
fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| Value::String(format!("(cannot be shown: {e})")))
}

/// One stream's state: the cqrs-es aggregate itself.
#[derive(Clone, Debug, Default)]
pub struct CqrsAggregate<A>(pub A);

impl<A: Invariants> AggregateState for CqrsAggregate<A> {
    fn apply(&mut self, event: &RecordedEvent) -> Result<Vec<Violation>, ApplyError> {
        let typed = decode::<A>(event)?;
        let before = self.0.watched();
        self.0.apply(typed);
        Ok(A::broken_invariants(&before, &self.0))
    }

    fn to_json(&self) -> Value {
        json(&self.0)
    }

    fn clone_box(&self) -> Box<dyn AggregateState> {
        Box::new(self.clone())
    }
}

/// A cqrs-es view per aggregate instance, as cqrs-es's `GenericQuery` keeps them: a read model
/// whose rows are keyed by stream id. It keeps every version of every row once asked, so the
/// debugger reads it at any position and blames each row's last change.
pub struct CqrsViews<A, V> {
    name: String,
    views: BTreeMap<String, V>,
    history: Option<JsonRowHistory>,
    aggregate: PhantomData<fn() -> A>,
}

impl<A, V> CqrsViews<A, V> {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            views: BTreeMap::new(),
            history: None,
            aggregate: PhantomData,
        }
    }
}

impl<A, V: Clone> Clone for CqrsViews<A, V> {
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            views: self.views.clone(),
            history: self.history.clone(),
            aggregate: PhantomData,
        }
    }
}

impl<A: Aggregate + 'static, V: View<A> + Clone + 'static> ProjectionView for CqrsViews<A, V> {
    fn name(&self) -> &str {
        &self.name
    }

    fn to_json(&self) -> Value {
        Value::Object(self.views.iter().map(|(key, view)| (key.clone(), json(view))).collect())
    }

    fn row_count(&self) -> usize {
        self.views.len()
    }

    fn rows(&self, start: usize, count: usize) -> Vec<(String, Value)> {
        self.views
            .iter()
            .skip(start)
            .take(count)
            .map(|(key, view)| (key.clone(), json(view)))
            .collect()
    }

    fn row(&self, key: &str) -> Option<(usize, Value)> {
        let view = self.views.get(key)?;
        Some((self.views.keys().take_while(|k| k.as_str() < key).count(), json(view)))
    }

    fn changed_at(&self, key: &str) -> Option<u64> {
        self.history.as_ref()?.changed_at(key)
    }
}

impl<A: Aggregate + 'static, V: View<A> + Clone + 'static> ProjectionState for CqrsViews<A, V> {
    fn apply(&mut self, event: &RecordedEvent) -> Result<(), ApplyError> {
        if event.stream_type != A::TYPE {
            return Ok(());
        }
        let metadata: HashMap<String, String> = match event.metadata.value() {
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                .collect(),
            _ => HashMap::new(),
        };
        let envelope = EventEnvelope::<A> {
            aggregate_id: event.stream_id.to_string(),
            sequence: event.stream_version as usize,
            payload: decode::<A>(event)?,
            metadata,
        };
        let view = self.views.entry(envelope.aggregate_id.clone()).or_default();
        view.update(&envelope);
        if let Some(history) = &mut self.history {
            history.set(event.global_position, &envelope.aggregate_id, Some(json(view)));
        }
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn ProjectionState> {
        Box::new(self.clone())
    }

    fn keys_for(&self, event: &RecordedEvent) -> Vec<String> {
        if event.stream_type == A::TYPE {
            vec![event.stream_id.to_string()]
        } else {
            Vec::new()
        }
    }

    /// Kept from the first event on: asked before any is folded.
    fn keep_history(&mut self) -> bool {
        if self.views.is_empty() {
            self.history = Some(JsonRowHistory::new(self.name.clone()));
        }
        self.history.is_some()
    }

    fn as_of(&self, position: Option<u64>) -> Option<Box<dyn ProjectionView>> {
        let history = self.history.as_ref()?;
        Some(Box::new(history.view(position)))
    }

    fn shrink_to_fit(&mut self) {
        if let Some(history) = &mut self.history {
            ProjectionState::shrink_to_fit(history);
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_bank_domain::{AccountSummary, BankAccount};
    use rewind::core::{Payload, Uuid};
    use rewind::serde_json::json;

    use super::*;

    fn event(position: u64, event_type: &str, data: Value) -> RecordedEvent {
        RecordedEvent {
            global_position: position,
            stream_id: "account-X".into(),
            stream_type: "BankAccount".into(),
            stream_version: position,
            event_id: Uuid::nil(),
            event_type: event_type.into(),
            schema_version: None,
            recorded_at: None,
            data: Payload::from(data),
            metadata: Payload::from(json!({})),
        }
    }

    /// A row whose payload is another event than its type says is an error naming both, not a
    /// fold of the wrong event.
    #[test]
    fn a_payload_that_is_not_its_event_type_is_refused() {
        let mut account = CqrsAggregate(BankAccount::default());
        let error = account
            .apply(&event(1, "MoneyDeposited", json!({"MoneyWithdrawn": {"amount": 5}})))
            .expect_err("refused");
        assert_eq!(
            error.to_string(),
            "payload of `MoneyDeposited` does not parse: the payload is a MoneyWithdrawn"
        );
        assert_eq!(account.0, BankAccount::default());
    }

    /// The views keep every version of every row, so the debugger reads the read model at an
    /// earlier position and blames a row's last change.
    #[test]
    fn views_are_read_at_any_position_with_their_last_change() {
        let mut views = CqrsViews::<BankAccount, AccountSummary>::new("account_summaries");
        assert!(views.keep_history());
        views
            .apply(&event(1, "AccountOpened", json!({"AccountOpened": {"owner": "X"}})))
            .unwrap();
        views
            .apply(&event(2, "MoneyDeposited", json!({"MoneyDeposited": {"amount": 7}})))
            .unwrap();
        assert_eq!(
            views.row("account-X").map(|(_, row)| row["balance"].clone()),
            Some(json!(7))
        );
        assert_eq!(views.changed_at("account-X"), Some(2));
        let then = views.as_of(Some(1)).expect("history");
        assert_eq!(
            then.row("account-X").map(|(_, row)| row["balance"].clone()),
            Some(json!(0))
        );
        assert_eq!(then.changed_at("account-X"), Some(1));
    }
}
