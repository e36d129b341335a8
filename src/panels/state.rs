//! The State tab: the aggregate at the cursor, what the event changed, and a diff against the
//! pinned position.

use egui::{RichText, Ui};
use serde_json::Value;

use rewind_engine::FieldChange;

use crate::command::{AppCommand, UiCommand, ViewCommand};
use crate::session::Session;
use crate::theme;
use crate::view::{Bookkeeping, View};
use crate::widgets::{changes_by_path, json_tree, short};

/// Payload fields that libraries keep for themselves, not the aggregate's: Python
/// `eventsourcing`'s (`timestamp` only beside its `originator_…` fields, since a domain's own
/// payload may have one), and EventStoreDB's `$`-prefixed ones.
fn bookkeeping(fields: &serde_json::Map<String, Value>) -> Vec<&str> {
    let eventsourcing = fields.contains_key("originator_topic") || fields.contains_key("originator_id");
    ["originator_id", "originator_version", "originator_topic", "timestamp"]
        .into_iter()
        .filter(|_| eventsourcing)
        .chain(["$correlationId", "$causationId"])
        .filter(|k| fields.contains_key(*k))
        .collect()
}

pub fn show(ui: &mut Ui, session: &Session, view: &View, commands: &mut Vec<AppCommand>) {
    let Some(result) = &view.result else { return };
    let Some(aggregate) = &result.aggregate else {
        ui.label("Select a stream to see its state.");
        return;
    };
    ui.horizontal_wrapped(|ui| {
        ui.heading(&aggregate.stream_id);
        ui.label(RichText::new(theme::stream_type_or_unknown(&aggregate.stream_type)).weak());
        if aggregate.generic {
            ui.label(RichText::new("generic: fold of the payloads").color(theme::text(ui, theme::ISSUE)))
                .on_hover_text(format!(
                    "Replayed by the {}: no domain folds this stream, each field shows its latest value",
                    aggregate.replayed_by
                ));
        } else {
            ui.label(RichText::new(format!("replayed by {}", aggregate.replayed_by)).weak())
                .on_hover_text("The domain and aggregate whose code folded this stream");
        }
        if view.selected_stream.is_none() {
            ui.label(RichText::new("following the cursor").weak())
                .on_hover_text("The state shown is the stream of the event at the cursor");
        } else {
            ui.label(RichText::new("watching").color(theme::text(ui, theme::CHANGED)).strong())
                .on_hover_text("This stream's state is shown wherever the cursor goes, until you stop watching it or follow a link to another stream's event");
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
    ui.horizontal_wrapped(|ui| {
        let can_diff = view.pinned.is_some();
        ui.add_enabled_ui(can_diff, |ui| {
            let mut diff_mode = view.diff_mode;
            if ui
                .checkbox(&mut diff_mode, "Diff with pinned position")
                .on_disabled_hover_text("Pin a position first (Pin, in the timeline bar)")
                .changed()
            {
                commands.push(ViewCommand::SetDiffMode(diff_mode).into());
            }
        });
        let export = UiCommand::ExportEvidence;
        if ui
            .add_enabled(aggregate.events_applied > 0, egui::Button::new(export.label()))
            .on_hover_text(export.tooltip_with_shortcut(ui.ctx()))
            .on_disabled_hover_text("The stream has no event at or before the cursor yet")
            .clicked()
        {
            commands.push(export.command());
        }
        if view.selected_stream.is_none() {
            if ui
                .button("Watch this stream")
                .on_hover_text("Keep showing this stream's state wherever the cursor goes")
                .clicked()
                && let Some(stream) = session.engine.index().stream_idx(&aggregate.stream_id)
            {
                commands.push(ViewCommand::SelectStream(Some(stream)).into());
            }
        } else if ui
            .button("Stop watching")
            .on_hover_text("Follow the cursor's stream again")
            .clicked()
        {
            commands.push(ViewCommand::SelectStream(None).into());
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
                let index = session.engine.index();
                let at = |ordinal: Option<usize>| ordinal.and_then(|o| index.position_of(o));
                ui.label(
                    RichText::new(diff_heading(
                        pinned,
                        at(view.pinned),
                        aggregate,
                        at(view.timeline.cursor()),
                    ))
                    .strong(),
                );
                if changes.is_empty() {
                    ui.label(format!("No field of {} differs between the two.", aggregate.stream_id));
                }
                change_table(
                    ui,
                    &changes,
                    &Compared {
                        before: &pinned.state,
                        after: &aggregate.state,
                        money: &session.money,
                    },
                );
                ui.separator();
            }
            if !result.aggregate_changes.is_empty() {
                ui.label(RichText::new("Changed by this event:").color(theme::text(ui, theme::CHANGED)));
            }
            let changes = changes_by_path(&result.aggregate_changes);
            // A generic fold keeps every payload field, the library's bookkeeping too; hidden
            // unless asked for.
            let hidden: Vec<&str> = match &aggregate.state {
                Value::Object(fields) if aggregate.generic => bookkeeping(fields),
                _ => Vec::new(),
            };
            if hidden.is_empty() || (view.bookkeeping == Bookkeeping::Shown) {
                json_tree(ui, "state", &aggregate.state, &changes, &session.money);
            } else {
                let mut shown = aggregate.state.clone();
                if let Value::Object(fields) = &mut shown {
                    fields.retain(|k, _| !hidden.contains(&k.as_str()));
                }
                json_tree(ui, "state", &shown, &changes, &session.money);
            }
            if !hidden.is_empty() {
                let mut show = view.bookkeeping == Bookkeeping::Shown;
                if ui
                    .checkbox(&mut show, format!("Show the library's bookkeeping fields ({})", hidden.join(", ")))
                    .on_hover_text("Fields the storing library keeps in every payload (its ids, versions, topics and times), not the aggregate's own")
                    .changed()
                {
                    commands.push(ViewCommand::ShowBookkeeping(show).into());
                }
            }
        });
}

/// What the diff compares, exactly: one stream at two positions, and which of its events each
/// state is after (a stream's last event at or before a position is seldom at it).
fn diff_heading(
    pinned: &rewind_engine::AggregateAt,
    pinned_at: Option<u64>,
    now: &rewind_engine::AggregateAt,
    cursor_at: Option<u64>,
) -> String {
    let after = |a: &rewind_engine::AggregateAt| {
        if a.events_applied == 0 {
            "before its first event".to_owned()
        } else {
            format!("after its version {}, at {}", a.stream_version, a.position)
        }
    };
    let position = |p: Option<u64>| p.map_or_else(|| "?".to_owned(), |p| p.to_string());
    format!(
        "{} from the pinned position {} ({}) to the cursor, position {} ({}):",
        now.stream_id,
        position(pinned_at),
        after(pinned),
        position(cursor_at),
        after(now)
    )
}

/// The two values a table of changes compares (`before`, `after`), to write money fields of
/// theirs as money.
pub struct Compared<'a> {
    pub before: &'a Value,
    pub after: &'a Value,
    pub money: &'a [rewind_core::MoneyField],
}

impl Compared<'_> {
    /// `value` of the top-level field at `path` (`/balance_cents`) as money, in `object`'s currency.
    fn text(&self, object: &Value, path: &str, value: &Value) -> String {
        let key = path.trim_start_matches('/');
        object
            .as_object()
            .filter(|_| !key.contains('/'))
            .and_then(|object| self.money.iter().find(|m| m.field == key)?.format_with(object, value))
            .unwrap_or_else(|| short(value))
    }
}

pub fn change_table(ui: &mut Ui, changes: &[FieldChange], compared: &Compared<'_>) {
    egui::Grid::new(ui.next_auto_id())
        .striped(true)
        .num_columns(3)
        .show(ui, |ui| {
            for change in changes {
                match change {
                    FieldChange::Changed { path, old, new } => {
                        ui.monospace(path);
                        ui.monospace(compared.text(compared.before, path, old));
                        ui.monospace(
                            RichText::new(format!("-> {}", compared.text(compared.after, path, new)))
                                .color(theme::text(ui, theme::CHANGED)),
                        );
                    }
                    FieldChange::Added { path, new } => {
                        ui.monospace(path);
                        ui.monospace("(absent)");
                        ui.monospace(
                            RichText::new(format!("-> {}", compared.text(compared.after, path, new)))
                                .color(theme::text(ui, theme::CHANGED)),
                        );
                    }
                    FieldChange::Removed { path, old } => {
                        ui.monospace(path);
                        ui.monospace(compared.text(compared.before, path, old));
                        ui.monospace(RichText::new("-> (removed)").color(theme::text(ui, theme::REMOVED)));
                    }
                }
                ui.end_row();
            }
        });
}
