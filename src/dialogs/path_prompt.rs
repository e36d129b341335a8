//! The app's own file prompt, for a desktop with no file dialog: a path to open or save to.

use egui::{Key, RichText};

use crate::command::AppCommand;
use crate::evidence::Until;

/// A path typed in the app, when no file dialog could be shown.
pub struct PathPrompt {
    pub path: String,
    pub purpose: PromptFor,
    /// Why the path typed cannot be used, shown in the prompt, whole.
    pub error: Option<String>,
    /// The field takes the keyboard when the prompt first shows.
    focus: bool,
}

/// What a [`PathPrompt`] asks for.
pub enum PromptFor {
    /// A store to open.
    Open,
    /// Where to save the evidence of a stream.
    Evidence { stream_id: String, until: Until },
}

impl PathPrompt {
    /// A prompt proposing `file_name` in the working directory (or the directory itself): a
    /// name no file has yet (`… (2).json` when the name is taken), since a file already there is
    /// never replaced.
    pub fn new(file_name: &str, purpose: PromptFor) -> Self {
        let dir = std::env::current_dir().unwrap_or_default();
        let path = if file_name.is_empty() {
            format!("{}{}", dir.display(), std::path::MAIN_SEPARATOR)
        } else {
            free_path(&dir, file_name).display().to_string()
        };
        Self {
            path,
            purpose,
            error: None,
            focus: true,
        }
    }

    /// Why the path typed cannot be used, if it cannot: checked before the prompt closes, so
    /// the reason is shown where the path is (a later failure, such as a disk that fills up,
    /// is said in the status bar).
    pub fn check(&self) -> Result<(), String> {
        let typed = self.path.trim();
        if typed.is_empty() {
            return Err("type a path".into());
        }
        let path = std::path::Path::new(typed);
        match &self.purpose {
            PromptFor::Open => {
                if !rewind_store::is_postgres_url(typed) && !path.exists() {
                    return Err(format!("there is no file at {typed}"));
                }
            }
            PromptFor::Evidence { .. } => {
                if path.is_dir() {
                    return Err(format!("{typed} is a folder: add a file name"));
                }
                if path.exists() {
                    return Err(format!(
                        "{typed} already exists, and Rewind never replaces a file: choose another name"
                    ));
                }
                let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
                if let Some(parent) = parent
                    && !parent.is_dir()
                {
                    return Err(format!("there is no folder {}", parent.display()));
                }
            }
        }
        Ok(())
    }

    pub fn show(&mut self, ctx: &egui::Context, commands: &mut Vec<AppCommand>) {
        let (title, question, note, action) = match &self.purpose {
            PromptFor::Open => (
                "Open a store",
                "No file dialog could be shown on this desktop. Which store should Rewind open?".to_owned(),
                "A SQLite file, an NDJSON export, or a postgres:// URL; it is opened read-only.",
                "Open",
            ),
            PromptFor::Evidence { stream_id, until } => {
                let until = match until {
                    Until::Position(position) => format!(" up to position {position}"),
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
                        ui.add(egui::TextEdit::singleline(&mut self.path).desired_width(520.0))
                            .labelled_by(label.id)
                    })
                    .inner;
                if std::mem::take(&mut self.focus) {
                    typed.request_focus();
                }
                if typed.changed() {
                    self.error = None;
                }
                if let Some(error) = &self.error {
                    ui.add(
                        egui::Label::new(
                            RichText::new(format!("⚠ {error}")).color(crate::theme::text(ui, crate::theme::VIOLATION)),
                        )
                        .wrap(),
                    );
                }
                let can_go = !self.path.trim().is_empty();
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
}

/// `file_name` in `dir`, or, when a file has that name, the first of `name (2).ext`,
/// `name (3).ext`, … that none has.
pub fn free_path(dir: &std::path::Path, file_name: &str) -> std::path::PathBuf {
    let first = dir.join(file_name);
    if !first.exists() {
        return first;
    }
    let (stem, extension) = match file_name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => (stem, format!(".{extension}")),
        _ => (file_name, String::new()),
    };
    // (Ten thousand files of one name: the user picks another.)
    (2..10_000)
        .map(|n| dir.join(format!("{stem} ({n}){extension}")))
        .find(|path| !path.exists())
        .unwrap_or(first)
}

#[cfg(test)]
mod tests {
    /// A proposed name is one no file has.
    #[test]
    fn the_proposed_path_is_free() {
        let dir = tempfile::tempdir().expect("a directory");
        assert_eq!(
            super::free_path(dir.path(), "a-at-7.json"),
            dir.path().join("a-at-7.json")
        );
        std::fs::write(dir.path().join("a-at-7.json"), "{}").expect("written");
        std::fs::write(dir.path().join("a-at-7 (2).json"), "{}").expect("written");
        assert_eq!(
            super::free_path(dir.path(), "a-at-7.json"),
            dir.path().join("a-at-7 (3).json")
        );
    }
}
