//! The traits a domain implements, and the object-safe plug-in through which Rewind replays it.
//!
//! A domain crate (such as `rewind_bank`) implements the typed traits [`Aggregate`],
//! [`DomainEvent`], [`Projection`] and [`Upcaster`]. It then exposes itself through one
//! [`Domain`] object, so the engine and the app replay any stream without naming a concrete
//! aggregate: states and payloads cross that boundary as JSON values.

use std::fmt::Debug;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use thiserror::Error;

use crate::event::RecordedEvent;
use crate::payload::{Payload, Typed};
use crate::remote::BatchFold;

/// An event-sourced aggregate: decides on commands, evolves by events. Both are pure.
pub trait Aggregate: Default + Clone + Debug + Serialize + Send + Sync + 'static {
    /// The `stream_type` its streams carry (`BankAccount`).
    const STREAM_TYPE: &'static str;
    type Command;
    type Event: DomainEvent;
    type Error: std::error::Error + PartialEq;

    /// Validates `command` against the current state and returns the new events.
    fn decide(&self, command: &Self::Command) -> Result<Vec<Self::Event>, Self::Error>;

    /// Folds one event into the state. Returns an error, never panics, when the event cannot
    /// follow the current state: the debugger shows that as a replay issue.
    fn apply(&mut self, event: &Self::Event) -> Result<(), Self::Error>;

    /// The part of the state [`Self::broken_invariants`] compares across an event (a balance,
    /// a status): replay takes it before every event, so it should be a few copied fields,
    /// not a clone of the state. `()` for an aggregate without invariants.
    type Watched;

    /// What the invariants watch in the current state.
    fn watched(&self) -> Self::Watched;

    /// The domain invariants that `event` broke, moving the state from `before` (what
    /// [`Self::watched`] saw before the event) to `after`.
    ///
    /// Only transitions are reported (a balance that *became* negative, not every event while it
    /// stays negative), so the first violation is the event that did the damage.
    fn broken_invariants(before: &Self::Watched, event: &Self::Event, after: &Self) -> Vec<Violation>;
}

/// A typed event of a domain: knows its `event_type` name and current `schema_version`.
pub trait DomainEvent: Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static {
    /// The `event_type` written to the store (`MoneyDeposited`).
    fn event_type(&self) -> &'static str;

    /// The current schema version of this event type's payload.
    fn schema_version(&self) -> u32 {
        1
    }

    /// Decodes a stored payload (already upcast to the current schema version).
    fn decode(event_type: &str, data: &Payload) -> Result<Self, ApplyError>;

    /// The event `event` records, decoded once: kept in its payload, so the aggregate, the
    /// projections and the reading thread's [`Domain::prepare`] share one reading.
    fn read(event: &RecordedEvent) -> Result<Typed<'_, Self>, ApplyError> {
        event.data.typed(|data| Self::decode(&event.event_type, data))
    }

    /// The payload as stored: the event's fields, without the type tag.
    fn encode(&self) -> Value;
}

