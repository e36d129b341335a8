//! The desktop app: open a store, browse streams, scrub the timeline, watch state change.
//!
//! Panels read the [`View`] and the latest [`SeekResult`]; everything that changes something
//! is an [`AppCommand`], handled once per frame. Opening, indexing and seeking run on the
//! session's background thread (`session.rs`); the UI thread never reads the file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, channel};

use egui::{Key, Modifiers, RichText};
use serde::{Deserialize, Serialize};

use rewind_core::Domain;
use rewind_engine::{CursorMode, Ordinal, Query, StreamIdx, Timeline, TimelineCommand};
use rewind_store::{Mapping, Part};

use crate::panels;
use crate::session::{
    Job, JobResult, MappingRequest, OpenFailure, Opening, SeekRequest, SeekResult, Session, StoreInput, open,
};
use crate::theme;

/// Preferences kept between runs. Never domain or engine types.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    pub recent_files: Vec<PathBuf>,
    /// `None`: follow the system.
    pub dark_mode: Option<bool>,
    pub last_store: Option<PathBuf>,
    /// Mappings the user confirmed, per file (for stores whose shape Rewind does not know).
    pub mappings: BTreeMap<PathBuf, Mapping>,
}

/// Something the user asked for; the single place menus, buttons and keys go through.
#[derive(Clone, Debug, PartialEq)]
pub enum AppCommand {
    Open(StoreInput),
    PickFile,
    CloseStore,
    CancelOpening,
    Timeline(TimelineCommand),
    SelectStream(Option<StreamIdx>),
    /// Seek to an event and select its stream.
    SeekAndSelect(Ordinal),
    Pin,
    Unpin,
    FindFirstViolation,
    /// List the events that share this correlation id.
    FindCorrelated(String),
    /// Jump to the event with this id (a causation link).
    FindEvent(String),
    /// Show a read model's rows from this one on (`None`: around the cursor's change again).
    PageProjection(&'static str, Option<usize>),
    /// Apply the event list's filter (or clear it when it is empty).
    ApplyFilter,
    SetTheme(Option<bool>),
    SetTab(Tab),
    /// Open the file of the mapping dialog with the mapping as edited, and remember it.
    ConfirmMapping,
    CancelMapping,
    /// Save the evidence of the stream whose state is shown, up to the cursor (asks where).
    ExportEvidence,
    /// Open, or save to, the path typed in the app's own prompt (when no file dialog could be
    /// shown).
    ConfirmPathPrompt,
    CancelPathPrompt,
    /// The "Connect to PostgreSQL" dialog.
    ShowConnect,
    TestConnection,
    ConnectDatabase,
    CancelConnect,
}

impl AppCommand {
    /// The keyboard shortcuts, one table for the handler and the help text.
    pub const SHORTCUTS: &[(&str, &str)] = &[
        ("Space", "play / pause"),
        ("Left / Right", "step back / forward"),
        ("Shift + Left / Right", "step 100 back / forward"),
        ("Home / End", "jump to start / end"),
        ("Ctrl + E", "export the evidence of the stream shown"),
    ];

    fn from_keys(input: &mut egui::InputState) -> Vec<Self> {
        let mut commands = Vec::new();
        let mut key = |modifiers: Modifiers, key: Key, command: TimelineCommand| {
            if input.consume_key(modifiers, key) {
                commands.push(Self::Timeline(command));
            }
        };
        key(Modifiers::SHIFT, Key::ArrowRight, TimelineCommand::StepBy(100));
        key(Modifiers::SHIFT, Key::ArrowLeft, TimelineCommand::StepBy(-100));
        key(Modifiers::NONE, Key::Space, TimelineCommand::TogglePlaying);
        key(Modifiers::NONE, Key::ArrowRight, TimelineCommand::StepForward);
        key(Modifiers::NONE, Key::ArrowLeft, TimelineCommand::StepBack);
        key(Modifiers::NONE, Key::Home, TimelineCommand::JumpToStart);
        key(Modifiers::NONE, Key::End, TimelineCommand::JumpToEnd);
        if input.consume_key(Modifiers::COMMAND, Key::E) {
            commands.push(Self::ExportEvidence);
        }
        commands
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tab {
    #[default]
    State,
    Projections,
    Issues,
}

/// How the app asks for a file: a native dialog, or something scripted in tests.
pub trait FileDialog: Send + Sync {
    /// A store to open. Runs off the UI thread; `None` when cancelled.
    fn pick(&self) -> Option<PathBuf>;
    /// Where to save a JSON file, proposing `file_name`. Runs off the UI thread; `None` when
    /// cancelled.
    fn save(&self, file_name: &str) -> Option<PathBuf>;
}

/// The native dialog through rfd (the XDG portal on Linux).
pub struct NativeDialog;

impl FileDialog for NativeDialog {
    fn pick(&self) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .add_filter("Event stores", &["sqlite", "sqlite3", "db", "ndjson", "jsonl", "json"])
            .add_filter("All files", &["*"])
            .pick_file()
    }

    fn save(&self, file_name: &str) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_file_name(file_name)
            .add_filter("JSON", &["json"])
            .save_file()
    }
}

/// Evidence waiting for the save dialog's answer.
struct PendingExport {
    answer: Receiver<Option<PathBuf>>,
    /// When the dialog was asked for: an answer within [`NO_DIALOG`] came from no dialog.
    asked: std::time::Instant,
    /// The name the dialog proposed, proposed again if the app has to ask itself.
    file_name: String,
    stream_id: String,
    until: crate::evidence::Until,
}

/// A "cancel" sooner than this after asking is no person's: the desktop has no file dialog (no
/// XDG portal), and the app asks for the path itself ([`PathPrompt`]).
const NO_DIALOG: std::time::Duration = std::time::Duration::from_millis(400);

/// A path typed in the app, when no file dialog could be shown.
pub struct PathPrompt {
    pub path: String,
    purpose: PromptFor,
    /// The field takes the keyboard when the prompt first shows.
    focus: bool,
}

/// What a [`PathPrompt`] asks for.
enum PromptFor {
    /// A store to open.
    Open,
    /// Where to save the evidence of a stream.
    Evidence {
        stream_id: String,
        until: crate::evidence::Until,
    },
}

impl PathPrompt {
    /// A prompt proposing `file_name` in the working directory (or the directory itself).
    fn new(file_name: &str, purpose: PromptFor) -> Self {
        let dir = std::env::current_dir().unwrap_or_default();
        let path = if file_name.is_empty() {
            format!("{}{}", dir.display(), std::path::MAIN_SEPARATOR)
        } else {
            dir.join(file_name).display().to_string()
        };
        Self {
            path,
            purpose,
            focus: true,
        }
    }
}

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
    pub projection_starts: Vec<(&'static str, usize)>,
    /// The cursor moved by something other than the event list: scroll the list to it.
    pub scroll_to_cursor: bool,
    pub streams: panels::streams::StreamsState,
    pub timeline_view: panels::timeline::TrackView,
    pub position_text: String,
    pub position_error: Option<String>,
    pub related: Option<(String, Vec<Ordinal>)>,
    pub filter: EventFilter,
    next_job_id: u64,
    pending_search: Option<(u64, SearchPurpose)>,
    pub status: Option<String>,
}

#[derive(Clone, Debug)]
enum SearchPurpose {
    Correlated(String),
    Event(String),
    Filter,
}

/// The event list's filter: by type (from the index) and by payload text or condition.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    pub event_type: Option<u16>,
    /// Text anywhere in the payload, or a condition such as `amount_cents > 100000`.
    pub text: String,
    /// The matching events, once the search is done; `None` shows every event.
    pub matches: Option<Vec<Ordinal>>,
    pub searching: bool,
    pub error: Option<String>,
}

