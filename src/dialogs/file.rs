//! The desktop's file dialogs, behind a trait the tests script, always asked off the UI thread.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, channel};

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

/// A "cancel" sooner than this after asking is no person's: the desktop has no file dialog (no
/// XDG portal), and the app asks for the path itself ([`super::PathPrompt`]).
pub const NO_DIALOG: std::time::Duration = std::time::Duration::from_millis(400);

/// Runs `ask` (a dialog, which blocks until the user answers) on a thread of its own, never on
/// the UI thread; its answer arrives on the receiver, with a repaint to read it.
pub fn ask_off_the_ui_thread<T: Send + 'static>(
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
