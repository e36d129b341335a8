//! The event list: every event (or the filtered ones) in a virtualized table, the current one
//! highlighted, click to seek.

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};

use rewind_engine::{Ordinal, TimelineCommand};

use crate::command::{AppCommand, ViewCommand};
use crate::session::Session;
use crate::theme;
use crate::view::View;
use crate::widgets::short;

/// The most payloads fetched for the rows on screen.
const MAX_WINDOW: usize = 400;

/// The event list, and its filter as typed.
#[derive(Default)]
pub struct EventsPanel {
    /// The Find field as typed (applied with Enter or Filter).
    find: String,
    /// The event type chosen (applied when chosen).
    event_type: Option<u16>,
}

impl EventsPanel {
    pub fn show(&mut self, ui: &mut Ui, session: &Session, view: &View, commands: &mut Vec<AppCommand>) {
        show(self, ui, session, view, commands);
    }
}

fn show(panel: &mut EventsPanel, ui: &mut Ui, session: &Session, view: &View, commands: &mut Vec<AppCommand>) {
    egui::Panel::top("events")
        .resizable(true)
        .default_size(250.0)
        .min_size(120.0)
        .show(ui, |ui| {
            let index = session.engine.index();
            ui.horizontal(|ui| {
                ui.heading("Events");
                ui.label(RichText::new(format!("{} in global order", index.len())).weak());
                if let Some(cursor) = view.timeline.cursor().filter(|&c| c < index.len()) {
                    ui.separator();
                    ui.label(RichText::new(super::timeline::describe(session, cursor)).strong());
                }
            });
            filter_bar(panel, ui, session, view, commands);
            let headers = index.headers();
            let cursor = view.timeline.cursor();
            let matches = view.filter.matches.as_deref();
            let rows = matches.map_or(index.len(), <[Ordinal]>::len);
            let payloads = view
                .result
                .as_ref()
                .map(|r| r.window_events.as_slice())
                .unwrap_or_default();
            let mut table = TableBuilder::new(ui)
                .id_salt("events_table")
                .striped(true)
                .sense(egui::Sense::click())
                .max_scroll_height(f32::INFINITY)
                .column(Column::exact(14.0))
                .column(Column::initial(70.0).at_least(50.0))
                .column(Column::initial(170.0).at_least(100.0).clip(true))
                .column(Column::initial(120.0).at_least(80.0).clip(true))
                .column(Column::initial(150.0).at_least(80.0).clip(true))
                .column(Column::remainder().at_least(100.0).clip(true));
            if view.scroll_to_cursor
                && let Some(c) = cursor
            {
                let row = matches.map_or(c, |m| m.partition_point(|&o| o < c).min(m.len().saturating_sub(1)));
                table = table.scroll_to_row(row, Some(egui::Align::Center));
                commands.push(ViewCommand::ScrolledToCursor.into());
            }
            let mut shown: Vec<Ordinal> = Vec::new();
            table
                .header(theme::ROW_HEIGHT, |mut header| {
                    for label in ["", "Position", "Recorded at", "Stream", "Type", "Payload"] {
                        header.col(|ui| {
                            ui.strong(label);
                        });
                    }
                })
                .body(|body| {
                    body.rows(theme::ROW_HEIGHT, rows, |mut row| {
                        let ordinal = matches.map_or(row.index(), |m| m[row.index()]);
                        if shown.len() < MAX_WINDOW {
                            shown.push(ordinal);
                        }
                        let header = headers[ordinal];
                        let position = index.position(ordinal);
                        row.set_selected(cursor == Some(ordinal));
                        row.col(|ui| {
                            if header.flags & rewind_engine::EventHeader::VIOLATION != 0 {
                                ui.label(RichText::new("⚠").color(theme::text(ui, theme::VIOLATION)))
                                    .on_hover_text("An invariant broke here");
                            } else if header.flags & rewind_engine::EventHeader::ONLY_NOTES != 0 {
                                ui.label(RichText::new("ℹ").color(theme::text(ui, theme::NOTE)))
                                    .on_hover_text("A note: worth a look, not a failure");
                            } else if header.flags & rewind_engine::EventHeader::HAS_ISSUE != 0 {
                                ui.label(RichText::new("⚠").color(theme::text(ui, theme::ISSUE)))
                                    .on_hover_text("A replay issue here");
                            }
                        });
                        row.col(|ui| {
                            ui.add(egui::Label::new(position.to_string()).selectable(false));
                        });
                        row.col(|ui| {
                            ui.add(egui::Label::new(theme::time_or_unknown(header.recorded_at())).selectable(false));
                        });
                        row.col(|ui| {
                            ui.add(
                                egui::Label::new(index.stream(header.stream).map_or("?", |e| e.stream_id))
                                    .selectable(false),
                            );
                        });
                        row.col(|ui| {
                            let name = index.event_type_name(header.event_type);
                            let shown = ui.add(egui::Label::new(theme::short_event_type(name)).selectable(false));
                            if theme::short_event_type(name) != name {
                                shown.on_hover_text(name);
                            }
                        });
                        row.col(|ui| {
                            let payload = payloads
                                .binary_search_by_key(&position, |e| e.global_position)
                                .ok()
                                .map_or_else(|| "…".to_owned(), |i| short(payloads[i].data.value()));
                            ui.add(egui::Label::new(RichText::new(payload).monospace().weak()).selectable(false));
                        });
                        if row.response().clicked() {
                            commands.push(TimelineCommand::SeekTo(ordinal).into());
                        }
                    });
                });
            if shown != view.visible_rows {
                commands.push(ViewCommand::ShowRows(shown).into());
            }
        });
}

