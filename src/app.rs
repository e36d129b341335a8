//! The desktop app: open a store, pick a stream, step through its history.
//!
//! Opening runs on a background thread that reports progress; the UI thread never does I/O.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, channel};

use egui::{Color32, RichText};
use serde::{Deserialize, Serialize};

use rewind_core::{Domain, RecordedEvent, ReplayIssue, StreamStep};
use rewind_engine::Replay;
use rewind_store::{EventSource, NdjsonStore, StreamInfo, open_store};

/// The bundled sample history, opened by "Load sample bank data" without touching the disk.
const SAMPLE_NDJSON: &[u8] = include_bytes!("../sample-data/bank.ndjson");
const SAMPLE_NAME: &str = "sample bank data";

/// Preferences kept between runs. Never domain or engine types.
#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    pub recent_files: Vec<PathBuf>,
}

/// Where a store comes from.
#[derive(Clone, Debug)]
pub enum StoreInput {
    File(PathBuf),
    Sample,
}

impl StoreInput {
    fn name(&self) -> String {
        match self {
            Self::File(path) => path.display().to_string(),
            Self::Sample => SAMPLE_NAME.into(),
        }
    }
}

/// An opened store, fully indexed in memory.
pub struct Session {
    pub name: String,
    pub format: String,
    pub events: Vec<RecordedEvent>,
    pub streams: Vec<StreamInfo>,
    by_stream: HashMap<String, Vec<usize>>,
    pub issues: Vec<ReplayIssue>,
    selected: Option<SelectedStream>,
}

/// The stream being inspected, replayed once on selection.
struct SelectedStream {
    stream_id: String,
    steps: Vec<StreamStep>,
    /// Indexes into `Session::events`, in version order.
    events: Vec<usize>,
    /// 0-based index of the step the cursor is on.
    cursor: usize,
}

struct Loading {
    input: StoreInput,
    progress: Arc<Progress>,
    receiver: Receiver<Result<Session, String>>,
}

#[derive(Default)]
struct Progress {
    done: AtomicU64,
    total: AtomicU64,
    cancel: AtomicBool,
}

pub struct App {
    prefs: Prefs,
    session: Option<Session>,
    loading: Option<Loading>,
    error: Option<String>,
    file_dialog: Option<Receiver<Option<PathBuf>>>,
    /// A store the UI asked to open this frame.
    pending: Option<StoreInput>,
}

impl App {
    pub fn new(prefs: Prefs, open: Option<StoreInput>, ctx: &egui::Context) -> Self {
        let mut app = Self {
            prefs,
            session: None,
            loading: None,
            error: None,
            file_dialog: None,
            pending: None,
        };
        if let Some(input) = open {
            app.open(input, ctx);
        }
        app
    }

    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    pub fn is_loading(&self) -> bool {
        self.loading.is_some()
    }

    /// Starts opening a store on a background thread.
    pub fn open(&mut self, input: StoreInput, ctx: &egui::Context) {
        let progress = Arc::new(Progress::default());
        let (sender, receiver) = channel();
        let thread_progress = Arc::clone(&progress);
        let thread_input = input.clone();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new().name("rewind-open".into()).spawn(move || {
            let result = load(&thread_input, &thread_progress);
            let _ = sender.send(result);
            ctx.request_repaint();
        });
        match spawned {
            Ok(_) => {
                self.error = None;
                self.loading = Some(Loading {
                    input,
                    progress,
                    receiver,
                });
            }
            Err(e) => self.error = Some(format!("cannot start loading: {e}")),
        }
    }

    fn poll(&mut self, ctx: &egui::Context) {
        let finished = self
            .loading
            .as_ref()
            .and_then(|loading| loading.receiver.try_recv().ok());
        if let (Some(result), Some(loading)) = (finished, self.loading.take()) {
            match result {
                Ok(session) => {
                    if let StoreInput::File(path) = &loading.input {
                        self.prefs.recent_files.retain(|p| p != path);
                        self.prefs.recent_files.insert(0, path.clone());
                        self.prefs.recent_files.truncate(10);
                    }
                    self.session = Some(session);
                }
                Err(message) => self.error = Some(message),
            }
        }
        let picked = self.file_dialog.as_ref().and_then(|dialog| dialog.try_recv().ok());
        if let Some(picked) = picked {
            self.file_dialog = None;
            if let Some(path) = picked {
                self.open(StoreInput::File(path), ctx);
            }
        }
    }

