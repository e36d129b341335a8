//! The panels of an opened store. Each reads the session and view and pushes commands.

pub mod events;
pub mod streams;
pub mod timeline;

use std::collections::HashMap;

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};
use serde_json::Value;

use rewind_engine::{FieldChange, Ordinal};

use crate::app::{AppCommand, Tab, View};
use crate::session::Session;
use crate::theme;
use crate::widgets::{changes_by_path, json_tree, short};

pub fn status_bar(ui: &mut Ui, session: &Session, view: &mut View) {
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
                    view.status = None;
                }
            }
        });
    });
}

/// Below the event list: the inspector on the left, state / projections / issues on the right.
pub fn details(ui: &mut Ui, session: &Session, view: &mut View, commands: &mut Vec<AppCommand>) {
    egui::Panel::left("inspector")
        .resizable(true)
        .default_size(ui.available_width() * 0.42)
        .min_size(220.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("inspector_scroll")
                .auto_shrink(false)
                .show(ui, |ui| {
                    inspector(ui, session, view, commands);
                });
        });
    egui::CentralPanel::default().show(ui, |ui| {
        ui.horizontal(|ui| {
            for (tab, label) in [
                (Tab::State, "State"),
                (Tab::Projections, "Projections"),
                (Tab::Issues, "Issues"),
            ] {
                let label = if tab == Tab::Issues {
                    format!("{label} ({})", session.engine.issues().len() + session.skipped.len())
                } else {
                    label.to_owned()
                };
                if ui
                    .selectable_label(view.tab == tab, RichText::new(label).strong())
                    .clicked()
                {
                    commands.push(AppCommand::SetTab(tab));
                }
            }
        });
        ui.separator();
        match view.tab {
            Tab::State => state(ui, session, view, commands),
            Tab::Projections => projections(ui, session, view, commands),
            Tab::Issues => issues(ui, session, view, commands),
        }
    });
}