impl View {
    fn new(session: &Session) -> Self {
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
            streams: panels::streams::StreamsState::default(),
            timeline_view: panels::timeline::TrackView::default(),
            position_text: String::new(),
            position_error: None,
            related: None,
            filter: EventFilter::default(),
            next_job_id: 0,
            pending_search: None,
            status: None,
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
}

/// The mapping dialog: a proposal being confirmed or edited.
pub struct MappingDialog {
    pub request: MappingRequest,
    pub mapping: Mapping,
}

/// The "Connect to PostgreSQL" dialog: a URL, optionally a schema and table.
#[derive(Default)]
pub struct ConnectDialog {
    pub url: String,
    pub schema: String,
    pub table: String,
    /// The outcome of "Test connection", when it is back.
    pub tested: Option<Result<String, String>>,
    testing: Option<Receiver<Result<String, String>>>,
}

impl ConnectDialog {
    /// `schema.table`, `table`, or empty.
    fn table_hint(&self) -> String {
        match (self.schema.trim(), self.table.trim()) {
            (_, "") => String::new(),
            ("", table) => table.to_owned(),
            (schema, table) => format!("{schema}.{table}"),
        }
    }

    /// Connects on a background thread and reports what it found.
    fn test(&mut self, ctx: &egui::Context) {
        let (sender, receiver) = channel();
        let url = self.url.trim().to_owned();
        let table = Some(self.table_hint()).filter(|t| !t.is_empty());
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("rewind-test-connection".into())
            .spawn(move || {
                let outcome = if rewind_store::is_postgres_url(&url) {
                    rewind_store::PostgresStore::open(&url, None, table.as_deref())
                        .and_then(|store| {
                            use rewind_store::EventSource as _;
                            Ok(format!(
                                "connected: {} with {} events",
                                store.describe(),
                                store.event_count()?
                            ))
                        })
                        .or_else(|e| match e {
                            rewind_store::StoreError::NeedsMapping { what, .. } => {
                                Ok(format!("connected: {what}; you will confirm a mapping"))
                            }
                            other => Err(other.to_string()),
                        })
                } else {
                    Err("the URL must start with postgres:// or postgresql://".to_owned())
                };
                let _ = sender.send(outcome);
                ctx.request_repaint();
            });
        match spawned {
            Ok(_) => {
                self.tested = None;
                self.testing = Some(receiver);
            }
            Err(e) => self.tested = Some(Err(format!("cannot start a thread: {e}"))),
        }
    }

    fn poll(&mut self) {
        if let Some(outcome) = self.testing.as_ref().and_then(|r| r.try_recv().ok()) {
            self.tested = Some(outcome);
            self.testing = None;
        }
    }

    pub fn is_testing(&self) -> bool {
        self.testing.is_some()
    }
}

pub struct App {
    prefs: Prefs,
    mapping_dialog: Option<MappingDialog>,
    connect_dialog: Option<ConnectDialog>,
    /// What was opened last, to open it again with a confirmed mapping.
    last_input: Option<StoreInput>,
    domain: Arc<dyn Domain>,
    dialog: Arc<dyn FileDialog>,
    opening: Option<Opening>,
    session: Option<Session>,
    view: Option<View>,
    error: Option<String>,
    /// The open dialog's answer to come, and when it was asked for (see [`NO_DIALOG`]).
    file_dialog: Option<(Receiver<Option<PathBuf>>, std::time::Instant)>,
    save_dialog: Option<PendingExport>,
    path_prompt: Option<PathPrompt>,
    commands: Vec<AppCommand>,
    /// Where to put the cursor once the store passed on the command line is open.
    pub initial_position: Option<u64>,
}

impl App {
    pub fn new(prefs: Prefs, dialog: Arc<dyn FileDialog>, open: Option<StoreInput>, ctx: &egui::Context) -> Self {
        // Panels draw no background of their own: the window is cleared to their colour (see
        // `App::clear_color`), which looks the same and costs nothing. On a software renderer
        // (a VM, a remote desktop, llvmpipe under Xvfb here) a frame's cost is the pixels its
        // shapes cover, and the panels' backgrounds covered the whole window: a frame took
        // about 120 ms of CPU, so the opening screen's progress took a quarter of a two-core
        // machine from the indexing, and playback ran the renderer on both cores.
        for theme in [egui::Theme::Dark, egui::Theme::Light] {
            ctx.style_mut_of(theme, |style| style.visuals.panel_fill = egui::Color32::TRANSPARENT);
        }
        if let Some(dark) = prefs.dark_mode {
            ctx.set_theme(if dark { egui::Theme::Dark } else { egui::Theme::Light });
        }
        let mut app = Self {
            prefs,
            mapping_dialog: None,
            connect_dialog: None,
            last_input: None,
            domain: Arc::new(crate::domains()),
            dialog,
            opening: None,
            session: None,
            view: None,
            error: None,
            file_dialog: None,
            save_dialog: None,
            path_prompt: None,
            commands: Vec::new(),
            initial_position: None,
        };
        if let Some(input) = open {
            app.start_opening(input, ctx);
        }
        app
    }

