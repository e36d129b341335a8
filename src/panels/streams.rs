//! The streams panel: every stream with type, count and time span; filter, sort, select.

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};

use rewind_engine::StreamIdx;

use crate::command::{AppCommand, ViewCommand};
use crate::session::Session;
use crate::theme;
use crate::view::View;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortBy {
    #[default]
    FirstSeen,
    Stream,
    Type,
    Events,
    Last,
}

/// The streams panel, with its filter and sort as chosen.
#[derive(Default)]
pub struct StreamsPanel {
    pub filter: String,
    pub type_filter: Option<String>,
    pub sort: SortBy,
    pub descending: bool,
    /// Streams in display order, rebuilt when the filter or sort changes.
    rows: Vec<StreamIdx>,
    rows_key: Option<(String, Option<String>, SortBy, bool)>,
}

impl StreamsPanel {
    fn refresh(&mut self, session: &Session) {
        let key = (
            self.filter.clone(),
            self.type_filter.clone(),
            self.sort,
            self.descending,
        );
        if self.rows_key.as_ref() == Some(&key) {
            return;
        }
        let index = session.engine.index();
        let needle = self.filter.to_lowercase();
        // A UUID is found with or without its dashes.
        let undashed = (needle.len() > 8 && needle.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
            .then(|| needle.replace('-', ""));
        let mut rows: Vec<StreamIdx> = index
            .streams()
            .zip(0..)
            .filter(|(entry, _)| {
                let id = entry.stream_id.to_lowercase();
                (needle.is_empty()
                    || id.contains(&needle)
                    || undashed
                        .as_ref()
                        .is_some_and(|u| id.replace('-', "").contains(u.as_str())))
                    && self.type_filter.as_ref().is_none_or(|t| entry.stream_type == t)
            })
            .map(|(_, s)| s)
            .collect();
        let id = |s: StreamIdx| index.stream(s).map(|e| e.stream_id);
        let stream_type = |s: StreamIdx| index.stream(s).map(|e| e.stream_type);
        let events = |s: StreamIdx| index.stream(s).map_or(0, |e| e.ordinals.len());
        let last_ms = |s: StreamIdx| {
            index
                .stream(s)
                .and_then(|e| e.ordinals.last())
                .map_or(0, |&o| index.headers()[o as usize].recorded_at_ms)
        };
        match self.sort {
            SortBy::FirstSeen => {}
            SortBy::Stream => rows.sort_by(|&a, &b| id(a).cmp(&id(b))),
            SortBy::Type => rows.sort_by(|&a, &b| stream_type(a).cmp(&stream_type(b))),
            SortBy::Events => rows.sort_by_key(|&s| events(s)),
            SortBy::Last => rows.sort_by_key(|&s| last_ms(s)),
        }
        if self.descending {
            rows.reverse();
        }
        self.rows = rows;
        self.rows_key = Some(key);
    }
}

impl StreamsPanel {
    pub fn show(&mut self, ui: &mut Ui, session: &Session, view: &View, commands: &mut Vec<AppCommand>) {
        show(self, ui, session, view, commands);
    }
}

fn show(panel: &mut StreamsPanel, ui: &mut Ui, session: &Session, view: &View, commands: &mut Vec<AppCommand>) {
    egui::Panel::left("streams")
        .resizable(true)
        // A third of the window or so at most, so the event list and the details keep their
        // room in a small window.
        .default_size((ui.available_width() * 0.32).clamp(240.0, 450.0))
        .min_size(240.0)
        .max_size((ui.available_width() * 0.36).max(240.0))
        .show(ui, |ui| {
            let index = session.engine.index();
            ui.add_space(4.0);
            ui.horizontal(|ui| {
                ui.heading("Streams");
                ui.label(RichText::new(format!("{}", index.stream_count())).weak());
            });
            // Wrapped: in a narrow panel the type filter and Clear go to a second line.
            ui.horizontal_wrapped(|ui| {
                let label = ui.label("Filter streams");
                ui.add(
                    egui::TextEdit::singleline(&mut panel.filter)
                        .hint_text("stream id")
                        .desired_width(130.0),
                )
                .labelled_by(label.id)
                .on_hover_text("Show streams whose id contains this text");
                let mut types: Vec<&str> = index.stream_types().iter().map(String::as_str).collect();
                types.sort_unstable();
                types.dedup();
                let selected = panel.type_filter.clone().unwrap_or_else(|| "All types".into());
                egui::ComboBox::from_id_salt("stream_type_filter")
                    .selected_text(selected)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut panel.type_filter, None, "All types");
                        for t in types {
                            ui.selectable_value(
                                &mut panel.type_filter,
                                Some(t.to_owned()),
                                theme::stream_type_or_unknown(t),
                            );
                        }
                    })
                    .response
                    .on_hover_text("Show only the streams of this type");
                if view.selected_stream.is_some()
                    && ui
                        .small_button("Stop watching")
                        .on_hover_text("Let the watched stream go: the state follows the cursor's stream again")
                        .clicked()
                {
                    commands.push(ViewCommand::SelectStream(None).into());
                }
            });
            panel.refresh(session);
            let selected = view.selected_stream;
            let headers = index.headers();
            let mut sort_clicked = None;
            // A narrow panel (a small window) drops the First column, never Last.
            let wide = ui.available_width() >= 430.0;
            let mut table = TableBuilder::new(ui)
                .id_salt("streams_table")
                .striped(true)
                .sense(egui::Sense::click())
                .column(
                    Column::initial(if wide { 110.0 } else { 92.0 })
                        .at_least(70.0)
                        .clip(true)
                        .resizable(true),
                )
                .column(
                    Column::initial(if wide { 90.0 } else { 78.0 })
                        .at_least(50.0)
                        .clip(true),
                )
                .column(Column::initial(56.0).at_least(52.0));
            if wide {
                table = table.column(Column::initial(84.0).at_least(60.0).clip(true));
            }
            let columns: &[(&str, SortBy)] = if wide {
                &[
                    ("Stream", SortBy::Stream),
                    ("Type", SortBy::Type),
                    ("Events", SortBy::Events),
                    ("First", SortBy::FirstSeen),
                    ("Last", SortBy::Last),
                ]
            } else {
                &[
                    ("Stream", SortBy::Stream),
                    ("Type", SortBy::Type),
                    ("Events", SortBy::Events),
                    ("Last", SortBy::Last),
                ]
            };
            table
                .column(Column::remainder().at_least(72.0).clip(true))
                .header(theme::ROW_HEIGHT, |mut header| {
                    for &(label, sort) in columns {
                        header.col(|ui| {
                            let arrow = match (panel.sort == sort, panel.descending) {
                                (true, false) => " ⏶",
                                (true, true) => " ⏷",
                                _ => "",
                            };
                            if ui
                                .button(RichText::new(format!("{label}{arrow}")).strong())
                                .on_hover_text("Sort")
                                .clicked()
                            {
                                sort_clicked = Some(sort);
                            }
                        });
                    }
                })
                .body(|body| {
                    body.rows(theme::ROW_HEIGHT, panel.rows.len(), |mut row| {
                        let stream = panel.rows[row.index()];
                        let Some(entry) = index.stream(stream) else { return };
                        row.set_selected(selected == Some(stream));
                        row.col(|ui| {
                            let shown = crate::widgets::elided_middle(ui, entry.stream_id, ui.available_width());
                            let label = ui.add(egui::Label::new(shown.as_str()).selectable(false));
                            if shown != entry.stream_id {
                                label.on_hover_text(entry.stream_id);
                            }
                        });
                        row.col(|ui| {
                            ui.add(
                                egui::Label::new(theme::stream_type_or_unknown(entry.stream_type)).selectable(false),
                            );
                        });
                        row.col(|ui| {
                            ui.add(egui::Label::new(entry.ordinals.len().to_string()).selectable(false));
                        });
                        if wide {
                            row.col(|ui| {
                                let first = entry.ordinals.first().and_then(|&o| headers[o as usize].recorded_at());
                                let text =
                                    first.map_or(theme::UNKNOWN_TIME.to_owned(), |t| t.format("%Y-%m-%d").to_string());
                                ui.add(egui::Label::new(text).selectable(false)).on_hover_text(
                                    first.map_or("the store records no time".to_owned(), |t| t.to_rfc3339()),
                                );
                            });
                        }
                        row.col(|ui| {
                            let last = entry.ordinals.last().and_then(|&o| headers[o as usize].recorded_at());
                            ui.add(
                                egui::Label::new(
                                    last.map_or(theme::UNKNOWN_TIME.to_owned(), |t| t.format("%Y-%m-%d").to_string()),
                                )
                                .selectable(false),
                            );
                        });
                        if row.response().clicked() {
                            commands.push(ViewCommand::SelectStream(Some(stream)).into());
                        }
                    });
                });
            if let Some(sort) = sort_clicked {
                if panel.sort == sort {
                    panel.descending = !panel.descending;
                } else {
                    panel.sort = sort;
                    panel.descending = false;
                }
            }
        });
}
