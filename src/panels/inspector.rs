//! The inspector: the event at the cursor, its payload (stored and upcast) and metadata, its
//! correlation and causation links, and the issues found at it.

use std::collections::HashMap;

use egui::{RichText, Ui};
use rewind_core::RecordedEvent;
use serde_json::Value;

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
    if let Some(pinned) = &result.pinned_event {
        compare(ui, pinned, event);
    }
    ui.separator();
    if let Some(upcast) = &result.upcast {
        ui.label(RichText::new("Payload (upcast from an older schema)").strong());
        ui.columns(2, |columns| {
            columns[0].label(RichText::new(format!("stored, {}", schema(event.schema_version))).weak());
            json_tree(
                &mut columns[0],
                "stored_payload",
                event.data.value(),
                &HashMap::new(),
                &session.money,
            );
            columns[1].label(RichText::new(format!("upcast, {}", schema(upcast.schema_version))).weak());
            json_tree(
                &mut columns[1],
                "upcast_payload",
                upcast.data.value(),
                &HashMap::new(),
                &session.money,
            );
        });
    } else {
        ui.label(RichText::new("Payload").strong());
        json_tree(ui, "payload", event.data.value(), &HashMap::new(), &session.money);
    }
    if let Some(encoding) = event.payload_encoding() {
        ui.label(RichText::new(format!("ℹ payload {encoding}")).color(theme::text(ui, theme::NOTE)))
            .on_hover_text("How the store keeps this payload: Rewind decoded it to show it");
    }
    ui.add_space(6.0);
    ui.label(RichText::new("Metadata").strong());
    json_tree(ui, "metadata", event.metadata.value(), &HashMap::new(), &[]);
}

/// The pinned event and the cursor's side by side: their own fields, then every payload and
/// metadata field, those that differ marked, with a line saying what differs.
fn compare(ui: &mut Ui, pinned: &RecordedEvent, event: &RecordedEvent) {
    let own = |e: &RecordedEvent| -> Vec<(String, String)> {
        vec![
            ("type".into(), e.event_type.to_string()),
            ("stream".into(), e.stream_id.to_string()),
            ("version".into(), e.stream_version.to_string()),
            ("position".into(), e.global_position.to_string()),
            (
                "recorded at".into(),
                e.recorded_at.map_or_else(
                    || theme::UNKNOWN_TIME.to_owned(),
                    |t| t.format(theme::TIME_FORMAT).to_string(),
                ),
            ),
            ("event id".into(), e.event_id.to_string()),
            ("schema".into(), schema(e.schema_version)),
        ]
    };
    let (before, after) = (own(pinned), own(event));
    let payload = fields_side_by_side(pinned.data.value(), event.data.value());
    let metadata = fields_side_by_side(pinned.metadata.value(), event.metadata.value());
    let differ = |rows: &[(String, Option<String>, Option<String>)]| rows.iter().filter(|(_, a, b)| a != b).count();
    let own_differ: Vec<String> = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a.1 != b.1)
        .map(|(a, _)| a.0.clone())
        .collect();
    let say = |what: &str, n: usize, of: usize| match n {
        0 => format!("{what} identical"),
        n => format!("{what}: {n} of {of} field(s) differ"),
    };
    egui::CollapsingHeader::new(
        RichText::new(format!("Compare with the pinned event at {}", pinned.global_position)).strong(),
    )
    .id_salt("compare_events")
    .show(ui, |ui| {
        ui.label(format!(
            "{}; {}; its own fields: {}",
            say("payload", differ(&payload), payload.len()),
            say("metadata", differ(&metadata), metadata.len()),
            if own_differ.is_empty() {
                "identical".to_owned()
            } else {
                format!("{} differ", own_differ.join(", "))
            }
        ));
        let rows: Vec<(String, Option<String>, Option<String>)> = before
            .into_iter()
            .zip(after)
            .map(|((name, a), (_, b))| (name, Some(a), Some(b)))
            .chain(
                payload
                    .into_iter()
                    .map(|(path, a, b)| (format!("payload {path}"), a, b)),
            )
            .chain(
                metadata
                    .into_iter()
                    .map(|(path, a, b)| (format!("metadata {path}"), a, b)),
            )
            .collect();
        egui_extras::TableBuilder::new(ui)
            .id_salt("compare_events_table")
            .striped(true)
            .vscroll(false)
            .column(egui_extras::Column::auto().at_least(80.0))
            .column(egui_extras::Column::remainder().clip(true))
            .column(egui_extras::Column::remainder().clip(true))
            .header(theme::ROW_HEIGHT, |mut header| {
                for title in [
                    "field".to_owned(),
                    format!("pinned, {}", pinned.global_position),
                    format!("this, {}", event.global_position),
                ] {
                    header.col(|ui| {
                        ui.label(RichText::new(title).weak());
                    });
                }
            })
            .body(|mut body| {
                for (name, a, b) in rows {
                    let same = a == b;
                    body.row(theme::ROW_HEIGHT, |mut row| {
                        row.col(|ui| {
                            ui.label(if same {
                                RichText::new(&name).weak()
                            } else {
                                RichText::new(&name).strong()
                            });
                        });
                        for text in [a.clone(), b.clone()] {
                            row.col(|ui| {
                                let text = text.unwrap_or_else(|| "(absent)".to_owned());
                                let text = if same {
                                    RichText::new(text)
                                } else {
                                    RichText::new(text).color(theme::text(ui, theme::CHANGED))
                                };
                                ui.add(egui::Label::new(text.monospace()).truncate());
                            });
                        }
                    });
                }
            });
    });
}

/// Every leaf field of two JSON values (`amount_cents`, `items[0].sku`), in the order met,
/// with each side's value as text (`None` where a side lacks it).
fn fields_side_by_side(a: &Value, b: &Value) -> Vec<(String, Option<String>, Option<String>)> {
    fn leaves(value: &Value, path: &str, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (key, value) in map {
                    let path = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    leaves(value, &path, out);
                }
            }
            Value::Array(items) if !items.is_empty() => {
                for (i, value) in items.iter().enumerate() {
                    leaves(value, &format!("{path}[{i}]"), out);
                }
            }
            leaf => out.push((path.to_owned(), crate::widgets::short(leaf))),
        }
    }
    let (mut left, mut right) = (Vec::new(), Vec::new());
    leaves(a, "", &mut left);
    leaves(b, "", &mut right);
    let mut rows: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    for (path, value) in left {
        let other = right.iter().find(|(p, _)| *p == path).map(|(_, v)| v.clone());
        rows.push((path, Some(value), other));
    }
    for (path, value) in right {
        if !rows.iter().any(|(p, _, _)| *p == path) {
            rows.push((path, None, Some(value)));
        }
    }
    rows
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