    pub fn prefs(&self) -> &Prefs {
        &self.prefs
    }

    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    pub fn view(&self) -> Option<&View> {
        self.view.as_ref()
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Whether the state shown is the state at the cursor (no seek in flight).
    pub fn seek_settled(&self) -> bool {
        let (Some(session), Some(view)) = (&self.session, &self.view) else {
            return false;
        };
        view.result.as_ref().is_some_and(|r| {
            r.cursor == view.timeline.cursor() && r.stream == view.state_stream(session) && r.pinned == view.pinned
        })
    }

    pub fn connect_dialog(&self) -> Option<&ConnectDialog> {
        self.connect_dialog.as_ref()
    }

    /// The app's own path prompt (to open a store, or to save evidence), while it is open.
    pub fn path_prompt(&self) -> Option<&PathPrompt> {
        self.path_prompt.as_ref()
    }

    pub fn mapping_dialog(&self) -> Option<&MappingDialog> {
        self.mapping_dialog.as_ref()
    }

    pub fn is_opening(&self) -> bool {
        self.opening.is_some()
    }

    /// Queues a command, as a click would.
    pub fn command(&mut self, command: AppCommand) {
        self.commands.push(command);
    }

    fn start_opening(&mut self, input: StoreInput, ctx: &egui::Context) {
        let repaint_ctx = ctx.clone();
        let mapping = input
            .remembered_as()
            .and_then(|key| self.prefs.mappings.get(&key).cloned());
        self.mapping_dialog = None;
        self.last_input = Some(input.clone());
        match open(
            input,
            mapping,
            Arc::clone(&self.domain),
            Arc::new(move || repaint_ctx.request_repaint()),
        ) {
            Ok(opening) => {
                self.error = None;
                self.opening = Some(opening);
            }
            Err(message) => self.error = Some(message),
        }
    }

    fn handle(&mut self, command: AppCommand, ctx: &egui::Context) {
        match command {
            AppCommand::Open(input) => self.start_opening(input, ctx),
            AppCommand::PickFile => {
                if self.file_dialog.is_none() && self.path_prompt.is_none() {
                    let dialog = Arc::clone(&self.dialog);
                    match ask_off_the_ui_thread(ctx, "rewind-file-dialog", move || dialog.pick()) {
                        Ok(receiver) => self.file_dialog = Some((receiver, std::time::Instant::now())),
                        Err(e) => self.error = Some(format!("cannot open a file dialog: {e}")),
                    }
                }
            }
            AppCommand::ConfirmMapping => {
                if let Some(dialog) = self.mapping_dialog.take() {
                    // Reopen what was being opened (a database URL keeps its password, which
                    // the request's name does not carry).
                    let input = self
                        .last_input
                        .clone()
                        .filter(|i| i.remembered_as().as_ref() == Some(&dialog.request.path))
                        .unwrap_or_else(|| StoreInput::File(dialog.request.path.clone()));
                    self.prefs.mappings.insert(dialog.request.path.clone(), dialog.mapping);
                    self.start_opening(input, ctx);
                }
            }
            AppCommand::ExportEvidence => self.start_export(ctx),
            AppCommand::ConfirmPathPrompt => {
                let Some(prompt) = self.path_prompt.take() else {
                    return;
                };
                let path = PathBuf::from(prompt.path.trim());
                match prompt.purpose {
                    PromptFor::Open => self.start_opening(StoreInput::File(path), ctx),
                    PromptFor::Evidence { stream_id, until } => {
                        let (Some(session), Some(view)) = (&self.session, &mut self.view) else {
                            return;
                        };
                        view.status = Some(format!("writing the evidence for {stream_id} to {}…", path.display()));
                        // No dialog asked whether to replace a file there: it is not replaced.
                        session.send(Job::Export {
                            stream_id,
                            until,
                            path,
                            replace: false,
                        });
                    }
                }
            }
            AppCommand::CancelPathPrompt => self.path_prompt = None,
            AppCommand::ShowConnect => {
                self.connect_dialog.get_or_insert_with(ConnectDialog::default);
            }
            AppCommand::CancelConnect => self.connect_dialog = None,
            AppCommand::TestConnection => {
                if let Some(dialog) = &mut self.connect_dialog {
                    dialog.test(ctx);
                }
            }
            AppCommand::ConnectDatabase => {
                if let Some(dialog) = self.connect_dialog.take() {
                    let table = Some(dialog.table_hint()).filter(|t| !t.is_empty());
                    self.start_opening(
                        StoreInput::Database {
                            url: dialog.url.trim().to_owned(),
                            table,
                        },
                        ctx,
                    );
                }
            }
            AppCommand::CancelMapping => self.mapping_dialog = None,
            AppCommand::CloseStore => {
                self.session = None;
                self.view = None;
                self.save_dialog = None;
                self.path_prompt = None;
            }
            AppCommand::CancelOpening => {
                if let Some(opening) = &self.opening {
                    opening.cancel();
                }
            }
            AppCommand::SetTheme(dark) => {
                self.prefs.dark_mode = dark;
                ctx.set_theme(match dark {
                    Some(true) => egui::ThemePreference::Dark,
                    Some(false) => egui::ThemePreference::Light,
                    None => egui::ThemePreference::System,
                });
            }
            other => {
                let (Some(session), Some(view)) = (&self.session, &mut self.view) else {
                    return;
                };
                handle_view_command(session, view, other);
            }
        }
    }

    /// Asks where to save the evidence of the stream shown, up to the cursor; the session
    /// writes it once the dialog answers (see [`App::poll`]).
    fn start_export(&mut self, ctx: &egui::Context) {
        let (Some(session), Some(view)) = (&self.session, &mut self.view) else {
            return;
        };
        if self.save_dialog.is_some() || self.path_prompt.is_some() {
            view.status = Some("a save dialog is open already".into());
            return;
        }
        let index = session.engine.index();
        let Some(entry) = view.state_stream(session).and_then(|s| index.stream(s)) else {
            view.status = Some("select a stream to export its evidence".into());
            return;
        };
        let stream_id = entry.stream_id.to_owned();
        // The cursor of the state on screen (playback may have moved on since); before the
        // first event, position 0, where no stream has an event (the export says so).
        let cursor = view.result.as_ref().map_or(view.timeline.cursor(), |r| r.cursor);
        let position = cursor.map_or(0, |c| index.position(c));
        let file_name = crate::evidence::file_name(&stream_id, Some(position));
        let dialog = Arc::clone(&self.dialog);
        let proposed = file_name.clone();
        match ask_off_the_ui_thread(ctx, "rewind-save-dialog", move || dialog.save(&proposed)) {
            Ok(answer) => {
                self.save_dialog = Some(PendingExport {
                    answer,
                    asked: std::time::Instant::now(),
                    file_name,
                    stream_id,
                    until: crate::evidence::Until::Position(position),
                });
            }
            Err(e) => view.status = Some(format!("⚠ cannot open a save dialog: {e}")),
        }
    }

    fn poll(&mut self, ctx: &egui::Context) {
        if let Some(result) = self.opening.as_ref().and_then(Opening::poll) {
            let opening = self.opening.take();
            match result {
                Ok(session) => {
                    // Recent stores are remembered without passwords.
                    if let Some(path) = opening.and_then(|o| o.input.remembered_as()) {
                        self.prefs.recent_files.retain(|p| p != &path);
                        self.prefs.recent_files.insert(0, path.clone());
                        self.prefs.recent_files.truncate(10);
                        self.prefs.last_store = Some(path);
                    }
                    let mut view = View::new(&session);
                    if let Some(position) = self.initial_position.take()
                        && let Some(ordinal) = session.engine.index().ordinal_at_or_before_position(position)
                    {
                        handle_view_command(&session, &mut view, AppCommand::SeekAndSelect(ordinal));
                    }
                    self.view = Some(view);
                    self.session = Some(session);
                    // A save asked for in the store before is not saved from this one.
                    self.save_dialog = None;
                    self.path_prompt = None;
                }
                Err(OpenFailure { message, mapping }) => {
                    let mut message = message;
                    if let Some(opening) = &opening
                        && opening.mapping.is_some()
                        && let Some(key) = opening.input.remembered_as()
                    {
                        // A remembered mapping that no longer fits is forgotten, so opening
                        // the store again proposes a fresh one.
                        self.prefs.mappings.remove(&key);
                        message.push_str(
                            " (the remembered mapping for this file was forgotten; open it again to map it anew)",
                        );
                    }
                    match mapping {
                        Some(request) => {
                            self.mapping_dialog = Some(MappingDialog {
                                mapping: request.proposal.clone(),
                                request: *request,
                            });
                        }
                        None => self.error = Some(message),
                    }
                }
            }
        }
        if let Some((answer, asked)) = &self.file_dialog {
            match answer.try_recv() {
                Ok(Some(path)) => {
                    self.file_dialog = None;
                    self.start_opening(StoreInput::File(path), ctx);
                }
                // No dialog could be shown (a desktop without a file-dialog portal answers at
                // once): the app asks for the path itself.
                Ok(None) if asked.elapsed() < NO_DIALOG => {
                    self.file_dialog = None;
                    self.path_prompt = Some(PathPrompt::new("", PromptFor::Open));
                }
                Ok(None) => self.file_dialog = None,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    self.file_dialog = None;
                    self.error = Some("the file dialog failed without an answer".into());
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => {}
            }
        }
        let answered = self.save_dialog.as_ref().map(|pending| pending.answer.try_recv());
        if let Some(Err(std::sync::mpsc::TryRecvError::Disconnected)) = answered {
            self.save_dialog = None;
            if let Some(view) = &mut self.view {
                view.status = Some("⚠ the save dialog failed without an answer; evidence not saved".into());
            }
        }
        if let Some(Ok(answer)) = answered
            && let Some(pending) = self.save_dialog.take()
            && let (Some(session), Some(view)) = (&self.session, &mut self.view)
        {
            match answer {
                Some(path) => {
                    view.status = Some(format!(
                        "writing the evidence for {} to {}…",
                        pending.stream_id,
                        path.display()
                    ));
                    // The dialog asked whether to replace a file there.
                    session.send(Job::Export {
                        stream_id: pending.stream_id,
                        until: pending.until,
                        path,
                        replace: true,
                    });
                }
                // No dialog could be shown (a desktop without a file-dialog portal answers
                // at once): the app asks for the path itself.
                None if pending.asked.elapsed() < NO_DIALOG => {
                    self.path_prompt = Some(PathPrompt::new(
                        &pending.file_name,
                        PromptFor::Evidence {
                            stream_id: pending.stream_id,
                            until: pending.until,
                        },
                    ));
                }
                None => view.status = Some("evidence not saved: no file was chosen".into()),
            }
        }
        if let (Some(session), Some(view)) = (&self.session, &mut self.view) {
            for result in session.poll() {
                match result {
                    JobResult::Seek(result) => view.result = Some(*result),
                    JobResult::Export(Ok(done)) => view.status = Some(done),
                    JobResult::Export(Err(error)) => view.status = Some(format!("⚠ {error}")),
                    JobResult::Search { id, result } => {
                        let Some((pending, purpose)) = view.pending_search.take() else {
                            continue;
                        };
                        if pending != id {
                            view.pending_search = Some((pending, purpose));
                            continue;
                        }
                        match (purpose, result) {
                            (SearchPurpose::Correlated(id), Ok(found)) => view.related = Some((id, found)),
                            (SearchPurpose::Filter, result) => {
                                view.filter.searching = false;
                                match result {
                                    Ok(found) => view.filter.matches = Some(found),
                                    Err(message) => view.filter.error = Some(message),
                                }
                            }
                            (SearchPurpose::Event(id), Ok(found)) => match found.first() {
                                Some(&ordinal) => {
                                    handle_view_command(session, view, AppCommand::SeekAndSelect(ordinal));
                                }
                                None => view.status = Some(format!("no event with id {id} in this store")),
                            },
                            (_, Err(message)) => view.status = Some(message),
                        }
                    }
                }
            }
        }
    }

    /// Sends the seek the current frame needs, if it differs from the last one.
    fn request_seek(&mut self) {
        let (Some(session), Some(view)) = (&self.session, &mut self.view) else {
            return;
        };
        let request = SeekRequest {
            cursor: view.timeline.cursor(),
            stream: view.state_stream(session),
            pinned: view.pinned,
            rows: view.visible_rows.clone(),
            projection_starts: view.projection_starts.clone(),
        };
        if view.last_request.as_ref() != Some(&request) {
            session.send(Job::Seek(request.clone()));
            view.last_request = Some(request);
        }
    }
}

fn handle_view_command(session: &Session, view: &mut View, command: AppCommand) {
    let index = session.engine.index();
    match command {
        AppCommand::Timeline(command) => {
            view.timeline.handle(index, command);
            view.scroll_to_cursor = true;
        }
        AppCommand::SelectStream(stream) => {
            view.selected_stream = stream;
            view.pinned = None;
            match stream {
                Some(s) if view.timeline.mode() != CursorMode::Global => {
                    view.timeline
                        .handle(index, TimelineCommand::SetMode(CursorMode::Stream(s)));
                }
                None => view
                    .timeline
                    .handle(index, TimelineCommand::SetMode(CursorMode::Global)),
                Some(_) => {}
            }
        }
        AppCommand::SeekAndSelect(ordinal) => {
            view.timeline.handle(index, TimelineCommand::SeekTo(ordinal));
            view.selected_stream = index.header(ordinal).map(|h| h.stream);
            view.scroll_to_cursor = true;
        }
        AppCommand::Pin => view.pinned = view.timeline.cursor(),
        AppCommand::Unpin => {
            view.pinned = None;
            view.diff_mode = false;
        }
        AppCommand::FindFirstViolation => match session.engine.first_violation() {
            Some(issue) => {
                if let Some(ordinal) = index.ordinal_at_or_before_position(issue.position) {
                    handle_view_command(session, view, AppCommand::SeekAndSelect(ordinal));
                    view.tab = Tab::State;
                    view.status = Some(format!("first violation: {}", issue.message));
                }
            }
            None => view.status = Some("no invariant is violated anywhere in this store".into()),
        },
        AppCommand::FindCorrelated(correlation_id) => {
            view.next_job_id += 1;
            view.pending_search = Some((view.next_job_id, SearchPurpose::Correlated(correlation_id.clone())));
            session.send(Job::Search {
                id: view.next_job_id,
                query: Query {
                    correlation_id: Some(correlation_id),
                    ..Query::default()
                },
            });
        }
        AppCommand::FindEvent(event_id) => {
            view.next_job_id += 1;
            view.pending_search = Some((view.next_job_id, SearchPurpose::Event(event_id.clone())));
            session.send(Job::FindEvent {
                id: view.next_job_id,
                event_id,
            });
        }
        AppCommand::SetTab(tab) => view.tab = tab,
        AppCommand::PageProjection(name, start) => {
            view.projection_starts.retain(|(n, _)| *n != name);
            if let Some(start) = start {
                view.projection_starts.push((name, start));
            }
        }
        AppCommand::ApplyFilter => {
            view.filter.error = None;
            let text = view.filter.text.trim().to_owned();
            if text.is_empty() && view.filter.event_type.is_none() {
                view.filter.matches = None;
                view.filter.searching = false;
                return;
            }
            let mut query = Query {
                event_types: view.filter.event_type.into_iter().collect(),
                ..Query::default()
            };
            if !text.is_empty() {
                let looks_like_condition = ["<", ">", "=", " contains "].iter().any(|op| text.contains(op));
                if looks_like_condition {
                    match rewind_engine::Condition::parse(&text) {
                        Ok(condition) => query.condition = Some(condition),
                        Err(error) => {
                            view.filter.error = Some(error.to_string());
                            return;
                        }
                    }
                } else {
                    query.text = Some(text);
                }
            }
            view.next_job_id += 1;
            view.pending_search = Some((view.next_job_id, SearchPurpose::Filter));
            view.filter.searching = true;
            session.send(Job::Search {
                id: view.next_job_id,
                query,
            });
        }
        _ => {}
    }
}

impl eframe::App for App {
    /// The panels' colour in egui's theme of the same darkness: the panels themselves are
    /// transparent (see [`App::new`]).
    fn clear_color(&self, visuals: &egui::Visuals) -> [f32; 4] {
        let theme = if visuals.dark_mode {
            egui::Visuals::dark()
        } else {
            egui::Visuals::light()
        };
        theme.panel_fill.to_normalized_gamma_f32()
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.poll(&ctx);

        let dropped: Vec<PathBuf> = ctx.input(|i| i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).collect());
        if let Some(path) = dropped.into_iter().find(|p| !p.as_os_str().is_empty()) {
            self.commands.push(AppCommand::Open(StoreInput::File(path)));
        }
        if self.session.is_some() && !ctx.text_edit_focused() {
            let keys = ctx.input_mut(AppCommand::from_keys);
            self.commands.extend(keys);
        }

