//! Full replay: every event in global order through the domain, collecting issues.
//!
//! This is the reference the rest of the engine is measured against: `rewind verify` runs it
//! over a whole store, the engine's builder runs it while indexing, and state reached through
//! checkpoints must equal what it computes.

use std::sync::Arc;

use chrono::DateTime;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde_json::Value;

use uuid::Uuid;

use rewind_core::{
    AggregateState, ApplyError, Domain, FoldError, GenericState, ProjectionState, RecordedEvent, RemoteState,
    ReplayIssue, ReplayIssueKind, SmolStr,
};

use crate::remote::{RemoteCheckpoint, RemoteFolds};

/// Events read ahead for at a time (see [`Replay::warm`]): enough cache misses to overlap,
/// few enough that what they load is still cached when the fold reaches it.
pub(crate) const WARM_AHEAD: usize = 16;

/// One stream's replayed state.
#[derive(Clone, Debug)]
pub struct StreamReplay {
    pub state: Box<dyn AggregateState>,
    /// The highest stream version seen (0 before the first event).
    pub version: u64,
    /// How many of its events were replayed.
    pub events: u64,
    /// How the domain replays it ([`Domain::route`], chosen at its first event); [`GENERIC`]
    /// when nothing claims it.
    pub route: u32,
    /// The latest time among its events so far (ms since the Unix epoch), if any had one.
    latest_ms: Option<i64>,
}

/// The route of a stream no domain claims: the generic fold replays it.
pub const GENERIC: u32 = u32::MAX;

/// A route as [`Domain::route`] gives it, from its stored form.
pub fn route_of(route: u32) -> Option<u32> {
    (route != GENERIC).then_some(route)
}

/// Replays events one by one; never stops at bad data.
pub struct Replay {
    domain: Arc<dyn Domain>,
    streams: Vec<StreamReplay>,
    /// Stream numbers by id. Ids up to 23 bytes are held inline in the table, so growing it
    /// rehashes each id where it lies (an `Arc<str>` key sent every rehash to a cache miss),
    /// and adding a stream allocates nothing.
    lookup: HashMap<SmolStr, u32>,
    projections: Vec<Box<dyn ProjectionState>>,
    /// `None` when the store guarantees unique ids (see [`Replay::trusting_unique_ids`]).
    duplicate_ids: Option<DuplicateIds>,
    issues: Vec<ReplayIssue>,
    events: u64,
    position: u64,
    /// Domains that fold elsewhere (plug-ins), and what they answered.
    remote: RemoteFolds,
    /// The aggregate's name on each route, for the folders.
    route_names: Vec<String>,
    /// A folder is asked for a stream's state after every this many of its events.
    remote_state_every: u64,
    /// The domain (as [`Domain::domain_of_route`] numbers them) of each route, and of each read
    /// model: a domain's read models read the events of the streams it replays.
    route_domains: Vec<usize>,
    projection_domains: Vec<usize>,
}

/// A stream's state is asked of a folder after every this many of its events, unless the
/// engine says otherwise (its checkpoint interval).
const REMOTE_STATE_EVERY: u64 = 64;

impl Replay {
    pub fn new(domain: Arc<dyn Domain>) -> Self {
        Self::with_capacity(domain, 0)
    }

    /// A replay expecting about `events` events (sizes the duplicate-id set once).
    pub fn with_capacity(domain: Arc<dyn Domain>, events: usize) -> Self {
        let remote = RemoteFolds::new(domain.as_ref());
        let route_names = if remote.any() {
            domain.aggregates().into_iter().map(|claim| claim.aggregate).collect()
        } else {
            Vec::new()
        };
        let projections = domain.projections();
        let mut projection_domains = domain.projection_domains();
        projection_domains.resize(projections.len(), 0);
        let route_domains = (0..domain.aggregates().len() as u32)
            .map(|route| domain.domain_of_route(route))
            .collect();
        Self {
            projections,
            remote,
            route_names,
            remote_state_every: REMOTE_STATE_EVERY,
            route_domains,
            projection_domains,
            domain,
            streams: Vec::new(),
            lookup: HashMap::default(),
            duplicate_ids: Some(DuplicateIds::with_capacity(events)),
            issues: Vec::new(),
            events: 0,
            position: 0,
        }
    }

