//! The loading pipeline, with no UI in it: read a store on one thread and fold it on another,
//! into a full replay (`rewind verify`) or an engine (the app, `rewind bench`). The fold is a
//! stage handed in as a closure, so what folds (in this process or elsewhere) is the caller's.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::channel;

use rewind_core::{Domain, FoldError, RecordedEvent, ReplayIssue};
use rewind_engine::{DuplicateIds, Engine, EngineBuilder, EngineConfig, IndexBuilder, Replay};
use rewind_store::{EventSource, StoreError};

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

/// A batch of events on the folding thread. Freeing a batch (its strings and JSON trees) costs
/// a noticeable part of folding it; when the reading thread has time to spare (it is waiting for the
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
                return Err(StoreError::Cancelled {
                    location: source.location(),
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
            (Ok(()), Err(_)) => Err(StoreError::Open {
                path: source.location().into(),
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

/// Why loading a store stopped: the store could not be read, a domain plug-in failed, or the
/// user cancelled.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A domain plug-in failed; the replay of the streams it claimed is incomplete.
    #[error("the domain plug-in failed: {0}")]
    Plugin(FoldError),
}

/// Replays every event of `source` (the `rewind verify` path), reading and folding on two threads.
pub fn replay_all(source: &dyn EventSource, domain: Arc<dyn Domain>) -> Result<Replay, LoadError> {
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
    let mut replay = replay.ok_or_else(|| StoreError::Cancelled {
        location: source.location(),
    })?;
    replay.finish();
    if let Some(fault) = replay.fault() {
        return Err(LoadError::Plugin(fault.clone()));
    }
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
) -> Result<Option<Engine>, LoadError> {
    build_engine_with(source, domain, progress, None)
}

/// [`build_engine`], keeping each stream's state every `stream_interval` of its events when
/// given (instead of the engine's default).
pub fn build_engine_with(
    source: &dyn EventSource,
    domain: Arc<dyn Domain>,
    progress: &Progress,
    stream_interval: Option<usize>,
) -> Result<Option<Engine>, LoadError> {
    let total = source.event_count()?;
    progress.total.store(total, Ordering::Relaxed);
    let trusted = source.unique_event_ids();
    let mut config = EngineConfig::for_size(total);
    config.check_event_ids = !trusted;
    if let Some(interval) = stream_interval {
        config.stream_interval = interval.max(1);
    }
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
    if let Some(fault) = engine.fault() {
        return Err(LoadError::Plugin(fault.clone()));
    }
    let Some(issues) = ids_the_store_missed(source, trusted, keep_going, Some(progress))? else {
        return Ok(None);
    };
    engine.add_issues(issues);
    Ok(Some(engine))
}

/// Why a store read through a mapping was probably read wrongly, if it was: version
/// duplicates and gaps in more than a few streams, and in more than one event in a hundred,
/// are what streams merged or split by the wrong column, or versions counted from the wrong
/// base, look like. `None` for Rewind's own format, whose streams are what they say.
pub fn mapping_doubt(source: &dyn EventSource, issues: &[rewind_core::ReplayIssue], events: u64) -> Option<String> {
    use rewind_core::ReplayIssueKind;
    if source.is_native() {
        return None;
    }
    let version_issues: Vec<&rewind_core::ReplayIssue> = issues
        .iter()
        .filter(|issue| {
            matches!(
                issue.kind,
                ReplayIssueKind::VersionDuplicate { .. } | ReplayIssueKind::VersionGap { .. }
            )
        })
        .collect();
    let mut streams: Vec<&str> = version_issues.iter().map(|issue| issue.stream_id.as_str()).collect();
    streams.sort_unstable();
    streams.dedup();
    (streams.len() >= 3 && version_issues.len() as u64 * 100 >= events).then(|| {
        format!(
            "the mapping is likely wrong: {} version duplicates or gaps in {} streams of {events} events; \
             check which column is the stream (a stream may be told by two columns: a category and an id), \
             and whether versions count from 0 (the mapping's version_base; docs/mapping.md)",
            version_issues.len(),
            streams.len()
        )
    })
}
