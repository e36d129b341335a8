//! The status bar: the store, how it was read, its size and issues, the last seek, and the
//! last message.

use egui::{RichText, Ui};

use crate::command::{AppCommand, ViewCommand};
use crate::session::Session;
use crate::theme;
use crate::view::View;

pub fn show(ui: &mut Ui, session: &Session, view: &View, commands: &mut Vec<AppCommand>) {
    plugin_fault(ui, session, view, commands);
    egui::Panel::bottom("status_bar").show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            let index = session.engine.index();
            ui.label(format!("{} · read as {} ·", session.name(), session.format));
            domains(ui, session, commands);
            let (issues, notes) = session.issue_counts();
            let notes = if notes > 0 {
                format!(" · {notes} note(s)")
            } else {
                String::new()
            };
            ui.label(format!(
                "· {} events · {} streams · {issues} issue(s){notes} · indexed in {:.2} s",
                index.len(),
                index.stream_count(),
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
            if let Some(doubt) = &session.mapping_doubt {
                ui.separator();
                ui.label(RichText::new("⚠ mapping likely wrong").color(theme::text(ui, theme::ISSUE)))
                    .on_hover_text(doubt);
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

/// Which domains replay the store, and a menu to choose others or run a plug-in.
fn domains(ui: &mut Ui, session: &Session, commands: &mut Vec<AppCommand>) {
    let streams = session.engine.index().stream_count();
    let replayed_by = match session.claimed_streams {
        0 => "the generic fold".to_owned(),
        n if n == streams => session.domains.clone(),
        n => format!("{} ({n} of {streams} streams)", session.domains),
    };
    ui.menu_button(format!("replayed by {replayed_by} ⏷"), |ui| {
        ui.label(RichText::new("Replay this store with").weak());
        let only = &session.choice.only;
        if ui
            .selectable_label(only.is_empty(), "every domain (each claims its streams)")
            .clicked()
        {
            commands.push(AppCommand::ChooseDomains(Vec::new()));
        }
        for name in &session.domain_names {
            let label = if name == "generic" {
                "the generic fold only".to_owned()
            } else {
                format!("{name} only")
            };
            let chosen = only.len() == 1 && only[0] == *name;
            if ui.selectable_label(chosen, label).clicked() {
                commands.push(AppCommand::ChooseDomains(vec![name.clone()]));
            }
        }
        ui.separator();
        if ui
            .button("Run a domain plug-in…")
            .on_hover_text("Replay the streams a plug-in claims through your own domain code, in any language")
            .clicked()
        {
            commands.push(AppCommand::ShowPluginDialog);
        }
        if session.choice.plugin.is_some() && ui.button("Stop the plug-in").clicked() {
            commands.push(AppCommand::RunPlugin(None));
        }
    })
    .response
    .on_hover_text("Which domains replay which streams; choose others, or run your own as a plug-in");
}

/// A plug-in that failed: what happened, its last lines on stderr, and a retry.
fn plugin_fault(ui: &mut Ui, session: &Session, view: &View, commands: &mut Vec<AppCommand>) {
    let Some(fault) = &session.plugin_fault else {
        return;
    };
    if view.plugin_fault_dismissed {
        return;
    }
    egui::Panel::bottom("plugin_fault").show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            ui.label(
                RichText::new(format!(
                    "⚠ {}. The streams it claims were replayed through the generic fold.",
                    fault.message
                ))
                .color(theme::text(ui, theme::VIOLATION)),
            );
            if ui
                .button("Retry")
                .on_hover_text("Start the plug-in again and open the store with it")
                .clicked()
            {
                commands.push(AppCommand::Reopen);
            }
            if ui.small_button("Dismiss").clicked() {
                commands.push(ViewCommand::DismissPluginFault.into());
            }
        });
        if !fault.stderr.is_empty() {
            egui::CollapsingHeader::new("The plug-in's last lines on stderr")
                .id_salt("plugin_fault_stderr")
                .show(ui, |ui| {
                    for line in &fault.stderr {
                        ui.label(RichText::new(line).monospace());
                    }
                });
        }
    });
}