    /// A replay of a store of about `events` events that does (`unique_ids`: see
    /// [`Replay::trusting_unique_ids`]) or does not guarantee unique event ids.
    pub fn for_store(domain: Arc<dyn Domain>, events: usize, unique_ids: bool) -> Self {
        if unique_ids {
            Self::new(domain).trusting_unique_ids()
        } else {
            Self::with_capacity(domain, events)
        }
    }

    /// Does not look for repeated event ids: the store guarantees there are none (a unique
    /// index), and remembering every id is the largest cost of a replay after its state. If the guarantee turns out not to cover every event, look for them
    /// with [`DuplicateIds`] and [`Replay::add_issues`].
    #[must_use]
    pub fn trusting_unique_ids(mut self) -> Self {
        self.duplicate_ids = None;
        self
    }

    /// Folds one event into its stream's state and every projection, recording any issue.
    /// Returns the stream's index (streams are numbered in order of first appearance).
    pub fn apply(&mut self, event: &RecordedEvent) -> u32 {
        if let Some(&stream) = self.lookup.get(event.stream_id.as_str()) {
            self.apply_to(stream, event);
            return stream;
        }
        let stream = self.streams.len() as u32;
        self.lookup.insert(event.stream_id.clone(), stream);
        self.start_stream(event);
        self.apply_to(stream, event);
        stream
    }

    /// Asks folders elsewhere for a stream's state after every `every` of its events (kept as
    /// checkpoints by the engine).
    pub(crate) fn remote_states_every(&mut self, every: usize) {
        self.remote_state_every = every.max(1) as u64;
    }

    /// Sends full batches to folders elsewhere and takes in their answers (the read models'
    /// rows); call after each batch of events.
    pub(crate) fn remote_step(&mut self) {
        if self.remote.any() {
            self.remote.step();
            self.take_remote_rows();
        }
    }

    /// Sends what is left to folders elsewhere and waits for every answer: a replay with
    /// plug-ins is complete only then. The issues they found join the others, in order.
    pub fn finish(&mut self) {
        self.remote_finish();
        let issues = self.take_remote_issues();
        merge_issues(&mut self.issues, issues);
    }

    /// [`Replay::finish`], leaving the folders' issues to be taken.
    pub(crate) fn remote_finish(&mut self) {
        if self.remote.any() {
            self.remote.finish();
            self.take_remote_rows();
        }
    }

    /// What went wrong with a folder elsewhere, if anything did: the replay of its streams is
    /// incomplete.
    pub fn fault(&self) -> Option<&FoldError> {
        self.remote.fault.as_ref()
    }

    /// The states folders answered since the last call, for checkpoints.
    pub(crate) fn take_remote_checkpoints(&mut self) -> Vec<RemoteCheckpoint> {
        std::mem::take(&mut self.remote.checkpoints)
    }

    /// Issues folders answered, not yet merged (see [`Replay::finish`]).
    pub(crate) fn take_remote_issues(&mut self) -> Vec<ReplayIssue> {
        let mut issues = std::mem::take(&mut self.remote.issues);
        issues.sort_by_key(|issue| issue.position);
        issues
    }

    fn take_remote_rows(&mut self) {
        // A folder's read models are its domain's, in the order it declared them.
        for (folder, place, position, key, row) in std::mem::take(&mut self.remote.rows) {
            let projection = self
                .projections
                .iter_mut()
                .zip(&self.projection_domains)
                .filter(|(_, domain)| **domain == folder)
                .nth(place);
            if let Some((projection, _)) = projection {
                projection.apply_row(position, &key, row);
            }
        }
    }

    /// Whether `stream` is folded elsewhere.
    pub(crate) fn is_remote(&self, stream: u32) -> bool {
        self.remote.any()
            && self
                .streams
                .get(stream as usize)
                .and_then(|s| route_of(s.route))
                .and_then(|route| self.remote.folder_of(route))
                .is_some()
    }

