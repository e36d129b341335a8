//! The desktop app: open a store, browse streams, scrub the timeline, watch state change.
//!
//! Panels read the [`View`] and the latest [`SeekResult`](crate::session::SeekResult) and push
//! [`AppCommand`]s; each frame the app handles them in one exhaustive match
//! ([`App::handle`]), and the view's in another ([`View::handle`]). Opening, indexing and
//! seeking run on the session's background thread (`session.rs`); the UI thread never reads
//! the store.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;

use egui::RichText;

use rewind_store::StoreLocation;

pub use crate::command::{AppCommand, Tab, UiCommand, ViewCommand};
use crate::dialogs::file::NO_DIALOG;
pub use crate::dialogs::{ConnectDialog, FileDialog, MappingDialog, NativeDialog, PathPrompt, PluginDialog};
use crate::dialogs::{PromptFor, ask_off_the_ui_thread};
use crate::domains::DomainChoice;
use crate::evidence::Until;
use crate::panels;
pub use crate::prefs::{Prefs, StoreSettings};
use crate::session::{Job, OpenFailure, Opening, Session, StoreInput, open};
use crate::theme;
pub use crate::view::View;

/// Evidence waiting for the save dialog's answer.
struct PendingExport {
    answer: Receiver<Option<PathBuf>>,
    /// When the dialog was asked for: an answer within [`NO_DIALOG`] came from no dialog.
    asked: std::time::Instant,
    /// The name the dialog proposed, proposed again if the app has to ask itself.
    file_name: String,
    stream_id: String,
    until: Until,
}

/// The panels that keep something of their own (what is typed or chosen in them).
#[derive(Default)]
struct Panels {
    timeline: panels::timeline::TimelinePanel,
    streams: panels::streams::StreamsPanel,
    events: panels::events::EventsPanel,
}

pub struct App {
    prefs: Prefs,
    mapping_dialog: Option<MappingDialog>,
    connect_dialog: Option<ConnectDialog>,
    plugin_dialog: Option<PluginDialog>,
    /// The domains as the command line chose them (built-in ones, a plug-in, names); a store's
    /// own choice, remembered in the preferences, adds to it where the command line says
    /// nothing.
    choice: DomainChoice,
    /// What was chosen for the sample, which has no location to remember it under.
    sample_settings: StoreSettings,
    /// What is open or opening, to open it again with another choice of domains.
    current: Option<StoreInput>,
    dialog: Arc<dyn FileDialog>,
    opening: Option<Opening>,
    session: Option<Session>,
    view: Option<View>,
    panels: Panels,
    error: Option<String>,
    /// Characters no installed font draws, to say which fonts to install.
    missing_glyphs: Arc<crate::fonts::MissingGlyphs>,
    font_advice_dismissed: bool,
    /// The open dialog's answer to come, and when it was asked for (see [`NO_DIALOG`]).
    file_dialog: Option<(Receiver<Option<PathBuf>>, std::time::Instant)>,
    save_dialog: Option<PendingExport>,
    path_prompt: Option<PathPrompt>,
    commands: Vec<AppCommand>,
    /// Where to put the cursor once the store passed on the command line is open.
    pub initial_position: Option<u64>,
}

impl App {
    /// The app with this build's domains (see [`crate::domains`]).
    pub fn new(prefs: Prefs, dialog: Arc<dyn FileDialog>, open: Option<StoreInput>, ctx: &egui::Context) -> Self {
        Self::with_domains(
            prefs,
            dialog,
            open,
            DomainChoice::builtin(Arc::new(crate::domains())),
            ctx,
        )
    }

