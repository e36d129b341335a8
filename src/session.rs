//! An opened store: indexed on a background thread, then served by the same thread.
//!
//! The thread that opens the store keeps it (a SQLite connection belongs to one thread) and,
//! once the engine is built, answers the UI's seek requests: the UI thread never reads the
//! file. The UI sends the request it wants for the current frame; the worker always answers
//! the newest one and skips the rest, so dragging the playhead never queues up work.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::time::Instant;

use serde_json::Value;

use rewind_core::{Domain, RecordedEvent};
use rewind_engine::{AggregateAt, Engine, FieldChange, Ordinal, Query, RowChange, StreamIdx};
use rewind_store::{
    EventSource, Mapping, NdjsonStore, OpenOptions, Skipped, StoreError, StoreLocation, open_store_with,
};

use crate::domains::DomainChoice;
use crate::fetch::StoreFetch;
use crate::pipeline::{LoadError, Progress, build_engine};

/// The bundled sample history, opened by "Load sample bank data" without touching the disk.
pub const SAMPLE_NDJSON: &[u8] = include_bytes!("../sample-data/bank.ndjson");
pub const SAMPLE_NAME: &str = "sample bank data";

/// Where a store comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreInput {
    /// A file, or a PostgreSQL database.
    Location(StoreLocation),
    /// The sample history bundled in the binary.
    Sample,
}

impl StoreInput {
    /// What to call it on screen: never with a password.
    pub fn name(&self) -> String {
        match self {
            Self::Location(location) => location.to_string(),
            Self::Sample => SAMPLE_NAME.into(),
        }
    }

    /// The store's location, under which the app remembers it (the sample has none).
    pub fn location(&self) -> Option<&StoreLocation> {
        match self {
            Self::Location(location) => Some(location),
            Self::Sample => None,
        }
    }
}

impl From<StoreLocation> for StoreInput {
    fn from(location: StoreLocation) -> Self {
        Self::Location(location)
    }
}

/// Why opening failed, and what the user can do about it.
#[derive(Clone, Debug)]
pub struct OpenFailure {
    pub message: String,
    /// The store's shape is not one Rewind knows: confirm a mapping to open it.
    pub mapping: Option<Box<MappingRequest>>,
}

/// A proposed mapping for a store, with the names (columns or fields) to choose from.
#[derive(Clone, Debug, PartialEq)]
pub struct MappingRequest {
    /// The store being opened.
    pub location: StoreLocation,
    /// What Rewind found, in a sentence.
    pub what: String,
    pub proposal: Mapping,
    pub names: Vec<String>,
    /// An example value of each name (first row or record).
    pub examples: Vec<String>,
}

/// What the UI wants to see this frame.
#[derive(Clone, Debug)]
pub struct SeekRequest {
    pub cursor: Option<Ordinal>,
    pub stream: Option<StreamIdx>,
    /// A pinned position to diff the selected aggregate and the shown projection rows against.
    pub pinned: Option<Ordinal>,
    /// The rows of the event list on screen, whose payloads to fetch (ascending; with a
    /// filter, matches that may lie far apart).
    pub rows: Vec<Ordinal>,
    /// The stream whose state after each of `rows` to show (the list in stream mode).
    pub row_states_of: Option<StreamIdx>,
    /// Read models paged by the user: the first row to show (by key order), by name. The
    /// others show the rows around the first one the cursor's event changed.
    pub projection_starts: Vec<(String, usize)>,
    /// The view's number for the request (not compared: two requests for the same thing are
    /// the same request).
    pub seq: u64,
}

impl PartialEq for SeekRequest {
    fn eq(&self, other: &Self) -> bool {
        (
            &self.cursor,
            &self.stream,
            &self.pinned,
            &self.rows,
            &self.row_states_of,
            &self.projection_starts,
        ) == (
            &other.cursor,
            &other.stream,
            &other.pinned,
            &other.rows,
            &other.row_states_of,
            &other.projection_starts,
        )
    }
}

impl Eq for SeekRequest {}