/// A read model built from events of any stream.
pub trait Projection: Default + Clone + Send + Sync + 'static {
    /// Stable name used on the command line and in the app (`account_balances`).
    const NAME: &'static str;

    /// Folds one (upcast) event into the read model. Events it does not care about are ignored.
    fn apply(&mut self, event: &RecordedEvent) -> Result<(), ApplyError>;

    /// [`Self::apply`], told the fold's number for the event's stream: streams are numbered
    /// from 0 in order of first appearance, the same for every event of a stream within one
    /// fold. A read model with a row per stream may remember which row a number found, and find
    /// it again without a search of its keys (at millions of rows, a hash lookup misses the
    /// cache on its table's control bytes, its slot and the key). The number is a hint: the
    /// row's key must still match, and the result must be exactly that of [`Self::apply`].
    fn apply_in_stream(&mut self, event: &RecordedEvent, stream: u32) -> Result<(), ApplyError> {
        let _ = stream;
        self.apply(event)
    }

    /// Reads (and changes nothing of) what folding `event`, of stream number `stream` (as in
    /// [`Self::apply_in_stream`]), will change. A fold calls it for a few events ahead, before
    /// folding them: at millions of rows each row is a cache miss, and misses that do not wait
    /// on each other overlap, where the fold itself takes them one at a time.
    fn warm(&self, event: &RecordedEvent, stream: u32) {
        let _ = (event, stream);
    }

    /// [`Self::warm`] for a few events at once, each with its stream number (the default warms
    /// them one by one). A row found through a chain of loads (a hint, then the row, then its
    /// latest version) misses the cache at each link, and a link cannot be loaded before the
    /// one before it: taking each link for all the events before the next lets their misses
    /// overlap, where warming event after event leaves only as many in flight as the processor
    /// looks ahead.
    fn warm_all(&self, events: &[(&RecordedEvent, u32)]) {
        for &(event, stream) in events {
            self.warm(event, stream);
        }
    }

    /// The read model as JSON, in a deterministic order.
    fn state(&self) -> Value;

    /// The number of rows. The defaults below work from [`Self::state`]; a projection with
    /// many rows overrides them so a debugger can show a few rows without building them all.
    fn row_count(&self) -> usize {
        rows_of(&self.state()).len()
    }

    /// Rows `start..start + count` as `(key, row)`, in display order.
    fn rows(&self, start: usize, count: usize) -> Vec<(String, Value)> {
        rows_of(&self.state()).into_iter().skip(start).take(count).collect()
    }

    /// The row with this key, and its index in display order.
    fn row(&self, key: &str) -> Option<(usize, Value)> {
        rows_of(&self.state())
            .into_iter()
            .enumerate()
            .find(|(_, (k, _))| k == key)
            .map(|(i, (_, v))| (i, v))
    }

    /// The keys of the rows `event` changes (so a debugger can show them before and after).
    fn keys_for(&self, event: &RecordedEvent) -> Vec<String> {
        let _ = event;
        Vec::new()
    }

    /// Asks the read model to keep every version of every row from now on, each stamped with
    /// the global position of the event that made it, so [`Self::as_of`] can answer for any
    /// earlier position without a replay. Returns whether it does (the default: it does not,
    /// and a debugger folds it forward from checkpoints instead).
    fn keep_history(&mut self) -> bool {
        false
    }

    /// No more events are coming (a debugger has indexed the store): give back spare capacity.
    fn shrink_to_fit(&mut self) {}

    /// The read model as it was after every event at or before global `position` (`None`:
    /// before any event), read from the history [`Self::keep_history`] started. `None` if it
    /// keeps no history.
    fn as_of(&self, position: Option<u64>) -> Option<Box<dyn ProjectionView>> {
        let _ = position;
        None
    }
}

/// A projection's JSON state as keyed rows: an object's entries, an array's items by index,
/// or a single row for anything else.
pub fn rows_of(state: &Value) -> Vec<(String, Value)> {
    match state {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v.clone()))
            .collect(),
        other => vec![(String::new(), other.clone())],
    }
}

/// Moves one event type's payload exactly one `schema_version` forward.
pub trait Upcaster: Send + Sync {
    fn event_type(&self) -> &'static str;
    /// The version this upcaster reads; it writes `source_version() + 1`.
    fn source_version(&self) -> u32;
    fn upcast(&self, data: &Value) -> Result<Value, UpcastError>;

    /// The same upcast read straight from the payload's text into typed structs, without a
    /// JSON tree. Wherever it answers it must give exactly what [`Upcaster::upcast`] gives.
    /// `None` (the default, and the answer for any payload it cannot read) sends the payload
    /// through [`Upcaster::upcast`], which also words the errors.
    fn upcast_payload(&self, data: &Payload) -> Option<Payload> {
        let _ = data;
        None
    }
}

/// A broken domain invariant, pinned by the caller to the event that broke it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Short stable name (`balance_never_negative`).
    pub invariant: String,
    pub message: String,
}

/// Which streams one of a domain's aggregates replays. A stream is claimed by its stream type,
/// its category (see [`category`]), or the type of its first event; each stream is routed
/// once, at its first event, to the first claim that matches, in the order the domains and
/// their aggregates are given. Streams nothing claims replay through the generic fold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AggregateClaim {
    /// The aggregate's name in its domain (`BankAccount`).
    pub aggregate: String,
    /// Stream types it claims (`BankAccount`).
    #[serde(default)]
    pub stream_types: Vec<String>,
    /// Stream categories it claims (`account` for `account-0042`).
    #[serde(default)]
    pub categories: Vec<String>,
    /// Event types that claim a stream when its first event is one of them (for streams whose
    /// ids are UUIDs and whose type the store does not record).
    #[serde(default)]
    pub first_event_types: Vec<String>,
    /// The event types the aggregate knows (what a plug-in is sent, and what the app lists).
    #[serde(default)]
    pub event_types: Vec<String>,
}