    fn pick_file(&mut self, ctx: &egui::Context) {
        let (sender, receiver) = channel();
        let ctx = ctx.clone();
        // The native dialog blocks: it runs off the UI thread.
        let _ = std::thread::Builder::new()
            .name("rewind-file-dialog".into())
            .spawn(move || {
                let picked = rfd::FileDialog::new()
                    .add_filter("Event stores", &["sqlite", "db", "sqlite3", "ndjson", "jsonl", "json"])
                    .pick_file();
                let _ = sender.send(picked);
                ctx.request_repaint();
            });
        self.file_dialog = Some(receiver);
    }
}

/// Opens, reads and replays a store (background thread).
fn load(input: &StoreInput, progress: &Progress) -> Result<Session, String> {
    let source: Box<dyn EventSource> = match input {
        StoreInput::File(path) => open_store(path).map_err(|e| e.to_string())?,
        StoreInput::Sample => {
            Box::new(NdjsonStore::from_reader(Path::new(SAMPLE_NAME), SAMPLE_NDJSON).map_err(|e| e.to_string())?)
        }
    };
    let total = source.event_count().map_err(|e| e.to_string())?;
    progress.total.store(total, Ordering::Relaxed);
    let streams = source.streams().map_err(|e| e.to_string())?;
    let mut events = Vec::with_capacity(total as usize);
    source
        .read_all(8192, &mut |batch| {
            if progress.cancel.load(Ordering::Relaxed) {
                return Err(rewind_store::StoreError::Open {
                    path: PathBuf::from(input.name()),
                    reason: "cancelled".into(),
                });
            }
            events.extend(batch);
            progress.done.store(events.len() as u64, Ordering::Relaxed);
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    let mut replay = Replay::with_capacity(Arc::new(crate::domains()), events.len());
    let mut by_stream: HashMap<String, Vec<usize>> = HashMap::new();
    for (index, event) in events.iter().enumerate() {
        replay.apply(event);
        by_stream.entry(event.stream_id.clone()).or_default().push(index);
    }
    for indexes in by_stream.values_mut() {
        indexes.sort_by_key(|&i| events[i].stream_version);
    }
    Ok(Session {
        name: input.name(),
        format: source.describe(),
        events,
        streams,
        by_stream,
        issues: replay.into_issues(),
        selected: None,
    })
}

impl Session {
    fn select(&mut self, stream_id: &str) {
        let indexes = self.by_stream.get(stream_id).cloned().unwrap_or_default();
        let events: Vec<RecordedEvent> = indexes.iter().map(|&i| self.events[i].clone()).collect();
        let steps = crate::domains().replay_stream(&events);
        self.selected = Some(SelectedStream {
            stream_id: stream_id.to_owned(),
            steps,
            events: indexes,
            cursor: 0,
        });
    }

    pub fn selected_stream(&self) -> Option<&str> {
        self.selected.as_ref().map(|s| s.stream_id.as_str())
    }

    /// The selected stream's version at the cursor.
    pub fn cursor_version(&self) -> Option<u64> {
        self.selected
            .as_ref()
            .and_then(|s| s.steps.get(s.cursor))
            .map(|step| step.stream_version)
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.poll(&ctx);
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if let Some(path) = dropped.into_iter().next() {
            self.open(StoreInput::File(path), &ctx);
        }

        egui::Panel::top("top_bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading("Rewind");
                if ui.button("Open file…").clicked() {
                    self.pick_file(&ctx);
                }
                if ui.button("Load sample bank data").clicked() {
                    self.open(StoreInput::Sample, &ctx);
                }
                if let Some(session) = &self.session {
                    ui.separator();
                    ui.label(format!(
                        "{} · {} · {} events · {} streams · {} issues",
                        session.name,
                        session.format,
                        session.events.len(),
                        session.streams.len(),
                        session.issues.len()
                    ));
                }
            });
        });

        if let Some(error) = &self.error {
            egui::Panel::bottom("error_bar").show(ui, |ui| {
                ui.colored_label(Color32::from_rgb(0xd0, 0x40, 0x40), format!("Error: {error}"));
            });
        }

        if let Some(loading) = &self.loading {
            let done = loading.progress.done.load(Ordering::Relaxed);
            let total = loading.progress.total.load(Ordering::Relaxed).max(1);
            egui::CentralPanel::default().show(ui, |ui| {
                ui.label(format!("Opening {}…", loading.input.name()));
                ui.add(egui::ProgressBar::new(done as f32 / total as f32).text(format!("{done} / {total} events")));
                if ui.button("Cancel").clicked() {
                    loading.progress.cancel.store(true, Ordering::Relaxed);
                }
            });
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
            return;
        }

        match &mut self.session {
            None => start_screen(ui, &self.prefs.recent_files.clone(), &mut |input| {
                self.pending = Some(input);
            }),
            Some(session) => session_ui(ui, session),
        }
        if let Some(input) = self.pending.take() {
            self.open(input, &ctx);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.prefs);
    }
}