fn filter_bar(panel: &mut EventsPanel, ui: &mut Ui, session: &Session, view: &View, commands: &mut Vec<AppCommand>) {
    let index = session.engine.index();
    ui.horizontal(|ui| {
        let selected = panel
            .event_type
            .map_or("All event types", |t| theme::short_event_type(index.event_type_name(t)))
            .to_owned();
        let before = panel.event_type;
        egui::ComboBox::from_id_salt("event_type_filter")
            .selected_text(selected)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut panel.event_type, None, "All event types");
                for (i, name) in index.event_types().iter().enumerate() {
                    // The short name where it is unique, the whole one where it is not.
                    let short = theme::short_event_type(name);
                    let unique = index
                        .event_types()
                        .iter()
                        .filter(|other| theme::short_event_type(other) == short)
                        .count()
                        == 1;
                    ui.selectable_value(&mut panel.event_type, Some(i as u16), if unique { short } else { name })
                        .on_hover_text(name);
                }
            })
            .response
            .on_hover_text("Show only the events of this type");
        let label = ui.label("Find");
        let response = ui
            .add(
                egui::TextEdit::singleline(&mut panel.find)
                    .hint_text("text, or amount_cents > 100000")
                    .desired_width(240.0),
            )
            .labelled_by(label.id)
            .on_hover_text(
                "Text anywhere in the payload or metadata, or a condition on a payload field; Enter to filter",
            );
        let entered = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button("Filter").clicked() || entered || before != panel.event_type {
            commands.push(
                ViewCommand::ApplyFilter {
                    event_type: panel.event_type,
                    text: panel.find.clone(),
                }
                .into(),
            );
        }
        if view.filter.matches.is_some() && ui.button("Clear filter").clicked() {
            panel.find.clear();
            panel.event_type = None;
            commands.push(
                ViewCommand::ApplyFilter {
                    event_type: None,
                    text: String::new(),
                }
                .into(),
            );
        }
        if view.filter.searching {
            ui.spinner();
        } else if let Some(matches) = &view.filter.matches {
            ui.label(RichText::new(format!("{} matching event(s)", matches.len())).weak());
        }
        if let Some(error) = &view.filter.error {
            ui.label(RichText::new(error).color(theme::text(ui, theme::VIOLATION)));
        }
    });
}