fn inspector(ui: &mut Ui, session: &Session, view: &View, commands: &mut Vec<AppCommand>) {
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
        let colour = if issue.kind.is_invariant_violation() {
            theme::VIOLATION
        } else {
            theme::ISSUE
        };
        ui.label(
            RichText::new(format!("⚠ {}: {}", issue.kind.label(), issue.message))
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
                format!("{} ({}) v{}", event.stream_id, event.stream_type, event.stream_version),
            );
            row("position", event.global_position.to_string());
            row(
                "recorded at",
                format!("{} UTC", event.recorded_at.format(theme::TIME_FORMAT)),
            );
            row("event id", event.event_id.to_string());
            row("schema", format!("v{}", event.schema_version));
        });
    ui.horizontal_wrapped(|ui| {
        if let Some(correlation) = event.correlation_id()
            && ui
                .link(format!("correlation {}", abbreviate(correlation)))
                .on_hover_text("List every event of this correlation")
                .clicked()
        {
            commands.push(AppCommand::FindCorrelated(correlation.to_owned()));
        }
        if let Some(causation) = event.causation_id()
            && ui
                .link(format!("caused by {}", abbreviate(causation)))
                .on_hover_text("Jump to the event that caused this one")
                .clicked()
        {
            commands.push(AppCommand::FindEvent(causation.to_owned()));
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
                commands.push(AppCommand::SeekAndSelect(ordinal));
            }
        }
    }
    ui.separator();
    if let Some(upcast) = &result.upcast {
        ui.label(RichText::new("Payload (upcast from an older schema)").strong());
        ui.columns(2, |columns| {
            columns[0].label(RichText::new(format!("stored, v{}", event.schema_version)).weak());
            json_tree(&mut columns[0], "stored_payload", event.data.value(), &HashMap::new());
            columns[1].label(RichText::new(format!("upcast, v{}", upcast.schema_version)).weak());
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

fn state(ui: &mut Ui, session: &Session, view: &mut View, commands: &mut Vec<AppCommand>) {
    let Some(result) = &view.result else { return };
    let Some(aggregate) = &result.aggregate else {
        ui.label("Select a stream to see its state.");
        return;
    };
    ui.horizontal_wrapped(|ui| {
        ui.heading(&aggregate.stream_id);
        ui.label(RichText::new(&aggregate.stream_type).weak());
        if aggregate.generic {
            ui.label(RichText::new("generic: fold of the payloads").color(theme::text(ui, theme::ISSUE)))
                .on_hover_text("No domain plug-in claims this stream type; each field shows its latest value");
        }
        if view.selected_stream.is_none() {
            ui.label(RichText::new("following the cursor").weak())
                .on_hover_text("Select a stream to keep watching it");
        }
    });
    ui.label(format!(
        "after {} of its events · version {} · position {}",
        aggregate.events_applied, aggregate.stream_version, aggregate.position
    ));
    if let Some(position) = result
        .event
        .as_ref()
        .map(|e| e.global_position)
        .filter(|&p| p == aggregate.position)
    {
        for issue in session
            .engine
            .issues_between(position, position)
            .iter()
            .filter(|i| i.kind.is_invariant_violation())
        {
            ui.label(
                RichText::new(format!("⚠ this event broke an invariant: {}", issue.message))
                    .color(theme::text(ui, theme::VIOLATION))
                    .strong(),
            );
        }
    }
    ui.horizontal(|ui| {
        let can_diff = view.pinned.is_some();
        ui.add_enabled_ui(can_diff, |ui| {
            ui.checkbox(&mut view.diff_mode, "Diff with pinned position")
                .on_disabled_hover_text("Pin a position first (Pin, in the timeline bar)");
        });
        if ui
            .add_enabled(aggregate.events_applied > 0, egui::Button::new("Export evidence…"))
            .on_hover_text(
                "Save this stream's events up to the cursor, the state after each and the issues found, as JSON (Ctrl+E)",
            )
            .on_disabled_hover_text("The stream has no event at or before the cursor yet")
            .clicked()
        {
            commands.push(AppCommand::ExportEvidence);
        }
        if view.selected_stream.is_none()
            && ui.button("Keep watching this stream").clicked()
            && let Some(stream) = session.engine.index().stream_idx(&aggregate.stream_id)
        {
            commands.push(AppCommand::SelectStream(Some(stream)));
        }
    });
    ui.separator();
    egui::ScrollArea::vertical()
        .id_salt("state_scroll")
        .auto_shrink(false)
        .show(ui, |ui| {
            if view.diff_mode
                && let Some(pinned) = &result.pinned_aggregate
            {
                let changes = rewind_engine::diff(&pinned.state, &aggregate.state);
                ui.label(RichText::new(format!("From pinned position {} to the cursor:", pinned.position)).strong());
                if changes.is_empty() {
                    ui.label("No field differs.");
                }
                change_table(ui, &changes);
                ui.separator();
            }
            if !result.aggregate_changes.is_empty() {
                ui.label(RichText::new("Changed by this event:").color(theme::text(ui, theme::CHANGED)));
            }
            let changes = changes_by_path(&result.aggregate_changes);
            json_tree(ui, "state", &aggregate.state, &changes);
        });
}

fn change_table(ui: &mut Ui, changes: &[FieldChange]) {
    egui::Grid::new(ui.next_auto_id())
        .striped(true)
        .num_columns(3)
        .show(ui, |ui| {
            for change in changes {
                match change {
                    FieldChange::Changed { path, old, new } => {
                        ui.monospace(path);
                        ui.monospace(short(old));
                        ui.monospace(
                            RichText::new(format!("-> {}", short(new))).color(theme::text(ui, theme::CHANGED)),
                        );
                    }
                    FieldChange::Added { path, new } => {
                        ui.monospace(path);
                        ui.monospace("(absent)");
                        ui.monospace(
                            RichText::new(format!("-> {}", short(new))).color(theme::text(ui, theme::CHANGED)),
                        );
                    }
                    FieldChange::Removed { path, old } => {
                        ui.monospace(path);
                        ui.monospace(short(old));
                        ui.monospace(RichText::new("-> (removed)").color(theme::text(ui, theme::REMOVED)));
                    }
                }
                ui.end_row();
            }
        });
}

fn projections(ui: &mut Ui, session: &Session, view: &View, commands: &mut Vec<AppCommand>) {
    let Some(result) = &view.result else { return };
    let pinned_at = result.pinned.and_then(|p| session.engine.index().position_of(p));
    egui::ScrollArea::vertical()
        .id_salt("projections_scroll")
        .auto_shrink(false)
        .show(ui, |ui| {
            for projection in &result.projections {
                let title = if projection.changes.is_empty() {
                    RichText::new(format!("{} · {} rows", projection.name, projection.row_count)).strong()
                } else {
                    RichText::new(format!(
                        "{} · {} rows · {} changed by this event",
                        projection.name,
                        projection.row_count,
                        projection.changes.len()
                    ))
                    .strong()
                    .color(theme::text(ui, theme::CHANGED))
                };
                egui::CollapsingHeader::new(title)
                    .id_salt(projection.name)
                    .default_open(true)
                    .show(ui, |ui| {
                        for change in &projection.changes {
                            let old = change.before.clone().unwrap_or(Value::Null);
                            let new = change.after.clone().unwrap_or(Value::Null);
                            ui.label(RichText::new(format!("{}:", change.key)).color(theme::text(ui, theme::CHANGED)));
                            let changes = rewind_engine::diff(&old, &new);
                            if change.before.is_none() {
                                ui.label(RichText::new(format!("  new row {}", short(&new))).monospace());
                            } else {
                                change_table(ui, &changes);
                            }
                        }
                        let paged = view.projection_starts.iter().any(|(name, _)| *name == projection.name);
                        projection_table(ui, session, projection, pinned_at, paged, commands);
                    });
            }
        });
}

/// A window of a projection's rows as a table, changed rows highlighted, each with the event that
/// last changed it (a click jumps there).
fn projection_table(
    ui: &mut Ui,
    session: &Session,
    projection: &crate::session::ProjectionView,
    pinned_at: Option<u64>,
    paged: bool,
    commands: &mut Vec<AppCommand>,
) {
    if projection.rows.is_empty() {
        ui.label(RichText::new("empty").weak());
        return;
    }
    let changed: Vec<&str> = projection.changes.iter().map(|c| c.key.as_str()).collect();
    let columns: Vec<String> = projection.rows[0]
        .1
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let end = projection.window_start + projection.rows.len();
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(format!(
                "rows {}–{} of {} (by key)",
                projection.window_start + 1,
                end,
                projection.row_count
            ))
            .weak(),
        );
        let page = crate::session::PROJECTION_WINDOW;
        if ui
            .add_enabled(projection.window_start > 0, egui::Button::new("◀ Earlier").small())
            .on_hover_text(format!("The {page} rows before these"))
            .clicked()
        {
            commands.push(AppCommand::PageProjection(
                projection.name,
                Some(projection.window_start.saturating_sub(page)),
            ));
        }
        if ui
            .add_enabled(end < projection.row_count, egui::Button::new("Later ▶").small())
            .on_hover_text(format!("The {page} rows after these"))
            .clicked()
        {
            commands.push(AppCommand::PageProjection(projection.name, Some(end)));
        }
        if paged
            && ui
                .small_button("Around the change")
                .on_hover_text("Show the rows around the one the cursor's event changed again")
                .clicked()
        {
            commands.push(AppCommand::PageProjection(projection.name, None));
        }
    });
    // With a pinned position: the shown rows as they were there.
    let pinned = projection.pinned_rows.as_ref().zip(pinned_at);
    if let Some((pinned_rows, at)) = pinned {
        let differ = projection
            .rows
            .iter()
            .zip(pinned_rows)
            .filter(|((_, now), then)| then.as_ref() != Some(now))
            .count();
        ui.label(
            RichText::new(format!(
                "{differ} of the shown rows differ from the pinned position {at}"
            ))
            .color(if differ > 0 {
                theme::text(ui, theme::CHANGED)
            } else {
                ui.visuals().weak_text_color()
            }),
        );
    }
    let dark = ui.visuals().dark_mode;
    let mut table = TableBuilder::new(ui)
        .id_salt(("projection", projection.name))
        .striped(true)
        .max_scroll_height(260.0)
        .vscroll(true)
        .column(Column::auto().at_least(90.0));
    for _ in &columns {
        table = table.column(Column::auto().at_least(60.0).clip(true));
    }
    let blame = projection.changed_at.iter().any(Option::is_some);
    if blame {
        table = table.column(Column::auto().at_least(70.0));
    }
    table = table.column(Column::remainder());
    table
        .header(theme::ROW_HEIGHT, |mut header| {
            header.col(|ui| {
                ui.strong("key");
            });
            for column in &columns {
                header.col(|ui| {
                    ui.strong(column);
                });
            }
            if blame {
                header.col(|ui| {
                    ui.strong("last change")
                        .on_hover_text("The event that last changed the row, at or before the cursor");
                });
            }
            header.col(|_| {});
        })
        .body(|body| {
            body.rows(theme::ROW_HEIGHT, projection.rows.len(), |mut row| {
                let (key, value) = &projection.rows[row.index()];
                let is_changed = changed.contains(&key.as_str());
                let then = pinned.map(|(rows, at)| (rows.get(row.index()).cloned().flatten(), at));
                let paint = |ui: &mut Ui| {
                    if is_changed {
                        ui.painter().rect_filled(ui.max_rect(), 0.0, theme::highlight(dark));
                    }
                };
                row.col(|ui| {
                    paint(ui);
                    let label = ui.label(key);
                    if let Some((None, at)) = &then {
                        label.on_hover_text(format!("not there yet at the pinned position {at}"));
                    }
                });
                for column in &columns {
                    row.col(|ui| {
                        paint(ui);
                        let now = value.get(column);
                        let was = then
                            .as_ref()
                            .and_then(|(row, at)| Some((row.as_ref()?.get(column), *at)));
                        match was {
                            Some((was, at)) if was != now => {
                                ui.label(RichText::new(cell_text(now)).color(theme::text(ui, theme::CHANGED)))
                                    .on_hover_text(format!("{} at the pinned position {at}", cell_text(was)));
                            }
                            _ => {
                                ui.label(cell_text(now));
                            }
                        }
                    });
                }
                if blame {
                    let changed_at = projection.changed_at.get(row.index()).copied().flatten();
                    row.col(|ui| {
                        paint(ui);
                        let header = changed_at.and_then(|o| session.engine.index().header(o));
                        if let (Some(ordinal), Some(header)) = (changed_at, header)
                            && ui
                                .link(format!("#{}", session.engine.index().position(ordinal)))
                                .on_hover_text(format!(
                                    "{} at {}: jump there",
                                    session.engine.index().event_type_name(header.event_type),
                                    header.recorded_at().format("%Y-%m-%d %H:%M:%S")
                                ))
                                .clicked()
                        {
                            commands.push(AppCommand::SeekAndSelect(ordinal));
                        }
                    });
                }
                row.col(|ui| paint(ui));
            });
        });
}

