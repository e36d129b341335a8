//! The generic plug-in: replays streams that no domain claims.
//!
//! The state it shows is the fold of the payloads: each field keeps its latest value, and nested
//! objects are merged key by key. It never rejects an event, so it lists, scrubs and diffs any
//! stream; the app labels its states as generic.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::domain::{
    AggregateClaim, AggregateState, ApplyError, Domain, MoneyField, ProjectionState, ProjectionView, ReplayError,
    StreamStep, UpcastError, Violation, replay_stream_here,
};
use crate::event::RecordedEvent;
use crate::remote::BatchFold;

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

    fn aggregates(&self) -> Vec<AggregateClaim> {
        Vec::new()
    }

    fn new_aggregate(&self, _aggregate: &str) -> Option<Box<dyn AggregateState>> {
        Some(Box::new(GenericState::default()))
    }
}

/// Several domains behind one [`Domain`]: each stream goes to the first aggregate, of the
/// first domain, that claims it (see [`AggregateClaim`]), and to the generic fold when none
/// does. A route is an index into the claims of all the domains, in order.
pub struct DomainSet {
    domains: Vec<Arc<dyn Domain>>,
    /// Every domain's claims, in order, with the index of the domain that made each.
    claims: Vec<(AggregateClaim, usize)>,
    /// How many claims come before the first that claims by a first event's type: a claim
    /// before it routes a stream the same whichever of its events is looked at.
    before_first_event_claims: usize,
}

impl DomainSet {
    pub fn new(domains: Vec<Box<dyn Domain>>) -> Self {
        Self::shared(domains.into_iter().map(Arc::from).collect())
    }

    /// The domains, shared with other sets (a set of some of them, say).
    pub fn shared(domains: Vec<Arc<dyn Domain>>) -> Self {
        let claims: Vec<(AggregateClaim, usize)> = domains
            .iter()
            .enumerate()
            .flat_map(|(i, domain)| domain.aggregates().into_iter().map(move |claim| (claim, i)))
            .collect();
        let before_first_event_claims = claims
            .iter()
            .position(|(claim, _)| !claim.first_event_types.is_empty())
            .unwrap_or(claims.len());
        Self {
            domains,
            claims,
            before_first_event_claims,
        }
    }

    /// The domains, in the order they claim streams.
    pub fn domains(&self) -> &[Arc<dyn Domain>] {
        &self.domains
    }

    /// The domain named `name`, if it is one of these.
    pub fn domain(&self, name: &str) -> Option<&Arc<dyn Domain>> {
        self.domains.iter().find(|d| d.name() == name)
    }

    /// These domains with `first` ahead of them (a plug-in's, which then claims first).
    #[must_use]
    pub fn with_first(&self, first: Arc<dyn Domain>) -> Self {
        let mut domains = vec![first];
        domains.extend(self.domains.iter().cloned());
        Self::shared(domains)
    }

    /// Only the domains named in `names`, in this set's order; `generic` names none of them
    /// (every stream then replays through the generic fold). An unknown name is an error that
    /// lists the known ones.
    pub fn only(&self, names: &[String]) -> Result<Self, String> {
        for name in names {
            if name != "generic" && self.domain(name).is_none() {
                let known: Vec<&str> = self.domains.iter().map(|d| d.name()).chain(["generic"]).collect();
                return Err(format!("no domain named `{name}`; known: {}", known.join(", ")));
            }
        }
        Ok(Self::shared(
            self.domains
                .iter()
                .filter(|d| names.iter().any(|n| n == d.name()))
                .cloned()
                .collect(),
        ))
    }

    /// Whether streams on `route` (`None`: unclaimed) are replayed by the generic fold.
    pub fn is_generic(route: Option<u32>) -> bool {
        route.is_none()
    }

    /// The route of `event`'s stream when it follows from what every event of the stream shares
    /// (its type and category), whichever of its events this is; `None` when it cannot be told
    /// without the stream's first event, or when nothing claims it.
    pub fn route_of_any_event(&self, event: &RecordedEvent) -> Option<u32> {
        self.claims[..self.before_first_event_claims]
            .iter()
            .position(|(claim, _)| claim.claims_without_first(event))
            .map(|i| i as u32)
    }

    fn claim(&self, route: u32) -> Option<&(AggregateClaim, usize)> {
        self.claims.get(route as usize)
    }
}