impl AggregateClaim {
    /// Whether the stream whose first event is `first` is claimed.
    pub fn claims(&self, first: &RecordedEvent) -> bool {
        self.claims_without_first(first) || self.first_event_types.iter().any(|t| *t == first.event_type)
    }

    /// Whether the stream of `event` is claimed by what every event of a stream shares (its
    /// type and its category), whichever of its events `event` is.
    pub fn claims_without_first(&self, event: &RecordedEvent) -> bool {
        self.stream_types.iter().any(|t| *t == event.stream_type)
            || category(&event.stream_id).is_some_and(|c| self.categories.iter().any(|claimed| claimed == c))
    }
}

/// A stream's category: the prefix of its id before the first `-` (`account` for
/// `account-0042`), as EventStoreDB names categories; `None` for an id without one, and for an
/// id that is a UUID (hyphenated, or 32 hex digits), whose first group is no category.
pub fn category(stream_id: &str) -> Option<&str> {
    if is_uuid(stream_id) {
        return None;
    }
    let (category, _) = stream_id.split_once('-')?;
    (!category.is_empty()).then_some(category)
}

/// Whether `text` is a UUID, hyphenated (36 characters) or as 32 hex digits.
pub fn is_uuid(text: &str) -> bool {
    match text.len() {
        32 => text.bytes().all(|b| b.is_ascii_hexdigit()),
        36 => text.bytes().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        }),
        _ => false,
    }
}

/// Why an event could not be folded into a state.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ApplyError {
    #[error("unknown event type `{event_type}` for {stream_type}")]
    UnknownEventType { stream_type: String, event_type: String },
    #[error("payload of `{event_type}` does not parse: {reason}")]
    InvalidPayload { event_type: String, reason: String },
    #[error("{event_type} rejected: {reason}")]
    Rejected { event_type: String, reason: String },
}

/// Why an upcaster could not move a payload forward.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum UpcastError {
    #[error("cannot upcast `{event_type}` from v{from_version}: {reason}")]
    Failed {
        event_type: String,
        from_version: u32,
        reason: String,
    },
    #[error("`{event_type}` has schema v{schema_version}, newer than this domain knows (v{latest})")]
    FromTheFuture {
        event_type: String,
        schema_version: u32,
        latest: u32,
    },
}

/// One stream's aggregate state behind the object-safe boundary.
pub trait AggregateState: Send + Sync + Debug {
    /// Folds an (upcast) event; returns the invariants this event broke.
    fn apply(&mut self, event: &RecordedEvent) -> Result<Vec<Violation>, ApplyError>;
    /// The state as JSON (at least the fields the domain documents).
    fn to_json(&self) -> Value;
    fn clone_box(&self) -> Box<dyn AggregateState>;
    /// Reads (and changes nothing of) what folding the next event will read: see
    /// [`Projection::warm`].
    fn warm(&self) {}
    /// The state as the JSON text a folder elsewhere answered, for a stream folded there
    /// ([`crate::remote::RemoteState`]); `None` for states folded in this process.
    fn snapshot(&self) -> Option<Arc<str>> {
        None
    }
}

impl Clone for Box<dyn AggregateState> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// A read model at one point of the history, read-only: what a debugger shows.
pub trait ProjectionView: Send + Sync {
    fn name(&self) -> &str;
    fn to_json(&self) -> Value;
    fn row_count(&self) -> usize;
    fn rows(&self, start: usize, count: usize) -> Vec<(String, Value)>;
    fn row(&self, key: &str) -> Option<(usize, Value)>;
    /// The global position of the event that last changed the row with `key`, at or before
    /// this view's position: what a debugger blames for the row's value. `None` when the read
    /// model keeps no history (or has no such row).
    fn changed_at(&self, key: &str) -> Option<u64> {
        let _ = key;
        None
    }
}

