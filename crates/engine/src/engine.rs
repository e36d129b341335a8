//! The time-travel engine: index, checkpoints, and state at any cursor.
//!
//! Building the engine is one pass over the store in global order (the `rewind verify` pass):
//! every event is folded, issues are collected, headers are indexed, and checkpoints are kept.
//! After that, an aggregate's state at any position comes from the nearest checkpoint plus a
//! short replay of events fetched from the app through [`EventFetch`]; the engine itself does
//! no I/O. Read models that keep their rows' history answer for any position from it; any
//! other read model is folded forward from checkpoints like an aggregate.

use std::ops::Range;
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap as HashMap;

use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use rewind_core::{
    AggregateState, Domain, FoldError, GenericState, ProjectionState, ProjectionView, RecordedEvent, RemoteState,
    ReplayIssue,
};

use crate::diff::{FieldChange, diff};
use crate::index::{Ordinal, StreamIdx, TimelineIndex};
use crate::replay::{Replay, WARM_AHEAD, route_of};

/// Events a seek reads from the store at a time when it folds a long range (see
/// [`Engine::projections_around`]): reading the next chunk overlaps folding this one.
const FOLD_CHUNK: usize = 512;

/// Where the engine gets payloads when a seek needs them (the app reads them from the store).
pub trait EventFetch {
    /// Events whose global position is in `from..=to`, in global order.
    fn events_between(&self, from: u64, to: u64) -> Result<Vec<RecordedEvent>, FetchError>;
    /// The events at exactly these global positions (ascending), in global order.
    fn events_at(&self, positions: &[u64]) -> Result<Vec<RecordedEvent>, FetchError>;
}

/// A fetch that failed: the store could not be read.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("cannot read events from the store: {0}")]
pub struct FetchError(pub String);

/// Events the store handed back do not match the index built from it.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum SeekError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// A plug-in could not fold what the seek needed.
    #[error("the domain plug-in could not fold this stream: {0}")]
    Fold(#[from] FoldError),
    #[error("the store changed since it was indexed: expected the event at position {position}")]
    StoreChanged { position: u64 },
    /// A projection has no state to show: one that said it keeps its history did not answer
    /// for a position (a bug in the domain plug-in), or the engine lost track of a folded one
    /// (a bug in the engine). Reported rather than shown as an empty read model.
    #[error("projection {projection} has no state at this position (a bug in its plug-in or in Rewind)")]
    ProjectionUnavailable { projection: String },
}

/// The selected aggregate at a cursor.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AggregateAt {
    pub stream_id: String,
    pub stream_type: String,
    /// How many of the stream's events are at or before the cursor.
    pub events_applied: usize,
    /// The stream version of the last of them (0 before the stream's first event).
    pub stream_version: u64,
    /// Global position of that event (0 before it).
    pub position: u64,
    pub state: Value,
    /// Replayed by the generic fold (no domain claims the stream).
    pub generic: bool,
    /// What replayed it, for people to read: `bank: BankAccount`, or `generic fold`.
    pub replayed_by: String,
}

/// A projection at a cursor (see [`Engine::projections_around`]).
pub struct ProjectionAt {
    pub name: String,
    pub state: Box<dyn ProjectionView>,
    /// The rows the cursor's event changed.
    pub changes: Vec<RowChange>,
}

/// One projection row before and after an event (`None`: the row did not exist).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RowChange {
    pub key: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// The event that last changed a field (see [`Engine::blame`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Blame {
    pub ordinal: Ordinal,
    pub position: u64,
    pub stream_version: u64,
    pub event_type: String,
    /// The value before that event (`None`: the field did not exist).
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// Tuning, chosen from the store's size unless set.
#[derive(Clone, Copy, Debug)]
pub struct EngineConfig {
    /// Keep the state of every projection that keeps no history every this many events
    /// (global order).
    pub projection_interval: usize,
    /// Keep an aggregate's state every this many events of its stream.
    pub stream_interval: usize,
    /// Ask projections to keep their rows' history ([`ProjectionState::keep_history`]), so
    /// seeks read them at any position instead of folding events from a checkpoint. Off, every
    /// projection is checkpointed and folded; the bank's read models then copy all their rows
    /// at each checkpoint (they share structure only through their history), which is fine for
    /// tests and small stores only.
    pub projection_history: bool,
    /// Remember every event id to report repeated ones. Off when the store guarantees unique
    /// ids (see [`Replay::trusting_unique_ids`]).
    pub check_event_ids: bool,
}

impl EngineConfig {
    /// Intervals for a store of `event_count` events: short replays for small stores, bounded
    /// checkpoint memory for big ones.
    pub fn for_size(event_count: u64) -> Self {
        let projection_interval = (event_count / 256).clamp(256, 65_536) as usize;
        Self {
            projection_interval,
            stream_interval: 64,
            projection_history: true,
            check_event_ids: true,
        }
    }
}

