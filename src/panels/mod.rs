//! The panels of an opened store. Each reads the session and the view and pushes commands;
//! panels with something typed or chosen in them (a filter, the Go to field) keep it
//! themselves.

pub mod events;
pub mod inspector;
pub mod issues;
pub mod projections;
pub mod state;
pub mod status_bar;
pub mod streams;
pub mod timeline;

use egui::{RichText, Ui};

use crate::command::{AppCommand, Tab, ViewCommand};
use crate::session::Session;
use crate::view::View;

/// Below the event list: the inspector on the left, state / projections / issues on the right.
pub fn details(ui: &mut Ui, session: &Session, view: &View, commands: &mut Vec<AppCommand>) {
    egui::Panel::left("inspector")
        .resizable(true)
        .default_size(ui.available_width() * 0.42)
        .min_size(220.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("inspector_scroll")
                .auto_shrink(false)
                .show(ui, |ui| {
                    inspector::show(ui, session, view, commands);
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
                    let (issues, notes) = session.issue_counts();
                    if notes > 0 {
                        format!("{label} ({} · {notes} notes)", issues + session.skipped.len())
                    } else {
                        format!("{label} ({})", issues + session.skipped.len())
                    }
                } else {
                    label.to_owned()
                };
                if ui
                    .selectable_label(view.tab == tab, RichText::new(label).strong())
                    .clicked()
                {
                    commands.push(ViewCommand::SetTab(tab).into());
                }
            }
        });
        ui.separator();
        match view.tab {
            Tab::State => state::show(ui, session, view, commands),
            Tab::Projections => projections::show(ui, session, view, commands),
            Tab::Issues => issues::show(ui, session, view, commands),
        }
    });
}