fn start_screen(ui: &mut egui::Ui, recent: &[PathBuf], open: &mut dyn FnMut(StoreInput)) {
    egui::CentralPanel::default().show(ui, |ui| {
        ui.vertical_centered(|ui| {
            ui.add_space(40.0);
            ui.heading("Open an event store to start debugging");
            ui.label("A Rewind SQLite store or NDJSON export. Drop a file on the window, or use Open file….");
            ui.add_space(12.0);
            if ui.button("Load sample bank data").clicked() {
                open(StoreInput::Sample);
            }
            if !recent.is_empty() {
                ui.add_space(20.0);
                ui.label(RichText::new("Recent files").strong());
                for path in recent {
                    if ui.link(path.display().to_string()).clicked() {
                        open(StoreInput::File(path.clone()));
                    }
                }
            }
        });
    });
}

fn session_ui(ui: &mut egui::Ui, session: &mut Session) {
    let mut select = None;
    egui::Panel::left("streams")
        .resizable(true)
        .default_size(280.0)
        .show(ui, |ui| {
            ui.heading("Streams");
            let selected = session.selected_stream().map(str::to_owned);
            egui_extras::TableBuilder::new(ui)
                .striped(true)
                .column(egui_extras::Column::auto().at_least(120.0))
                .column(egui_extras::Column::auto())
                .column(egui_extras::Column::remainder())
                .header(20.0, |mut header| {
                    header.col(|ui| {
                        ui.strong("Stream");
                    });
                    header.col(|ui| {
                        ui.strong("Type");
                    });
                    header.col(|ui| {
                        ui.strong("Events");
                    });
                })
                .body(|body| {
                    body.rows(20.0, session.streams.len(), |mut row| {
                        let stream = &session.streams[row.index()];
                        row.col(|ui| {
                            let is_selected = selected.as_deref() == Some(stream.stream_id.as_str());
                            if ui.selectable_label(is_selected, &stream.stream_id).clicked() {
                                select = Some(stream.stream_id.clone());
                            }
                        });
                        row.col(|ui| {
                            ui.label(&stream.stream_type);
                        });
                        row.col(|ui| {
                            ui.label(stream.event_count.to_string());
                        });
                    });
                });
        });
    if let Some(stream_id) = select {
        session.select(&stream_id);
    }

    egui::CentralPanel::default().show(ui, |ui| {
        let Some(selected) = &mut session.selected else {
            ui.label("Select a stream to replay it.");
            return;
        };
        ui.heading(&selected.stream_id);
        let last = selected.steps.len().saturating_sub(1);
        ui.horizontal(|ui| {
            if ui.button("⏮ Start").clicked() {
                selected.cursor = 0;
            }
            if ui.button("◀ Step back").clicked() {
                selected.cursor = selected.cursor.saturating_sub(1);
            }
            if ui.button("Step forward ▶").clicked() {
                selected.cursor = (selected.cursor + 1).min(last);
            }
            if ui.button("End ⏭").clicked() {
                selected.cursor = last;
            }
            let mut version = selected.cursor + 1;
            let slider = egui::Slider::new(&mut version, 1..=last + 1).text("stream version");
            if ui.add(slider).changed() {
                selected.cursor = version - 1;
            }
        });
        ui.separator();
        let Some(step) = selected.steps.get(selected.cursor) else {
            return;
        };
        let event = &session.events[selected.events[selected.cursor]];
        ui.label(format!(
            "v{} · position {} · {} · {}",
            event.stream_version, event.global_position, event.event_type, event.recorded_at
        ));
        ui.columns(2, |columns| {
            columns[0].strong("State after this event");
            match &step.state {
                Ok(state) => {
                    columns[0].monospace(serde_json::to_string_pretty(state).unwrap_or_default());
                }
                Err(error) => {
                    columns[0].colored_label(Color32::from_rgb(0xd0, 0x40, 0x40), error.to_string());
                }
            }
            for violation in &step.violations {
                columns[0].colored_label(Color32::from_rgb(0xd0, 0x40, 0x40), &violation.message);
            }
            columns[1].strong("Event payload");
            columns[1].monospace(serde_json::to_string_pretty(&event.data).unwrap_or_default());
            columns[1].strong("Metadata");
            columns[1].monospace(serde_json::to_string_pretty(&event.metadata).unwrap_or_default());
        });
    });
}

/// Opens the desktop window.
pub fn run_native(file: Option<PathBuf>) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Rewind")
            .with_inner_size([1280.0, 800.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Rewind",
        options,
        Box::new(move |creation| {
            let prefs = creation
                .storage
                .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
                .unwrap_or_default();
            Ok(Box::new(App::new(
                prefs,
                file.map(StoreInput::File),
                &creation.egui_ctx,
            )))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
