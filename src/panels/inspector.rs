//! The inspector: the event at the cursor, its payload (stored and upcast) and metadata, its
//! correlation and causation links, and the issues found at it.

use std::collections::HashMap;

use egui::{RichText, Ui};

use crate::command::{AppCommand, ViewCommand};
use crate::session::Session;
use crate::theme;
use crate::view::View;
use crate::widgets::json_tree;

pub fn show(ui: &mut Ui, session: &Session, view: &View, commands: &mut Vec<AppCommand>) {
    ui.heading("Event");
    let Some(result) = &view.result else {
        ui.label("…");
        return;
    };
    let Some(event) = &result.event else {
        ui.label("No event at the cursor.");
        return;
    };
    for issue in session
        .engine
        .issues_between(event.global_position, event.global_position)
    {
        let (colour, sign) = if issue.kind.is_invariant_violation() {
            (theme::VIOLATION, "⚠")
        } else if issue.severity() == rewind_core::Severity::Note {
            (theme::NOTE, "ℹ note,")
        } else {
            (theme::ISSUE, "⚠")
        };
        ui.label(
            RichText::new(format!("{sign} {}: {}", issue.kind.label(), issue.message))
                .color(theme::text(ui, colour))
                .strong(),
        );
    }
    egui::Grid::new("event_fields")
        .num_columns(2)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            let mut row = |name: &str, value: String| {
                ui.label(RichText::new(name).weak());
                ui.label(value);
                ui.end_row();
            };
            row("type", event.event_type.to_string());
            row(
                "stream",
                format!(
                    "{} ({}) v{}",
                    event.stream_id,
                    theme::stream_type_or_unknown(&event.stream_type),
                    event.stream_version
                ),
            );
            row("position", event.global_position.to_string());
            row(
                "recorded at",
                event.recorded_at.map_or_else(
                    || format!("{} (the store records no time)", theme::UNKNOWN_TIME),
                    |at| format!("{} UTC", at.format(theme::TIME_FORMAT)),
                ),
            );
            row("event id", event.event_id.to_string());
            row("schema", schema(event.schema_version));
        });
    ui.horizontal_wrapped(|ui| {
        if let Some(correlation) = event.correlation_id()
            && ui
                .link(format!("correlation {}", abbreviate(correlation)))
                .on_hover_text("List every event of this correlation")
                .clicked()
        {
            commands.push(ViewCommand::FindCorrelated(correlation.to_owned()).into());
        }
        if let Some(causation) = event.causation_id()
            && ui
                .link(format!("caused by {}", abbreviate(causation)))
                .on_hover_text("Jump to the event that caused this one")
                .clicked()
        {
            commands.push(ViewCommand::FindEvent(causation.to_owned()).into());
        }
        if event.correlation_id().is_none() && event.causation_id().is_none() {
            ui.label(RichText::new("no correlation or causation id").weak());
        }
    });
    if let Some((id, related)) = &view.related
        && event.correlation_id() == Some(id.as_str())
    {
        ui.label(RichText::new(format!("{} events share this correlation:", related.len())).weak());
        let index = session.engine.index();
        for &ordinal in related.iter().take(50) {
            let Some(header) = index.header(ordinal) else { continue };
            let text = format!(
                "{} · {} · {}",
                index.position(ordinal),
                index.stream(header.stream).map_or("?", |e| e.stream_id),
                index.event_type_name(header.event_type)
            );
            if ui
                .selectable_label(view.timeline.cursor() == Some(ordinal), text)
                .clicked()
            {
                commands.push(ViewCommand::ShowEvent(ordinal).into());
            }
        }
    }
    ui.separator();
    if let Some(upcast) = &result.upcast {
        ui.label(RichText::new("Payload (upcast from an older schema)").strong());
        ui.columns(2, |columns| {
            columns[0].label(RichText::new(format!("stored, {}", schema(event.schema_version))).weak());
            json_tree(&mut columns[0], "stored_payload", event.data.value(), &HashMap::new());
            columns[1].label(RichText::new(format!("upcast, {}", schema(upcast.schema_version))).weak());
            json_tree(&mut columns[1], "upcast_payload", upcast.data.value(), &HashMap::new());
        });
    } else {
        ui.label(RichText::new("Payload").strong());
        json_tree(ui, "payload", event.data.value(), &HashMap::new());
    }
    ui.add_space(6.0);
    ui.label(RichText::new("Metadata").strong());
    json_tree(ui, "metadata", event.metadata.value(), &HashMap::new());
}

fn abbreviate(id: &str) -> String {
    if id.len() > 13 {
        format!("{}…", &id[..8])
    } else {
        id.to_owned()
    }
}

/// A schema version as the inspector says it: `v2`, or that the store recorded none.
fn schema(version: Option<u32>) -> String {
    version.map_or_else(|| "not recorded".to_owned(), |v| format!("v{v}"))
}
