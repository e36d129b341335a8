//! An opened store: indexed on a background thread, then served by the same thread.
//!
//! The thread that opens the store keeps it (a SQLite connection belongs to one thread) and,
//! once the engine is built, answers the UI's seek requests: the UI thread never reads the
//! file. The UI sends the request it wants for the current frame; the worker always answers
//! the newest one and skips the rest, so dragging the playhead never queues up work.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::time::Instant;

use serde_json::Value;

use rewind_core::{Domain, RecordedEvent, ReplayIssue};
use rewind_engine::{
    AggregateAt, DuplicateIds, Engine, EngineBuilder, EngineConfig, FieldChange, IndexBuilder, Ordinal, Query, Replay,
    RowChange, StreamIdx,
};
use rewind_store::{
    EventSource, Mapping, NdjsonStore, OpenOptions, PostgresLocation, Skipped, StoreError, StoreLocation,
    open_store_with,
};

use crate::fetch::StoreFetch;

/// The bundled sample history, opened by "Load sample bank data" without touching the disk.
pub const SAMPLE_NDJSON: &[u8] = include_bytes!("../sample-data/bank.ndjson");
pub const SAMPLE_NAME: &str = "sample bank data";

/// Where a store comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreInput {
    /// A file, or a PostgreSQL URL given where a file goes.
    File(PathBuf),
    /// A PostgreSQL database, optionally only one table (`schema.table`).
    Database {
        url: String,
        table: Option<String>,
    },
    Sample,
}

impl StoreInput {
    /// What to call it on screen: never with a password.
    pub fn name(&self) -> String {
        match self {
            Self::File(path) => {
                let text = path.display().to_string();
                if rewind_store::is_postgres_url(&text) {
                    rewind_store::redact(&text)
                } else {
                    text
                }
            }
            Self::Database { url, table: None } => rewind_store::redact(url),
            Self::Database {
                url,
                table: Some(table),
            } => format!("{} (table {table})", rewind_store::redact(url)),
            Self::Sample => SAMPLE_NAME.into(),
        }
    }

    /// The key for remembered mappings and recent stores: the path, or the URL without its
    /// password.
    pub fn remembered_as(&self) -> Option<PathBuf> {
        match self {
            Self::File(path) => {
                let text = path.display().to_string();
                Some(if rewind_store::is_postgres_url(&text) {
                    PathBuf::from(rewind_store::redact(&text))
                } else {
                    path.clone()
                })
            }
            Self::Database { url, .. } => Some(PathBuf::from(rewind_store::redact(url))),
            Self::Sample => None,
        }
    }
}

/// Progress of an opening, shared with the UI.
#[derive(Default)]
pub struct Progress {
    /// First pass over a file (NDJSON): bytes read of the file's size.
    pub read_bytes: AtomicU64,
    pub file_bytes: AtomicU64,
    /// Indexing: events done of the store's count.
    pub done: AtomicU64,
    pub total: AtomicU64,
    pub cancel: AtomicBool,
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
    pub path: PathBuf,
    /// What Rewind found, in a sentence.
    pub what: String,
    pub proposal: Mapping,
    pub names: Vec<String>,
    /// An example value of each name (first row or record).
    pub examples: Vec<String>,
}

/// What the UI wants to see this frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeekRequest {
    pub cursor: Option<Ordinal>,
    pub stream: Option<StreamIdx>,
    /// A pinned position to diff the selected aggregate and the shown projection rows against.
    pub pinned: Option<Ordinal>,
    /// The rows of the event list on screen, whose payloads to fetch (ascending; with a
    /// filter, matches that may lie far apart).
    pub rows: Vec<Ordinal>,
    /// Read models paged by the user: the first row to show (by key order), by name. The
    /// others show the rows around the first one the cursor's event changed.
    pub projection_starts: Vec<(&'static str, usize)>,
}

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
    /// The event after upcasting, when its schema was old.
    pub upcast: Option<RecordedEvent>,
    /// The events of the request's rows, in global order.
    pub window_events: Vec<RecordedEvent>,
    pub took_ms: f64,
    pub error: Option<String>,
}

/// The part of a projection the UI shows: its size, what the cursor's event changed, and a
/// window of rows (around the first changed row).
#[derive(Clone, Debug, Default)]
pub struct ProjectionView {
    pub name: &'static str,
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
    pub engine: Arc<Engine>,
    pub build_seconds: f64,
    jobs: Sender<Job>,
    results: Receiver<JobResult>,
}