type Projections = Vec<Box<dyn ProjectionState>>;

/// `(number of events applied, every folded projection after them)`.
type ProjectionsAfter = (usize, Projections);

/// Per stream that has any (most streams are shorter than the interval and have none):
/// `(number of stream events applied, state after them)`, every `stream_interval` events.
type StreamCheckpoints = HashMap<StreamIdx, Vec<(u32, Box<dyn AggregateState>)>>;

/// Builds an [`Engine`] from events handed over in global order.
///
/// On one thread: [`EngineBuilder::push`], then [`EngineBuilder::finish`]. On two (the
/// index is cheap to build where the events are read, and the fold is the slower half): an
/// [`IndexBuilder`] indexes each batch on the reading thread, the builder folds it on another
/// with the index's stream numbers ([`EngineBuilder::push_indexed`]), and
/// [`EngineBuilder::finish_indexed`] joins the two.
pub struct EngineBuilder {
    config: EngineConfig,
    index: TimelineIndex,
    /// Events folded so far: the next event's ordinal.
    events: usize,
    /// Events expected, to size the index built by [`EngineBuilder::push`].
    expected_events: usize,
    /// The full replay: folds every event, collects issues; checkpoints are taken from it.
    replay: Replay,
    stream_checkpoints: StreamCheckpoints,
    /// Which projections keep their history (the others are folded: see [`Folded`]).
    history: Vec<bool>,
    projection_checkpoints: Vec<(Ordinal, Vec<Box<dyn ProjectionState>>)>,
    /// `(ordinal, index in the replay's issues)` of every issue found, marked in the index when
    /// it is finished (the index may be built on another thread).
    marks: Vec<(Ordinal, usize)>,
}

/// The index half of a build on two threads (see [`EngineBuilder`]).
pub struct IndexBuilder(TimelineIndex);

impl IndexBuilder {
    /// An index expecting about `expected_events` events (0 if unknown).
    pub fn new(expected_events: usize) -> Self {
        Self(TimelineIndex::with_capacity(expected_events))
    }

    /// Indexes the next `events` in global order; their streams' numbers, for
    /// [`EngineBuilder::push_indexed`].
    pub fn push(&mut self, events: &[RecordedEvent]) -> Vec<StreamIdx> {
        self.0.push_all(events)
    }
}

impl EngineBuilder {
    /// A builder expecting about `expected_events` events (0 if unknown).
    pub fn new(domain: Arc<dyn Domain>, config: EngineConfig, expected_events: usize) -> Self {
        let mut replay = Replay::for_store(domain, expected_events, !config.check_event_ids);
        replay.remote_states_every(config.stream_interval);
        let history: Vec<bool> = replay
            .projections_mut()
            .iter_mut()
            .map(|p| config.projection_history && p.keep_history())
            .collect();
        let mut builder = Self {
            config,
            index: TimelineIndex::default(),
            events: 0,
            expected_events,
            stream_checkpoints: StreamCheckpoints::default(),
            history,
            projection_checkpoints: Vec::new(),
            marks: Vec::new(),
            replay,
        };
        builder.projection_checkpoints.push((0, builder.folded()));
        builder
    }

    /// Copies of the projections that keep no history.
    fn folded(&self) -> Vec<Box<dyn ProjectionState>> {
        folded(self.replay.projections(), &self.history)
            .map(|p| p.clone_box())
            .collect()
    }

    /// Indexes and folds the next events in global order.
    pub fn push(&mut self, events: &[RecordedEvent]) {
        if self.events == 0 {
            self.index = TimelineIndex::with_capacity(self.expected_events.max(events.len()));
        }
        for event in events {
            let (_, stream) = self.index.push(event);
            self.push_one(event, stream);
        }
        self.take_remote();
    }

    /// Folds the next events in global order, indexed by an [`IndexBuilder`] that gave them
    /// `streams`. Finish with [`EngineBuilder::finish_indexed`].
    pub fn push_indexed(&mut self, events: &[RecordedEvent], streams: &[StreamIdx]) {
        let events: Vec<(&RecordedEvent, StreamIdx)> = events.iter().zip(streams.iter().copied()).collect();
        for chunk in events.chunks(WARM_AHEAD) {
            self.replay.warm(chunk);
            for &(event, stream) in chunk {
                self.push_one(event, stream);
            }
        }
        self.take_remote();
    }

    /// Sends full batches to folders elsewhere and keeps the states they answered as
    /// checkpoints (in order: a folder answers a stream's states in the order asked).
    fn take_remote(&mut self) {
        self.replay.remote_step();
        for (stream, count, state) in self.replay.take_remote_checkpoints() {
            self.stream_checkpoints
                .entry(stream)
                .or_default()
                .push((count, Box::new(RemoteState { snapshot: Some(state) })));
        }
    }

