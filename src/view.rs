//! The view of an opened store: where the cursor is, what is selected, pinned and filtered,
//! and the last seek's result. Panels read it; it changes only through [`View::handle`].

use rewind_engine::filter::{Bound, time_bound};
use rewind_engine::{
    CursorMode, EventHeader, Ordinal, Query, StreamIdx, Timeline, TimelineCommand, TimelineIndex, Times,
};

use crate::command::{Tab, ViewCommand};
use crate::session::{Job, JobResult, SeekRequest, SeekResult, Session};
use crate::theme;

/// UI state of an opened session. Never persisted.
pub struct View {
    pub timeline: Timeline,
    pub selected_stream: Option<StreamIdx>,
    pub pinned: Option<Ordinal>,
    pub diff_mode: bool,
    pub tab: Tab,
    pub result: Option<SeekResult>,
    last_request: Option<SeekRequest>,
    /// Rows of the event list on screen last frame, ascending (payloads are fetched for them).
    pub visible_rows: Vec<Ordinal>,
    /// Read models the user paged through, and the first row shown of each.
    pub projection_starts: Vec<(String, usize)>,
    /// The cursor moved by something other than the event list: scroll the list to it.
    pub scroll_to_cursor: bool,
    pub timeline_view: TrackView,
    /// Why the last Go to could not go where it was asked.
    pub position_error: Option<String>,
    pub related: Option<(String, Vec<Ordinal>)>,
    pub filter: EventFilter,
    /// Whether a generic state shows the storing library's bookkeeping fields.
    pub bookkeeping: Bookkeeping,
    next_job_id: u64,
    pending_search: Option<(u64, SearchPurpose)>,
    /// The last message for the status bar, kept until the next or until dismissed.
    pub status: Option<String>,
    /// The user has read that the plug-in failed.
    pub plugin_fault_dismissed: bool,
}

/// The timeline's visible time range (zoom and pan), in milliseconds; `None` shows everything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrackView {
    pub range: Option<(i64, i64)>,
    /// The cursor when the view last followed it: a zoomed view pans to the cursor when it
    /// moves out of sight (a jump, a step, playback), not when the user pans away from it.
    followed: Option<Ordinal>,
}

#[derive(Clone, Debug)]
enum SearchPurpose {
    Correlated(String),
    Event(String),
    Filter,
}

/// The storing library's own fields in a generic state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bookkeeping {
    Hidden,
    Shown,
}

/// What the filter bar asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilterRequest {
    pub event_type: Option<u16>,
    /// Text anywhere in the payload, or conditions such as `amount_cents > 100000` (the
    /// language of [`rewind_engine::Condition`]).
    pub text: String,
    /// Recorded at or after this date or time (empty: from the start).
    pub from: String,
    /// Recorded at or before this date or time (a date includes its day; empty: to the end).
    pub to: String,
    /// Match payloads as stored, not as the domain reads them.
    pub stored: bool,
}

impl FilterRequest {
    fn is_empty(&self) -> bool {
        self.event_type.is_none() && self.text.is_empty() && self.from.is_empty() && self.to.is_empty()
    }
}

/// The event list's filter: by type and time (from the index) and by payload text or
/// conditions.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    /// The filter applied.
    pub applied: FilterRequest,
    /// The matching events, once the search is done; `None` shows every event.
    pub matches: Option<Vec<Ordinal>>,
    pub searching: bool,
    pub error: Option<String>,
    /// How the filter was read, when that is not plain (a stream's id taken as its stream).
    pub note: Option<String>,
    /// Stepping through one stream: that stream and the matches among its events (kept in
    /// step with `matches` and the mode by the view, so panels need not sift every frame).
    pub in_stream: Option<(StreamIdx, Vec<Ordinal>)>,
}