impl Domain for DomainSet {
    fn name(&self) -> &'static str {
        "domains"
    }

    fn aggregates(&self) -> Vec<AggregateClaim> {
        self.claims.iter().map(|(claim, _)| claim.clone()).collect()
    }

    fn new_aggregate(&self, aggregate: &str) -> Option<Box<dyn AggregateState>> {
        self.domains.iter().find_map(|d| d.new_aggregate(aggregate))
    }

    fn money_fields(&self) -> Vec<MoneyField> {
        let mut fields: Vec<MoneyField> = Vec::new();
        for field in self.domains.iter().flat_map(|d| d.money_fields()) {
            if !fields.contains(&field) {
                fields.push(field);
            }
        }
        fields
    }

    fn route(&self, first: &RecordedEvent) -> Option<u32> {
        self.claims
            .iter()
            .position(|(claim, _)| claim.claims(first))
            .map(|i| i as u32)
    }

    fn new_state(&self, route: u32) -> Option<Box<dyn AggregateState>> {
        let (claim, domain) = self.claim(route)?;
        self.domains[*domain].new_aggregate(&claim.aggregate)
    }

    fn describe_route(&self, route: u32) -> Option<(String, String)> {
        let (claim, domain) = self.claim(route)?;
        Some((self.domains[*domain].name().to_owned(), claim.aggregate.clone()))
    }

    /// Every domain's read models, in order; one whose name an earlier domain's read model
    /// already has is shown with its domain's name (`bank/account_balances`).
    fn projections(&self) -> Vec<Box<dyn ProjectionState>> {
        let mut names = std::collections::HashSet::new();
        let mut all = Vec::new();
        for domain in &self.domains {
            for projection in domain.projections() {
                if names.insert(projection.name().to_owned()) {
                    all.push(projection);
                } else {
                    let name = format!("{}/{}", domain.name(), projection.name());
                    names.insert(name.clone());
                    all.push(Box::new(Renamed {
                        name,
                        inner: projection,
                    }) as Box<dyn ProjectionState>);
                }
            }
        }
        all
    }

    fn route_is_generic(&self, route: u32) -> bool {
        self.claim(route)
            .is_some_and(|&(_, domain)| self.domains[domain].route_is_generic(0))
    }

    fn domain_of_route(&self, route: u32) -> usize {
        self.claim(route).map_or(usize::MAX, |&(_, domain)| domain)
    }

    fn projection_domains(&self) -> Vec<usize> {
        self.domains
            .iter()
            .enumerate()
            .flat_map(|(i, d)| std::iter::repeat_n(i, d.projections().len()))
            .collect()
    }

    fn latest_schema_version(&self, event_type: &str) -> Option<u32> {
        self.domains.iter().find_map(|d| d.latest_schema_version(event_type))
    }

    /// Without a route: by the domain that claims the event's stream by its type or category.
    fn upcast(&self, event: &RecordedEvent) -> Result<Option<RecordedEvent>, UpcastError> {
        self.upcast_on(self.route_of_any_event(event), event)
    }

    fn upcast_on(&self, route: Option<u32>, event: &RecordedEvent) -> Result<Option<RecordedEvent>, UpcastError> {
        match route.and_then(|route| self.claim(route)) {
            Some((_, domain)) => self.domains[*domain].upcast(event),
            None => Ok(None),
        }
    }

    fn batch_fold_on(&self, route: u32) -> Option<(usize, Arc<dyn BatchFold>)> {
        let (_, domain) = self.claim(route)?;
        Some((*domain, self.domains[*domain].batch_fold()?))
    }

    fn batch_folds(&self) -> Vec<(usize, Arc<dyn BatchFold>)> {
        self.domains
            .iter()
            .enumerate()
            .filter_map(|(i, domain)| Some((i, domain.batch_fold()?)))
            .collect()
    }

    /// A stream folded elsewhere is replayed there, in one request; the others here.
    fn replay_stream(&self, events: &[RecordedEvent]) -> Vec<StreamStep> {
        let Some(first) = events.first() else {
            return Vec::new();
        };
        let route = self.route(first);
        let Some(((_, fold), (_, aggregate))) =
            route.and_then(|route| Some((self.batch_fold_on(route)?, self.describe_route(route)?)))
        else {
            return replay_stream_here(self, events);
        };
        let outcomes = match fold.fold_stream(&first.stream_id, &aggregate, None, events, &|_| true) {
            Ok(outcomes) => outcomes,
            Err(error) => {
                return events
                    .iter()
                    .map(|event| StreamStep {
                        stream_version: event.stream_version,
                        state: Err(ReplayError::Fold(error.clone())),
                        violations: Vec::new(),
                    })
                    .collect();
            }
        };
        let mut steps: Vec<StreamStep> = events
            .iter()
            .map(|event| StreamStep {
                stream_version: event.stream_version,
                state: Ok(Value::Null),
                violations: Vec::new(),
            })
            .collect();
        for outcome in outcomes {
            let Some(step) = steps.get_mut(outcome.index) else {
                continue;
            };
            step.violations = outcome.violations;
            if let Some(error) = outcome.rejected {
                step.state = Err(ReplayError::Apply(error));
            } else if let Some(state) = outcome.state {
                step.state = serde_json::from_str(&state).map_err(|e| {
                    ReplayError::Fold(crate::remote::FoldError::new(format!(
                        "the plug-in answered a state that is not JSON: {e}"
                    )))
                });
            }
        }
        steps
    }

    /// Only events whose route is certain without their stream's first event are prepared: a
    /// prepared event must fold exactly as an unprepared one.
    fn prepare(&self, event: &mut RecordedEvent) {
        if let Some((_, domain)) = self.route_of_any_event(event).and_then(|route| self.claim(route)) {
            self.domains[*domain].prepare(event);
        }
    }
}