/// One projection's read model behind the object-safe boundary.
pub trait ProjectionState: ProjectionView {
    fn apply(&mut self, event: &RecordedEvent) -> Result<(), ApplyError>;
    /// See [`Projection::apply_in_stream`].
    fn apply_in_stream(&mut self, event: &RecordedEvent, stream: u32) -> Result<(), ApplyError> {
        let _ = stream;
        self.apply(event)
    }
    fn clone_box(&self) -> Box<dyn ProjectionState>;
    /// See [`Projection::warm`].
    fn warm(&self, event: &RecordedEvent, stream: u32) {
        let _ = (event, stream);
    }
    /// See [`Projection::warm_all`].
    fn warm_all(&self, events: &[(&RecordedEvent, u32)]) {
        for &(event, stream) in events {
            self.warm(event, stream);
        }
    }
    fn keys_for(&self, event: &RecordedEvent) -> Vec<String>;
    /// See [`Projection::keep_history`].
    fn keep_history(&mut self) -> bool;
    /// See [`Projection::as_of`].
    fn as_of(&self, position: Option<u64>) -> Option<Box<dyn ProjectionView>>;
    /// See [`Projection::shrink_to_fit`].
    fn shrink_to_fit(&mut self);
    /// Sets a row that the event at `position` changed, as a domain folding elsewhere answered
    /// it, as JSON text (`None`: removed). Read models that fold events themselves ignore it.
    fn apply_row(&mut self, position: u64, key: &str, row: Option<Arc<str>>) {
        let _ = (position, key, row);
    }
}

impl Clone for Box<dyn ProjectionState> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

impl<P: Projection> ProjectionState for P {
    fn apply(&mut self, event: &RecordedEvent) -> Result<(), ApplyError> {
        Projection::apply(self, event)
    }
    fn apply_in_stream(&mut self, event: &RecordedEvent, stream: u32) -> Result<(), ApplyError> {
        Projection::apply_in_stream(self, event, stream)
    }
    fn clone_box(&self) -> Box<dyn ProjectionState> {
        Box::new(self.clone())
    }
    fn warm(&self, event: &RecordedEvent, stream: u32) {
        Projection::warm(self, event, stream);
    }
    fn warm_all(&self, events: &[(&RecordedEvent, u32)]) {
        Projection::warm_all(self, events);
    }
    fn keys_for(&self, event: &RecordedEvent) -> Vec<String> {
        Projection::keys_for(self, event)
    }
    fn keep_history(&mut self) -> bool {
        Projection::keep_history(self)
    }
    fn as_of(&self, position: Option<u64>) -> Option<Box<dyn ProjectionView>> {
        Projection::as_of(self, position)
    }
    fn shrink_to_fit(&mut self) {
        Projection::shrink_to_fit(self);
    }
}

impl<P: Projection> ProjectionView for P {
    fn name(&self) -> &str {
        P::NAME
    }
    fn to_json(&self) -> Value {
        self.state()
    }
    fn row_count(&self) -> usize {
        Projection::row_count(self)
    }
    fn rows(&self, start: usize, count: usize) -> Vec<(String, Value)> {
        Projection::rows(self, start, count)
    }
    fn row(&self, key: &str) -> Option<(usize, Value)> {
        Projection::row(self, key)
    }
}

/// Adapts a typed [`Aggregate`] to [`AggregateState`]: decodes each payload, applies it, and
/// checks the invariants on the transition.
#[derive(Clone, Debug, Default)]
pub struct TypedAggregate<A: Aggregate>(pub A);

impl<A: Aggregate> AggregateState for TypedAggregate<A>
where
    A::Error: ToString,
{
    fn apply(&mut self, event: &RecordedEvent) -> Result<Vec<Violation>, ApplyError> {
        let typed = A::Event::read(event)?;
        let before = self.0.watched();
        self.0.apply(&typed).map_err(|error| ApplyError::Rejected {
            event_type: event.event_type.to_string(),
            reason: error.to_string(),
        })?;
        Ok(A::broken_invariants(&before, &typed, &self.0))
    }

    fn to_json(&self) -> Value {
        serde_json::to_value(&self.0).unwrap_or(Value::Null)
    }

    fn clone_box(&self) -> Box<dyn AggregateState> {
        Box::new(self.clone())
    }

    /// What the invariants watch is what an event's fold reads first.
    fn warm(&self) {
        std::hint::black_box(self.0.watched());
    }
}

/// The outcome of folding one event of a stream, as [`Domain::replay_stream`] yields it.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamStep {
    pub stream_version: u64,
    /// The state after this event, or why the event could not be applied (the state is then
    /// the one before it).
    pub state: Result<Value, ReplayError>,
    pub violations: Vec<Violation>,
}