    /// Folds `events` (in global order) as [`Replay::apply`] folds each, reading ahead for a
    /// few at a time (see [`Replay::warm`]).
    pub fn apply_all(&mut self, events: &[RecordedEvent]) {
        let mut known = Vec::with_capacity(WARM_AHEAD);
        for chunk in events.chunks(WARM_AHEAD) {
            let mut streams = [None; WARM_AHEAD];
            for (found, event) in streams.iter_mut().zip(chunk) {
                *found = self.lookup.get(event.stream_id.as_str()).copied();
            }
            known.clear();
            known.extend(chunk.iter().zip(&streams).filter_map(|(e, s)| Some((e, (*s)?))));
            self.warm(&known);
            for (event, stream) in chunk.iter().zip(streams) {
                match stream {
                    Some(stream) => self.apply_to(stream, event),
                    // New, or started by an event before it in this chunk.
                    None => drop(self.apply(event)),
                }
            }
        }
        self.remote_step();
    }

    /// Reads, and changes nothing of, what folding each `(event, its stream's number)` will
    /// read: the stream's state and the read models' rows. Called for a few events before they
    /// are folded: at millions of streams each is a cache miss or more, and these misses
    /// overlap, where the fold meets them one after another. Each link of a chain of loads is
    /// taken for all the events before the next (the streams' entries, then their states; see
    /// [`rewind_core::Projection::warm_all`]), so the misses of one link are in flight together.
    pub(crate) fn warm(&self, events: &[(&RecordedEvent, u32)]) {
        let entries = events
            .iter()
            .filter_map(|&(_, stream)| self.streams.get(stream as usize));
        for replay in entries.clone() {
            std::hint::black_box(replay.version);
        }
        for replay in entries {
            replay.state.warm();
        }
        for projection in &self.projections {
            projection.warm_all(events);
        }
    }

    /// [`Replay::apply`] for a caller that already numbered the streams (in order of first
    /// appearance, as `apply` does) and holds their ids: saves looking each id up twice and
    /// storing it twice. Streams started this way are not found by [`Replay::stream`].
    pub(crate) fn apply_as(&mut self, stream: u32, event: &RecordedEvent) {
        if stream as usize == self.streams.len() {
            self.start_stream(event);
        }
        self.apply_to(stream, event);
    }

    /// Starts the stream whose first event is `first`, on the route its domain gives it.
    fn start_stream(&mut self, first: &RecordedEvent) {
        let route = self.domain.route(first);
        let remote = route.is_some_and(|route| self.remote.folder_of(route).is_some());
        // A stream no domain claims still replays, through the generic fold.
        let state: Box<dyn AggregateState> = if remote {
            Box::new(RemoteState::default())
        } else {
            route
                .and_then(|route| self.domain.new_state(route))
                .unwrap_or_else(|| Box::new(GenericState::default()))
        };
        self.streams.push(StreamReplay {
            state,
            version: 0,
            events: 0,
            route: route.unwrap_or(GENERIC),
            latest_ms: None,
        });
    }