    /// What went wrong with a folder elsewhere (a plug-in), if anything did: the build is then
    /// incomplete for the streams it claimed.
    pub fn fault(&self) -> Option<&FoldError> {
        self.replay.fault()
    }

    fn push_one(&mut self, event: &RecordedEvent, stream: StreamIdx) {
        let ordinal = self.events;
        self.events += 1;
        let issues_before = self.replay.issues().len();
        // Both number streams in order of first appearance, so the indexes agree.
        self.replay.apply_as(stream, event);
        let issues_after = self.replay.issues().len();
        self.marks
            .extend((issues_before..issues_after).map(|issue| (ordinal, issue)));
        let remote = self.replay.is_remote(stream);
        let Some(replay) = self.replay.stream_at(stream) else {
            return;
        };
        // No checkpoint at a stream's start: its initial state is made on demand. A stream
        // folded elsewhere gets its checkpoints from the folder's answers (`take_remote`).
        if !remote && (replay.events as usize).is_multiple_of(self.config.stream_interval) {
            self.stream_checkpoints
                .entry(stream)
                .or_default()
                .push((replay.events as u32, replay.state.clone_box()));
        }
        if (ordinal + 1).is_multiple_of(self.config.projection_interval) && self.history.contains(&false) {
            let folded = self.folded();
            self.projection_checkpoints.push((ordinal + 1, folded));
        }
    }

    pub fn event_count(&self) -> usize {
        self.events
    }

    /// The engine over the events pushed with [`EngineBuilder::push_indexed`], and `index`,
    /// which indexed them.
    pub fn finish_indexed(mut self, index: IndexBuilder) -> Engine {
        self.index = index.0;
        self.finish()
    }

    pub fn finish(mut self) -> Engine {
        // Folders elsewhere answer last: their checkpoints and issues join the rest.
        self.replay.remote_finish();
        self.take_remote();
        let remote_issues = self.replay.take_remote_issues();
        let fault = self.replay.fault().cloned();
        let domain = self.replay.domain_arc();
        let (streams, mut projections, issues) = self.replay.into_parts();
        for &(ordinal, issue) in &self.marks {
            self.index.mark_issue(ordinal, &issues[issue]);
        }
        // This is the process's peak. The states go into a list of their own first, so the
        // replay's (twice the size) is freed. Then, on two threads, the read models' order is
        // made while the index lists each stream's events: the fold's thread would otherwise
        // sit idle through both, for up to the lists' size in memory at once.
        let mut final_states: Vec<Box<dyn AggregateState>> = Vec::with_capacity(streams.len());
        let mut routes: Vec<u32> = Vec::with_capacity(streams.len());
        for stream in streams {
            routes.push(stream.route);
            final_states.push(stream.state);
        }
        let history = &self.history;
        let order_rows = |projections: &mut Projections| {
            for (projection, history) in projections.iter_mut().zip(history) {
                projection.shrink_to_fit();
                // The first view of a history orders its rows; pay for that here, not in a seek.
                if *history {
                    drop(projection.as_of(None));
                }
            }
        };
        let index = &mut self.index;
        let sealed = std::thread::scope(|scope| {
            let sealing = std::thread::Builder::new()
                .name("rewind-seal".into())
                .spawn_scoped(scope, || index.seal());
            order_rows(&mut projections);
            match sealing.map(std::thread::ScopedJoinHandle::join) {
                Ok(Ok(())) => true,
                // A panic there is a bug in `seal`: raise it here, where it would have been.
                Ok(Err(panic)) => std::panic::resume_unwind(panic),
                // No second thread to be had: one after the other.
                Err(_) => false,
            }
        });
        if !sealed {
            self.index.seal();
        }
        // The domain of each read model that keeps no history, in order (see `folded`).
        let mut projection_domains = domain.projection_domains();
        projection_domains.resize(self.history.len(), 0);
        let folded_domains: Vec<usize> = projection_domains
            .into_iter()
            .zip(&self.history)
            .filter(|(_, history)| !**history)
            .map(|(domain, _)| domain)
            .collect();
        let mut engine = Engine {
            domain,
            config: self.config,
            index: self.index,
            stream_checkpoints: self.stream_checkpoints,
            final_states,
            routes,
            projections,
            folded_domains,
            history: self.history,
            projection_checkpoints: self.projection_checkpoints,
            recent_projections: Mutex::new(None),
            issues,
            fault,
        };
        engine.add_issues(remote_issues);
        engine
    }
}

