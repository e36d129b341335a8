//! The status bar: the store, how it was read, its size and issues, the last seek, and the
//! last message.

use egui::{RichText, Ui};

use crate::command::{AppCommand, ViewCommand};
use crate::session::Session;
use crate::theme;
use crate::view::View;

pub fn show(ui: &mut Ui, session: &Session, view: &View, commands: &mut Vec<AppCommand>) {
    egui::Panel::bottom("status_bar").show(ui, |ui| {
        ui.horizontal(|ui| {
            let index = session.engine.index();
            ui.label(format!(
                "{} · read as {} · {} events · {} streams · {} issue(s) · indexed in {:.2} s",
                session.name(),
                session.format,
                index.len(),
                index.stream_count(),
                session.engine.issues().len(),
                session.build_seconds
            ));
            if !session.skipped.is_empty() {
                ui.separator();
                ui.label(
                    RichText::new(format!("⚠ {} record(s) skipped", session.skipped.len()))
                        .color(theme::text(ui, theme::ISSUE)),
                )
                .on_hover_text("Records the reader could not use; the Issues tab lists them with their line or row");
            }
            if let Some(result) = &view.result {
                ui.separator();
                ui.label(RichText::new(format!("seek {:.1} ms", result.took_ms)).weak());
                if let Some(error) = &result.error {
                    ui.label(RichText::new(format!("⚠ {error}")).color(theme::text(ui, theme::VIOLATION)));
                }
            }
            if let Some(status) = &view.status {
                ui.separator();
                // Kept until the next message or until dismissed, so a result is not missed.
                let dismiss = ui.small_button("×").on_hover_text("Dismiss this message").clicked();
                // A long status (a path, a command to run) is cut to the bar, whole on hover.
                ui.add(egui::Label::new(RichText::new(status).color(theme::text(ui, theme::CHANGED))).truncate());
                if dismiss {
                    commands.push(ViewCommand::DismissStatus.into());
                }
            }
        });
    });
}