    fn apply_to(&mut self, stream: u32, event: &RecordedEvent) {
        self.events += 1;
        self.position = event.global_position;
        let issue = |kind: ReplayIssueKind, message: String| ReplayIssue {
            position: event.global_position,
            stream_id: event.stream_id.to_string(),
            kind,
            message,
        };
        if let Some(issue) = self.duplicate_ids.as_mut().and_then(|ids| ids.check(event)) {
            self.issues.push(issue);
        }
        let replay = &mut self.streams[stream as usize];
        // Within a stream only: across streams, libraries that stamp an event when it is made
        // (not when it is stored) disagree with the global order by design. Only known times
        // are compared: an unknown one is neither before nor after.
        if let Some(at) = event.recorded_at {
            let ms = at.timestamp_millis();
            if let Some(latest) = replay.latest_ms
                && ms < latest
            {
                let latest =
                    DateTime::from_timestamp_millis(latest).map_or_else(|| latest.to_string(), |t| t.to_string());
                self.issues.push(issue(
                    ReplayIssueKind::TimeWentBackwards,
                    format!("recorded_at {at} is before {latest}, when an earlier event of this stream was recorded"),
                ));
            }
            replay.latest_ms = Some(replay.latest_ms.map_or(ms, |latest| latest.max(ms)));
        }
        let expected = replay.version + 1;
        if event.stream_version > expected {
            self.issues.push(issue(
                ReplayIssueKind::VersionGap {
                    expected,
                    found: event.stream_version,
                },
                format!(
                    "stream version jumps from {} to {}",
                    replay.version, event.stream_version
                ),
            ));
        } else if event.stream_version < expected {
            self.issues.push(issue(
                ReplayIssueKind::VersionDuplicate {
                    expected,
                    found: event.stream_version,
                },
                format!("stream version {} again after {}", event.stream_version, replay.version),
            ));
        }
        replay.version = replay.version.max(event.stream_version);
        replay.events += 1;

        // The reader could not decode the payload; it is still folded (as text) like every other
        // path folds it, but reported once, here, rather than again as the domain's complaint.
        let note = event.payload_note();
        if let Some(note) = note {
            self.issues
                .push(issue(ReplayIssueKind::InvalidPayload, note.to_owned()));
        }
        // Metadata read from a column of JSON is checked here, if the reading thread did not
        // check it ahead (see `Payload::from_stored_json`).
        if let Err(error) = event.metadata.check() {
            self.issues.push(issue(
                ReplayIssueKind::InvalidPayload,
                format!("the metadata is not JSON: {error}"),
            ));
        }
        if self.remote.any() {
            let folder = route_of(replay.route).and_then(|route| {
                let folder = self.remote.folder_of(route)?;
                Some((folder, self.route_names.get(route as usize)?.as_str()))
            });
            let events = replay.events;
            let want_state = events.is_multiple_of(self.remote_state_every);
            self.remote.push(event, stream, folder, events as u32, want_state);
            if folder.is_some() {
                // The folder replays the stream; this process's read models still read it.
                self.apply_projections(stream, event, true);
                return;
            }
        }
        let upcast = match self.domain.upcast_on(route_of(replay.route), event) {
            Ok(upcast) => upcast,
            Err(error) => {
                self.issues
                    .push(issue(ReplayIssueKind::UpcastFailed, error.to_string()));
                return;
            }
        };
        let stored = event;
        let event = upcast.as_ref().unwrap_or(event);
        let aggregate_ok = match replay.state.apply(event) {
            Ok(violations) => {
                for violation in violations {
                    self.issues.push(issue(
                        ReplayIssueKind::InvariantViolated {
                            invariant: violation.invariant,
                        },
                        violation.message,
                    ));
                }
                true
            }
            Err(error) => {
                if note.is_none() {
                    self.issues.push(issue(issue_kind(&error), error.to_string()));
                }
                false
            }
        };
        // The aggregate already reported a payload it could not read.
        self.apply_projections(stream, event, aggregate_ok);
        // A stored payload not checked when read is checked by the first parse of it; if
        // nothing parsed it (or a fold took it as text), it is checked here.
        if aggregate_ok
            && note.is_none()
            && let Err(error) = stored.data.check()
        {
            self.issues.push(issue(
                ReplayIssueKind::InvalidPayload,
                format!("the payload is not JSON: {error}"),
            ));
        }
    }

    /// Folds `event` (upcast) into every read model of this process; `report`s what they could
    /// not fold.
    fn apply_projections(&mut self, stream: u32, event: &RecordedEvent, report: bool) {
        let Some(owner) = self
            .streams
            .get(stream as usize)
            .and_then(|s| route_of(s.route))
            .and_then(|route| self.route_domains.get(route as usize))
            .copied()
        else {
            // A stream no domain replays feeds no domain's read models.
            return;
        };
        for (projection, domain) in self.projections.iter_mut().zip(&self.projection_domains) {
            if *domain != owner {
                continue;
            }
            if let Err(error) = projection.apply_in_stream(event, stream)
                && report
            {
                self.issues.push(ReplayIssue {
                    position: event.global_position,
                    stream_id: event.stream_id.to_string(),
                    kind: issue_kind(&error),
                    message: format!("projection {}: {error}", projection.name()),
                });
            }
        }
    }

    /// Number of events applied.
    pub fn event_count(&self) -> u64 {
        self.events
    }