/// What the worker found for a [`SeekRequest`].
#[derive(Clone, Debug, Default)]
pub struct SeekResult {
    pub cursor: Option<Ordinal>,
    pub stream: Option<StreamIdx>,
    pub pinned: Option<Ordinal>,
    pub aggregate: Option<AggregateAt>,
    /// What the event at the cursor changed in the selected aggregate (empty if it belongs to
    /// another stream).
    pub aggregate_changes: Vec<FieldChange>,
    pub pinned_aggregate: Option<AggregateAt>,
    pub projections: Vec<ProjectionView>,
    pub event: Option<RecordedEvent>,
    /// The event at the pinned position, to compare the cursor's with.
    pub pinned_event: Option<RecordedEvent>,
    /// The event after upcasting, when its schema was old.
    pub upcast: Option<RecordedEvent>,
    /// The events of the request's rows, in global order.
    pub window_events: Vec<RecordedEvent>,
    /// The state after each of the request's rows (ascending), when it asked for them.
    pub row_states: Vec<(Ordinal, Value)>,
    pub took_ms: f64,
    pub error: Option<String>,
    /// The number of the request it answers.
    pub seq: u64,
}

/// The part of a projection the UI shows: its size, what the cursor's event changed, and a
/// window of rows (around the first changed row).
#[derive(Clone, Debug, Default)]
pub struct ProjectionView {
    pub name: String,
    pub row_count: usize,
    pub changes: Vec<RowChange>,
    pub window_start: usize,
    pub rows: Vec<(String, Value)>,
    /// For each row, the event that last changed it (when the read model keeps its history).
    pub changed_at: Vec<Option<Ordinal>>,
    /// With a pinned position: each row as it was there (`None`: it did not exist yet).
    pub pinned_rows: Option<Vec<Option<Value>>>,
}

/// Rows of each projection sent to the UI.
pub const PROJECTION_WINDOW: usize = 100;

/// Work the UI asks of the worker besides seeking.
#[derive(Clone, Debug)]
pub enum Job {
    Seek(SeekRequest),
    /// Find the ordinals of events matching a query (correlation links, filters).
    Search {
        id: u64,
        query: Query,
    },
    /// Find the event with this event id.
    FindEvent {
        id: u64,
        event_id: String,
    },
    /// Write the evidence of a stream up to a point to a file (see [`crate::evidence`]).
    Export {
        stream_id: String,
        until: crate::evidence::Until,
        path: PathBuf,
        /// Replace a file already there (a save dialog asked the user), or refuse to.
        replace: bool,
    },
}

#[derive(Clone, Debug)]
pub enum JobResult {
    Seek(Box<SeekResult>),
    Search {
        id: u64,
        result: Result<Vec<Ordinal>, String>,
    },
    /// What writing the evidence did: a line saying so, or why it failed.
    Export(Result<String, String>),
}

/// An opened, indexed store.
pub struct Session {
    pub input: StoreInput,
    pub format: String,
    /// Records the reader could not use, with where and why.
    pub skipped: Vec<Skipped>,
    /// Why the mapping the store was read with is likely wrong, if it is.
    pub mapping_doubt: Option<String>,
    pub engine: Arc<Engine>,
    pub build_seconds: f64,
    /// The domains it was opened with, as chosen (to open it again with another choice).
    pub choice: DomainChoice,
    /// The domains that replay it, for people: `bank-js 1.0.0 (plug-in), bank`.
    pub domains: String,
    /// The names a user can pick among (the domains, and `generic`).
    pub domain_names: Vec<String>,
    /// How many streams a domain replays (the others fold generically).
    pub claimed_streams: usize,
    /// The fields the domains say hold money.
    pub money: Vec<rewind_core::MoneyField>,
    /// The plug-in, while it runs.
    pub plugin: Option<rewind_plugin::PluginDomain>,
    /// Why the plug-in asked for did not replay the store: its streams fold generically.
    pub plugin_fault: Option<rewind_core::FoldError>,
    jobs: Sender<Job>,
    results: Receiver<JobResult>,
}

impl Session {
    pub fn name(&self) -> String {
        self.input.name()
    }

    /// How many replay issues speak to the history's integrity, and how many are notes.
    pub fn issue_counts(&self) -> (usize, usize) {
        let notes = self
            .engine
            .issues()
            .iter()
            .filter(|issue| issue.severity() == rewind_core::Severity::Note)
            .count();
        (self.engine.issues().len() - notes, notes)
    }

    pub fn send(&self, job: Job) {
        // The worker only stops when the session is dropped.
        let _ = self.jobs.send(job);
    }

