//! The example's binary, run as a user runs it, on the stores the cqrs-es bank wrote
//! (`fixtures/sqlite-es`): replayed through the bank's own aggregate and view.

use std::path::PathBuf;
use std::process::{Command, Output};

use cqrs_bank_domain::BankAccountEvent;
use rewind::serde_json::{self, Value};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/sqlite-es")
        .join(name);
    path.to_str().expect("a UTF-8 path").to_owned()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rewind-cqrs-bank"))
        .args(args)
        .output()
        .expect("the example runs")
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn state(store: &str, stream: &str, position: Option<u64>) -> Value {
    let position = position.map(|p| p.to_string());
    let mut args = vec!["state", store, "--stream", stream];
    if let Some(position) = &position {
        args.extend(["--position", position]);
    }
    let output = run(&args);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    json(&output)
}

/// The fee the domain charged without a funds check took Carol's account from 5 to -5 at the
/// store's 10th event; `verify` finds that event and nothing else.
#[test]
fn verify_finds_the_fee_that_took_an_account_below_zero() {
    let output = run(&["verify", &fixture("incident.sqlite"), "--json"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = json(&output);
    assert_eq!(report["events"], 12);
    let issues = report["issues"].as_array().expect("issues");
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0]["position"], 10);
    assert_eq!(issues[0]["stream_id"], "account-C");
    assert_eq!(issues[0]["kind"]["invariant"], "balance_never_negative");
}

/// The story store holds no incident, and its accounts end where the writer's own fold left
/// them (A 120, B 500), replayed by the cqrs-es aggregate, not the generic fold.
#[test]
fn the_story_replays_clean_to_the_balances_the_writer_checked() {
    let store = fixture("bank.sqlite");
    let output = run(&["verify", &store]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for (stream, owner, balance) in [("account-A", "Alice", 120), ("account-B", "Bob", 500)] {
        let shown = state(&store, stream, None);
        assert_eq!(shown["replayed_by"], "cqrs-bank: BankAccount");
        assert_eq!(shown["generic"], false);
        assert_eq!(shown["state"]["owner"], owner);
        assert_eq!(shown["state"]["balance"], balance);
    }
}

/// The read model (cqrs-es's `View::update`) and the aggregate (`Aggregate::apply`) agree on
/// every account's balance at every position of the store: what an auditor checks first.
#[test]
fn the_read_model_agrees_with_the_aggregates_at_every_position() {
    let store = fixture("incident.sqlite");
    for position in 1..=12u64 {
        let output = run(&[
            "projection",
            &store,
            "account_summaries",
            "--position",
            &position.to_string(),
        ]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let rows = json(&output)["state"].clone();
        let rows = rows.as_object().expect("rows by account");
        assert!(!rows.is_empty());
        for (account, row) in rows {
            let aggregate = state(&store, account, Some(position));
            assert_eq!(
                row["balance"], aggregate["state"]["balance"],
                "{account} at {position}: the view says {row}, the aggregate {aggregate}"
            );
        }
    }
}

/// Every payload in the store is exactly what the domain's event type serializes to: the
/// fixture was written by this domain crate, and reading it loses nothing.
#[test]
fn every_stored_payload_is_the_domains_own_serialization() {
    let output = run(&["events", &fixture("incident.sqlite")]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lines: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("NDJSON"))
        .collect();
    assert_eq!(lines.len(), 12);
    for line in lines {
        let event: BankAccountEvent = serde_json::from_value(line["data"].clone()).expect("the domain's event");
        assert_eq!(serde_json::to_value(&event).expect("serializes"), line["data"]);
        assert_eq!(cqrs_es::DomainEvent::event_type(&event), line["event_type"]);
    }
}

/// Without the example's domain the streams are not the cqrs-es bank's: `--domain generic`
/// folds them generically, and says so.
#[test]
fn the_generic_fold_is_one_flag_away() {
    let output = run(&[
        "state",
        &fixture("bank.sqlite"),
        "--stream",
        "account-A",
        "--domain",
        "generic",
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let shown = json(&output);
    assert_eq!(shown["generic"], true);
    assert_eq!(shown["state"].get("balance"), None, "{shown}");
}