impl View {
    pub fn new(session: &Session) -> Self {
        Self {
            timeline: Timeline::new(session.engine.index()),
            selected_stream: None,
            pinned: None,
            diff_mode: false,
            tab: Tab::State,
            result: None,
            last_request: None,
            visible_rows: Vec::new(),
            projection_starts: Vec::new(),
            scroll_to_cursor: true,
            timeline_view: TrackView::default(),
            position_error: None,
            related: None,
            filter: EventFilter::default(),
            bookkeeping: Bookkeeping::Hidden,
            next_job_id: 0,
            pending_search: None,
            status: None,
            plugin_fault_dismissed: false,
        }
    }

    /// The stream whose state is shown: the selected one, or the current event's.
    pub fn state_stream(&self, session: &Session) -> Option<StreamIdx> {
        self.selected_stream.or_else(|| {
            self.timeline
                .cursor()
                .and_then(|c| session.engine.index().header(c))
                .map(|h| h.stream)
        })
    }

    /// The position the panels show: the one the last seek answered (the inspector and state
    /// show its event), or the cursor before any answer. The playhead shows the cursor itself.
    pub fn shown_cursor(&self) -> Option<Ordinal> {
        self.result
            .as_ref()
            .map_or_else(|| self.timeline.cursor(), |r| r.cursor)
    }

    /// Whether what is shown answers the last request sent (no seek in flight) and the cursor
    /// is still where it asked.
    pub fn seek_settled(&self, session: &Session) -> bool {
        self.result.as_ref().is_some_and(|r| {
            self.last_request.as_ref().is_none_or(|last| r.seq == last.seq)
                && r.cursor == self.timeline.cursor()
                && r.stream == self.state_stream(session)
                && r.pinned == self.pinned
        })
    }

    /// Applies one command. Every command is handled here, and only here.
    pub fn handle(&mut self, session: &Session, command: ViewCommand) {
        self.handle_command(session, command);
        self.sync_stream_matches(session);
    }

    fn handle_command(&mut self, session: &Session, command: ViewCommand) {
        let index = session.engine.index();
        match command {
            ViewCommand::Timeline(command) => {
                // Stepping through one stream is watching it.
                if let TimelineCommand::SetMode(CursorMode::Stream(s)) = command {
                    self.selected_stream = Some(s);
                }
                self.timeline.handle(index, command);
                self.scroll_to_cursor = true;
            }
            ViewCommand::SelectStream(stream) => {
                self.selected_stream = stream;
                self.pinned = None;
                match stream {
                    Some(s) if self.timeline.mode() != CursorMode::Global => {
                        self.timeline
                            .handle(index, TimelineCommand::SetMode(CursorMode::Stream(s)));
                    }
                    None => self
                        .timeline
                        .handle(index, TimelineCommand::SetMode(CursorMode::Global)),
                    Some(_) => {}
                }
            }
            ViewCommand::ShowEvent(ordinal) => {
                let stream = index.header(ordinal).map(|h| h.stream);
                if let Some(watched) = self.selected_stream
                    && stream != Some(watched)
                {
                    let name =
                        |s: Option<StreamIdx>| s.and_then(|s| index.stream(s)).map_or("?", |e| e.stream_id).to_owned();
                    self.status = Some(format!(
                        "stopped watching {}: position {} is an event of {}",
                        name(Some(watched)),
                        index.position_of(ordinal).unwrap_or(0),
                        name(stream)
                    ));
                    self.selected_stream = None;
                    self.pinned = None;
                    self.diff_mode = false;
                    self.timeline
                        .handle(index, TimelineCommand::SetMode(CursorMode::Global));
                }
                self.timeline.handle(index, TimelineCommand::SeekTo(ordinal));
                self.scroll_to_cursor = true;
            }
            ViewCommand::Pin => self.pinned = self.timeline.cursor(),
            ViewCommand::Unpin => {
                self.pinned = None;
                self.diff_mode = false;
            }
            ViewCommand::SetDiffMode(on) => self.diff_mode = on && self.pinned.is_some(),
            ViewCommand::FindFirstViolation => match session.engine.first_violation() {
                Some(issue) => {
                    if let Some(ordinal) = index.ordinal_at_or_before_position(issue.position) {
                        let message = format!("first violation: {}", issue.message);
                        self.handle(session, ViewCommand::ShowEvent(ordinal));
                        self.tab = Tab::State;
                        self.status = Some(message);
                    }
                }
                None => self.status = Some("no invariant is violated anywhere in this store".into()),
            },
            ViewCommand::FindCorrelated(correlation_id) => {
                let query = Query {
                    correlation_id: Some(correlation_id.clone()),
                    ..Query::default()
                };
                let id = self.search(SearchPurpose::Correlated(correlation_id));
                session.send(Job::Search { id, query });
            }
            ViewCommand::FindEvent(event_id) => {
                let id = self.search(SearchPurpose::Event(event_id.clone()));
                session.send(Job::FindEvent { id, event_id });
            }
            ViewCommand::SetTab(tab) => self.tab = tab,
            ViewCommand::ShowBookkeeping(show) => {
                self.bookkeeping = if show { Bookkeeping::Shown } else { Bookkeeping::Hidden };
            }
            ViewCommand::PageProjection(name, start) => {
                self.projection_starts.retain(|(n, _)| *n != name);
                if let Some(start) = start {
                    self.projection_starts.push((name, start));
                }
            }
            ViewCommand::ApplyFilter(request) => self.apply_filter(session, &request),
            ViewCommand::GoTo(text) => match parse_position(&text).and_then(|target| go_to(self, session, target)) {
                Ok(commands) => {
                    self.position_error = None;
                    for command in commands {
                        self.handle(session, ViewCommand::Timeline(command));
                    }
                }
                Err(message) => self.position_error = Some(message),
            },
            ViewCommand::SetTrackRange(range) => self.timeline_view.range = range,
            ViewCommand::ShowRows(rows) => self.visible_rows = rows,
            ViewCommand::ScrolledToCursor => self.scroll_to_cursor = false,
            ViewCommand::DismissStatus => self.status = None,
            ViewCommand::DismissPluginFault => self.plugin_fault_dismissed = true,
        }
    }

