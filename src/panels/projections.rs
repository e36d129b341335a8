//! The Projections tab: each read model's rows around the ones the cursor's event changed, a
//! page at a time, with the event that last changed each row.

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};
use serde_json::Value;

use crate::command::{AppCommand, ViewCommand};
use crate::session::Session;
use crate::theme;
use crate::view::View;
use crate::widgets::short;

use super::state::{Compared, change_table};

pub fn show(ui: &mut Ui, session: &Session, view: &View, commands: &mut Vec<AppCommand>) {
    let Some(result) = &view.result else { return };
    let pinned_at = result.pinned.and_then(|p| session.engine.index().position_of(p));
    let all_generic = session.claimed_streams == 0;
    if result.projections.is_empty() || all_generic {
        ui.label(
            RichText::new(if all_generic {
                "No read model sees this store's events: no domain replays its streams (they fold generically)."
            } else {
                "No read models: none of the domains that replay this store declares one."
            })
            .strong(),
        );
        ui.add(
            egui::Label::new(
                "Read models come with a domain. A domain of your own brings its read models here, with its state \
                 and invariants: written in Rust (the README's \"Bring your own domain\"), or in any language as a \
                 plug-in (docs/plugin-protocol.md; *Run a domain plug-in…* in the domain menu of the status bar).",
            )
            .wrap(),
        );
        return;
    }
    egui::ScrollArea::vertical()
        .id_salt("projections_scroll")
        .auto_shrink(false)
        .show(ui, |ui| {
            let first_changed = result
                .projections
                .iter()
                .find(|p| !p.changes.is_empty())
                .map(|p| &p.name);
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
                let shown = egui::CollapsingHeader::new(title)
                    .id_salt(&projection.name)
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
                                change_table(
                                    ui,
                                    &changes,
                                    &Compared {
                                        before: &old,
                                        after: &new,
                                        money: &session.money,
                                    },
                                );
                            }
                        }
                        let paged = view.projection_starts.iter().any(|(name, _)| *name == projection.name);
                        projection_table(ui, session, projection, (result.cursor, pinned_at), paged, commands);
                    });
                // The tab scrolls to the first read model the cursor's event changed, once for
                // each cursor; its table scrolls to the row (above).
                let scrolled = egui::Id::unique("projections_tab_scrolled_for");
                if Some(&projection.name) == first_changed
                    && ui.data(|d| d.get_temp::<Option<rewind_engine::Ordinal>>(scrolled)) != Some(result.cursor)
                {
                    ui.data_mut(|d| d.insert_temp(scrolled, result.cursor));
                    shown.header_response.scroll_to_me(Some(egui::Align::Min));
                }
            }
        });
}

/// A window of a projection's rows as a table, changed rows highlighted, each with the event that
/// last changed it (a click jumps there).
fn projection_table(
    ui: &mut Ui,
    session: &Session,
    projection: &crate::session::ProjectionView,
    (cursor, pinned_at): (Option<rewind_engine::Ordinal>, Option<u64>),
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
            commands.push(
                ViewCommand::PageProjection(
                    projection.name.clone(),
                    Some(projection.window_start.saturating_sub(page)),
                )
                .into(),
            );
        }
        if ui
            .add_enabled(end < projection.row_count, egui::Button::new("Later ▶").small())
            .on_hover_text(format!("The {page} rows after these"))
            .clicked()
        {
            commands.push(ViewCommand::PageProjection(projection.name.clone(), Some(end)).into());
        }
        if paged
            && ui
                .small_button("Around the change")
                .on_hover_text("Show the rows around the one the cursor's event changed again")
                .clicked()
        {
            commands.push(ViewCommand::PageProjection(projection.name.clone(), None).into());
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
    // Scrolled to the first row the cursor's event changed, once for each cursor (then the
    // user scrolls freely).
    let scrolled = egui::Id::unique(("projection_scrolled_for", &projection.name));
    let scroll_to = projection
        .rows
        .iter()
        .position(|(key, _)| changed.contains(&key.as_str()))
        .filter(|_| ui.data(|d| d.get_temp::<Option<rewind_engine::Ordinal>>(scrolled)) != Some(cursor));
    if scroll_to.is_some() {
        ui.data_mut(|d| d.insert_temp(scrolled, cursor));
    }
    let mut table = TableBuilder::new(ui)
        .id_salt(("projection", &projection.name))
        .striped(true)
        .max_scroll_height(TABLE_HEIGHT)
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
    if let Some(row) = scroll_to {
        table = table.scroll_to_row(row, Some(egui::Align::Center));
    }
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
                        // Money as people write it, where the domain says a column holds it.
                        let money = value.as_object().and_then(|row| {
                            session
                                .money
                                .iter()
                                .filter(|m| m.field == *column)
                                .find_map(|m| m.format_in(row))
                        });
                        let shown = money.clone().unwrap_or_else(|| cell_text(now));
                        let response = match was {
                            Some((was, at)) if was != now => ui
                                .label(RichText::new(shown).color(theme::text(ui, theme::CHANGED)))
                                .on_hover_text(format!("{} at the pinned position {at}", cell_text(was))),
                            _ => ui.label(shown),
                        };
                        if money.is_some() {
                            response.on_hover_text(format!("as stored: {}", cell_text(now)));
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
                                    theme::short_event_type(session.engine.index().event_type_name(header.event_type)),
                                    theme::time_or_unknown(header.recorded_at())
                                ))
                                .clicked()
                        {
                            commands.push(ViewCommand::ShowEvent(ordinal).into());
                        }
                    });
                }
                row.col(|ui| paint(ui));
            });
        });
}

/// The most a read model's table takes before it scrolls.
const TABLE_HEIGHT: f32 = 260.0;

/// A projection cell as text: strings bare, nothing as a dash.
fn cell_text(value: Option<&Value>) -> String {
    match value {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) => "—".into(),
        Some(other) => other.to_string(),
    }
}
