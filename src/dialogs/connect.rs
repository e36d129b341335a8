//! "Connect to PostgreSQL": a URL, optionally a schema and table; test, then connect.

use std::sync::mpsc::{Receiver, channel};

use egui::RichText;

use rewind_store::{PostgresLocation, StoreLocation};

use crate::command::AppCommand;
use crate::theme;

#[derive(Default)]
pub struct ConnectDialog {
    pub url: String,
    pub schema: String,
    pub table: String,
    /// The outcome of "Test connection", when it is back.
    pub tested: Option<Result<String, String>>,
    testing: Option<Receiver<Result<String, String>>>,
}

impl ConnectDialog {
    /// `schema.table`, `table`, or empty.
    fn table_hint(&self) -> String {
        match (self.schema.trim(), self.table.trim()) {
            (_, "") => String::new(),
            ("", table) => table.to_owned(),
            (schema, table) => format!("{schema}.{table}"),
        }
    }

    /// The database as typed, with the table if one was named.
    pub fn location(&self) -> StoreLocation {
        StoreLocation::Postgres(PostgresLocation::new(self.url.trim(), Some(self.table_hint())))
    }

    /// Connects on a background thread and reports what it found.
    pub fn test(&mut self, ctx: &egui::Context) {
        let (sender, receiver) = channel();
        let url = self.url.trim().to_owned();
        let table = Some(self.table_hint()).filter(|t| !t.is_empty());
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("rewind-test-connection".into())
            .spawn(move || {
                let outcome = if rewind_store::is_postgres_url(&url) {
                    rewind_store::PostgresStore::open(&url, None, table.as_deref())
                        .and_then(|store| {
                            use rewind_store::EventSource as _;
                            Ok(format!(
                                "connected: {} with {} events",
                                store.describe(),
                                store.event_count()?
                            ))
                        })
                        .or_else(|e| match e {
                            rewind_store::StoreError::NeedsMapping { what, .. } => {
                                Ok(format!("connected: {what}; you will confirm a mapping"))
                            }
                            other => Err(other.to_string()),
                        })
                } else {
                    Err("the URL must start with postgres:// or postgresql://".to_owned())
                };
                let _ = sender.send(outcome);
                ctx.request_repaint();
            });
        match spawned {
            Ok(_) => {
                self.tested = None;
                self.testing = Some(receiver);
            }
            Err(e) => self.tested = Some(Err(format!("cannot start a thread: {e}"))),
        }
    }

    /// Takes in the test's outcome, once it is back.
    pub fn poll(&mut self) {
        if let Some(outcome) = self.testing.as_ref().and_then(|r| r.try_recv().ok()) {
            self.tested = Some(outcome);
            self.testing = None;
        }
    }

    pub fn is_testing(&self) -> bool {
        self.testing.is_some()
    }

    pub fn show(&mut self, ctx: &egui::Context, commands: &mut Vec<AppCommand>) {
        egui::Window::new("Connect to PostgreSQL")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .show(ctx, |ui| {
                ui.label("The database is opened read-only: every transaction Rewind starts is read-only.");
                ui.label(
                    RichText::new(
                        "The password can be in the URL, in PGPASSWORD or in ~/.pgpass; it is never saved or shown.",
                    )
                    .weak(),
                );
                ui.add_space(6.0);
                egui::Grid::new("connect_grid")
                    .num_columns(2)
                    .spacing([12.0, 6.0])
                    .show(ui, |ui| {
                        let field = |ui: &mut egui::Ui, name: &str, text: &mut String, hint: &str| {
                            let label = ui.label(name);
                            ui.add(egui::TextEdit::singleline(text).hint_text(hint).desired_width(380.0))
                                .labelled_by(label.id);
                            ui.end_row();
                        };
                        field(ui, "URL", &mut self.url, "postgres://user@localhost:5432/database");
                        field(ui, "schema", &mut self.schema, "any");
                        field(ui, "table", &mut self.table, "found by its columns");
                    });
                ui.add_space(6.0);
                if self.is_testing() {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("connecting…");
                    });
                }
                match &self.tested {
                    Some(Ok(found)) => {
                        ui.label(RichText::new(found).color(theme::text(ui, theme::CHANGED)));
                    }
                    Some(Err(error)) => {
                        ui.label(RichText::new(format!("⚠ {error}")).color(theme::text(ui, theme::VIOLATION)));
                    }
                    None => {}
                }
                let valid = rewind_store::is_postgres_url(self.url.trim());
                ui.horizontal(|ui| {
                    if ui
                        .add_enabled(valid && !self.is_testing(), egui::Button::new("Test connection"))
                        .clicked()
                    {
                        commands.push(AppCommand::TestConnection);
                    }
                    if ui.add_enabled(valid, egui::Button::new("Connect")).clicked() {
                        commands.push(AppCommand::ConnectDatabase);
                    }
                    if ui.button("Cancel").clicked() {
                        commands.push(AppCommand::CancelConnect);
                    }
                });
            });
    }
}