/// Why one event of a stream could not be replayed.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ReplayError {
    #[error(transparent)]
    Upcast(#[from] UpcastError),
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error(transparent)]
    Fold(#[from] crate::remote::FoldError),
}

/// A domain plug-in: how Rewind replays a domain without naming its types.
///
/// Object safe: the engine holds a `&dyn Domain` and the app a `Box<dyn Domain>`.
pub trait Domain: Send + Sync {
    /// Display name (`bank`).
    fn name(&self) -> &str;

    /// The aggregates this domain replays, each with the streams it claims.
    fn aggregates(&self) -> Vec<AggregateClaim>;

    /// A fresh state for a new stream of the aggregate named `aggregate` (one of
    /// [`Domain::aggregates`]), or `None` for a name it does not know.
    fn new_aggregate(&self, aggregate: &str) -> Option<Box<dyn AggregateState>>;

    /// How the stream whose first event is `first` is replayed: a number the domain gives one
    /// of its aggregates (by default, its index in [`Domain::aggregates`]), or `None` when
    /// nothing claims it (the generic fold replays it). Asked once per stream.
    fn route(&self, first: &RecordedEvent) -> Option<u32> {
        self.aggregates()
            .iter()
            .position(|claim| claim.claims(first))
            .map(|i| i as u32)
    }

    /// A fresh state for a stream on `route`.
    fn new_state(&self, route: u32) -> Option<Box<dyn AggregateState>> {
        let claim = self.aggregates().into_iter().nth(route as usize)?;
        self.new_aggregate(&claim.aggregate)
    }

    /// Which domain and aggregate replay streams on `route`, for people to read.
    fn describe_route(&self, route: u32) -> Option<(String, String)> {
        let claim = self.aggregates().into_iter().nth(route as usize)?;
        Some((self.name().to_owned(), claim.aggregate))
    }

    /// Whether streams on `route` fold generically though a domain claims them (a plug-in that
    /// failed: its streams are still its, folded as if nothing claimed them, and said so).
    fn route_is_generic(&self, route: u32) -> bool {
        let _ = route;
        false
    }

    /// Which of the domains behind this one replays streams on `route` (always 0 for a single
    /// domain): a domain's read models read the events of the streams it replays.
    fn domain_of_route(&self, route: u32) -> usize {
        let _ = route;
        0
    }

    /// Fields that hold an amount of money in the minor unit of a currency (cents, yen), each
    /// with the field beside it that names the currency: shown as `1,416.43 EUR`, raw on hover
    /// (none by default).
    fn money_fields(&self) -> Vec<MoneyField> {
        Vec::new()
    }

    /// For each of [`Domain::projections`], in order, the domain it belongs to (as
    /// [`Domain::domain_of_route`] numbers them); empty when they all belong to domain 0.
    fn projection_domains(&self) -> Vec<usize> {
        Vec::new()
    }

    /// [`Domain::upcast`] for an event of a stream on `route` (`None`: the generic fold, which
    /// upcasts nothing).
    fn upcast_on(&self, route: Option<u32>, event: &RecordedEvent) -> Result<Option<RecordedEvent>, UpcastError> {
        match route {
            Some(_) => self.upcast(event),
            None => Ok(None),
        }
    }

    /// Fresh projections, in display order (none by default).
    fn projections(&self) -> Vec<Box<dyn ProjectionState>> {
        Vec::new()
    }

    /// The current schema version of `event_type`, or `None` if no upcaster knows it (the
    /// default: a domain without upcasters).
    fn latest_schema_version(&self, event_type: &str) -> Option<u32> {
        let _ = event_type;
        None
    }

    /// Upcasts the payload to the current schema version. `Ok(None)` means it already is
    /// current (the default: a domain without upcasters reads every payload as it is).
    fn upcast(&self, event: &RecordedEvent) -> Result<Option<RecordedEvent>, UpcastError> {
        let _ = event;
        Ok(None)
    }

    /// Does ahead what folding `event` will need: upcasts it in place to the current schema
    /// (what [`Domain::upcast`] gives, so a fold finds nothing left to upcast) and reads its typed
    /// payload (kept in the payload: see [`DomainEvent::read`]). Called on the thread that reads
    /// the store while another folds the previous batch, so decoding overlaps with folding.
    /// Folding gives the same result without it; what cannot be upcast or read here is left as
    /// it was, and reported when folded.
    fn prepare(&self, _event: &mut RecordedEvent) {}

