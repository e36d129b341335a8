//! The mapping dialog: which column or field is which part of an event. Shown when a store's
//! shape is unknown; the confirmed mapping is remembered for the store.

use egui::RichText;

use rewind_store::{Mapping, Part};

use crate::command::AppCommand;
use crate::session::MappingRequest;
use crate::theme;

/// A proposal being confirmed or edited.
pub struct MappingDialog {
    pub request: MappingRequest,
    /// The mapping as edited so far.
    pub mapping: Mapping,
}

impl MappingDialog {
    pub fn new(request: MappingRequest) -> Self {
        Self {
            mapping: request.proposal.clone(),
            request,
        }
    }

    pub fn show(&mut self, ctx: &egui::Context, commands: &mut Vec<AppCommand>) {
        let Self { request, mapping } = self;
        egui::Window::new("Map this store's events")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .show(ctx, |ui| {
                ui.label(RichText::new(request.location.to_string()).strong());
                ui.label(format!("{}.", request.what));
                ui.label("Rewind proposes this mapping; check each part and change what is wrong.");
                ui.add_space(6.0);
                parts(ui, request, mapping);
                ui.add_space(6.0);
                ui.collapsing("As a --mapping file for the command line", |ui| {
                    let mut text = mapping.to_toml();
                    ui.add(
                        egui::TextEdit::multiline(&mut text)
                            .code_editor()
                            .desired_rows(6)
                            .interactive(false),
                    );
                });
                let problems = mapping.problems();
                for problem in &problems {
                    ui.label(RichText::new(format!("⚠ {problem}")).color(theme::text(ui, theme::VIOLATION)));
                }
                ui.add_space(6.0);
                ui.horizontal(|ui| {
                    if ui
                        .add_enabled(problems.is_empty(), egui::Button::new("Open with this mapping"))
                        .clicked()
                    {
                        commands.push(AppCommand::ConfirmMapping);
                    }
                    if ui.button("Cancel").clicked() {
                        commands.push(AppCommand::CancelMapping);
                    }
                });
            });
    }
}

/// One row per part of an event: its column or field, and an example value.
fn parts(ui: &mut egui::Ui, request: &MappingRequest, mapping: &mut Mapping) {
    let sqlite = mapping.table.is_some();
    egui::Grid::new("mapping_grid")
        .num_columns(3)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            if let Some(table) = &mapping.table {
                ui.label("table");
                ui.label(RichText::new(table).monospace());
                ui.end_row();
            }
            for part in Part::ALL {
                let label = ui.label(part.label());
                let current = part.get(mapping).map(str::to_owned);
                let shown = current.clone().unwrap_or_else(|| "(none)".into());
                egui::ComboBox::from_id_salt(("mapping", part.label()))
                    .selected_text(RichText::new(shown).monospace())
                    .width(240.0)
                    .show_ui(ui, |ui| {
                        if part != Part::Stream && ui.selectable_label(current.is_none(), "(none)").clicked() {
                            part.set(mapping, None);
                            for more in &mut mapping.more_tables {
                                part.set(more, None);
                            }
                        }
                        let rowid = (sqlite && part == Part::Position).then(|| "rowid".to_owned());
                        for name in request.names.iter().chain(rowid.as_ref()) {
                            if ui
                                .selectable_label(
                                    current.as_deref() == Some(name.as_str()),
                                    RichText::new(name).monospace(),
                                )
                                .on_hover_text(example_of(request, name))
                                .clicked()
                            {
                                part.set(mapping, Some(name.clone()));
                                // The store's other tables have the same columns: the same choice.
                                for more in &mut mapping.more_tables {
                                    part.set(more, Some(name.clone()));
                                }
                            }
                        }
                    })
                    .response
                    .labelled_by(label.id);
                // Fixed width, so the window does not resize as the choice changes.
                ui.add_sized(
                    [260.0, 18.0],
                    egui::Label::new(
                        RichText::new(current.as_deref().map(|n| example_of(request, n)).unwrap_or_default())
                            .weak()
                            .monospace(),
                    )
                    .truncate()
                    .selectable(false),
                );
                ui.end_row();
            }
            ui.label("versions");
            let mut from_zero = mapping.version_base == 0;
            if ui.checkbox(&mut from_zero, "count from 0 in the store").changed() {
                mapping.version_base = u64::from(!from_zero);
                for more in &mut mapping.more_tables {
                    more.version_base = mapping.version_base;
                }
            }
            ui.end_row();
        });
    more_tables(ui, mapping);
}

/// A store kept in a table per aggregate type: the other tables proposed with the first, each
/// kept or left out, each table's name its streams' type.
fn more_tables(ui: &mut egui::Ui, mapping: &mut Mapping) {
    if mapping.more_tables.is_empty() {
        return;
    }
    ui.add_space(6.0);
    ui.label(RichText::new("A table per aggregate type").strong());
    ui.add(
        egui::Label::new(
            "These tables have the same columns and are merged with the first into one order (by time, then \
             stream version, then stream); each table's streams have its type, so one id in two tables is two \
             streams. The choices above apply to every table.",
        )
        .wrap(),
    );
    let first = mapping.table.clone().unwrap_or_default();
    let first_type = mapping.stream_type_name.clone().unwrap_or_else(|| first.clone());
    ui.label(RichText::new(format!("{first} (streams of type {first_type})")).monospace());
    let mut dropped = None;
    for (i, more) in mapping.more_tables.iter().enumerate() {
        let table = more.table.clone().unwrap_or_default();
        let kind = more.stream_type_name.clone().unwrap_or_else(|| table.clone());
        ui.horizontal(|ui| {
            ui.label(RichText::new(format!("{table} (streams of type {kind})")).monospace());
            if ui
                .small_button("Leave out")
                .on_hover_text("Read this table no more")
                .clicked()
            {
                dropped = Some(i);
            }
        });
    }
    if let Some(i) = dropped {
        mapping.more_tables.remove(i);
        if mapping.more_tables.is_empty() {
            mapping.stream_type_name = None;
        }
    }
}

/// The first row's value of a column (or field), to help tell columns apart.
fn example_of(request: &MappingRequest, name: &str) -> String {
    if name == "rowid" {
        return "row number (insertion order)".into();
    }
    request
        .names
        .iter()
        .position(|n| n == name)
        .and_then(|i| request.examples.get(i))
        .map(|example| format!("e.g. {example}"))
        .unwrap_or_default()
}
