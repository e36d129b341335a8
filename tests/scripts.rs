//! Text in every script: account holders and references written in people's own scripts are
//! drawn with the system's fonts, and what no installed font draws is named, with the fonts to
//! install. The store is written by the bank's own service (its commands, its events).

use std::path::PathBuf;
use std::sync::Arc;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use rewind::app::{App, FileDialog, Prefs};
use rewind_bank::{AccountCommand, BankService};

use crate::app::step_until;

const HOLDERS: [(&str, &str, &str); 4] = [
    ("account-0001", "山田 太郎", "JPY"),
    ("account-0002", "김민준", "KRW"),
    ("account-0003", "Zoë Ødegård", "EUR"),
    ("account-0004", "Анна Каренина", "EUR"),
];
const REFERENCE: &str = "給料 / راتب";

/// A store with holders and a reference in several scripts, written fresh in the test's
/// target folder as `NAME.sqlite` (kept, so it can be opened by hand).
fn scripts_store(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("scripts");
    std::fs::create_dir_all(&dir).expect("the test folder");
    let path = dir.join(format!("{name}.sqlite"));
    for stale in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{stale}", path.display()));
    }
    let mut service = BankService::new(7, "2024-03-01T09:00:00Z".parse().expect("a time"));
    for (account, holder, currency) in HOLDERS {
        let open = AccountCommand::OpenAccount {
            holder: holder.to_owned(),
            currency: currency.to_owned(),
        };
        service
            .handle_account(account, &open, None, None)
            .expect("the account opens");
        let deposit = AccountCommand::DepositMoney {
            amount_cents: 250_000,
            reference: REFERENCE.into(),
        };
        service
            .handle_account(account, &deposit, None, None)
            .expect("the deposit");
    }
    let mut store = rewind_store::SqliteStore::create(&path).expect("a new store");
    store.insert_recorded(&service.drain()).expect("the events are written");
    path
}

struct NoDialog;

impl FileDialog for NoDialog {
    fn pick(&self) -> Option<PathBuf> {
        None
    }

    fn save(&self, _file_name: &str) -> Option<PathBuf> {
        None
    }
}

/// The app on the scripts store; with the system's fonts as eframe installs them, or without.
fn opened(system_fonts: bool) -> Harness<'static, App> {
    let store = scripts_store(if system_fonts { "with-fonts" } else { "without-fonts" });
    let mut builder = Harness::builder().with_size(egui::vec2(1400.0, 900.0));
    if !system_fonts {
        builder = builder.allow_missing_glyphs();
    }
    let mut harness = builder.build_eframe(move |cc| {
        if system_fonts {
            rewind::app::install_system_fonts(&cc.egui_ctx);
        }
        let open = Some(rewind::session::StoreInput::Location(store.clone().into()));
        App::new(Prefs::default(), Arc::new(NoDialog), open, &cc.egui_ctx)
    });
    step_until(&mut harness, "the store to open", |app| app.session().is_some());
    step_until(&mut harness, "the seek", App::seek_settled);
    harness
}

/// Every glyph drawn: the harness fails on a missing one (`egui_kittest`'s policy), so this
/// needs fonts for CJK and Arabic installed (Debian: fonts-noto-cjk, fonts-noto-core; scripts/test
/// installs them).
#[test]
fn holders_and_references_in_any_script_are_drawn_with_the_systems_fonts() {
    let mut harness = opened(true);
    // The first account's opening and deposit are on screen: holder and reference.
    harness.key_press(egui::Key::ArrowRight);
    harness.step();
    step_until(&mut harness, "the seek", App::seek_settled);
    assert!(
        harness.query_all_by_label_contains("山田 太郎").count() >= 2,
        "the holder is shown in the payload and the state"
    );
    assert!(
        harness.query_all_by_label_contains(REFERENCE).next().is_some(),
        "the reference is shown"
    );
    for (_, holder, _) in HOLDERS {
        assert!(
            harness.query_all_by_label_contains(holder).next().is_some(),
            "{holder} is in the event list"
        );
    }
    assert!(
        harness.query_by_label_contains("No installed font draws").is_none(),
        "every character had a font"
    );
}

/// Without fonts for a script, the app says which characters it cannot draw and what to install.
#[test]
fn a_script_no_installed_font_draws_is_named_with_the_fonts_to_install() {
    let mut harness = opened(false);
    harness.step();
    harness.step();
    assert!(
        harness.query_by_label_contains("No installed font draws").is_some(),
        "the advice is shown"
    );
    assert!(harness.query_by_label_contains("Install fonts-noto-cjk").is_some());
    harness.get_by_label("Dismiss").click();
    harness.step();
    harness.step();
    assert!(harness.query_by_label_contains("No installed font draws").is_none());
}