/// An indexed store, ready to answer "what did the world look like here".
pub struct Engine {
    domain: Arc<dyn Domain>,
    config: EngineConfig,
    index: TimelineIndex,
    stream_checkpoints: StreamCheckpoints,
    /// Each stream's state after all its events (the state at the end of the timeline).
    final_states: Vec<Box<dyn AggregateState>>,
    /// Each stream's route ([`Domain::route`]; [`GENERIC`] when nothing claims it).
    routes: Vec<u32>,
    /// Every projection after all the events; those that keep their history answer seeks.
    projections: Vec<Box<dyn ProjectionState>>,
    /// Which projections keep their history.
    history: Vec<bool>,
    /// The domain of each projection that keeps no history, in order.
    folded_domains: Vec<usize>,
    /// `(ordinal, the projections that keep no history after the first `ordinal` events)`.
    projection_checkpoints: Vec<(Ordinal, Vec<Box<dyn ProjectionState>>)>,
    /// The folded projections as the last seek left them, `(events applied, states)`: stepping
    /// or playing forward folds only the events since, not those since the last checkpoint.
    recent_projections: Mutex<Option<ProjectionsAfter>>,
    issues: Vec<ReplayIssue>,
    /// What went wrong with a folder elsewhere (a plug-in) while building, if anything did.
    fault: Option<FoldError>,
}

impl Engine {
    pub fn index(&self) -> &TimelineIndex {
        &self.index
    }

    pub fn config(&self) -> EngineConfig {
        self.config
    }

    pub fn domain(&self) -> &dyn Domain {
        self.domain.as_ref()
    }

    /// The domain, shared (to replay a stream apart from the engine).
    pub fn domain_arc(&self) -> Arc<dyn Domain> {
        Arc::clone(&self.domain)
    }

    /// What went wrong with a folder elsewhere (a plug-in) while the engine was built: the
    /// streams it claimed were not all folded.
    pub fn fault(&self) -> Option<&FoldError> {
        self.fault.as_ref()
    }

    /// Every replay issue, in global order.
    pub fn issues(&self) -> &[ReplayIssue] {
        &self.issues
    }

    /// Adds issues found apart from indexing (repeated event ids, when the store's guarantee
    /// turned out not to cover every event: see [`EngineConfig::check_event_ids`]), and marks
    /// their events.
    pub fn add_issues(&mut self, issues: Vec<ReplayIssue>) {
        for issue in &issues {
            let ordinal = self.index.ordinal_at_or_before_position(issue.position);
            if let Some(ordinal) = ordinal.filter(|&o| self.index.position(o) == issue.position) {
                self.index.mark_issue(ordinal, issue);
            }
        }
        crate::replay::merge_issues(&mut self.issues, issues);
    }

    /// The first event that broke a domain invariant: where it went wrong.
    pub fn first_violation(&self) -> Option<&ReplayIssue> {
        self.issues.iter().find(|i| i.kind.is_invariant_violation())
    }

    /// Issues with positions in `from..=to`.
    pub fn issues_between(&self, from: u64, to: u64) -> &[ReplayIssue] {
        let start = self.issues.partition_point(|i| i.position < from);
        let end = self.issues.partition_point(|i| i.position <= to);
        &self.issues[start..end]
    }

    pub fn projection_names(&self) -> Vec<&str> {
        self.projections.iter().map(|p| p.name()).collect()
    }

    /// How `stream` is replayed ([`Domain::route`]); `None`: by the generic fold.
    pub fn route(&self, stream: StreamIdx) -> Option<u32> {
        self.routes.get(stream as usize).copied().and_then(route_of)
    }

    /// What replays `stream`, for people to read: `bank: BankAccount`, or `generic fold`.
    pub fn replayed_by(&self, stream: StreamIdx) -> String {
        match self.route(stream).and_then(|route| self.domain.describe_route(route)) {
            Some((domain, aggregate)) => format!("{domain}: {aggregate}"),
            None => "generic fold".to_owned(),
        }
    }

    /// `event` as its stream's domain reads it, for people to see beside the stored one: upcast
    /// here, or by the plug-in that replays the stream (one request). `None`: it is current.
    pub fn upcast_shown(&self, event: &RecordedEvent) -> Result<Option<RecordedEvent>, SeekError> {
        if let Some((fold, _)) = self.index.stream_idx(&event.stream_id).and_then(|s| self.folder(s)) {
            return Ok(fold.upcast(std::slice::from_ref(event))?.pop().flatten());
        }
        Ok(self.upcast(event).ok().flatten())
    }

    /// `event` upcast as its stream's domain upcasts it (`None`: it is current, or its stream
    /// is not in this store's index, or no domain claims it).
    pub fn upcast(&self, event: &RecordedEvent) -> Result<Option<RecordedEvent>, rewind_core::UpcastError> {
        let route = self.index.stream_idx(&event.stream_id).and_then(|s| self.route(s));
        self.domain.upcast_on(route, event)
    }

