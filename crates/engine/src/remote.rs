//! The replay's side of domains that fold elsewhere (plug-ins): which events go to which
//! folder, batches in flight, and what their answers mean here (issues, read-model rows,
//! checkpoints).

use std::collections::VecDeque;
use std::sync::Arc;

use rewind_core::{
    BatchFold, Domain, FoldError, FoldItem, FoldOutcome, FoldSession, ProjectionReads, RecordedEvent, ReplayIssue,
    ReplayIssueKind,
};

use crate::replay::issue_kind;

/// Events a batch holds before it is sent: enough that a line carries about a thousand events.
const BATCH_EVENTS: usize = 1024;
/// Batches a folder may have in flight before the replay waits for the oldest answer.
const IN_FLIGHT: usize = 4;

/// What the replay remembers of an event it sent, to read its outcome.
#[derive(Clone, Debug)]
struct Sent {
    position: u64,
    stream: u32,
    stream_id: rewind_core::SmolStr,
    /// How many of its stream's events had been sent, this one included (for checkpoints).
    stream_events: u32,
}

/// One folder (one plug-in) during a replay.
struct Folder {
    fold: Arc<dyn BatchFold>,
    session: Option<Box<dyn FoldSession>>,
    reads: Vec<ProjectionReads>,
    /// The events of the batch being made.
    pending: Vec<Sent>,
    in_flight: VecDeque<Vec<Sent>>,
    /// The folder failed; nothing more is sent to it.
    failed: bool,
}

/// A state a folder answered, kept as a checkpoint: `(stream, its events folded, state)`.
pub type RemoteCheckpoint = (u32, u32, Arc<str>);

/// A row a folder's read model changed: the folder's number (as [`Domain::batch_fold_on`]
/// numbers them), the read model's place among those the folder declared, the position, the
/// key and the row.
pub type RemoteRow = (usize, usize, u64, rewind_core::SmolStr, Option<Arc<str>>);

/// The folders of a replay and what they answered so far.
#[derive(Default)]
pub(crate) struct RemoteFolds {
    /// By folder number ([`Domain::batch_fold_on`]).
    folders: Vec<(usize, Folder)>,
    /// For each route, the index in `folders` of the folder that replays it.
    route_folder: Vec<Option<usize>>,
    /// Issues the folders answered, in the order they came.
    pub issues: Vec<ReplayIssue>,
    /// States answered for checkpoints, taken by the engine's builder.
    pub checkpoints: Vec<RemoteCheckpoint>,
    /// Rows the folders' read models changed.
    pub rows: Vec<RemoteRow>,
    /// The first fault: what failed, and where.
    pub fault: Option<FoldError>,
}

impl RemoteFolds {
    pub fn new(domain: &dyn Domain) -> Self {
        let folds = domain.batch_folds();
        if folds.is_empty() {
            return Self::default();
        }
        let folders: Vec<(usize, Folder)> = folds
            .into_iter()
            .map(|(id, fold)| {
                let reads = fold.projections();
                (
                    id,
                    Folder {
                        fold,
                        session: None,
                        reads,
                        pending: Vec::new(),
                        in_flight: VecDeque::new(),
                        failed: false,
                    },
                )
            })
            .collect();
        let routes = domain.aggregates().len();
        let route_folder = (0..routes as u32)
            .map(|route| {
                let (id, _) = domain.batch_fold_on(route)?;
                folders.iter().position(|(folder, _)| *folder == id)
            })
            .collect();
        Self {
            folders,
            route_folder,
            ..Self::default()
        }
    }

    /// Whether any domain folds elsewhere.
    pub fn any(&self) -> bool {
        !self.folders.is_empty()
    }

    /// The folder that replays streams on `route`, if one does.
    pub fn folder_of(&self, route: u32) -> Option<usize> {
        self.route_folder.get(route as usize).copied().flatten()
    }

    /// Sends `event` to the folders that want it: the one whose aggregate replays its stream
    /// (`folder`, with that aggregate's name), and any whose read models read it.
    pub fn push(
        &mut self,
        event: &RecordedEvent,
        stream: u32,
        folder: Option<(usize, &str)>,
        stream_events: u32,
        want_state: bool,
    ) {
        for (index, (_, state)) in self.folders.iter_mut().enumerate() {
            if state.failed {
                continue;
            }
            let aggregate = folder.filter(|(f, _)| *f == index).map(|(_, aggregate)| aggregate);
            if aggregate.is_none() && !state.reads.iter().any(|r| r.reads(event)) {
                continue;
            }
            let item = FoldItem {
                event,
                stream,
                aggregate,
                want_state: want_state && aggregate.is_some(),
            };
            let pushed = state.session().and_then(|session| session.push(&[item]));
            match pushed {
                Ok(()) => state.pending.push(Sent {
                    position: event.global_position,
                    stream,
                    stream_id: event.stream_id.clone(),
                    stream_events,
                }),
                Err(error) => Self::failed(&mut self.fault, state, error, Some(event.global_position)),
            }
        }
    }