/// A read model under another name (see [`DomainSet`]'s `projections`).
#[derive(Clone)]
struct Renamed<T> {
    name: String,
    inner: T,
}

impl<T: std::ops::Deref<Target = V> + Send + Sync, V: ProjectionView + ?Sized> ProjectionView for Renamed<T> {
    fn name(&self) -> &str {
        &self.name
    }
    fn to_json(&self) -> Value {
        self.inner.to_json()
    }
    fn row_count(&self) -> usize {
        self.inner.row_count()
    }
    fn rows(&self, start: usize, count: usize) -> Vec<(String, Value)> {
        self.inner.rows(start, count)
    }
    fn row(&self, key: &str) -> Option<(usize, Value)> {
        self.inner.row(key)
    }
    fn changed_at(&self, key: &str) -> Option<u64> {
        self.inner.changed_at(key)
    }
}

impl ProjectionState for Renamed<Box<dyn ProjectionState>> {
    fn apply(&mut self, event: &RecordedEvent) -> Result<(), ApplyError> {
        self.inner.apply(event)
    }
    fn apply_in_stream(&mut self, event: &RecordedEvent, stream: u32) -> Result<(), ApplyError> {
        self.inner.apply_in_stream(event, stream)
    }
    fn clone_box(&self) -> Box<dyn ProjectionState> {
        Box::new(Renamed {
            name: self.name.clone(),
            inner: self.inner.clone_box(),
        })
    }
    fn warm(&self, event: &RecordedEvent, stream: u32) {
        self.inner.warm(event, stream);
    }
    fn warm_all(&self, events: &[(&RecordedEvent, u32)]) {
        self.inner.warm_all(events);
    }
    fn keys_for(&self, event: &RecordedEvent) -> Vec<String> {
        self.inner.keys_for(event)
    }
    fn keep_history(&mut self) -> bool {
        self.inner.keep_history()
    }
    fn as_of(&self, position: Option<u64>) -> Option<Box<dyn ProjectionView>> {
        let inner = self.inner.as_of(position)?;
        Some(Box::new(Renamed {
            name: self.name.clone(),
            inner,
        }))
    }
    fn shrink_to_fit(&mut self) {
        self.inner.shrink_to_fit();
    }
    fn apply_row(&mut self, position: u64, key: &str, row: Option<Arc<str>>) {
        self.inner.apply_row(position, key, row);
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
            schema_version: Some(1),
            recorded_at: None,
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

    /// A domain that claims what it is told to, for routing tests.
    struct Claiming(&'static str, Vec<AggregateClaim>);

    impl Domain for Claiming {
        fn name(&self) -> &str {
            self.0
        }
        fn aggregates(&self) -> Vec<AggregateClaim> {
            self.1.clone()
        }
        fn new_aggregate(&self, _aggregate: &str) -> Option<Box<dyn AggregateState>> {
            Some(Box::new(GenericState::default()))
        }
    }

    fn first(stream_id: &str, stream_type: &str, event_type: &str) -> RecordedEvent {
        RecordedEvent {
            stream_id: stream_id.into(),
            stream_type: stream_type.into(),
            event_type: event_type.into(),
            ..event(1, json!({}))
        }
    }

    #[test]
    fn a_category_is_the_prefix_before_the_first_dash_unless_the_id_is_a_uuid() {
        use crate::category;
        assert_eq!(category("account-0042"), Some("account"));
        assert_eq!(category("order-2024-01"), Some("order"));
        assert_eq!(category("account"), None);
        assert_eq!(category("-x"), None);
        assert_eq!(category("c180068f-0b6f-4d2a-9c1e-7f3b2a1d0e99"), None);
        assert_eq!(category("2cb26e6aae4b5fc0b3e84f8a1bf4b1f1"), None);
    }

    /// Each stream goes to the first claim that matches, in the order the domains are given;
    /// a claim by first event type routes a stream by its first event only.
    #[test]
    fn streams_route_to_the_first_claim_by_type_category_or_first_event() {
        let claim = |aggregate: &str| AggregateClaim {
            aggregate: aggregate.into(),
            ..AggregateClaim::default()
        };
        let plugin = Claiming(
            "plugin",
            vec![AggregateClaim {
                categories: vec!["account".into()],
                ..claim("Account")
            }],
        );
        let builtin = Claiming(
            "builtin",
            vec![
                AggregateClaim {
                    categories: vec!["account".into()],
                    stream_types: vec!["Cart".into()],
                    ..claim("Other")
                },
                AggregateClaim {
                    first_event_types: vec!["OrderPlaced".into()],
                    ..claim("Order")
                },
            ],
        );
        let set = DomainSet::new(vec![Box::new(plugin), Box::new(builtin)]);
        let described = |e: &RecordedEvent| set.route(e).and_then(|r| set.describe_route(r));
        assert_eq!(
            described(&first("account-1", "x", "Opened")),
            Some(("plugin".into(), "Account".into()))
        );
        assert_eq!(
            described(&first("c-1", "Cart", "Added")),
            Some(("builtin".into(), "Other".into()))
        );
        let uuid = "c180068f-0b6f-4d2a-9c1e-7f3b2a1d0e99";
        assert_eq!(
            described(&first(uuid, "unknown", "OrderPlaced")),
            Some(("builtin".into(), "Order".into()))
        );
        assert_eq!(described(&first(uuid, "unknown", "OrderShipped")), None);
        // The route of a later event is certain only where no first-event claim comes first.
        assert_eq!(set.route_of_any_event(&first("account-9", "x", "Deposited")), Some(0));
        assert_eq!(set.route_of_any_event(&first(uuid, "unknown", "OrderPlaced")), None);
        let only = set.only(&["builtin".to_owned()]).expect("a known name");
        assert_eq!(
            only.route(&first("account-1", "x", "Opened"))
                .and_then(|r| only.describe_route(r)),
            Some(("builtin".into(), "Other".into()))
        );
        assert!(set.only(&["nope".to_owned()]).is_err());
        assert!(set.only(&["generic".to_owned()]).expect("generic").domains().is_empty());
    }

    /// A domain with one read model named `balances`.
    struct WithBalances(&'static str);

    impl Domain for WithBalances {
        fn name(&self) -> &str {
            self.0
        }
        fn aggregates(&self) -> Vec<AggregateClaim> {
            Vec::new()
        }
        fn new_aggregate(&self, _aggregate: &str) -> Option<Box<dyn AggregateState>> {
            None
        }
        fn projections(&self) -> Vec<Box<dyn ProjectionState>> {
            let mut rows = crate::JsonRowHistory::new("balances");
            rows.set(1, self.0, Some(json!(1)));
            vec![Box::new(rows)]
        }
    }

    /// Two domains' read models of one name are told apart: the second is shown with its
    /// domain's name, in lists and in views at a position, and keeps its own rows.
    #[test]
    fn read_models_of_one_name_in_two_domains_are_told_apart() {
        let set = DomainSet::new(vec![Box::new(WithBalances("plugin")), Box::new(WithBalances("bank"))]);
        let projections = set.projections();
        let names: Vec<&str> = projections.iter().map(|p| p.name()).collect();
        assert_eq!(names, ["balances", "bank/balances"]);
        let view = projections[1].as_of(Some(1)).expect("history");
        assert_eq!(view.name(), "bank/balances");
        assert_eq!(view.to_json(), json!({"bank": 1}));
        assert_eq!(set.projection_domains(), [0, 1]);
    }
}