    /// A new search's id, remembered with what it is for.
    fn search(&mut self, purpose: SearchPurpose) -> u64 {
        self.next_job_id += 1;
        self.pending_search = Some((self.next_job_id, purpose));
        self.next_job_id
    }

    fn apply_filter(&mut self, session: &Session, request: &FilterRequest) {
        let request = FilterRequest {
            event_type: request.event_type,
            text: request.text.trim().to_owned(),
            from: request.from.trim().to_owned(),
            to: request.to.trim().to_owned(),
            stored: request.stored,
        };
        self.filter.error = None;
        self.filter.applied = request.clone();
        if request.is_empty() {
            self.filter.matches = None;
            self.filter.in_stream = None;
            self.filter.searching = false;
            return;
        }
        self.filter.note = None;
        match filter_query(&request) {
            Ok(mut query) => {
                // A stream's id typed bare means that stream's events; quoted, the text.
                if let Some(text) = query.condition.as_ref().and_then(|c| c.plain_text())
                    && !request.text.starts_with(['"', '\''])
                    && let Some(stream) = session.engine.index().stream_idx(text)
                {
                    self.filter.note = Some(format!(
                        "the events of stream {text} (in quotes, \"{text}\" finds the text anywhere)"
                    ));
                    query.stream = Some(stream);
                    query.condition = None;
                }
                let id = self.search(SearchPurpose::Filter);
                self.filter.searching = true;
                session.send(Job::Search { id, query });
            }
            Err(error) => {
                // Nothing is filtered by what does not read.
                self.filter.searching = false;
                self.filter.matches = None;
                self.filter.in_stream = None;
                self.filter.error = Some(error);
            }
        }
    }

    /// The filter's matches in the stream stepped through, when both are there: worked out
    /// once when either changes (a change of matches empties it first).
    fn sync_stream_matches(&mut self, session: &Session) {
        let stream = match self.timeline.mode() {
            CursorMode::Stream(s) => Some(s),
            CursorMode::Global => None,
        };
        match (stream, &self.filter.matches) {
            (Some(s), Some(matches)) => {
                if self.filter.in_stream.as_ref().is_none_or(|(kept, _)| *kept != s) {
                    let headers = session.engine.index().headers();
                    let here = matches.iter().copied().filter(|&o| headers[o].stream == s).collect();
                    self.filter.in_stream = Some((s, here));
                }
            }
            _ => self.filter.in_stream = None,
        }
    }