    /// The aggregate state of `stream` after every one of its events at or before `cursor`
    /// (`None` for a cursor before the timeline's start: pass `None`).
    pub fn aggregate_at(
        &self,
        stream: StreamIdx,
        cursor: Option<Ordinal>,
        fetch: &dyn EventFetch,
    ) -> Result<Option<AggregateAt>, SeekError> {
        let Some(entry) = self.index.stream(stream) else {
            return Ok(None);
        };
        let applied = cursor.map_or(0, |c| self.index.stream_index_at(stream, c).map_or(0, |i| i + 1));
        let remote = self.folder(stream).is_some();
        let state: Value = if applied == entry.ordinals.len() && !remote {
            self.final_states[stream as usize].to_json()
        } else {
            let at = self
                .checkpoints_of(stream)
                .partition_point(|(count, _)| *count as usize <= applied);
            let (count, start) = self.stream_checkpoint(stream, at);
            let positions: Vec<u64> = entry.ordinals[count..applied]
                .iter()
                .map(|&o| self.index.position(o as usize))
                .collect();
            if positions.is_empty() {
                start.to_json()
            } else {
                let events = fetch.events_at(&positions)?;
                check_positions(&events, &positions)?;
                let mut states = self.states_after(stream, start, &events, false)?;
                states.pop().unwrap_or(Value::Null)
            }
        };
        let last = applied.checked_sub(1).map(|i| {
            let ordinal = entry.ordinals[i] as usize;
            (self.index.headers()[ordinal], self.index.position(ordinal))
        });
        Ok(Some(AggregateAt {
            stream_id: entry.stream_id.to_string(),
            stream_type: entry.stream_type.to_string(),
            events_applied: applied,
            stream_version: last.map_or(0, |(h, _)| u64::from(h.stream_version)),
            position: last.map_or(0, |(_, position)| position),
            state,
            generic: self
                .route(stream)
                .is_none_or(|route| self.domain.route_is_generic(route)),
            replayed_by: self.replayed_by(stream),
        }))
    }

    /// Every projection's state after the events up to and including `cursor`, as JSON.
    pub fn projections_at(
        &self,
        cursor: Option<Ordinal>,
        fetch: &dyn EventFetch,
    ) -> Result<Vec<(String, Value)>, SeekError> {
        Ok(self
            .projections_around(cursor, fetch)?
            .into_iter()
            .map(|p| (p.name, p.state.to_json()))
            .collect())
    }

    /// Every projection after the events up to and including `cursor`, with the rows the
    /// cursor's event changed (before and after it). The states are handles: ask them for the
    /// rows you show instead of turning a million-row read model into JSON.
    ///
    /// A projection that keeps its history is read at the cursor and just before it, without
    /// folding anything; the others are folded from the nearest checkpoint (or the last seek's
    /// states, when nearer).
    pub fn projections_around(
        &self,
        cursor: Option<Ordinal>,
        fetch: &dyn EventFetch,
    ) -> Result<Vec<ProjectionAt>, SeekError> {
        let applied = cursor.map_or(0, |c| (c + 1).min(self.index.len()));
        let (mut folded, last) = if self.history.contains(&false) {
            self.fold_around(applied, fetch)?
        } else {
            (Vec::new(), self.event_at(applied.checked_sub(1), fetch)?)
        };
        let last = match &last {
            Some(last) => match self.upcast(last) {
                Ok(upcast) => Some(upcast.unwrap_or_else(|| last.clone())),
                // An event that cannot be upcast changes no read model.
                Err(_) => None,
            },
            None => None,
        };
        let position = |applied: usize| applied.checked_sub(1).map(|o| self.index.position(o));
        let mut folded_changes = Vec::new();
        if let Some(event) = &last {
            for projection in &mut folded {
                let keys = projection.keys_for(event);
                let before: Vec<Option<Value>> = keys.iter().map(|k| projection.row(k).map(|r| r.1)).collect();
                let _ = projection.apply(event);
                folded_changes.push(changes(keys, before, |key| projection.row(key).map(|r| r.1)));
            }
        }
        if !folded.is_empty()
            && let Ok(mut recent) = self.recent_projections.lock()
        {
            *recent = Some((applied, folded.clone()));
        }
        let mut folded = folded
            .into_iter()
            .zip(folded_changes.into_iter().chain(std::iter::repeat_with(Vec::new)));
        let mut states = Vec::with_capacity(self.projections.len());
        for (projection, history) in self.projections.iter().zip(&self.history) {
            let at = if *history {
                let state = projection
                    .as_of(position(applied))
                    .ok_or(SeekError::ProjectionUnavailable {
                        projection: projection.name().to_owned(),
                    })?;
                let changes = match &last {
                    Some(event) => {
                        let before =
                            projection
                                .as_of(position(applied - 1))
                                .ok_or(SeekError::ProjectionUnavailable {
                                    projection: projection.name().to_owned(),
                                })?;
                        let keys = projection.keys_for(event);
                        let before_rows = keys.iter().map(|k| before.row(k).map(|r| r.1)).collect();
                        changes(keys, before_rows, |key| state.row(key).map(|r| r.1))
                    }
                    None => Vec::new(),
                };
                ProjectionAt {
                    name: projection.name().to_owned(),
                    state,
                    changes,
                }
            } else {
                let Some((state, changes)) = folded.next() else {
                    return Err(SeekError::ProjectionUnavailable {
                        projection: projection.name().to_owned(),
                    });
                };
                ProjectionAt {
                    name: state.name().to_owned(),
                    state,
                    changes,
                }
            };
            states.push(at);
        }
        Ok(states)
    }