    /// The app replaying stores through the domains `choice` names.
    pub fn with_domains(
        prefs: Prefs,
        dialog: Arc<dyn FileDialog>,
        open: Option<StoreInput>,
        choice: DomainChoice,
        ctx: &egui::Context,
    ) -> Self {
        // Panels draw no background of their own: the window is cleared to their colour (see
        // `App::clear_color`), which looks the same and costs nothing. On a software renderer
        // (a VM, a remote desktop) a frame's cost is the pixels its shapes cover, and the
        // panels' backgrounds covered the whole window (docs/performance.md).
        for theme in [egui::Theme::Dark, egui::Theme::Light] {
            ctx.style_mut_of(theme, |style| style.visuals.panel_fill = egui::Color32::TRANSPARENT);
        }
        if let Some(dark) = prefs.dark_mode {
            ctx.set_theme(if dark { egui::Theme::Dark } else { egui::Theme::Light });
        }
        let missing_glyphs = crate::fonts::MissingGlyphs::install(ctx);
        let mut app = Self {
            missing_glyphs,
            font_advice_dismissed: false,
            prefs,
            mapping_dialog: None,
            connect_dialog: None,
            plugin_dialog: None,
            choice,
            sample_settings: StoreSettings::default(),
            current: None,
            dialog,
            opening: None,
            session: None,
            view: None,
            panels: Panels::default(),
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
        match (&self.session, &self.view) {
            (Some(session), Some(view)) => view.seek_settled(session),
            _ => false,
        }
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

    /// What was chosen for `input`: the preferences' record, or the sample's.
    fn settings(&self, input: &StoreInput) -> StoreSettings {
        match input.location() {
            Some(location) => self.prefs.store(location).cloned().unwrap_or_default(),
            None => self.sample_settings.clone(),
        }
    }

    /// Changes what is chosen for `input`, remembered for a store with a location.
    fn update_settings(&mut self, input: &StoreInput, change: impl FnOnce(&mut StoreSettings)) {
        match input.location() {
            Some(location) => self.prefs.update_store(location, change),
            None => change(&mut self.sample_settings),
        }
    }

    /// The domains for `input`: the command line's choice, and the store's own where the
    /// command line says nothing.
    fn choice_for(&self, settings: &StoreSettings) -> DomainChoice {
        let mut choice = self.choice.clone();
        if choice.plugin.is_none() {
            choice.plugin.clone_from(&settings.plugin);
        }
        if choice.only.is_empty() {
            choice.only = settings.domains.clone().unwrap_or_default();
        }
        choice
    }

    fn start_opening(&mut self, input: StoreInput, ctx: &egui::Context) {
        let repaint_ctx = ctx.clone();
        let settings = self.settings(&input);
        let mapping = settings.mapping.clone();
        let choice = self.choice_for(&settings);
        self.mapping_dialog = None;
        self.current = Some(input.clone());
        match open(input, mapping, choice, Arc::new(move || repaint_ctx.request_repaint())) {
            Ok(opening) => {
                self.error = None;
                self.opening = Some(opening);
            }
            Err(message) => self.error = Some(message),
        }
    }

    /// Applies one command. Every command is handled here (the view's by [`View::handle`]).
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
                    // The location kept its password (a database's), which the preferences do not.
                    let location = dialog.request.location;
                    self.prefs
                        .update_store(&location, |settings| settings.mapping = Some(dialog.mapping));
                    self.start_opening(StoreInput::Location(location), ctx);
                }
            }
            AppCommand::CancelMapping => self.mapping_dialog = None,
            AppCommand::ExportEvidence => self.start_export(ctx),
            AppCommand::ConfirmPathPrompt => self.confirm_path_prompt(ctx),
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
                    self.start_opening(StoreInput::Location(dialog.location()), ctx);
                }
            }
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
            AppCommand::ToggleTheme => {
                let dark = ctx.theme() == egui::Theme::Dark;
                self.handle(AppCommand::SetTheme(Some(!dark)), ctx);
            }
            AppCommand::DismissError => self.error = None,
            AppCommand::DismissFontAdvice => self.font_advice_dismissed = true,
            AppCommand::ChooseDomains(names) => {
                if let Some(input) = self.current.clone() {
                    self.update_settings(&input, |settings| {
                        settings.domains = Some(names).filter(|n| !n.is_empty());
                    });
                    self.start_opening(input, ctx);
                }
            }
            AppCommand::ShowPluginDialog => {
                let command = self
                    .current
                    .as_ref()
                    .and_then(|input| self.settings(input).plugin)
                    .unwrap_or_default();
                self.plugin_dialog = Some(PluginDialog::new(command));
            }
            AppCommand::CancelPluginDialog => self.plugin_dialog = None,
            AppCommand::RunPlugin(command) => {
                self.plugin_dialog = None;
                if let Some(input) = self.current.clone() {
                    self.update_settings(&input, |settings| {
                        settings.plugin = command.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
                    });
                    self.start_opening(input, ctx);
                }
            }
            AppCommand::Reopen => {
                if let Some(input) = self.current.clone() {
                    self.start_opening(input, ctx);
                }
            }
            AppCommand::View(command) => {
                if let (Some(session), Some(view)) = (&self.session, &mut self.view) {
                    view.handle(session, command);
                }
            }
        }
    }

    /// Opens, or saves the evidence to, the path typed in the app's prompt.
    fn confirm_path_prompt(&mut self, ctx: &egui::Context) {
        let Some(mut prompt) = self.path_prompt.take() else {
            return;
        };
        if let Err(error) = prompt.check() {
            // Said in the prompt, which stays open with the path as typed.
            prompt.error = Some(error);
            self.path_prompt = Some(prompt);
            return;
        }
        let typed = prompt.path.trim().to_owned();
        match prompt.purpose {
            PromptFor::Open => self.start_opening(StoreInput::Location(StoreLocation::parse(&typed)), ctx),
            PromptFor::Evidence { stream_id, until } => {
                let (Some(session), Some(view)) = (&self.session, &mut self.view) else {
                    return;
                };
                let path = PathBuf::from(typed);
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
                    until: Until::Position(position),
                });
            }
            Err(e) => view.status = Some(format!("⚠ cannot open a save dialog: {e}")),
        }
    }

    /// Takes in what finished since the last frame: an opening, a dialog's answer, the
    /// session's results.
    fn poll(&mut self, ctx: &egui::Context) {
        if let Some(result) = self.opening.as_ref().and_then(Opening::poll)
            && let Some(opening) = self.opening.take()
        {
            match result {
                Ok(session) => self.opened(&opening, session),
                Err(failure) => self.failed_to_open(&opening, failure),
            }
        }
        self.poll_file_dialog(ctx);
        self.poll_save_dialog();
        if let (Some(session), Some(view)) = (&self.session, &mut self.view) {
            for result in session.poll() {
                view.receive(session, result);
            }
        }
    }

    fn opened(&mut self, opening: &Opening, session: Session) {
        // Recent stores are remembered without passwords (a location never saves one).
        if let Some(location) = opening.input.location() {
            self.prefs.opened(location);
        }
        let mut view = View::new(&session);
        if let Some(position) = self.initial_position.take()
            && let Some(ordinal) = session.engine.index().ordinal_at_or_before_position(position)
        {
            view.handle(&session, ViewCommand::ShowEvent(ordinal));
        }
        self.view = Some(view);
        self.session = Some(session);
        // A save asked for in the store before is not saved from this one.
        self.save_dialog = None;
        self.path_prompt = None;
    }

    fn failed_to_open(&mut self, opening: &Opening, failure: OpenFailure) {
        let OpenFailure { mut message, mapping } = failure;
        if opening.mapping.is_some()
            && let Some(location) = opening.input.location()
        {
            // A remembered mapping that no longer fits is forgotten, so opening the store
            // again proposes a fresh one.
            self.prefs.update_store(location, |settings| settings.mapping = None);
            message.push_str(" (the remembered mapping for this store was forgotten; open it again to map it anew)");
        }
        match mapping {
            Some(request) => self.mapping_dialog = Some(MappingDialog::new(*request)),
            None => self.error = Some(message),
        }
    }

    fn poll_file_dialog(&mut self, ctx: &egui::Context) {
        let Some((answer, asked)) = &self.file_dialog else {
            return;
        };
        match answer.try_recv() {
            Ok(Some(path)) => {
                self.file_dialog = None;
                self.start_opening(StoreInput::Location(StoreLocation::File(path)), ctx);
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

    fn poll_save_dialog(&mut self) {
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
    }

    /// Sends the seek the current frame needs, if it differs from the last one.
    fn request_seek(&mut self) {
        if let (Some(session), Some(view)) = (&self.session, &mut self.view)
            && let Some(request) = view.seek_request(session)
        {
            session.send(Job::Seek(request));
        }
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
            self.commands
                .push(AppCommand::Open(StoreInput::Location(StoreLocation::File(path))));
        }
        if !ctx.text_edit_focused() {
            let store_open = self.session.is_some();
            let keys = ctx.input_mut(|input| UiCommand::from_keys(input, store_open));
            self.commands.extend(keys);
        }

        self.top_bar(ui);
        if let Some(error) = &self.error {
            egui::Panel::bottom("error_bar").show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.label(RichText::new(format!("⚠ {error}")).color(theme::text(ui, theme::VIOLATION)));
                    if ui.small_button("Dismiss").clicked() {
                        self.commands.push(AppCommand::DismissError);
                    }
                });
            });
        }

        if !self.font_advice_dismissed
            && let Some(advice) = self.missing_glyphs.advice()
        {
            egui::Panel::bottom("font_bar").show(ui, |ui| {
                ui.horizontal(|ui| {
                    if ui.small_button("Dismiss").clicked() {
                        self.commands.push(AppCommand::DismissFontAdvice);
                    }
                    ui.add(
                        egui::Label::new(RichText::new(format!("⚠ {advice}")).color(theme::text(ui, theme::ISSUE)))
                            .wrap(),
                    );
                });
            });
        }
        if let Some(dialog) = &mut self.mapping_dialog {
            dialog.show(&ctx, &mut self.commands);
        }
        if let Some(dialog) = &mut self.connect_dialog {
            dialog.poll();
            dialog.show(&ctx, &mut self.commands);
        }
        if let Some(prompt) = &mut self.path_prompt {
            prompt.show(&ctx, &mut self.commands);
        }
        if let Some(dialog) = &mut self.plugin_dialog {
            dialog.show(&ctx, &mut self.commands);
        }
        if let Some(opening) = &self.opening {
            if opening_screen(ui, opening) {
                self.commands.push(AppCommand::CancelOpening);
            }
            ctx.request_repaint_after(crate::session::PROGRESS_FRAME);
        } else if let (Some(session), Some(view)) = (&self.session, &mut self.view) {
            view.tick(session, f64::from(ctx.input(|i| i.stable_dt)).min(0.1));
            if view.timeline.is_playing() {
                ctx.request_repaint();
            }
            let view: &View = view;
            let commands = &mut self.commands;
            let panels = &mut self.panels;
            panels::status_bar::show(ui, session, view, commands);
            panels.timeline.show(ui, session, view, commands);
            panels.streams.show(ui, session, view, commands);
            egui::CentralPanel::default().show(ui, |ui| {
                panels.events.show(ui, session, view, commands);
                panels::details(ui, session, view, commands);
            });
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
        let store_open = self.session.is_some();
        egui::Panel::top("top_bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.heading(RichText::new("Rewind").strong());
                ui.separator();
                for command in [
                    UiCommand::OpenFile,
                    UiCommand::LoadSample,
                    UiCommand::ConnectDatabase,
                    UiCommand::CloseStore,
                ] {
                    if (store_open || !command.needs_store()) && command.button(ui) {
                        self.commands.push(command.command());
                    }
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let dark = ui.ctx().theme() == egui::Theme::Dark;
                    let label = if dark { "Light theme" } else { "Dark theme" };
                    if UiCommand::ToggleTheme.button_labelled(ui, label) {
                        self.commands.push(UiCommand::ToggleTheme.command());
                    }
                    ui.menu_button("Keys", |ui| {
                        for (keys, what) in UiCommand::keys_help(ui.ctx()) {
                            ui.label(format!("{keys}: {what}"));
                        }
                    });
                });
            });
        });
    }
}