    /// Sends full batches, and reads answers while too many are in flight.
    pub fn step(&mut self) {
        for index in 0..self.folders.len() {
            if self.folders[index].1.pending.len() >= BATCH_EVENTS {
                self.flush(index);
            }
            while self.folders[index].1.in_flight.len() > IN_FLIGHT && !self.folders[index].1.failed {
                self.receive(index);
            }
        }
    }

    /// Sends what is left and reads every answer.
    pub fn finish(&mut self) {
        for index in 0..self.folders.len() {
            self.flush(index);
            while !self.folders[index].1.in_flight.is_empty() && !self.folders[index].1.failed {
                self.receive(index);
            }
            // The folder's states are not needed after the pass.
            self.folders[index].1.session = None;
        }
    }

    fn flush(&mut self, index: usize) {
        let state = &mut self.folders[index].1;
        if state.failed || state.pending.is_empty() {
            return;
        }
        let sent = std::mem::take(&mut state.pending);
        let positions = span(&sent);
        match state.session().and_then(|session| session.flush()) {
            Ok(()) => state.in_flight.push_back(sent),
            Err(error) => Self::failed(&mut self.fault, state, error, positions.map(|(first, _)| first)),
        }
    }

    fn receive(&mut self, index: usize) {
        let state = &mut self.folders[index].1;
        let Some(sent) = state.in_flight.pop_front() else {
            return;
        };
        let answer = state.session().and_then(|session| session.receive());
        match answer {
            Ok(outcomes) => {
                for outcome in outcomes {
                    self.take(index, &sent, outcome);
                }
            }
            Err(mut error) => {
                error.positions = span(&sent);
                let state = &mut self.folders[index].1;
                Self::failed(&mut self.fault, state, error, None);
            }
        }
    }

    /// What one outcome means here.
    fn take(&mut self, index: usize, sent: &[Sent], outcome: FoldOutcome) {
        let Some(event) = sent.get(outcome.index) else {
            self.fault.get_or_insert_with(|| {
                FoldError::new(format!(
                    "the plug-in answered for event {} of a batch of {}",
                    outcome.index,
                    sent.len()
                ))
            });
            return;
        };
        let issue = |kind: ReplayIssueKind, message: String| ReplayIssue {
            position: event.position,
            stream_id: event.stream_id.to_string(),
            kind,
            message,
        };
        if let Some(error) = &outcome.rejected {
            self.issues.push(issue(issue_kind(error), error.to_string()));
        }
        for violation in outcome.violations {
            self.issues.push(issue(
                ReplayIssueKind::InvariantViolated {
                    invariant: violation.invariant,
                },
                violation.message,
            ));
        }
        if let Some(state) = outcome.state {
            self.checkpoints.push((event.stream, event.stream_events, state));
        }
        let (folder, state) = &self.folders[index];
        for update in outcome.rows {
            // The answer was held to the read models the folder declared.
            if let Some(place) = state.reads.iter().position(|r| r.name == update.projection) {
                self.rows.push((*folder, place, event.position, update.key, update.row));
            }
        }
    }

    fn failed(fault: &mut Option<FoldError>, folder: &mut Folder, mut error: FoldError, at: Option<u64>) {
        folder.failed = true;
        folder.session = None;
        if error.positions.is_none() {
            error.positions = at.map(|p| (p, p));
        }
        fault.get_or_insert(error);
    }
}

impl Folder {
    /// The session, opened at first use.
    fn session(&mut self) -> Result<&mut Box<dyn FoldSession>, FoldError> {
        if self.session.is_none() {
            self.session = Some(self.fold.session()?);
        }
        self.session
            .as_mut()
            .ok_or_else(|| FoldError::new("the plug-in's session is gone"))
    }
}

/// The first and last positions of a batch.
fn span(sent: &[Sent]) -> Option<(u64, u64)> {
    Some((sent.first()?.position, sent.last()?.position))
}
