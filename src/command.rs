//! Everything that changes the app: [`AppCommand`]s, pushed by panels, dialogs and keys, and
//! handled once a frame by one exhaustive match each (the app's and the view's), so a command
//! nobody handles does not compile.
//!
//! The actions a user invokes by name ([`UiCommand`]) carry their label, tooltip and keyboard
//! shortcut in one place: the buttons, the key handling and the Keys help are all made from it,
//! as Rerun's `UICommand` does.

use egui::{Key, KeyboardShortcut, Modifiers};

use rewind_engine::{Ordinal, StreamIdx, TimelineCommand};

use crate::session::StoreInput;

/// Something the user asked for.
#[derive(Clone, Debug, PartialEq)]
pub enum AppCommand {
    Open(StoreInput),
    /// Ask for a store with the file dialog.
    PickFile,
    CloseStore,
    CancelOpening,
    /// Follow the system's theme (`None`), or use the dark or the light one.
    SetTheme(Option<bool>),
    ToggleTheme,
    DismissError,
    /// Hide the advice about fonts to install (for this run).
    DismissFontAdvice,
    /// Open the store of the mapping dialog with the mapping as edited, and remember it.
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
    /// Replay the open store with these domains only (empty: all of them), remembered for it.
    ChooseDomains(Vec<String>),
    /// Ask for a domain plug-in's command.
    ShowPluginDialog,
    CancelPluginDialog,
    /// Replay the open store with this plug-in (`None`: without one), remembered for it.
    RunPlugin(Option<String>),
    /// Open the store again as it was chosen (after a plug-in failed, say).
    Reopen,
    /// A change to the opened store's view (ignored when no store is open).
    View(ViewCommand),
}

/// A change to what the opened store's view shows.
#[derive(Clone, Debug, PartialEq)]
pub enum ViewCommand {
    Timeline(TimelineCommand),
    /// Keep watching this stream (`None`: follow the cursor's).
    SelectStream(Option<StreamIdx>),
    /// Go to an event (a link naming it: last change, caused by, an issue, a match). The state
    /// shows its stream; a stream watched until then is let go when it is another one, and the
    /// status bar says so. Moving in time (stepping, playing, Go to) keeps the watched stream.
    ShowEvent(Ordinal),
    Pin,
    Unpin,
    SetDiffMode(bool),
    FindFirstViolation,
    /// List the events that share this correlation id.
    FindCorrelated(String),
    /// Jump to the event with this id (a causation link).
    FindEvent(String),
    /// Show a read model's rows from this one on (`None`: around the cursor's change again).
    PageProjection(String, Option<usize>),
    /// Filter the event list (nothing asked: clear it).
    ApplyFilter(crate::view::FilterRequest),
    SetTab(Tab),
    /// Show the storing library's bookkeeping fields in a generic state.
    ShowBookkeeping(bool),
    /// Go where the Go to field says: a position, a version of the selected stream, a time.
    GoTo(String),
    /// The timeline's visible time range in milliseconds (`None`: everything).
    SetTrackRange(Option<(i64, i64)>),
    /// The rows of the event list on screen, whose payloads to fetch.
    ShowRows(Vec<Ordinal>),
    /// The event list has scrolled to the cursor.
    ScrolledToCursor,
    DismissStatus,
    /// Hide the banner that says the plug-in failed.
    DismissPluginFault,
}

/// The details panel's tabs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tab {
    #[default]
    State,
    Projections,
    Issues,
}

impl From<ViewCommand> for AppCommand {
    fn from(command: ViewCommand) -> Self {
        Self::View(command)
    }
}

impl From<TimelineCommand> for AppCommand {
    fn from(command: TimelineCommand) -> Self {
        Self::View(ViewCommand::Timeline(command))
    }
}

/// An action a user invokes by name: a button, a key, a line of the Keys help.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UiCommand {
    OpenFile,
    LoadSample,
    ConnectDatabase,
    CloseStore,
    ToggleTheme,
    JumpToStart,
    StepBack,
    StepBack100,
    PlayPause,
    StepForward,
    StepForward100,
    JumpToEnd,
    Pin,
    FindFirstViolation,
    ExportEvidence,
}