        self.top_bar(ui);
        if let Some(error) = self.error.clone() {
            egui::Panel::bottom("error_bar").show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.label(RichText::new(format!("⚠ {error}")).color(theme::text(ui, theme::VIOLATION)));
                    if ui.small_button("Dismiss").clicked() {
                        self.error = None;
                    }
                });
            });
        }

        if let Some(dialog) = &mut self.mapping_dialog {
            mapping_dialog(&ctx, dialog, &mut self.commands);
        }
        if let Some(dialog) = &mut self.connect_dialog {
            dialog.poll();
            connect_dialog(&ctx, dialog, &mut self.commands);
        }
        if let Some(prompt) = &mut self.path_prompt {
            path_prompt(&ctx, prompt, &mut self.commands);
        }
        if let Some(opening) = &self.opening {
            let cancel = opening_screen(ui, opening);
            if cancel {
                self.commands.push(AppCommand::CancelOpening);
            }
            ctx.request_repaint_after(crate::session::PROGRESS_FRAME);
        } else if let (Some(session), Some(view)) = (&self.session, &mut self.view) {
            let playing_moved = view
                .timeline
                .tick(session.engine.index(), f64::from(ctx.input(|i| i.stable_dt)).min(0.1));
            if playing_moved {
                view.scroll_to_cursor = true;
            }
            if view.timeline.is_playing() {
                ctx.request_repaint();
            }
            let mut commands = Vec::new();
            panels::status_bar(ui, session, view);
            panels::timeline::show(ui, session, view, &mut commands);
            panels::streams::show(ui, session, view, &mut commands);
            egui::CentralPanel::default().show(ui, |ui| {
                panels::events::show(ui, session, view, &mut commands);
                panels::details(ui, session, view, &mut commands);
            });
            self.commands.extend(commands);
        } else {
            start_screen(
                ui,
                self.prefs.last_store.as_ref(),
                &self.prefs.recent_files,
                &mut self.commands,
            );
        }

        for command in std::mem::take(&mut self.commands) {
            self.handle(command, &ctx);
        }
        self.request_seek();
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.prefs);
    }
}