    /// Results that arrived since the last call.
    pub fn poll(&self) -> Vec<JobResult> {
        let mut results = Vec::new();
        loop {
            match self.results.try_recv() {
                Ok(result) => results.push(result),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return results,
            }
        }
    }
}

/// Opening in progress.
pub struct Opening {
    pub input: StoreInput,
    pub progress: Arc<Progress>,
    pub started: Instant,
    /// The mapping it was opened with, if any.
    pub mapping: Option<Mapping>,
    receiver: Receiver<Result<Session, OpenFailure>>,
}

impl Opening {
    /// The session, or the error, once the worker is done.
    pub fn poll(&self) -> Option<Result<Session, OpenFailure>> {
        self.receiver.try_recv().ok()
    }

    pub fn cancel(&self) {
        self.progress.cancel.store(true, Ordering::Relaxed);
    }
}

/// How often the opening screen is drawn while a store opens: it shows progress a few times
/// a second on its own timer (input, such as the Cancel button, draws a frame at once), and
/// the store thread asks for a frame only when it is done, since on a software renderer (a VM,
/// a remote desktop) every frame takes CPU from the indexing (docs/performance.md).
pub const PROGRESS_FRAME: std::time::Duration = std::time::Duration::from_millis(250);

/// Starts opening `input` on a background thread that then serves the session: the thread
/// starts the plug-in the choice names (if any), reads the store and indexes it. A plug-in
/// that fails is said, and the store indexed again with its streams on the generic fold.
pub fn open(
    input: StoreInput,
    mapping: Option<Mapping>,
    choice: DomainChoice,
    repaint: Arc<dyn Fn() + Send + Sync>,
) -> Result<Opening, String> {
    let progress = Arc::new(Progress::default());
    let (session_sender, receiver) = channel();
    let thread_progress = Arc::clone(&progress);
    let thread_input = input.clone();
    let thread_mapping = mapping.clone();
    std::thread::Builder::new()
        .name("rewind-store".into())
        .spawn(move || {
            let source = match open_source(&thread_input, thread_mapping, &thread_progress) {
                Ok(source) => source,
                Err(failure) => {
                    let _ = session_sender.send(Err(failure));
                    repaint();
                    return;
                }
            };
            let started = Instant::now();
            let fail = |message: String| {
                let _ = session_sender.send(Err(OpenFailure { message, mapping: None }));
                repaint();
            };
            let resolved = match choice.resolve() {
                Ok(resolved) => resolved,
                Err(message) => return fail(message),
            };
            let mut plugin_fault = resolved.plugin_error.clone();
            let mut domains = Arc::clone(&resolved.domains);
            let mut built = build_engine(
                source.as_ref(),
                Arc::clone(&domains) as Arc<dyn Domain>,
                &thread_progress,
            );
            if let Err(LoadError::Plugin(fault)) = &built {
                // The plug-in's streams fold generically instead; the store is read again.
                domains = resolved.without_plugin(fault);
                plugin_fault = Some(fault.clone());
                thread_progress.done.store(0, Ordering::Relaxed);
                built = build_engine(
                    source.as_ref(),
                    Arc::clone(&domains) as Arc<dyn Domain>,
                    &thread_progress,
                );
            }
            let engine = match built {
                Ok(Some(engine)) => Arc::new(engine),
                Ok(None) => return fail(format!("opening {} was cancelled", source.location())),
                Err(error) => return fail(error.to_string()),
            };
            let mut domain_names: Vec<String> = domains.domains().iter().map(|d| d.name().to_owned()).collect();
            domain_names.push("generic".into());
            let (jobs, job_receiver) = channel();
            let (result_sender, results) = channel();
            let session = Session {
                input: thread_input,
                format: source.describe(),
                skipped: source.skipped().to_vec(),
                mapping_doubt: crate::pipeline::mapping_doubt(
                    source.as_ref(),
                    engine.issues(),
                    engine.index().len() as u64,
                ),
                engine: Arc::clone(&engine),
                build_seconds: started.elapsed().as_secs_f64(),
                domains: if plugin_fault.is_some() {
                    crate::domains::Resolved {
                        domains: Arc::clone(&domains),
                        plugin: None,
                        plugin_error: None,
                    }
                    .describe()
                } else {
                    resolved.describe()
                },
                domain_names,
                money: engine.domain().money_fields(),
                claimed_streams: (0..engine.index().stream_count())
                    .filter(|&s| engine.route(s as StreamIdx).is_some())
                    .count(),
                plugin: resolved.plugin.clone().filter(|_| plugin_fault.is_none()),
                plugin_fault,
                choice,
                jobs,
                results,
            };
            if session_sender.send(Ok(session)).is_err() {
                return;
            }
            repaint();
            serve(&engine, source.as_ref(), &job_receiver, &result_sender, &*repaint);
        })
        .map_err(|e| format!("cannot start a thread to open the store: {e}"))?;
    Ok(Opening {
        input,
        mapping,
        progress,
        started: Instant::now(),
        receiver,
    })
}

