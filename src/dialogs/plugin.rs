//! "Run a domain plug-in…": the command of a plug-in that replays the store's streams through
//! the user's own domain code, in any language (docs/plugin-protocol.md).

use egui::{Key, RichText};

use crate::command::AppCommand;

pub struct PluginDialog {
    /// The command as typed.
    pub command: String,
    focus: bool,
}

impl PluginDialog {
    pub fn new(command: String) -> Self {
        Self { command, focus: true }
    }

    pub fn show(&mut self, ctx: &egui::Context, commands: &mut Vec<AppCommand>) {
        egui::Window::new("Run a domain plug-in")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .show(ctx, |ui| {
                ui.label("A plug-in replays the streams it claims through your own domain code, in any language.");
                ui.label(
                    RichText::new(
                        "The command is split into words as a shell would, but no shell runs it; it gets your \
                         environment without the PG* variables, and is sent events and states only. It is \
                         remembered for this store.",
                    )
                    .weak(),
                );
                ui.add_space(6.0);
                let typed = ui
                    .horizontal(|ui| {
                        let label = ui.label("command");
                        ui.add(
                            egui::TextEdit::singleline(&mut self.command)
                                .hint_text("node plugins/js/examples/bank.js")
                                .desired_width(460.0),
                        )
                        .labelled_by(label.id)
                    })
                    .inner;
                if std::mem::take(&mut self.focus) {
                    typed.request_focus();
                }
                let entered = typed.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
                let can_run = !self.command.trim().is_empty();
                ui.add_space(6.0);
                ui.horizontal(|ui| {
                    if (ui.add_enabled(can_run, egui::Button::new("Run")).clicked() || entered) && can_run {
                        commands.push(AppCommand::RunPlugin(Some(self.command.clone())));
                    }
                    if ui.button("Cancel").clicked() || ui.input(|i| i.key_pressed(Key::Escape)) {
                        commands.push(AppCommand::CancelPluginDialog);
                    }
                });
            });
    }
}