impl App {
    fn top_bar(&mut self, ui: &mut egui::Ui) {
        egui::Panel::top("top_bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading(RichText::new("Rewind").strong());
                ui.separator();
                if ui
                    .button("Open file…")
                    .on_hover_text("Open a SQLite store or an NDJSON export")
                    .clicked()
                {
                    self.commands.push(AppCommand::PickFile);
                }
                if ui.button("Load sample bank data").clicked() {
                    self.commands.push(AppCommand::Open(StoreInput::Sample));
                }
                if ui
                    .button("Connect to PostgreSQL…")
                    .on_hover_text("Open a live PostgreSQL event store, read-only")
                    .clicked()
                {
                    self.commands.push(AppCommand::ShowConnect);
                }
                if self.session.is_some() && ui.button("Close").clicked() {
                    self.commands.push(AppCommand::CloseStore);
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let dark = ui.ctx().theme() == egui::Theme::Dark;
                    let label = if dark { "Light theme" } else { "Dark theme" };
                    if ui
                        .button(label)
                        .on_hover_text("Switch the theme (follows the system until you do)")
                        .clicked()
                    {
                        self.commands.push(AppCommand::SetTheme(Some(!dark)));
                    }
                    ui.menu_button("Keys", |ui| {
                        for (keys, what) in AppCommand::SHORTCUTS {
                            ui.label(format!("{keys}: {what}"));
                        }
                    });
                });
            });
        });
    }
}