    /// Global position of the last event applied (0 before any).
    pub fn position(&self) -> u64 {
        self.position
    }

    pub fn issues(&self) -> &[ReplayIssue] {
        &self.issues
    }

    /// Adds issues found apart from the replay (see [`Replay::trusting_unique_ids`]), keeping
    /// them in global order; at one position they come first, as the replay reports them.
    pub fn add_issues(&mut self, issues: Vec<ReplayIssue>) {
        merge_issues(&mut self.issues, issues);
    }

    pub fn into_issues(self) -> Vec<ReplayIssue> {
        self.issues
    }

    /// The streams' final states, the projections and the issues, without copying them.
    pub fn into_parts(self) -> (Vec<StreamReplay>, Vec<Box<dyn ProjectionState>>, Vec<ReplayIssue>) {
        (self.streams, self.projections, self.issues)
    }

    pub fn stream(&self, stream_id: &str) -> Option<&StreamReplay> {
        self.lookup.get(stream_id).map(|&i| &self.streams[i as usize])
    }

    /// A stream by its index (as returned by [`Replay::apply`]).
    pub fn stream_at(&self, stream: u32) -> Option<&StreamReplay> {
        self.streams.get(stream as usize)
    }

    pub fn streams(&self) -> &[StreamReplay] {
        &self.streams
    }

    pub fn aggregate_state(&self, stream_id: &str) -> Option<Value> {
        self.stream(stream_id).map(|s| s.state.to_json())
    }

    pub fn domain(&self) -> &dyn Domain {
        self.domain.as_ref()
    }

    pub fn domain_arc(&self) -> Arc<dyn Domain> {
        Arc::clone(&self.domain)
    }

    pub fn projections(&self) -> &[Box<dyn ProjectionState>] {
        &self.projections
    }

    /// The projections, to configure before the first event (see
    /// [`ProjectionState::keep_history`]).
    pub fn projections_mut(&mut self) -> &mut [Box<dyn ProjectionState>] {
        &mut self.projections
    }

    pub fn projection_names(&self) -> Vec<&str> {
        self.projections.iter().map(|p| p.name()).collect()
    }

    pub fn projection_state(&self, name: &str) -> Option<Value> {
        self.projections.iter().find(|p| p.name() == name).map(|p| p.to_json())
    }
}

/// Finds events whose id an earlier event already had (a retried append stored twice).
pub struct DuplicateIds {
    seen: HashSet<Uuid>,
}

impl DuplicateIds {
    /// Sized for about `events` events at once.
    pub fn with_capacity(events: usize) -> Self {
        Self {
            seen: HashSet::with_capacity_and_hasher(events, rustc_hash::FxBuildHasher),
        }
    }

    /// The issue, if `event` (the next in global order) repeats an earlier event's id.
    pub fn check(&mut self, event: &RecordedEvent) -> Option<ReplayIssue> {
        (!self.seen.insert(event.event_id)).then(|| ReplayIssue {
            position: event.global_position,
            stream_id: event.stream_id.to_string(),
            kind: ReplayIssueKind::DuplicateEventId,
            message: format!("event id {} was already recorded earlier", event.event_id),
        })
    }
}

/// Merges `new` (in global order) into `issues` (in global order); at one position the new
/// ones come first.
pub(crate) fn merge_issues(issues: &mut Vec<ReplayIssue>, new: Vec<ReplayIssue>) {
    if new.is_empty() {
        return;
    }
    let old = std::mem::take(issues);
    issues.reserve(old.len() + new.len());
    let mut old = old.into_iter().peekable();
    for issue in new {
        while let Some(earlier) = old.next_if(|o| o.position < issue.position) {
            issues.push(earlier);
        }
        issues.push(issue);
    }
    issues.extend(old);
}

/// The replay issue an apply error is reported as.
pub fn issue_kind(error: &ApplyError) -> ReplayIssueKind {
    match error {
        ApplyError::UnknownEventType { .. } => ReplayIssueKind::UnknownEventType,
        ApplyError::InvalidPayload { .. } => ReplayIssueKind::InvalidPayload,
        ApplyError::Rejected { .. } => ReplayIssueKind::ApplyRejected,
    }
}