    /// The projections that keep no history after `applied` events but the last, and that last
    /// event, unfolded (`None` when `applied` is 0).
    fn fold_around(
        &self,
        applied: usize,
        fetch: &dyn EventFetch,
    ) -> Result<(Projections, Option<RecordedEvent>), SeekError> {
        // Start from a checkpoint before the cursor's event, so its changes can be watched.
        let before_last = applied.saturating_sub(1);
        let at = self
            .projection_checkpoints
            .partition_point(|(count, _)| *count <= before_last)
            - 1;
        let (checkpoint, base) = &self.projection_checkpoints[at];
        let mut count = *checkpoint;
        let mut projections = base.clone();
        // The last seek's states are as good as a checkpoint, and nearer when stepping forward.
        if let Ok(recent) = self.recent_projections.lock()
            && let Some((recent_count, states)) = recent.as_ref()
            && (count + 1..=before_last).contains(recent_count)
        {
            count = *recent_count;
            projections.clone_from(states);
        }
        let last = self.fold_all_but_last(&mut projections, count..applied, fetch)?;
        Ok((projections, last))
    }

    /// The event at `ordinal`, read from the store.
    fn event_at(&self, ordinal: Option<Ordinal>, fetch: &dyn EventFetch) -> Result<Option<RecordedEvent>, SeekError> {
        let Some(ordinal) = ordinal.filter(|&o| o < self.index.len()) else {
            return Ok(None);
        };
        let position = self.index.position(ordinal);
        let events = fetch.events_at(&[position])?;
        check_positions(&events, &[position])?;
        Ok(events.into_iter().next())
    }

    /// Fetches the events at `ordinals`, folds all but the last into `projections`, and returns
    /// the last one unfolded (`None` for an empty range).
    ///
    /// A long range is read in chunks: this thread reads the next chunk from the store while a
    /// scoped thread folds the one before, so a seek takes about the longer of the two, not both.
    fn fold_all_but_last(
        &self,
        projections: &mut Vec<Box<dyn ProjectionState>>,
        ordinals: Range<usize>,
        fetch: &dyn EventFetch,
    ) -> Result<Option<RecordedEvent>, SeekError> {
        let index = &self.index;
        let read = |chunk: Range<usize>| -> Result<Vec<RecordedEvent>, SeekError> {
            let events = fetch.events_between(index.position(chunk.start), index.position(chunk.end - 1))?;
            let expected: Vec<u64> = chunk.map(|o| index.position(o)).collect();
            check_positions(&events, &expected)?;
            Ok(events)
        };
        let chunks: Vec<Range<usize>> = ordinals
            .clone()
            .step_by(FOLD_CHUNK)
            .map(|start| start..(start + FOLD_CHUNK).min(ordinals.end))
            .collect();
        if chunks.len() <= 1 {
            let Some(chunk) = chunks.into_iter().next() else {
                return Ok(None);
            };
            let mut events = read(chunk)?;
            let last = events.pop();
            for event in &events {
                self.fold_projections(projections, event);
            }
            return Ok(last);
        }
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<RecordedEvent>>(1);
        let mut states = std::mem::take(projections);
        let (read_result, (states, last)) = std::thread::scope(|scope| {
            let folder = scope.spawn(move || {
                let mut last: Option<RecordedEvent> = None;
                for mut events in receive {
                    let next_last = events.pop();
                    for event in last.iter().chain(&events) {
                        self.fold_projections(&mut states, event);
                    }
                    last = next_last;
                }
                (states, last)
            });
            let mut read_result = Ok(());
            for chunk in chunks {
                match read(chunk) {
                    Ok(events) => {
                        if send.send(events).is_err() {
                            break;
                        }
                    }
                    Err(error) => {
                        read_result = Err(error);
                        break;
                    }
                }
            }
            drop(send);
            let fold_result = folder.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (read_result, fold_result)
        });
        *projections = states;
        read_result?;
        Ok(last)
    }