fn start_screen(ui: &mut egui::Ui, last: Option<&PathBuf>, recent: &[PathBuf], commands: &mut Vec<AppCommand>) {
    egui::CentralPanel::default().show(ui, |ui| {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() * 0.18);
            ui.heading(RichText::new("Rewind").size(32.0).strong());
            ui.label("A time-travel debugger for event-sourced systems");
            ui.add_space(24.0);
            let button =
                |text: &str| egui::Button::new(RichText::new(text).size(16.0)).min_size(egui::vec2(260.0, 36.0));
            if let Some(last) = last {
                let name = last
                    .file_name()
                    .map_or_else(|| last.display().to_string(), |n| n.to_string_lossy().into_owned());
                if ui
                    .add(button(&format!("Reopen {name}")))
                    .on_hover_text(last.display().to_string())
                    .clicked()
                {
                    commands.push(AppCommand::Open(StoreInput::File(last.clone())));
                }
                ui.add_space(6.0);
            }
            if ui.add(button("Open file…")).clicked() {
                commands.push(AppCommand::PickFile);
            }
            ui.add_space(6.0);
            if ui.add(button("Load sample bank data")).clicked() {
                commands.push(AppCommand::Open(StoreInput::Sample));
            }
            ui.add_space(10.0);
            ui.label(RichText::new("or drop a .sqlite or .ndjson file on this window").weak());
            if !recent.is_empty() {
                ui.add_space(28.0);
                ui.label(RichText::new("Recent files").strong());
                for path in recent {
                    if ui.link(path.display().to_string()).clicked() {
                        commands.push(AppCommand::Open(StoreInput::File(path.clone())));
                    }
                }
            }
        });
    });
}