    /// Takes in what the session's worker answered.
    pub fn receive(&mut self, session: &Session, result: JobResult) {
        self.receive_result(session, result);
        self.sync_stream_matches(session);
    }

    fn receive_result(&mut self, session: &Session, result: JobResult) {
        match result {
            JobResult::Seek(result) => self.result = Some(*result),
            JobResult::Export(Ok(done)) => self.status = Some(done),
            JobResult::Export(Err(error)) => self.status = Some(format!("⚠ {error}")),
            JobResult::Search { id, result } => {
                let Some((pending, purpose)) = self.pending_search.take() else {
                    return;
                };
                if pending != id {
                    self.pending_search = Some((pending, purpose));
                    return;
                }
                match (purpose, result) {
                    (SearchPurpose::Correlated(id), Ok(found)) => self.related = Some((id, found)),
                    (SearchPurpose::Filter, result) => {
                        self.filter.searching = false;
                        match result {
                            Ok(found) => {
                                self.filter.matches = Some(found);
                                self.filter.in_stream = None;
                            }
                            Err(message) => self.filter.error = Some(message),
                        }
                    }
                    (SearchPurpose::Event(id), Ok(found)) => match found.first() {
                        Some(&ordinal) => self.handle(session, ViewCommand::ShowEvent(ordinal)),
                        None => self.status = Some(format!("no event with id {id} in this store")),
                    },
                    (_, Err(message)) => self.status = Some(message),
                }
            }
        }
    }

    /// The seek the current frame needs, if it differs from the last one sent.
    pub fn seek_request(&mut self, session: &Session) -> Option<SeekRequest> {
        let request = SeekRequest {
            cursor: self.timeline.cursor(),
            stream: self.state_stream(session),
            pinned: self.pinned,
            rows: self.visible_rows.clone(),
            row_states_of: match self.timeline.mode() {
                rewind_engine::CursorMode::Stream(s) => Some(s),
                rewind_engine::CursorMode::Global => None,
            },
            projection_starts: self.projection_starts.clone(),
            seq: self.last_request.as_ref().map_or(1, |last| last.seq + 1),
        };
        if self.last_request.as_ref() == Some(&request) {
            return None;
        }
        self.last_request = Some(request.clone());
        Some(request)
    }

    /// Moves on by a frame of playback, and pans a zoomed timeline to the cursor when the
    /// cursor moved out of sight (not when the user panned away from it).
    pub fn tick(&mut self, session: &Session, seconds: f64) {
        let index = session.engine.index();
        if self.timeline.tick(index, seconds) {
            self.scroll_to_cursor = true;
        }
        let headers = index.headers();
        let cursor = self.timeline.cursor();
        let (axis, _) = Axis::of(index);
        if let (Some((start, end)), Some(c)) = (self.timeline_view.range, cursor)
            && self.timeline_view.followed != cursor
            && c < headers.len()
            && let at = axis.value(headers, c)
            && !(start..=end).contains(&at)
        {
            let full = axis.full(index);
            let span = end - start;
            self.timeline_view.range = Some(clamp_range(at - span / 2, at + span - span / 2, full));
        }
        self.timeline_view.followed = cursor;
    }
}

/// How the track lays the events out: by the time they were recorded, or, when the store does
/// not say or they were all recorded at once, by their order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axis {
    /// Milliseconds since the Unix epoch.
    Time,
    /// Ordinals: the events' places in global order.
    Position,
}

impl Axis {
    /// The axis for `index`, and why it is not time when it is not.
    pub fn of(index: &TimelineIndex) -> (Self, Option<String>) {
        match index.times() {
            Some(Times::Spread { .. }) | None => (Self::Time, None),
            Some(Times::Same) => (
                Self::Position,
                Some("by position: every event was recorded at the same time".into()),
            ),
            Some(Times::Unrecorded { events }) if events == index.len() => {
                (Self::Position, Some("by position: the store records no times".into()))
            }
            Some(Times::Unrecorded { events }) => (
                Self::Position,
                Some(format!("by position: {events} events have no recorded time")),
            ),
        }
    }