    /// Folds one event into every projection exactly as a full replay does: upcast, then apply;
    /// an event that fails either leaves them as they were.
    fn fold_projections(&self, projections: &mut [Box<dyn ProjectionState>], event: &RecordedEvent) {
        // A domain's read models read the events of the streams it replays.
        let Some(owner) = self
            .index
            .stream_idx(&event.stream_id)
            .and_then(|s| self.route(s))
            .map(|route| self.domain.domain_of_route(route))
        else {
            return;
        };
        if let Ok(upcast) = self.upcast(event) {
            let event = upcast.as_ref().unwrap_or(event);
            for (projection, domain) in projections.iter_mut().zip(&self.folded_domains) {
                if *domain == owner {
                    let _ = projection.apply(event);
                }
            }
        }
    }

    /// The change the event at `cursor` made to its own stream's aggregate, field by field.
    pub fn event_change(&self, cursor: Ordinal, fetch: &dyn EventFetch) -> Result<Vec<FieldChange>, SeekError> {
        let Some(header) = self.index.header(cursor) else {
            return Ok(Vec::new());
        };
        let stream = header.stream;
        let index_in_stream = self.index.stream_index_at(stream, cursor).unwrap_or(0);
        let before = match index_in_stream.checked_sub(1) {
            Some(previous) => {
                let ordinal = self.index.stream(stream).map_or(0, |e| e.ordinals[previous] as usize);
                self.aggregate_at(stream, Some(ordinal), fetch)?
            }
            None => self.aggregate_at(stream, None, fetch)?,
        };
        let after = self.aggregate_at(stream, Some(cursor), fetch)?;
        Ok(match (before, after) {
            (Some(before), Some(after)) => diff(&before.state, &after.state),
            _ => Vec::new(),
        })
    }

    /// Blame: the last event of `stream` at or before `cursor` that changed the field at
    /// `pointer` (a JSON pointer into the aggregate state, e.g. `/balance_cents`).
    ///
    /// Walks back one checkpoint interval at a time, replaying each, so the cost is the
    /// distance to the change, not the stream's length.
    pub fn blame(
        &self,
        stream: StreamIdx,
        cursor: Ordinal,
        pointer: &str,
        fetch: &dyn EventFetch,
    ) -> Result<Option<Blame>, SeekError> {
        let Some(entry) = self.index.stream(stream) else {
            return Ok(None);
        };
        let applied = self.index.stream_index_at(stream, cursor).map_or(0, |i| i + 1);
        let mut end = applied;
        // The last checkpoint strictly before `applied` (virtual index 0 is the initial state).
        let mut at = self
            .checkpoints_of(stream)
            .partition_point(|(count, _)| (*count as usize) < applied);
        loop {
            let (start, state) = self.stream_checkpoint(stream, at);
            let positions: Vec<u64> = entry.ordinals[start..end]
                .iter()
                .map(|&o| self.index.position(o as usize))
                .collect();
            let events = if positions.is_empty() {
                Vec::new()
            } else {
                fetch.events_at(&positions)?
            };
            check_positions(&events, &positions)?;
            let mut value = state.to_json().pointer(pointer).cloned();
            let mut last_change = None;
            let states = if events.is_empty() {
                Vec::new()
            } else {
                self.states_after(stream, state, &events, true)?
            };
            for (offset, state) in states.iter().enumerate() {
                let now = state.pointer(pointer).cloned();
                if now != value {
                    last_change = Some((start + offset, value.take(), now.clone()));
                }
                value = now;
            }
            if let Some((index_in_stream, old, new)) = last_change {
                let ordinal = entry.ordinals[index_in_stream] as usize;
                let header = self.index.headers()[ordinal];
                return Ok(Some(Blame {
                    ordinal,
                    position: self.index.position(ordinal),
                    stream_version: u64::from(header.stream_version),
                    event_type: self.index.event_type_name(header.event_type).to_owned(),
                    old,
                    new,
                }));
            }
            if at == 0 {
                return Ok(None);
            }
            end = start;
            at -= 1;
        }
    }

    /// Checkpoint `at` of a stream: 0 is the initial state, `i` the `i`-th state kept.
    /// Returns how many of the stream's events it includes, and a copy to fold into.
    /// The stream's checkpoints, oldest first.
    fn checkpoints_of(&self, stream: StreamIdx) -> &[(u32, Box<dyn AggregateState>)] {
        self.stream_checkpoints.get(&stream).map_or(&[], Vec::as_slice)
    }

    fn stream_checkpoint(&self, stream: StreamIdx, at: usize) -> (usize, Box<dyn AggregateState>) {
        let kept = at.checked_sub(1).and_then(|i| self.checkpoints_of(stream).get(i));
        if let Some((count, state)) = kept {
            return (*count as usize, state.clone_box());
        }
        let initial = self
            .route(stream)
            .and_then(|route| self.domain.new_state(route))
            .unwrap_or_else(|| Box::new(GenericState::default()));
        (0, initial)
    }

