//! The event list: every event (or the filtered ones) in a virtualized table, the current one
//! highlighted, click to seek.

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};

use rewind_engine::{CursorMode, Ordinal, TimelineCommand};

use crate::command::{AppCommand, ViewCommand};
use crate::session::Session;
use crate::theme;
use crate::view::{FilterRequest, View};
use crate::widgets::{short, state_line};

/// The most payloads fetched for the rows on screen.
const MAX_WINDOW: usize = 400;

/// The events the list shows, in order, without copying them.
enum Rows<'a> {
    /// Every event of the store.
    All(usize),
    /// One stream's events.
    Stream(&'a [u32]),
    /// The filter's matches (in the stream stepped through, if any).
    Some(&'a [Ordinal]),
}

impl Rows<'_> {
    fn len(&self) -> usize {
        match self {
            Self::All(n) => *n,
            Self::Stream(ordinals) => ordinals.len(),
            Self::Some(ordinals) => ordinals.len(),
        }
    }

    fn get(&self, row: usize) -> Ordinal {
        match self {
            Self::All(_) => row,
            Self::Stream(ordinals) => ordinals[row] as Ordinal,
            Self::Some(ordinals) => ordinals[row],
        }
    }

    /// The row of `ordinal`, or of the first event after it (the last row past the end).
    fn row_of(&self, ordinal: Ordinal) -> usize {
        let row = match self {
            Self::All(_) => ordinal,
            Self::Stream(ordinals) => ordinals.partition_point(|&o| (o as Ordinal) < ordinal),
            Self::Some(ordinals) => ordinals.partition_point(|&o| o < ordinal),
        };
        row.min(self.len().saturating_sub(1))
    }
}