fn open_source(
    input: &StoreInput,
    mapping: Option<Mapping>,
    progress: &Arc<Progress>,
) -> Result<Box<dyn EventSource>, OpenFailure> {
    let location = match input {
        StoreInput::Location(location) => location.clone(),
        StoreInput::Sample => {
            return NdjsonStore::from_reader(Path::new(SAMPLE_NAME), SAMPLE_NDJSON)
                .map(|store| Box::new(store) as Box<dyn EventSource>)
                .map_err(|e| OpenFailure {
                    message: e.to_string(),
                    mapping: None,
                });
        }
    };
    let progress = Arc::clone(progress);
    let options = OpenOptions {
        mapping,
        progress: Some(Arc::new(move |read, size| {
            progress.read_bytes.store(read, Ordering::Relaxed);
            progress.file_bytes.store(size, Ordering::Relaxed);
        })),
    };
    open_store_with(&location, &options).map_err(|error| match error {
        StoreError::NeedsMapping {
            what,
            proposal,
            names,
            examples,
            ..
        } => OpenFailure {
            message: format!("{location} holds events in a shape Rewind does not know ({what})"),
            mapping: Some(Box::new(MappingRequest {
                location: location.clone(),
                what,
                proposal: *proposal,
                names,
                examples,
            })),
        },
        other => OpenFailure {
            message: other.to_string(),
            mapping: None,
        },
    })
}

/// Answers jobs until the session is dropped; of several waiting seeks only the newest runs.
fn serve(
    engine: &Engine,
    source: &dyn EventSource,
    jobs: &Receiver<Job>,
    results: &Sender<JobResult>,
    repaint: &dyn Fn(),
) {
    let fetch = StoreFetch(source);
    while let Ok(first) = jobs.recv() {
        let mut pending = vec![first];
        while let Ok(job) = jobs.try_recv() {
            pending.push(job);
        }
        let newest_seek = pending.iter().rposition(|j| matches!(j, Job::Seek(_)));
        for (i, job) in pending.into_iter().enumerate() {
            let result = match job {
                Job::Seek(request) if Some(i) == newest_seek => {
                    let mut result = seek(engine, &fetch, &request);
                    result.seq = request.seq;
                    JobResult::Seek(Box::new(result))
                }
                Job::Seek(_) => continue,
                Job::Search { id, query } => JobResult::Search {
                    id,
                    result: engine.search(&query, &fetch).map_err(|e| e.to_string()),
                },
                Job::Export {
                    stream_id,
                    until,
                    path,
                    replace,
                } => JobResult::Export(export_evidence(engine, source, &stream_id, until, &path, replace)),
                Job::FindEvent { id, event_id } => {
                    let result = find_event(engine, source, &event_id);
                    JobResult::Search { id, result }
                }
            };
            if results.send(result).is_err() {
                return;
            }
            repaint();
        }
    }
}

/// The event whose id is `event_id` (a causation id), as the one ordinal it has, or none.
fn find_event(engine: &Engine, source: &dyn EventSource, event_id: &str) -> Result<Vec<Ordinal>, String> {
    let id = rewind_core::Uuid::parse_str(event_id).map_err(|e| format!("{event_id} is not an event id: {e}"))?;
    let position = source.find_event_id(id).map_err(|e| e.to_string())?;
    let index = engine.index();
    Ok(position
        .and_then(|p| {
            index
                .ordinal_at_or_before_position(p)
                .filter(|&o| index.position(o) == p)
        })
        .into_iter()
        .collect())
}