impl UiCommand {
    /// Every command, in the order the Keys help lists them. A shortcut with Shift comes before
    /// the same key without it: egui matches keys ignoring a Shift the shortcut does not name.
    pub const ALL: &[Self] = &[
        Self::PlayPause,
        Self::StepBack100,
        Self::StepForward100,
        Self::StepBack,
        Self::StepForward,
        Self::JumpToStart,
        Self::JumpToEnd,
        Self::ExportEvidence,
        Self::OpenFile,
        Self::LoadSample,
        Self::ConnectDatabase,
        Self::CloseStore,
        Self::ToggleTheme,
        Self::Pin,
        Self::FindFirstViolation,
    ];

    /// The button's text.
    pub fn label(self) -> &'static str {
        match self {
            Self::OpenFile => "Open file…",
            Self::LoadSample => "Load sample bank data",
            Self::ConnectDatabase => "Connect to PostgreSQL…",
            Self::CloseStore => "Close",
            Self::ToggleTheme => "Switch theme",
            Self::JumpToStart => "|◀ Start",
            Self::StepBack => "◀ Back",
            Self::StepBack100 => "◀◀ Back 100",
            Self::PlayPause => "▶ Play",
            Self::StepForward => "Fwd ▶",
            Self::StepForward100 => "Fwd 100 ▶▶",
            Self::JumpToEnd => "End ▶|",
            Self::Pin => "Pin",
            Self::FindFirstViolation => "Find first violation",
            Self::ExportEvidence => "Export evidence…",
        }
    }

    /// What it does, in a sentence: the tooltip, and the Keys help.
    pub fn tooltip(self) -> &'static str {
        match self {
            Self::OpenFile => "Open a SQLite store or an NDJSON export",
            Self::LoadSample => "Open the bundled sample history of a small bank",
            Self::ConnectDatabase => "Open a live PostgreSQL event store, read-only",
            Self::CloseStore => "Close the store",
            Self::ToggleTheme => "Switch the theme (follows the system until you do)",
            Self::JumpToStart => "Jump to start",
            Self::StepBack => "Step back",
            Self::StepBack100 => "Step 100 back",
            Self::PlayPause => "Play / pause",
            Self::StepForward => "Step forward",
            Self::StepForward100 => "Step 100 forward",
            Self::JumpToEnd => "Jump to end",
            Self::Pin => "Pin this position to diff the state against it",
            Self::FindFirstViolation => "Jump to the first event that broke an invariant",
            Self::ExportEvidence => {
                "Save this stream's events up to the cursor, the state after each and the issues found, as JSON"
            }
        }
    }

    pub fn shortcut(self) -> Option<KeyboardShortcut> {
        let key = |modifiers, key| Some(KeyboardShortcut::new(modifiers, key));
        match self {
            Self::PlayPause => key(Modifiers::NONE, Key::Space),
            Self::StepBack => key(Modifiers::NONE, Key::ArrowLeft),
            Self::StepForward => key(Modifiers::NONE, Key::ArrowRight),
            Self::StepBack100 => key(Modifiers::SHIFT, Key::ArrowLeft),
            Self::StepForward100 => key(Modifiers::SHIFT, Key::ArrowRight),
            Self::JumpToStart => key(Modifiers::NONE, Key::Home),
            Self::JumpToEnd => key(Modifiers::NONE, Key::End),
            Self::ExportEvidence => key(Modifiers::COMMAND, Key::E),
            Self::OpenFile
            | Self::LoadSample
            | Self::ConnectDatabase
            | Self::CloseStore
            | Self::ToggleTheme
            | Self::Pin
            | Self::FindFirstViolation => None,
        }
    }

    /// The tooltip with the shortcut, as the platform writes it (`Play / pause (Space)`).
    pub fn tooltip_with_shortcut(self, ctx: &egui::Context) -> String {
        match self.shortcut() {
            Some(shortcut) => format!("{} ({})", self.tooltip(), ctx.format_shortcut(&shortcut)),
            None => self.tooltip().to_owned(),
        }
    }

    /// Whether it applies only while a store is open.
    pub fn needs_store(self) -> bool {
        !matches!(
            self,
            Self::OpenFile | Self::LoadSample | Self::ConnectDatabase | Self::ToggleTheme
        )
    }

    /// What it asks of the app.
    pub fn command(self) -> AppCommand {
        match self {
            Self::OpenFile => AppCommand::PickFile,
            Self::LoadSample => AppCommand::Open(StoreInput::Sample),
            Self::ConnectDatabase => AppCommand::ShowConnect,
            Self::CloseStore => AppCommand::CloseStore,
            Self::ToggleTheme => AppCommand::ToggleTheme,
            Self::JumpToStart => TimelineCommand::JumpToStart.into(),
            Self::StepBack => TimelineCommand::StepBack.into(),
            Self::StepBack100 => TimelineCommand::StepBy(-100).into(),
            Self::PlayPause => TimelineCommand::TogglePlaying.into(),
            Self::StepForward => TimelineCommand::StepForward.into(),
            Self::StepForward100 => TimelineCommand::StepBy(100).into(),
            Self::JumpToEnd => TimelineCommand::JumpToEnd.into(),
            Self::Pin => ViewCommand::Pin.into(),
            Self::FindFirstViolation => ViewCommand::FindFirstViolation.into(),
            Self::ExportEvidence => AppCommand::ExportEvidence,
        }
    }

    /// The commands whose shortcuts were pressed this frame (each key press taken once).
    pub fn from_keys(input: &mut egui::InputState, store_open: bool) -> Vec<AppCommand> {
        Self::ALL
            .iter()
            .filter(|command| store_open || !command.needs_store())
            .filter_map(|&command| {
                let shortcut = command.shortcut()?;
                input.consume_shortcut(&shortcut).then(|| command.command())
            })
            .collect()
    }

    /// A button with the command's label and tooltip; `true` when clicked.
    pub fn button(self, ui: &mut egui::Ui) -> bool {
        self.button_labelled(ui, self.label())
    }

    /// The same with another label (Play reads Pause while playing).
    pub fn button_labelled(self, ui: &mut egui::Ui, label: &str) -> bool {
        let tooltip = self.tooltip_with_shortcut(ui.ctx());
        ui.button(label).on_hover_text(tooltip).clicked()
    }

    /// The Keys help: each shortcut and what it does.
    pub fn keys_help(ctx: &egui::Context) -> Vec<(String, &'static str)> {
        Self::ALL
            .iter()
            .filter_map(|command| Some((ctx.format_shortcut(&command.shortcut()?), command.tooltip())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each shortcut belongs to one command, and what the Keys help lists is what the keys do.
    #[test]
    fn every_shortcut_is_one_commands_and_listed_in_the_keys_help() {
        let ctx = egui::Context::default();
        let help = UiCommand::keys_help(&ctx);
        let with_keys: Vec<UiCommand> = UiCommand::ALL
            .iter()
            .copied()
            .filter(|c| c.shortcut().is_some())
            .collect();
        assert_eq!(help.len(), with_keys.len());
        for (i, a) in with_keys.iter().enumerate() {
            for b in &with_keys[i + 1..] {
                assert_ne!(a.shortcut(), b.shortcut(), "{a:?} and {b:?}");
            }
        }
        assert!(help.contains(&("Space".to_owned(), "Play / pause")), "{help:?}");
    }

    /// Shift+Right steps 100, not 1: the shortcut with Shift is matched first.
    #[test]
    fn shift_arrows_step_a_hundred() {
        let ctx = egui::Context::default();
        let mut input = egui::RawInput::default();
        input.events.push(egui::Event::Key {
            key: Key::ArrowRight,
            physical_key: None,
            pressed: true,
            repeat: false,
            modifiers: Modifiers::SHIFT,
        });
        ctx.begin_pass(input);
        let commands = ctx.input_mut(|i| UiCommand::from_keys(i, true));
        assert_eq!(commands, vec![TimelineCommand::StepBy(100).into()]);
    }
}