impl Session {
    pub fn name(&self) -> String {
        self.input.name()
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
/// the store thread asks for a frame only when it is done. Each frame costs the indexing CPU
/// on a software renderer (a VM, a remote desktop): a frame per batch took half of a two-core
/// machine. With the panels' backgrounds (see `App::new`) four frames a second took a quarter
/// of it; without them, 4%.
pub const PROGRESS_FRAME: std::time::Duration = std::time::Duration::from_millis(250);

/// Starts opening `input` on a background thread that then serves the session.
pub fn open(
    input: StoreInput,
    mapping: Option<Mapping>,
    domain: Arc<dyn Domain>,
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
            let domain = crate::domain_for(source.as_ref(), domain);
            let engine = match build(source.as_ref(), domain, &thread_progress) {
                Ok(engine) => Arc::new(engine),
                Err(message) => {
                    let _ = session_sender.send(Err(OpenFailure { message, mapping: None }));
                    repaint();
                    return;
                }
            };
            let (jobs, job_receiver) = channel();
            let (result_sender, results) = channel();
            let session = Session {
                input: thread_input,
                format: source.describe(),
                skipped: source.skipped().to_vec(),
                engine: Arc::clone(&engine),
                build_seconds: started.elapsed().as_secs_f64(),
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
        StoreInput::File(path) => StoreLocation::parse(&path.to_string_lossy()),
        StoreInput::Database { url, table } => {
            StoreLocation::Postgres(PostgresLocation::new(url.clone(), table.clone()))
        }
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
    open_store_with(location, &options).map_err(|error| match error {
        StoreError::NeedsMapping {
            path,
            what,
            proposal,
            names,
            examples,
        } => OpenFailure {
            message: format!(
                "{} holds events in a shape Rewind does not know ({what})",
                path.display()
            ),
            mapping: Some(Box::new(MappingRequest {
                path,
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

/// A batch of events on the folding thread. Freeing a batch (its strings and JSON trees) costs
/// about a tenth of folding it; when the reading thread has time to spare (it is waiting for the
/// fold), the batch goes back to be freed there, else the fold frees it itself. Either way its
/// list goes back to the reading thread, which reads the next batches into it: a list is a
/// block of a few hundred kilobytes, which the allocator would otherwise take fresh and the
/// kernel zero-fill again and again.
pub struct Batch {
    events: Vec<RecordedEvent>,
    /// Batches for the reading thread to free.
    back: std::sync::mpsc::Sender<Vec<RecordedEvent>>,
    /// Lists emptied here, for the reading thread to reuse.
    emptied: std::sync::mpsc::Sender<Vec<RecordedEvent>>,
    returned: Arc<AtomicU64>,
}

/// Batches waiting to be freed by the reading thread, at most.
const RETURNED_BATCHES: u64 = 4;

impl std::ops::Deref for Batch {
    type Target = [RecordedEvent];

    fn deref(&self) -> &[RecordedEvent] {
        &self.events
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        if self.returned.load(Ordering::Relaxed) < RETURNED_BATCHES {
            self.returned.fetch_add(1, Ordering::Relaxed);
            let _ = self.back.send(std::mem::take(&mut self.events));
        } else {
            self.events.clear();
            let _ = self.emptied.send(std::mem::take(&mut self.events));
        }
    }
}

/// Reads every event of `source` on this thread and hands the batches, in global order, to
/// `fold` on a second thread: reading and parsing overlap with folding (two cores). Each batch
/// goes with what `on_read` made of it on this thread (such as the index's stream numbers). With
/// a `domain`, this thread also reads ahead what folding will need ([`Domain::prepare`]) when
/// the fold is behind. Stops early when `keep_going` says so after a batch.
pub fn fold_all<T: Send, X: Send>(
    source: &dyn EventSource,
    domain: Option<&dyn Domain>,
    keep_going: &mut dyn FnMut() -> bool,
    on_read: &mut dyn FnMut(&[RecordedEvent]) -> X,
    fold: impl FnOnce(&mut dyn Iterator<Item = (Batch, X)>) -> T + Send,
) -> rewind_store::Result<Option<T>> {
    let (batches, received) = std::sync::mpsc::sync_channel::<(Vec<RecordedEvent>, X)>(4);
    let (back, returned) = channel::<Vec<RecordedEvent>>();
    let (emptied, reusable) = channel::<Vec<RecordedEvent>>();
    // Lists freed of their events here, to read into again.
    let mut spare: Vec<Vec<RecordedEvent>> = Vec::new();
    let waiting = Arc::new(AtomicU64::new(0));
    let folder_waiting = Arc::clone(&waiting);
    std::thread::scope(|scope| {
        let folder = scope.spawn(move || {
            fold(&mut received.into_iter().map(|(events, made)| {
                let batch = Batch {
                    events,
                    back: back.clone(),
                    emptied: emptied.clone(),
                    returned: Arc::clone(&folder_waiting),
                };
                (batch, made)
            }))
        });
        let mut stopped = false;
        let read = source.read_all(source.preferred_batch(), &mut |read| {
            let made = on_read(read);
            let list = spare.pop().or_else(|| reusable.try_recv().ok()).unwrap_or_default();
            let batch = std::mem::replace(read, list);
            let sent = match batches.try_send((batch, made)) {
                Ok(()) => Ok(()),
                Err(std::sync::mpsc::TrySendError::Full(sending)) => {
                    // The fold is behind: read ahead for it, then free what it is done with,
                    // while waiting for it.
                    let prepared = match domain {
                        Some(domain) => prepare_while_full(domain, sending, &batches),
                        None => Err(sending),
                    };
                    match prepared {
                        Ok(()) => Ok(()),
                        Err(sending) => {
                            while let Ok(mut done) = returned.try_recv() {
                                waiting.fetch_sub(1, Ordering::Relaxed);
                                done.clear();
                                spare.push(done);
                            }
                            batches.send(sending).map_err(|_| ())
                        }
                    }
                }
                Err(std::sync::mpsc::TrySendError::Disconnected(_)) => Err(()),
            };
            if sent.is_err() || !keep_going() {
                stopped = true;
                return Err(rewind_store::StoreError::Open {
                    path: PathBuf::from(source.location()),
                    reason: "stopped".into(),
                });
            }
            Ok(())
        });
        drop(batches);
        let fold_result = folder.join();
        match (read, fold_result) {
            (Ok(()), Ok(value)) => Ok(Some(value)),
            (Err(_), _) if stopped => Ok(None),
            (Err(error), _) => Err(error),
            (Ok(()), Err(_)) => Err(rewind_store::StoreError::Open {
                path: PathBuf::from(source.location()),
                reason: "replay stopped unexpectedly".into(),
            }),
        }
    })
}

/// Events [`prepare_while_full`] prepares between two tries to send.
const PREPARED_BETWEEN_TRIES: usize = 512;

/// Prepares a batch's events for folding (checks their metadata, then [`Domain::prepare`])
/// while the fold is behind, in steps, trying to send the batch after each: when the fold has
/// caught up, the rest of the batch goes unprepared (the fold reads it itself) rather than make
/// the fold wait. So the reading thread takes on as much of the decoding as it has time for, and
/// no more. The batch is handed back if it could not be sent.
fn prepare_while_full<X>(
    domain: &dyn Domain,
    mut sending: (Vec<RecordedEvent>, X),
    batches: &std::sync::mpsc::SyncSender<(Vec<RecordedEvent>, X)>,
) -> Result<(), (Vec<RecordedEvent>, X)> {
    let mut prepared = 0;
    while prepared < sending.0.len() {
        let end = (prepared + PREPARED_BETWEEN_TRIES).min(sending.0.len());
        for event in &mut sending.0[prepared..end] {
            // The fold checks every event's metadata; checked here, it finds it done.
            let _ = event.metadata.check();
            domain.prepare(event);
        }
        prepared = end;
        match batches.try_send(sending) {
            Ok(()) => return Ok(()),
            Err(std::sync::mpsc::TrySendError::Full(back) | std::sync::mpsc::TrySendError::Disconnected(back)) => {
                sending = back;
            }
        }
    }
    Err(sending)
}

/// Replays every event of `source` (the `rewind verify` path), reading and folding on two threads.
pub fn replay_all(source: &dyn EventSource, domain: Arc<dyn Domain>) -> rewind_store::Result<Replay> {
    let expected = source.event_count()? as usize;
    let trusted = source.unique_event_ids();
    let reading = Arc::clone(&domain);
    let replay = fold_all(source, Some(reading.as_ref()), &mut || true, &mut |_| (), |batches| {
        let mut replay = Replay::for_store(domain, expected, trusted);
        for (batch, ()) in batches {
            replay.apply_all(&batch);
        }
        replay
    })?;
    // `fold_all` stops early only when asked to, which this never does.
    let mut replay = replay.ok_or_else(|| rewind_store::StoreError::Open {
        path: PathBuf::from(source.location()),
        reason: "replay stopped".into(),
    })?;
    replay.add_issues(ids_the_store_missed(source, trusted, &mut || true, None)?.unwrap_or_default());
    Ok(replay)
}

/// After a full read that `trusted` the store's unique ids: if its unique index turned out not
/// to cover every id, every event whose id an earlier event had, found in a pass of its own
/// over `source` (nothing to find otherwise); `None` if stopped.
fn ids_the_store_missed(
    source: &dyn EventSource,
    trusted: bool,
    keep_going: &mut dyn FnMut() -> bool,
    progress: Option<&Progress>,
) -> rewind_store::Result<Option<Vec<ReplayIssue>>> {
    if !trusted || source.unique_event_ids() {
        return Ok(Some(Vec::new()));
    }
    if let Some(progress) = progress {
        // The progress bar runs again.
        progress.done.store(0, Ordering::Relaxed);
    }
    let expected = source.event_count()? as usize;
    fold_all(source, None, keep_going, &mut |_| (), |batches| {
        let mut ids = DuplicateIds::with_capacity(expected);
        let mut issues = Vec::new();
        let mut done = 0;
        for (batch, ()) in batches {
            issues.extend(batch.iter().filter_map(|event| ids.check(event)));
            done += batch.len() as u64;
            if let Some(progress) = progress {
                progress.done.store(done, Ordering::Relaxed);
            }
        }
        issues
    })
}

/// Builds the engine over `source` with progress; `None` if cancelled through `progress`.
pub fn build_engine(
    source: &dyn EventSource,
    domain: Arc<dyn Domain>,
    progress: &Progress,
) -> rewind_store::Result<Option<Engine>> {
    let total = source.event_count()?;
    progress.total.store(total, Ordering::Relaxed);
    let trusted = source.unique_event_ids();
    let mut config = EngineConfig::for_size(total);
    config.check_event_ids = !trusted;
    let keep_going = &mut || !progress.cancel.load(Ordering::Relaxed);
    let reading = Arc::clone(&domain);
    // The index is built on this thread, as the events are read; the fold, the slower half,
    // on the other.
    let mut index = IndexBuilder::new(total as usize);
    let builder = fold_all(
        source,
        Some(reading.as_ref()),
        keep_going,
        &mut |events| index.push(events),
        |batches| {
            let mut builder = EngineBuilder::new(domain, config, total as usize);
            for (batch, streams) in batches {
                builder.push_indexed(&batch, &streams);
                progress.done.store(builder.event_count() as u64, Ordering::Relaxed);
            }
            builder
        },
    )?;
    let Some(builder) = builder else {
        return Ok(None);
    };
    // Finishing is the peak of memory; first hand back what the reading was done with.
    crate::allocator::give_back_freed_memory();
    let mut engine = builder.finish_indexed(index);
    let Some(issues) = ids_the_store_missed(source, trusted, keep_going, Some(progress))? else {
        return Ok(None);
    };
    engine.add_issues(issues);
    Ok(Some(engine))
}

fn build(source: &dyn EventSource, domain: Arc<dyn Domain>, progress: &Progress) -> Result<Engine, String> {
    match build_engine(source, domain, progress) {
        Ok(Some(engine)) => Ok(engine),
        Ok(None) => Err(format!("opening {} was cancelled", source.location())),
        Err(e) => Err(e.to_string()),
    }
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
                    JobResult::Seek(Box::new(seek(engine, &fetch, &request)))
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
                result.upcast = engine.domain().upcast(event).ok().flatten();
            }
            result.event = event;
        }
        let index = engine.index();
        let positions: Vec<u64> = request.rows.iter().filter_map(|&row| index.position_of(row)).collect();
        if !positions.is_empty() {
            result.window_events = fetch
                .0
                .read_positions(&positions)
                .map_err(|e| rewind_engine::FetchError(e.to_string()))?;
        }
        Ok(())
    })();
    if let Err(error) = outcome {
        result.error = Some(error.to_string());
    }
    result.took_ms = started.elapsed().as_secs_f64() * 1000.0;
    result
}