/// Writes the evidence of `stream_id` up to `until` to `path` (replacing a file there only if
/// `replace`), and says what it wrote.
fn export_evidence(
    engine: &Engine,
    source: &dyn EventSource,
    stream_id: &str,
    until: crate::evidence::Until,
    path: &Path,
    replace: bool,
) -> Result<String, String> {
    let written = crate::evidence::write(source, engine.domain_arc(), stream_id, until, path, replace)?;
    Ok(format!(
        "evidence for {stream_id} ({} events, {} issue(s)) written to {}",
        written.events,
        written.issues,
        path.display()
    ))
}

/// What the UI shows at a cursor: the selected aggregate and what the event changed, every
/// projection's changed rows and a window of rows, the event and the rows of the event list.
pub fn seek(engine: &Engine, fetch: &StoreFetch<'_>, request: &SeekRequest) -> SeekResult {
    let started = Instant::now();
    let mut result = SeekResult {
        cursor: request.cursor,
        stream: request.stream,
        pinned: request.pinned,
        ..SeekResult::default()
    };
    let outcome = (|| -> Result<(), rewind_engine::SeekError> {
        let cursor = request.cursor;
        if let Some(stream) = request.stream {
            result.aggregate = engine.aggregate_at(stream, cursor, fetch)?;
            if let Some(c) = cursor
                && engine.index().headers()[c].stream == stream
            {
                result.aggregate_changes = engine.event_change(c, fetch)?;
            }
            if let Some(pinned) = request.pinned {
                result.pinned_aggregate = engine.aggregate_at(stream, Some(pinned), fetch)?;
            }
        }
        // The pinned position first, so the cursor's states are the ones kept for stepping.
        let pinned = match request.pinned {
            Some(pinned) => Some(engine.projections_around(Some(pinned), fetch)?),
            None => None,
        };
        result.projections = engine
            .projections_around(cursor, fetch)?
            .into_iter()
            .enumerate()
            .map(|(i, projection)| {
                let first_changed = projection
                    .changes
                    .first()
                    .and_then(|c| projection.state.row(&c.key))
                    .map(|r| r.0);
                let row_count = projection.state.row_count();
                let window_start = match request
                    .projection_starts
                    .iter()
                    .find(|(name, _)| *name == projection.name)
                {
                    Some(&(_, start)) => start.min(row_count.saturating_sub(1)),
                    None => first_changed.map_or(0, |i| i.saturating_sub(10)),
                };
                let rows = projection.state.rows(window_start, PROJECTION_WINDOW);
                let changed_at = rows
                    .iter()
                    .map(|(key, _)| {
                        let position = projection.state.changed_at(key)?;
                        engine.index().ordinal_at_or_before_position(position)
                    })
                    .collect();
                let pinned_rows = pinned
                    .as_ref()
                    .and_then(|p| p.get(i))
                    .map(|pinned| rows.iter().map(|(key, _)| pinned.state.row(key).map(|r| r.1)).collect());
                ProjectionView {
                    name: projection.name,
                    row_count,
                    rows,
                    changed_at,
                    pinned_rows,
                    window_start,
                    changes: projection.changes,
                }
            })
            .collect();
        if let Some(c) = cursor {
            let position = engine.index().position(c);
            let event = fetch
                .0
                .read_positions(&[position])
                .map_err(|e| rewind_engine::FetchError(e.to_string()))?
                .pop();
            if let Some(event) = &event {
                result.upcast = engine.upcast_shown(event)?;
            }
            result.event = event;
        }
        if let Some(pinned) = request.pinned.filter(|&p| Some(p) != cursor)
            && let Some(position) = engine.index().position_of(pinned)
        {
            result.pinned_event = fetch
                .0
                .read_positions(&[position])
                .map_err(|e| rewind_engine::FetchError(e.to_string()))?
                .pop();
        }
        let index = engine.index();
        let positions: Vec<u64> = request.rows.iter().filter_map(|&row| index.position_of(row)).collect();
        if !positions.is_empty() {
            result.window_events = fetch
                .0
                .read_positions(&positions)
                .map_err(|e| rewind_engine::FetchError(e.to_string()))?;
        }
        if let Some(stream) = request.row_states_of {
            for &row in &request.rows {
                if index.header(row).is_some_and(|h| h.stream == stream)
                    && let Some(at) = engine.aggregate_at(stream, Some(row), fetch)?
                {
                    result.row_states.push((row, at.state));
                }
            }
        }
        Ok(())
    })();
    if let Err(error) = outcome {
        result.error = Some(error.to_string());
    }
    result.took_ms = started.elapsed().as_secs_f64() * 1000.0;
    result
}