    /// Where the event at `ordinal` lies on the axis.
    pub fn value(self, headers: &[EventHeader], ordinal: usize) -> i64 {
        match self {
            Self::Time => headers.get(ordinal).map_or(0, |h| h.recorded_at_ms),
            Self::Position => ordinal as i64,
        }
    }

    /// The whole axis: from the earliest time to the latest, or the first event to the last
    /// (never empty).
    pub fn full(self, index: &TimelineIndex) -> (i64, i64) {
        let (start, end) = match (self, index.times()) {
            (Self::Time, Some(Times::Spread { first_ms, last_ms })) => (first_ms, last_ms),
            _ => (0, index.len().saturating_sub(1) as i64),
        };
        (start, end.max(start + 1))
    }

    /// The narrowest a zoom goes: a second, or ten events.
    pub fn min_span(self) -> i64 {
        match self {
            Self::Time => 1000,
            Self::Position => 10,
        }
    }

    /// The ordinals up to and including `value` (how many events lie at or before it).
    pub fn events_up_to(self, headers: &[EventHeader], value: i64) -> usize {
        match self {
            Self::Time => headers.partition_point(|h| h.recorded_at_ms <= value),
            Self::Position => usize::try_from(value.saturating_add(1)).unwrap_or(0).min(headers.len()),
        }
    }
}

/// `start..end` moved inside `full`, its span kept (as far as `full` allows).
pub fn clamp_range(start: i64, end: i64, full: (i64, i64)) -> (i64, i64) {
    let span = (end - start).min(full.1 - full.0);
    let start = start.clamp(full.0, full.1 - span);
    (start, start + span)
}

/// What the Go to field asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoTo {
    Position(u64),
    /// A version of the selected stream.
    Version(u64),
    /// The last event at or before this time (ms since the Unix epoch), of the stream in stream
    /// mode.
    Time(i64),
}

/// The commands that take the cursor where `target` says, or why it cannot go there: a
/// position outside the store, a version with no stream selected or past the stream's end, a
/// time before the first event. A version with a stream selected in global mode switches to
/// that stream's mode first.
pub fn go_to(view: &View, session: &Session, target: GoTo) -> Result<Vec<TimelineCommand>, String> {
    let index = session.engine.index();
    let headers = index.headers();
    let Some(first) = headers.first() else {
        return Err("this store has no events".into());
    };
    match target {
        GoTo::Position(position) => {
            let (first_position, last_position) = (index.position(0), index.position(headers.len() - 1));
            if position < first_position || position > last_position {
                return Err(format!(
                    "no position {position}: this store's are {first_position} to {last_position}"
                ));
            }
            Ok(vec![TimelineCommand::SeekToPosition(position)])
        }
        GoTo::Version(version) => {
            // The stream the state shows: the watched one, or the cursor's.
            let shown = view
                .selected_stream
                .or_else(|| view.timeline.cursor().and_then(|c| index.header(c)).map(|h| h.stream));
            let Some((stream, entry)) = shown.and_then(|s| Some((s, index.stream(s)?))) else {
                return Err(format!("v{version} is a stream version: select a stream first"));
            };
            let last_version = entry
                .ordinals
                .last()
                .map_or(0, |&o| u64::from(headers[o as usize].stream_version));
            if version == 0 || version > last_version {
                return Err(format!(
                    "no v{version} in {}: its versions are 1 to {last_version}",
                    entry.stream_id
                ));
            }
            let mut commands = Vec::new();
            if view.timeline.mode() != CursorMode::Stream(stream) {
                commands.push(TimelineCommand::SetMode(CursorMode::Stream(stream)));
            }
            commands.push(TimelineCommand::SeekToVersion(version));
            Ok(commands)
        }
        GoTo::Time(ms) => {
            if let Some(Times::Unrecorded { events }) = index.times() {
                return Err(if events == headers.len() {
                    "this store records no times: go to a position (1759) or a version (v21)".to_owned()
                } else {
                    format!(
                        "{events} events of this store have no recorded time: go to a position (1759) or a version (v21)"
                    )
                });
            }
            let stream_first = match view.timeline.mode() {
                CursorMode::Stream(s) => index.stream(s).and_then(|e| e.ordinals.first()),
                CursorMode::Global => None,
            };
            let (earliest, whose) = match stream_first {
                Some(&o) => (headers[o as usize].recorded_at_ms, "this stream's first event"),
                None => (first.recorded_at_ms, "the first event"),
            };
            if ms < earliest {
                return Err(format!(
                    "nothing was recorded by {}: {whose} is at {}",
                    fmt_ms(ms),
                    fmt_ms(earliest)
                ));
            }
            Ok(vec![seek_to_time(view, session, ms)])
        }
    }
}