fn start_screen(
    ui: &mut egui::Ui,
    last: Option<&StoreLocation>,
    recent: &[StoreLocation],
    commands: &mut Vec<AppCommand>,
) {
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
                    .path()
                    .and_then(|p| p.file_name())
                    .map_or_else(|| last.to_string(), |n| n.to_string_lossy().into_owned());
                if ui
                    .add(button(&format!("Reopen {name}")))
                    .on_hover_text(last.to_string())
                    .clicked()
                {
                    commands.push(AppCommand::Open(last.clone().into()));
                }
                ui.add_space(6.0);
            }
            for command in [UiCommand::OpenFile, UiCommand::LoadSample] {
                if ui
                    .add(button(command.label()))
                    .on_hover_text(command.tooltip_with_shortcut(ui.ctx()))
                    .clicked()
                {
                    commands.push(command.command());
                }
                ui.add_space(6.0);
            }
            ui.add_space(4.0);
            ui.label(RichText::new("or drop a .sqlite or .ndjson file on this window").weak());
            if !recent.is_empty() {
                ui.add_space(28.0);
                ui.label(RichText::new("Recent files").strong());
                for location in recent {
                    if ui.link(location.to_string()).clicked() {
                        commands.push(AppCommand::Open(location.clone().into()));
                    }
                }
            }
        });
    });
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