    /// The folder that replays streams on `route` elsewhere, in batches (a plug-in), with a
    /// number telling folders apart; `None` when the route folds in this process.
    fn batch_fold_on(&self, route: u32) -> Option<(usize, Arc<dyn BatchFold>)> {
        let _ = route;
        self.batch_fold().map(|fold| (0, fold))
    }

    /// This domain's folder, when it folds elsewhere (a plug-in); `None` (the default) for a
    /// domain in this process.
    fn batch_fold(&self) -> Option<Arc<dyn BatchFold>> {
        None
    }

    /// Every folder among these domains, numbered as [`Domain::batch_fold_on`] numbers them.
    fn batch_folds(&self) -> Vec<(usize, Arc<dyn BatchFold>)> {
        self.batch_fold().map(|fold| vec![(0, fold)]).unwrap_or_default()
    }

    /// Replays a whole stream: the state as JSON after each event, or a typed error for it.
    fn replay_stream(&self, events: &[RecordedEvent]) -> Vec<StreamStep> {
        replay_stream_here(self, events)
    }
}

/// [`Domain::replay_stream`] folded in this process, through [`AggregateState`]s.
pub fn replay_stream_here<D: Domain + ?Sized>(domain: &D, events: &[RecordedEvent]) -> Vec<StreamStep> {
    let Some(first) = events.first() else {
        return Vec::new();
    };
    let route = domain.route(first);
    // A stream nothing claims replays through the generic fold, as in a full replay.
    let mut state = route
        .and_then(|route| domain.new_state(route))
        .unwrap_or_else(|| Box::new(crate::generic::GenericState::default()));
    events
        .iter()
        .map(|event| {
            let applied = domain
                .upcast_on(route, event)
                .map_err(ReplayError::from)
                .and_then(|upcast| {
                    let event = upcast.as_ref().unwrap_or(event);
                    state.apply(event).map_err(ReplayError::from)
                });
            match applied {
                Ok(violations) => StreamStep {
                    stream_version: event.stream_version,
                    state: Ok(state.to_json()),
                    violations,
                },
                Err(error) => StreamStep {
                    stream_version: event.stream_version,
                    state: Err(error),
                    violations: Vec::new(),
                },
            }
        })
        .collect()
}

/// A chain of one-hop upcasters, applied until the payload is current.
#[derive(Default)]
pub struct UpcasterChain {
    upcasters: Vec<Box<dyn Upcaster>>,
}

impl UpcasterChain {
    #[must_use]
    pub fn with(mut self, upcaster: impl Upcaster + 'static) -> Self {
        self.upcasters.push(Box::new(upcaster));
        self
    }

    /// The version the chain brings `event_type` to, or `None` if no upcaster knows it.
    pub fn latest_version(&self, event_type: &str) -> Option<u32> {
        self.upcasters
            .iter()
            .filter(|u| u.event_type() == event_type)
            .map(|u| u.source_version() + 1)
            .max()
    }

    /// Upcasts `event` hop by hop. `Ok(None)` when it is already current.
    pub fn upcast(&self, event: &RecordedEvent) -> Result<Option<RecordedEvent>, UpcastError> {
        let Some((version, data)) = self.upcast_payload(event)? else {
            return Ok(None);
        };
        // Everything but the payload is copied once.
        let upcast = RecordedEvent {
            global_position: event.global_position,
            stream_id: event.stream_id.clone(),
            stream_type: event.stream_type.clone(),
            stream_version: event.stream_version,
            event_id: event.event_id,
            event_type: event.event_type.clone(),
            schema_version: Some(version),
            recorded_at: event.recorded_at,
            data,
            metadata: event.metadata.clone(),
        };
        Ok(Some(upcast))
    }

    /// Upcasts `event` where it is: its payload and schema version become the current ones,
    /// and nothing else is copied. `Ok(false)` when it is already current; on an error the
    /// event is left as it was.
    pub fn upcast_in_place(&self, event: &mut RecordedEvent) -> Result<bool, UpcastError> {
        let Some((version, data)) = self.upcast_payload(event)? else {
            return Ok(false);
        };
        event.schema_version = Some(version);
        event.data = data;
        Ok(true)
    }

