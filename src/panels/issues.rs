//! The Issues tab: every replay issue and broken invariant, and the records the reader skipped.

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};

use rewind_core::{ReplayIssue, Severity};
use rewind_engine::Ordinal;

use crate::command::{AppCommand, UiCommand, ViewCommand};
use crate::session::Session;
use crate::theme;
use crate::view::View;

pub fn show(ui: &mut Ui, session: &Session, view: &View, commands: &mut Vec<AppCommand>) {
    let engine = &session.engine;
    ui.horizontal(|ui| {
        if UiCommand::FindFirstViolation.button(ui) {
            commands.push(UiCommand::FindFirstViolation.command());
        }
        let violations = engine
            .issues()
            .iter()
            .filter(|i| i.kind.is_invariant_violation())
            .count();
        let notes = engine
            .issues()
            .iter()
            .filter(|i| i.severity() == Severity::Note)
            .count();
        let notes_said = if notes > 0 {
            format!(", {notes} note(s)")
        } else {
            String::new()
        };
        ui.label(format!(
            "{} issue(s), {violations} invariant violation(s){notes_said}",
            engine.issues().len() - notes
        ));
    });
    if let Some(doubt) = &session.mapping_doubt {
        ui.label(RichText::new(format!("⚠ {doubt}")).color(theme::text(ui, theme::ISSUE)));
    }
    if let Some(plugin) = &session.plugin {
        let status = plugin.status();
        egui::CollapsingHeader::new(format!(
            "Plug-in {} {} (`{}`)",
            status.name, status.version, status.command
        ))
        .id_salt("plugin_status")
        .show(ui, |ui| {
            if status.stderr.is_empty() {
                ui.label(RichText::new("It has written nothing on stderr.").weak());
            } else {
                ui.label(RichText::new("Its last lines on stderr:").weak());
                for line in &status.stderr {
                    ui.label(RichText::new(line).monospace());
                }
            }
            if let Some(fault) = &status.fault {
                ui.label(RichText::new(format!("⚠ {fault}")).color(theme::text(ui, theme::VIOLATION)));
            }
        });
    }
    if !session.skipped.is_empty() {
        egui::CollapsingHeader::new(
            RichText::new(format!(
                "{} record(s) skipped while reading the store",
                session.skipped.len()
            ))
            .color(theme::text(ui, theme::ISSUE)),
        )
        .id_salt("skipped_records")
        .default_open(true)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("skipped_scroll")
                .max_height(160.0)
                .show(ui, |ui| {
                    for record in &session.skipped {
                        ui.horizontal(|ui| {
                            ui.label(RichText::new(&record.record).monospace());
                            ui.label(&record.reason);
                        });
                    }
                });
        });
    }
    let (integrity, notes): (Vec<&ReplayIssue>, Vec<&ReplayIssue>) = engine
        .issues()
        .iter()
        .partition(|issue| issue.severity() == Severity::Integrity);
    if !notes.is_empty() {
        egui::CollapsingHeader::new(format!(
            "{} note(s): clock oddities (time that goes backwards within a stream), not failures",
            notes.len()
        ))
        .id_salt("notes")
        .show(ui, |ui| {
            ui.push_id("notes_table", |ui| table(ui, session, view, &notes, commands));
        });
    }
    if integrity.is_empty() {
        ui.label("Replay found no issue: every event applied and every invariant held.");
        return;
    }
    table(ui, session, view, &integrity, commands);
}

/// The issues as a table; a click on one goes to its event.
fn table(ui: &mut Ui, session: &Session, view: &View, issues: &[&ReplayIssue], commands: &mut Vec<AppCommand>) {
    let engine = &session.engine;
    let cursor_position = view.timeline.cursor().and_then(|c| engine.index().position_of(c));
    // A narrow pane (a small window) drops the Kind column: the message takes its colour, and
    // its hover names the kind.
    let wide = ui.available_width() >= 420.0;
    let mut table = TableBuilder::new(ui)
        .id_salt("issues_table")
        .striped(true)
        .sense(egui::Sense::click())
        .column(Column::initial(62.0))
        .column(Column::initial(if wide { 110.0 } else { 96.0 }).clip(true));
    if wide {
        table = table.column(Column::initial(150.0).clip(true));
    }
    let labels: &[&str] = if wide {
        &["Position", "Stream", "Kind", "Message"]
    } else {
        &["Position", "Stream", "Message"]
    };
    table
        .column(Column::remainder().at_least(100.0).clip(true))
        .header(theme::ROW_HEIGHT, |mut header| {
            for label in labels {
                header.col(|ui| {
                    ui.strong(*label);
                });
            }
        })
        .body(|body| {
            body.rows(theme::ROW_HEIGHT, issues.len(), |mut row| {
                let issue = issues[row.index()];
                row.set_selected(cursor_position == Some(issue.position));
                let colour = if issue.kind.is_invariant_violation() {
                    theme::VIOLATION
                } else if issue.severity() == Severity::Note {
                    theme::NOTE
                } else {
                    theme::ISSUE
                };
                row.col(|ui| {
                    ui.add(egui::Label::new(issue.position.to_string()).selectable(false));
                });
                row.col(|ui| {
                    ui.add(egui::Label::new(&issue.stream_id).selectable(false));
                });
                if wide {
                    row.col(|ui| {
                        ui.add(
                            egui::Label::new(RichText::new(issue.kind.label()).color(theme::text(ui, colour)))
                                .selectable(false),
                        );
                    });
                }
                row.col(|ui| {
                    // Cut to the column with "…", whole on hover.
                    let text = if wide {
                        RichText::new(&issue.message)
                    } else {
                        RichText::new(&issue.message).color(theme::text(ui, colour))
                    };
                    ui.add(egui::Label::new(text).selectable(false).truncate())
                        .on_hover_text(format!("{}: {}", issue.kind.label(), issue.message));
                });
                if row.response().clicked()
                    && let Some(ordinal) = engine.index().ordinal_at_or_before_position(issue.position)
                {
                    commands.push(ViewCommand::ShowEvent(ordinal as Ordinal).into());
                }
            });
        });
}