    /// Whether `stream` is folded elsewhere (by a plug-in).
    pub fn folded_elsewhere(&self, stream: StreamIdx) -> bool {
        self.folder(stream).is_some()
    }

    /// The folder elsewhere that replays `stream`, and the aggregate's name, when one does.
    fn folder(&self, stream: StreamIdx) -> Option<(Arc<dyn rewind_core::BatchFold>, String)> {
        let route = self.route(stream)?;
        let (_, fold) = self.domain.batch_fold_on(route)?;
        let (_, aggregate) = self.domain.describe_route(route)?;
        Some((fold, aggregate))
    }

    /// The states of `stream` after each of `events` (its next events, in order), folded from
    /// `start` exactly as a full replay folds them: all of them, or (`all` false) the last only.
    /// A stream folded elsewhere is folded there, in one request.
    fn states_after(
        &self,
        stream: StreamIdx,
        mut start: Box<dyn AggregateState>,
        events: &[RecordedEvent],
        all: bool,
    ) -> Result<Vec<Value>, SeekError> {
        let Some((fold, aggregate)) = self.folder(stream) else {
            let mut states = Vec::with_capacity(if all { events.len() } else { 1 });
            for (i, event) in events.iter().enumerate() {
                self.fold_aggregate(start.as_mut(), event);
                if all || i + 1 == events.len() {
                    states.push(start.to_json());
                }
            }
            return Ok(states);
        };
        let stream_id = self.index.stream(stream).map_or("", |e| e.stream_id);
        let snapshot = start.snapshot();
        let last = events.len().saturating_sub(1);
        let outcomes = fold.fold_stream(stream_id, &aggregate, snapshot.as_deref(), events, &|i| {
            all || i == last
        })?;
        let mut states: Vec<Option<Value>> = vec![None; events.len()];
        for outcome in outcomes {
            if let (Some(state), Some(slot)) = (outcome.state, states.get_mut(outcome.index)) {
                *slot = Some(serde_json::from_str(&state).map_err(|e| {
                    SeekError::Fold(FoldError::new(format!(
                        "the plug-in answered a state that is not JSON: {e}"
                    )))
                })?);
            }
        }
        let wanted: Vec<Option<Value>> = if all {
            states
        } else {
            states.into_iter().skip(last).collect()
        };
        wanted
            .into_iter()
            .map(|state| {
                state.ok_or_else(|| {
                    SeekError::Fold(FoldError::new("the plug-in did not answer a state Rewind asked for"))
                })
            })
            .collect()
    }

    /// Folds one event into an aggregate exactly as a full replay does: upcast, then apply;
    /// an event that fails either leaves the state as it was.
    fn fold_aggregate(&self, state: &mut dyn AggregateState, event: &RecordedEvent) {
        if let Ok(upcast) = self.upcast(event) {
            let _ = state.apply(upcast.as_ref().unwrap_or(event));
        }
    }

    /// Approximate heap bytes of the index (checkpoints share structure and are not counted).
    pub fn index_bytes(&self) -> usize {
        self.index.heap_bytes()
    }

    /// Number of projection and stream checkpoints kept (the initial states count as one
    /// projection checkpoint while some projection keeps no history; none otherwise).
    pub fn checkpoint_counts(&self) -> (usize, usize) {
        (
            if self.history.contains(&false) {
                self.projection_checkpoints.len()
            } else {
                0
            },
            self.stream_checkpoints.values().map(Vec::len).sum::<usize>(),
        )
    }
}

/// The projections that keep no history, in order.
fn folded<'a>(
    projections: &'a [Box<dyn ProjectionState>],
    history: &'a [bool],
) -> impl Iterator<Item = &'a Box<dyn ProjectionState>> {
    projections.iter().zip(history).filter(|(_, h)| !**h).map(|(p, _)| p)
}

/// The rows among `keys` whose value changed from `before` to what `after` gives.
fn changes(keys: Vec<String>, before: Vec<Option<Value>>, after: impl Fn(&str) -> Option<Value>) -> Vec<RowChange> {
    keys.into_iter()
        .zip(before)
        .filter_map(|(key, before)| {
            let after = after(&key);
            (before != after).then_some(RowChange { key, before, after })
        })
        .collect()
}

fn check_positions(events: &[RecordedEvent], expected: &[u64]) -> Result<(), SeekError> {
    if events.len() != expected.len() {
        let missing = expected
            .iter()
            .find(|p| !events.iter().any(|e| e.global_position == **p))
            .copied()
            .unwrap_or_default();
        return Err(SeekError::StoreChanged { position: missing });
    }
    for (event, &position) in events.iter().zip(expected) {
        if event.global_position != position {
            return Err(SeekError::StoreChanged { position });
        }
    }
    Ok(())
}