/// The window's icon (also `assets/rewind.desktop`'s).
const ICON: &[u8] = include_bytes!("../assets/icon.png");

/// Opens the desktop window, replaying stores through the domains `choice` names.
/// Draws text in any script with the system's fonts (eframe's provider, guarded against the
/// panic it raises on a machine that lists no fonts). Call before [`App::new`].
pub fn install_system_fonts(ctx: &egui::Context) {
    crate::fonts::SystemFonts::install(ctx);
}

pub fn run_native(store: Option<StoreLocation>, position: Option<u64>, choice: DomainChoice) -> anyhow::Result<()> {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Rewind")
        // The desktop entry's StartupWMClass: the window is matched to its menu entry.
        .with_app_id("rewind")
        .with_inner_size([1400.0, 900.0])
        .with_min_inner_size([900.0, 600.0])
        .with_drag_and_drop(true);
    match eframe::icon_data::from_png_bytes(ICON) {
        Ok(icon) => viewport = viewport.with_icon(Arc::new(icon)),
        Err(e) => eprintln!("rewind: the window's icon does not read ({e}); it opens without one"),
    }
    let options = eframe::NativeOptions {
        viewport,
        // The app installs the system's fonts itself, guarded (src/fonts.rs).
        system_font_fallback: false,
        ..Default::default()
    };
    eframe::run_native(
        "Rewind",
        options,
        Box::new(move |creation| {
            install_system_fonts(&creation.egui_ctx);
            let prefs: Prefs = creation
                .storage
                .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
                .unwrap_or_default();
            let open = store.map(StoreInput::Location);
            let mut app = App::with_domains(prefs, Arc::new(NativeDialog), open, choice, &creation.egui_ctx);
            app.initial_position = position;
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}

#[cfg(test)]
mod tests {
    use super::{grouped, time_left};

    /// The window's icon reads, square, at a size desktops show.
    #[test]
    fn the_icon_reads() {
        let icon = eframe::icon_data::from_png_bytes(super::ICON).expect("a PNG");
        assert_eq!((icon.width, icon.height), (256, 256));
    }

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