/// The mapping dialog: which column or field is which part of an event. Shown when a store's
/// shape is unknown; the confirmed mapping is remembered for the file.
fn mapping_dialog(ctx: &egui::Context, dialog: &mut MappingDialog, commands: &mut Vec<AppCommand>) {
    let MappingDialog { request, mapping } = dialog;
    egui::Window::new("Map this store's events")
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ctx, |ui| {
            ui.label(RichText::new(request.path.display().to_string()).strong());
            ui.label(format!("{}.", request.what));
            ui.label("Rewind proposes this mapping; check each part and change what is wrong.");
            ui.add_space(6.0);
            let sqlite = mapping.table.is_some();
            egui::Grid::new("mapping_grid")
                .num_columns(3)
                .spacing([12.0, 6.0])
                .show(ui, |ui| {
                    if let Some(table) = &mapping.table {
                        ui.label("table");
                        ui.label(RichText::new(table).monospace());
                        ui.end_row();
                    }
                    for part in Part::ALL {
                        let label = ui.label(part.label());
                        let current = part.get(mapping).map(str::to_owned);
                        let shown = current.clone().unwrap_or_else(|| "(none)".into());
                        egui::ComboBox::from_id_salt(("mapping", part.label()))
                            .selected_text(RichText::new(shown).monospace())
                            .width(240.0)
                            .show_ui(ui, |ui| {
                                if part != Part::Stream && ui.selectable_label(current.is_none(), "(none)").clicked() {
                                    part.set(mapping, None);
                                }
                                let rowid = (sqlite && part == Part::Position).then(|| "rowid".to_owned());
                                for name in request.names.iter().chain(rowid.as_ref()) {
                                    if ui
                                        .selectable_label(
                                            current.as_deref() == Some(name.as_str()),
                                            RichText::new(name).monospace(),
                                        )
                                        .on_hover_text(example_of(request, name))
                                        .clicked()
                                    {
                                        part.set(mapping, Some(name.clone()));
                                    }
                                }
                            })
                            .response
                            .labelled_by(label.id);
                        // Fixed width, so the window does not resize as the choice changes.
                        ui.add_sized(
                            [260.0, 18.0],
                            egui::Label::new(
                                RichText::new(current.as_deref().map(|n| example_of(request, n)).unwrap_or_default())
                                    .weak()
                                    .monospace(),
                            )
                            .truncate()
                            .selectable(false),
                        );
                        ui.end_row();
                    }
                    ui.label("versions");
                    let mut from_zero = mapping.version_base == 0;
                    if ui.checkbox(&mut from_zero, "count from 0 in the store").changed() {
                        mapping.version_base = u64::from(!from_zero);
                    }
                    ui.end_row();
                });
            ui.add_space(6.0);
            ui.collapsing("As a --mapping file for the command line", |ui| {
                let mut text = mapping.to_toml();
                ui.add(
                    egui::TextEdit::multiline(&mut text)
                        .code_editor()
                        .desired_rows(6)
                        .interactive(false),
                );
            });
            let problems = mapping.problems();
            for problem in &problems {
                ui.label(RichText::new(format!("⚠ {problem}")).color(theme::text(ui, theme::VIOLATION)));
            }
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(problems.is_empty(), egui::Button::new("Open with this mapping"))
                    .clicked()
                {
                    commands.push(AppCommand::ConfirmMapping);
                }
                if ui.button("Cancel").clicked() {
                    commands.push(AppCommand::CancelMapping);
                }
            });
        });
}

/// Runs `ask` (a dialog, which blocks until the user answers) on a thread of its own, never on
/// the UI thread; its answer arrives on the receiver, with a repaint to read it.
fn ask_off_the_ui_thread<T: Send + 'static>(
    ctx: &egui::Context,
    name: &str,
    ask: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<Receiver<T>> {
    let (sender, receiver) = channel();
    let repaint = ctx.clone();
    std::thread::Builder::new().name(name.into()).spawn(move || {
        let _ = sender.send(ask());
        repaint.request_repaint();
    })?;
    Ok(receiver)
}

/// The app's own file prompt, for a desktop with no file dialog: a path to open or save to.
fn path_prompt(ctx: &egui::Context, prompt: &mut PathPrompt, commands: &mut Vec<AppCommand>) {
    let (title, question, note, action) = match &prompt.purpose {
        PromptFor::Open => (
            "Open a store",
            "No file dialog could be shown on this desktop. Which store should Rewind open?".to_owned(),
            "A SQLite file, an NDJSON export, or a postgres:// URL; it is opened read-only.",
            "Open",
        ),
        PromptFor::Evidence { stream_id, until } => {
            let until = match until {
                crate::evidence::Until::Position(position) => format!(" up to position {position}"),
                _ => String::new(),
            };
            (
                "Save evidence",
                format!(
                    "No file dialog could be shown on this desktop. Where should the evidence of {stream_id}{until} go?"
                ),
                "A file already there is not replaced.",
                "Save",
            )
        }
    };
    egui::Window::new(title)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ctx, |ui| {
            ui.label(question);
            ui.label(RichText::new(note).weak());
            ui.add_space(6.0);
            let typed = ui
                .horizontal(|ui| {
                    let label = ui.label("file");
                    ui.add(egui::TextEdit::singleline(&mut prompt.path).desired_width(520.0))
                        .labelled_by(label.id)
                })
                .inner;
            if std::mem::take(&mut prompt.focus) {
                typed.request_focus();
            }
            let can_go = !prompt.path.trim().is_empty();
            // Enter in the field confirms, Escape cancels, as in a file dialog.
            let entered = typed.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                if (ui.add_enabled(can_go, egui::Button::new(action)).clicked() || entered) && can_go {
                    commands.push(AppCommand::ConfirmPathPrompt);
                }
                if ui.button("Cancel").clicked() || ui.input(|i| i.key_pressed(Key::Escape)) {
                    commands.push(AppCommand::CancelPathPrompt);
                }
            });
        });
}