fn fmt_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(|| ms.to_string(), |t| t.format(theme::TIME_FORMAT).to_string())
}

/// A position (`1759`), a stream version (`v21`) or a time (RFC 3339, or a date: its end).
pub fn parse_position(text: &str) -> Result<GoTo, String> {
    let text = text.trim();
    if let Some(version) = text.strip_prefix('v').and_then(|v| v.parse::<u64>().ok()) {
        return Ok(GoTo::Version(version));
    }
    if let Ok(position) = text.parse::<u64>() {
        return Ok(GoTo::Position(position));
    }
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(GoTo::Time(time.timestamp_millis()));
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(time) = date.and_hms_milli_opt(23, 59, 59, 999)
    {
        return Ok(GoTo::Time(time.and_utc().timestamp_millis()));
    }
    Err(format!(
        "`{text}` is not a position (1759), a version (v21), a time (2024-02-26T05:00:00Z) or a date (2024-02-26)"
    ))
}

/// Seeking to the event at `ordinal` respects the mode: in stream mode, the stream's last event
/// at or before it.
pub fn seek_to_ordinal(view: &View, session: &Session, ordinal: usize) -> TimelineCommand {
    match view.timeline.mode() {
        CursorMode::Global => TimelineCommand::SeekTo(ordinal),
        CursorMode::Stream(s) => {
            let Some(entry) = session.engine.index().stream(s) else {
                return TimelineCommand::SeekTo(ordinal);
            };
            let at = entry.ordinals.partition_point(|&o| o as usize <= ordinal);
            let ordinal = entry.ordinals.get(at.saturating_sub(1)).copied().unwrap_or(0) as usize;
            TimelineCommand::SeekTo(ordinal)
        }
    }
}

/// Seeking by time respects the mode: in stream mode, the stream's last event at or before it.
pub fn seek_to_time(view: &View, session: &Session, ms: i64) -> TimelineCommand {
    let index = session.engine.index();
    match view.timeline.mode() {
        CursorMode::Global => TimelineCommand::SeekToTime(ms),
        CursorMode::Stream(s) => {
            let Some(entry) = index.stream(s) else {
                return TimelineCommand::SeekToTime(ms);
            };
            let headers = index.headers();
            let at = entry
                .ordinals
                .partition_point(|&o| headers[o as usize].recorded_at_ms <= ms);
            let ordinal = entry.ordinals.get(at.saturating_sub(1)).copied().unwrap_or(0) as usize;
            TimelineCommand::SeekTo(ordinal)
        }
    }
}

/// The search a filter request asks for, or why it cannot be read.
fn filter_query(request: &FilterRequest) -> Result<Query, String> {
    let from_ms = time_bound(&request.from, Bound::From, "the From time")?;
    let to_ms = time_bound(&request.to, Bound::To, "the To time")?;
    let condition = if request.text.is_empty() {
        None
    } else {
        Some(rewind_engine::Condition::parse(&request.text).map_err(|e| e.to_string())?)
    };
    Ok(Query {
        event_types: request.event_type.into_iter().collect(),
        from_ms,
        to_ms,
        condition,
        stored: request.stored,
        ..Query::default()
    })
}