    /// The payload of `event` brought to the current schema version of its type, with that
    /// version; `None` when it is current already, or when the store recorded no version (a
    /// payload of unknown shape is not guessed at: the domain's reader takes it as it is).
    fn upcast_payload(&self, event: &RecordedEvent) -> Result<Option<(u32, Payload)>, UpcastError> {
        let Some(stored) = event.schema_version else {
            return Ok(None);
        };
        let Some(latest) = self.latest_version(&event.event_type) else {
            return Ok(None);
        };
        if stored == latest {
            return Ok(None);
        }
        if stored > latest {
            return Err(UpcastError::FromTheFuture {
                event_type: event.event_type.to_string(),
                schema_version: stored,
                latest,
            });
        }
        // The payload is rebuilt by each hop.
        let mut version = stored;
        let mut data: Option<Payload> = None;
        while version < latest {
            let hop = self
                .upcasters
                .iter()
                .find(|u| u.event_type() == event.event_type && u.source_version() == version)
                .ok_or_else(|| UpcastError::Failed {
                    event_type: event.event_type.to_string(),
                    from_version: version,
                    reason: "no upcaster for this version".into(),
                })?;
            let current = data.as_ref().unwrap_or(&event.data);
            data = Some(match hop.upcast_payload(current) {
                Some(next) => next,
                None => Payload::from(hop.upcast(current.value())?),
            });
            version += 1;
        }
        Ok(Some((version, data.unwrap_or_else(|| Payload::from(Value::Null)))))
    }
}

/// A field holding money: `balance_cents` in the minor unit of the currency named by the
/// `currency` field of the same object (in a state, a read-model row or a payload).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoneyField {
    pub field: String,
    pub currency_field: String,
}

impl MoneyField {
    pub fn new(field: &str, currency_field: &str) -> Self {
        Self {
            field: field.to_owned(),
            currency_field: currency_field.to_owned(),
        }
    }

    /// The amount `field` holds in `object` as people write it (`1,416.43 EUR`), when `object`
    /// has both it (an integer) and its currency (a three-letter code).
    pub fn format_in(&self, object: &serde_json::Map<String, Value>) -> Option<String> {
        self.format_with(object, object.get(&self.field)?)
    }

    /// `amount` (an integer, such as the field's value before a change) in the currency of
    /// `object`.
    pub fn format_with(&self, object: &serde_json::Map<String, Value>, amount: &Value) -> Option<String> {
        format_money(amount.as_i64()?, object.get(&self.currency_field)?.as_str()?)
    }
}

/// `minor` units of `currency` (ISO 4217) as people write it: `1,416.43 EUR`, `-250 JPY`,
/// `1.500 BHD`. `None` for a code that is not three letters.
pub fn format_money(minor: i64, currency: &str) -> Option<String> {
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        return None;
    }
    // The currencies whose minor unit is not a hundredth.
    let decimals: u32 = match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
        | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    };
    let scale = 10u64.pow(decimals);
    let magnitude = minor.unsigned_abs();
    let (whole, fraction) = (magnitude / scale, magnitude % scale);
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if minor < 0 { "-" } else { "" };
    Some(if decimals == 0 {
        format!("{sign}{grouped} {currency}")
    } else {
        format!(
            "{sign}{grouped}.{fraction:0width$} {currency}",
            width = decimals as usize
        )
    })
}

#[cfg(test)]
mod money_tests {
    use super::*;

    #[test]
    fn money_is_written_as_people_write_it() {
        assert_eq!(format_money(141_643, "EUR").as_deref(), Some("1,416.43 EUR"));
        assert_eq!(format_money(-141_643, "USD").as_deref(), Some("-1,416.43 USD"));
        assert_eq!(format_money(5, "EUR").as_deref(), Some("0.05 EUR"));
        assert_eq!(format_money(1_234_567, "JPY").as_deref(), Some("1,234,567 JPY"));
        assert_eq!(format_money(1_500, "BHD").as_deref(), Some("1.500 BHD"));
        assert_eq!(format_money(100, "euro"), None);
        let row = serde_json::json!({"balance_cents": 250_000, "currency": "KRW"});
        let money = MoneyField::new("balance_cents", "currency");
        assert_eq!(
            money.format_in(row.as_object().unwrap()).as_deref(),
            Some("250,000 KRW")
        );
        assert_eq!(
            money.format_in(serde_json::json!({"balance_cents": 1}).as_object().unwrap()),
            None
        );
    }
}