/// "Connect to PostgreSQL": URL, optional schema and table, test, connect.
fn connect_dialog(ctx: &egui::Context, dialog: &mut ConnectDialog, commands: &mut Vec<AppCommand>) {
    egui::Window::new("Connect to PostgreSQL")
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ctx, |ui| {
            ui.label("The database is opened read-only: every transaction Rewind starts is read-only.");
            ui.label(
                RichText::new(
                    "The password can be in the URL, in PGPASSWORD or in ~/.pgpass; it is never saved or shown.",
                )
                .weak(),
            );
            ui.add_space(6.0);
            egui::Grid::new("connect_grid")
                .num_columns(2)
                .spacing([12.0, 6.0])
                .show(ui, |ui| {
                    let field = |ui: &mut egui::Ui, name: &str, text: &mut String, hint: &str| {
                        let label = ui.label(name);
                        ui.add(egui::TextEdit::singleline(text).hint_text(hint).desired_width(380.0))
                            .labelled_by(label.id);
                        ui.end_row();
                    };
                    field(ui, "URL", &mut dialog.url, "postgres://user@localhost:5432/database");
                    field(ui, "schema", &mut dialog.schema, "any");
                    field(ui, "table", &mut dialog.table, "found by its columns");
                });
            ui.add_space(6.0);
            if dialog.is_testing() {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("connecting…");
                });
            }
            match &dialog.tested {
                Some(Ok(found)) => {
                    ui.label(RichText::new(found).color(theme::text(ui, theme::CHANGED)));
                }
                Some(Err(error)) => {
                    ui.label(RichText::new(format!("⚠ {error}")).color(theme::text(ui, theme::VIOLATION)));
                }
                None => {}
            }
            let valid = rewind_store::is_postgres_url(dialog.url.trim());
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(valid && !dialog.is_testing(), egui::Button::new("Test connection"))
                    .clicked()
                {
                    commands.push(AppCommand::TestConnection);
                }
                if ui.add_enabled(valid, egui::Button::new("Connect")).clicked() {
                    commands.push(AppCommand::ConnectDatabase);
                }
                if ui.button("Cancel").clicked() {
                    commands.push(AppCommand::CancelConnect);
                }
            });
        });
}

/// The first row's value of a column (or field), to help tell columns apart.
fn example_of(request: &MappingRequest, name: &str) -> String {
    if name == "rowid" {
        return "row number (insertion order)".into();
    }
    request
        .names
        .iter()
        .position(|n| n == name)
        .and_then(|i| request.examples.get(i))
        .map(|example| format!("e.g. {example}"))
        .unwrap_or_default()
}

/// Returns whether the user asked to cancel.
fn opening_screen(ui: &mut egui::Ui, opening: &Opening) -> bool {
    let done = opening.progress.done.load(Ordering::Relaxed);
    let total = opening.progress.total.load(Ordering::Relaxed);
    let seconds = opening.started.elapsed().as_secs_f64().max(1e-3);
    let mut cancel = false;
    egui::CentralPanel::default().show(ui, |ui| {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() * 0.3);
            ui.heading(format!("Opening {}", opening.input.name()));
            ui.add_space(8.0);
            let read = opening.progress.read_bytes.load(Ordering::Relaxed);
            let size = opening.progress.file_bytes.load(Ordering::Relaxed);
            if total == 0 && size > 0 {
                // The first pass over the file (NDJSON), before the event count is known.
                let mib = |bytes: u64| bytes as f64 / f64::from(1 << 20);
                ui.add(
                    egui::ProgressBar::new(read as f32 / size as f32)
                        .desired_width(460.0)
                        .text(format!(
                            "reading the file: {:.0} / {:.0} MiB · {:.0} MiB/s{}",
                            mib(read),
                            mib(size),
                            mib(read) / seconds,
                            time_left(read, size, seconds)
                        )),
                );
            } else {
                let fraction = if total == 0 { 0.0 } else { done as f32 / total as f32 };
                ui.add(egui::ProgressBar::new(fraction).desired_width(460.0).text(format!(
                    "{} / {} events indexed · {} events/s{}",
                    grouped(done),
                    grouped(total),
                    grouped((done as f64 / seconds) as u64),
                    time_left(done, total, seconds)
                )));
            }
            ui.add_space(8.0);
            cancel = ui.button("Cancel").clicked();
        });
    });
    cancel
}

/// `n` with its digits in groups of three: `10,000,000`, which reads at a glance where
/// `10000000` must be counted.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// How long the rest of some work takes at the rate so far (` · about 12 s left`), or nothing
/// until there is a rate to go by: a second of work, and some of it done.
fn time_left(done: u64, total: u64, seconds: f64) -> String {
    if seconds < 1.0 || done == 0 || done >= total {
        return String::new();
    }
    let left = (total - done) as f64 * seconds / done as f64;
    match left.round() as u64 {
        0 => " · less than a second left".into(),
        s @ 1..=89 => format!(" · about {s} s left"),
        s => format!(" · about {} min left", (s as f64 / 60.0).round() as u64),
    }
}

/// Opens the desktop window.
pub fn run_native(file: Option<PathBuf>, position: Option<u64>) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Rewind")
            .with_inner_size([1400.0, 900.0])
            .with_min_inner_size([900.0, 600.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "Rewind",
        options,
        Box::new(move |creation| {
            let prefs: Prefs = creation
                .storage
                .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
                .unwrap_or_default();
            let open = file.map(StoreInput::File);
            let mut app = App::new(prefs, Arc::new(NativeDialog), open, &creation.egui_ctx);
            app.initial_position = position;
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}

#[cfg(test)]
mod tests {
    use super::{grouped, time_left};

    #[test]
    fn counts_are_grouped_in_threes() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(2_637_824), "2,637,824");
        assert_eq!(grouped(10_000_000), "10,000,000");
        assert_eq!(grouped(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn time_left_goes_by_the_rate_so_far() {
        // A quarter done in 5 s: three quarters left, 15 s.
        assert_eq!(time_left(2_500_000, 10_000_000, 5.0), " · about 15 s left");
        // A tenth done in 20 s: 180 s left.
        assert_eq!(time_left(1_000, 10_000, 20.0), " · about 3 min left");
        assert_eq!(time_left(9_999, 10_000, 2.0), " · less than a second left");
    }

    #[test]
    fn no_time_left_without_a_rate_or_with_nothing_left() {
        assert_eq!(time_left(100, 1_000, 0.5), "");
        assert_eq!(time_left(0, 1_000, 3.0), "");
        assert_eq!(time_left(1_000, 1_000, 3.0), "");
        assert_eq!(time_left(5, 0, 3.0), "");
    }
}
