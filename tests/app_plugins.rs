//! A domain plug-in in the app: run from the status bar's domain menu, its domain replays the
//! streams it claims, and a plug-in that fails says so with its stderr and a retry, while its
//! streams fold generically.

use std::sync::Arc;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use rewind::app::{App, FileDialog, Prefs};
use rewind::session::StoreInput;

use crate::app::{step_until, type_go_to};

struct NoDialog;

impl FileDialog for NoDialog {
    fn pick(&self) -> Option<std::path::PathBuf> {
        None
    }

    fn save(&self, _file_name: &str) -> Option<std::path::PathBuf> {
        None
    }
}

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The sample store opened, then the plug-in `command` run through the domain menu.
fn with_plugin(command: &str) -> Harness<'static, App> {
    let store = StoreInput::Location(crate::util::sample_sqlite().into());
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| App::new(Prefs::default(), Arc::new(NoDialog), Some(store), &cc.egui_ctx));
    step_until(&mut harness, "the sample to open", |app| app.session().is_some());
    harness.get_by_label("replayed by bank ⏷").click();
    harness.run();
    harness.get_by_label("Run a domain plug-in…").click();
    harness.run();
    harness.get_by_label("command").focus();
    harness.step();
    harness.get_by_label("command").type_text(command);
    harness.step();
    harness.get_by_label("Run").click();
    harness.step();
    step_until(&mut harness, "the store to open with the plug-in", |app| {
        app.session().is_some_and(|s| s.choice.plugin.is_some()) && !app.is_opening()
    });
    step_until(&mut harness, "the first seek", App::seek_settled);
    harness
}

#[test]
fn a_plugin_run_from_the_domain_menu_replays_its_streams_and_is_remembered() {
    let command = format!("node {}", root().join("plugins/js/examples/bank.js").display());
    let mut harness = with_plugin(&command);
    assert!(
        harness
            .query_by_label("replayed by bank-js 1.0.0 (plug-in), bank ⏷")
            .is_some(),
        "the status bar says which domains replay the store"
    );
    type_go_to(&mut harness, "1759");
    assert!(harness.query_by_label("replayed by bank-js: BankAccount").is_some());
    // Money as money: the bank beside the plug-in says what `balance_cents` is.
    assert!(
        harness
            .query_by_label_contains("balance_cents: -1,416.43 EUR")
            .is_some()
    );
    assert!(
        harness
            .query_by_label_contains("this event broke an invariant: balance went negative")
            .is_some()
    );
    let session = harness.state().session().unwrap();
    assert_eq!(session.engine.issues().len(), 1, "{:?}", session.engine.issues());
    let location = rewind_store::StoreLocation::from(crate::util::sample_sqlite());
    assert_eq!(
        harness.state().prefs().store(&location).and_then(|s| s.plugin.clone()),
        Some(command),
        "the plug-in is remembered for the store"
    );
    harness.get_by_label("Issues (1)").click();
    harness.step();
    harness.step();
    assert!(
        harness
            .query_by_label_contains("Plug-in bank-js 1.0.0 (`node ")
            .is_some()
    );
}

#[test]
fn a_plugin_that_crashes_is_said_with_its_stderr_its_streams_fold_generically_and_retry_is_one_click() {
    let command = format!(
        "python3 {} crash-after 1",
        root().join("tests/plugins/faulty.py").display()
    );
    let mut harness = with_plugin(&command);
    let session = harness.state().session().unwrap();
    let fault = session.plugin_fault.clone().expect("the plug-in failed");
    assert!(
        fault.message.contains("the plug-in exited (exit status: 3)"),
        "{}",
        fault.message
    );
    assert!(
        harness
            .query_by_label_contains("The streams it claims were replayed through the generic fold")
            .is_some()
    );
    assert!(harness.query_by_label("The plug-in's last lines on stderr").is_some());
    type_go_to(&mut harness, "1759");
    assert!(harness.query_by_label("generic: fold of the payloads").is_some());
    let aggregate = harness
        .state()
        .view()
        .unwrap()
        .result
        .clone()
        .unwrap()
        .aggregate
        .unwrap();
    assert_eq!(aggregate.replayed_by, "generic fold (plug-in faulty failed): Account");
    // Retry starts it again (it crashes again: the banner comes back).
    harness.get_by_label("Retry").click();
    harness.step();
    step_until(&mut harness, "the store to open again", |app| {
        !app.is_opening() && app.session().is_some_and(|s| s.plugin_fault.is_some())
    });
}