/// A projection cell as text: strings bare, nothing as a dash.
fn cell_text(value: Option<&Value>) -> String {
    match value {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) => "—".into(),
        Some(other) => other.to_string(),
    }
}

fn issues(ui: &mut Ui, session: &Session, view: &View, commands: &mut Vec<AppCommand>) {
    let engine = &session.engine;
    ui.horizontal(|ui| {
        if ui
            .button("Find first violation")
            .on_hover_text("Jump to the first event that broke an invariant")
            .clicked()
        {
            commands.push(AppCommand::FindFirstViolation);
        }
        let violations = engine
            .issues()
            .iter()
            .filter(|i| i.kind.is_invariant_violation())
            .count();
        ui.label(format!(
            "{} issue(s), {violations} invariant violation(s)",
            engine.issues().len()
        ));
    });
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
    if engine.issues().is_empty() {
        ui.label("Replay found no issue: every event applied and every invariant held.");
        return;
    }
    let cursor_position = view.timeline.cursor().and_then(|c| engine.index().position_of(c));
    TableBuilder::new(ui)
        .id_salt("issues_table")
        .striped(true)
        .sense(egui::Sense::click())
        .column(Column::initial(70.0))
        .column(Column::initial(110.0).clip(true))
        .column(Column::initial(150.0).clip(true))
        .column(Column::remainder().clip(true))
        .header(theme::ROW_HEIGHT, |mut header| {
            for label in ["Position", "Stream", "Kind", "Message"] {
                header.col(|ui| {
                    ui.strong(label);
                });
            }
        })
        .body(|body| {
            body.rows(theme::ROW_HEIGHT, engine.issues().len(), |mut row| {
                let issue = &engine.issues()[row.index()];
                row.set_selected(cursor_position == Some(issue.position));
                let colour = if issue.kind.is_invariant_violation() {
                    theme::VIOLATION
                } else {
                    theme::ISSUE
                };
                row.col(|ui| {
                    ui.add(egui::Label::new(issue.position.to_string()).selectable(false));
                });
                row.col(|ui| {
                    ui.add(egui::Label::new(&issue.stream_id).selectable(false));
                });
                row.col(|ui| {
                    ui.add(
                        egui::Label::new(RichText::new(issue.kind.label()).color(theme::text(ui, colour)))
                            .selectable(false),
                    );
                });
                row.col(|ui| {
                    ui.add(egui::Label::new(&issue.message).selectable(false));
                });
                if row.response().clicked()
                    && let Some(ordinal) = engine.index().ordinal_at_or_before_position(issue.position)
                {
                    commands.push(AppCommand::SeekAndSelect(ordinal as Ordinal));
                }
            });
        });
}