/// The event list, and its filter as typed (applied with Enter or Filter; a type or the
/// stored-form box when chosen).
#[derive(Default)]
pub struct EventsPanel {
    draft: FilterRequest,
    /// The filter last applied, to take a range swept on the timeline into the fields.
    seen: FilterRequest,
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
            let headers = index.headers();
            // In stream mode the list is that stream's events (and the filter's among them).
            let stream = match view.timeline.mode() {
                CursorMode::Stream(s) => index.stream(s).map(|entry| (s, entry)),
                CursorMode::Global => None,
            };
            let listed = match (stream, view.filter.matches.as_deref(), &view.filter.in_stream) {
                (Some(_), Some(_), Some((_, here))) => Rows::Some(here),
                (Some((_, entry)), None, _) => Rows::Stream(entry.ordinals),
                (_, Some(matches), _) => Rows::Some(matches),
                (None, None, _) => Rows::All(index.len()),
            };
            ui.horizontal(|ui| {
                ui.heading("Events");
                let what = match stream {
                    Some((_, entry)) => format!("of {} only, in version order", entry.stream_id),
                    None => format!("{} in global order", index.len()),
                };
                ui.label(RichText::new(what).weak());
                if let Some(cursor) = view.shown_cursor().filter(|&c| c < index.len()) {
                    ui.separator();
                    ui.label(RichText::new(super::timeline::describe(session, cursor)).strong());
                }
            });
            filter_bar(panel, ui, session, view, commands);
            // The position the inspector and the state show, so that every panel shows the
            // same event in a frame (the playhead alone leads, by the seek in flight).
            let cursor = view.shown_cursor();
            let rows = listed.len();
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
                .column(Column::initial(170.0).at_least(100.0).clip(true));
            // In stream mode: no stream column (it is the one stream), and the state after each
            // event beside its payload.
            let row_states = stream.and_then(|_| view.result.as_ref().map(|r| r.row_states.as_slice()));
            table = if row_states.is_some() {
                table
                    .column(Column::initial(150.0).at_least(80.0).clip(true))
                    .column(Column::initial(220.0).at_least(100.0).clip(true))
                    .column(Column::remainder().at_least(100.0).clip(true))
            } else {
                table
                    .column(Column::initial(120.0).at_least(80.0).clip(true))
                    .column(Column::initial(150.0).at_least(80.0).clip(true))
                    .column(Column::remainder().at_least(100.0).clip(true))
            };
            // Once the panels show the cursor's event (the seek answered).
            if view.scroll_to_cursor
                && cursor == view.timeline.cursor()
                && let Some(c) = cursor
            {
                let row = listed.row_of(c);
                table = table.scroll_to_row(row, Some(egui::Align::Center));
                commands.push(ViewCommand::ScrolledToCursor.into());
            }
            let mut shown: Vec<Ordinal> = Vec::new();
            table
                .header(theme::ROW_HEIGHT, |mut header| {
                    let labels: &[&str] = if row_states.is_some() {
                        &["", "Position", "Recorded at", "Type", "Payload", "State after"]
                    } else {
                        &["", "Position", "Recorded at", "Stream", "Type", "Payload"]
                    };
                    for label in labels {
                        header.col(|ui| {
                            ui.strong(*label);
                        });
                    }
                })
                .body(|body| {
                    body.rows(theme::ROW_HEIGHT, rows, |mut row| {
                        let ordinal = listed.get(row.index());
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
                        if row_states.is_none() {
                            row.col(|ui| {
                                ui.add(
                                    egui::Label::new(index.stream(header.stream).map_or("?", |e| e.stream_id))
                                        .selectable(false),
                                );
                            });
                        }
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
                        if let Some(states) = row_states {
                            row.col(|ui| {
                                let state = states.binary_search_by_key(&ordinal, |(o, _)| *o).ok().map_or_else(
                                    || "…".to_owned(),
                                    |i| {
                                        // Against the stream's previous event, when it is the row above.
                                        let version = header.stream_version;
                                        let before = i
                                            .checked_sub(1)
                                            .filter(|&p| headers[states[p].0].stream_version + 1 == version)
                                            .map(|p| &states[p].1);
                                        state_line(before, &states[i].1)
                                    },
                                );
                                ui.add(egui::Label::new(RichText::new(state).monospace()).selectable(false));
                            });
                        }
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
    // A filter applied from elsewhere (a range swept on the timeline) shows in the fields.
    if view.filter.applied != panel.seen {
        panel.seen = view.filter.applied.clone();
        panel.draft = view.filter.applied.clone();
    }
    let draft = &mut panel.draft;
    let before = (draft.event_type, draft.stored);
    let mut entered = false;
    ui.horizontal_wrapped(|ui| {
        let selected = draft
            .event_type
            .map_or("All event types", |t| theme::short_event_type(index.event_type_name(t)))
            .to_owned();
        egui::ComboBox::from_id_salt("event_type_filter")
            .selected_text(selected)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut draft.event_type, None, "All event types");
                for (i, name) in index.event_types().iter().enumerate() {
                    // The short name where it is unique, the whole one where it is not.
                    let short = theme::short_event_type(name);
                    let unique = index
                        .event_types()
                        .iter()
                        .filter(|other| theme::short_event_type(other) == short)
                        .count()
                        == 1;
                    ui.selectable_value(&mut draft.event_type, Some(i as u16), if unique { short } else { name })
                        .on_hover_text(name);
                }
            })
            .response
            .on_hover_text("Show only the events of this type");
        // A label and its field wrap as one.
        let mut field = |ui: &mut Ui, label: &str, text: &mut String, hint: &str, width: f32, help: &str| {
            ui.horizontal(|ui| {
                let label = ui.label(label);
                let response = ui
                    .add(egui::TextEdit::singleline(text).hint_text(hint).desired_width(width))
                    .labelled_by(label.id)
                    .on_hover_text(help);
                entered |= response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            });
        };
        field(
            ui,
            "Find",
            &mut draft.text,
            "text, or amount_cents > 100000",
            220.0,
            FIND_HELP,
        );
        field(
            ui,
            "From",
            &mut draft.from,
            "yyyy-mm-dd",
            90.0,
            "Only events recorded at or after this date or time (empty: from the start)",
        );
        field(
            ui,
            "To",
            &mut draft.to,
            "yyyy-mm-dd",
            90.0,
            "Only events recorded at or before this date or time; a date includes its whole day (empty: to the end)",
        );
        ui.checkbox(&mut draft.stored, "Stored form").on_hover_text(
            "Match payloads as the store holds them. Unticked (the default), they are matched as the domain reads them: upcast to their current schema, as the state and read models see them.",
        );
        if ui.button("Filter").clicked() || entered || before != (draft.event_type, draft.stored) {
            commands.push(ViewCommand::ApplyFilter(draft.clone()).into());
        }
        if (view.filter.matches.is_some() || view.filter.error.is_some()) && ui.button("Clear filter").clicked() {
            *draft = FilterRequest::default();
            commands.push(ViewCommand::ApplyFilter(FilterRequest::default()).into());
        }
    });
    if view.filter.searching {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(RichText::new("filtering…").weak());
        });
    } else if let Some(matches) = &view.filter.matches {
        let form = if view.filter.applied.stored {
            "payloads as stored"
        } else {
            "payloads as the domain reads them"
        };
        let in_stream = view.filter.in_stream.as_ref().map_or_else(String::new, |(_, here)| {
            format!(", {} of them in this stream", here.len())
        });
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(format!("{} matching event(s){in_stream}", matches.len())).weak());
            match &view.filter.note {
                Some(note) => ui.label(RichText::new(format!("({note})")).weak()),
                None => ui.label(RichText::new(format!("({form})")).weak()),
            };
        });
    }
    if let Some(error) = &view.filter.error {
        ui.add(egui::Label::new(RichText::new(error).color(theme::text(ui, theme::VIOLATION))).wrap());
    }
}

/// What the Find field reads, for its tooltip.
const FIND_HELP: &str = "Text anywhere in the payload or metadata, or conditions:\n\
  amount_cents > 150000\n\
  amount_cents > 200000 and recorded_at >= 2024-02-01\n\
  (event_type == MoneyWithdrawn or event_type == FeeCharged) and not reference contains fee\n\
  \"ada\" and metadata.correlation_id == c-17\n\
Operators: == != > >= < <= contains; and, or, not, ( ). Names are those `rewind events` prints (event_type, stream_id, stream_version, recorded_at, metadata.…); any other is a payload field. Enter to filter.";
