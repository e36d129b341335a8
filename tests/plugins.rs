//! Domain plug-ins in other languages, run as real child processes: the JavaScript bank of
//! the guides, the Python `eventsourcing` bank folded by the library's own code, and plug-ins
//! that fail in every way the protocol allows.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{json, rewind, sample_sqlite, stderr, stdout};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn js_bank() -> String {
    format!("node {}", root().join("plugins/js/examples/bank.js").display())
}

fn python_bank() -> String {
    format!(
        "python3 {}",
        root().join("plugins/python/examples/eventsourcing_bank.py").display()
    )
}

fn faulty(mode: &str) -> String {
    format!("python3 {} {mode}", root().join("tests/plugins/faulty.py").display())
}

fn run(args: &[&str]) -> std::process::Output {
    rewind(args)
}

/// The bank of the TypeScript guides, as a JavaScript plug-in, replays Rewind's sample and finds
/// what the built-in bank finds: the planted duplicate withdrawal breaks its invariant at the
/// same event, and nothing else is wrong.
#[test]
fn the_javascript_bank_finds_the_planted_incident_the_built_in_bank_finds() {
    let store = sample_sqlite();
    let store = store.to_str().unwrap();
    let plugin = js_bank();
    let with_plugin = run(&["verify", store, "--plugin", &plugin, "--json"]);
    assert_eq!(with_plugin.status.code(), Some(1), "{}", stderr(&with_plugin));
    let built_in = run(&["verify", store, "--json"]);
    let issues = |output: &std::process::Output| -> Vec<(u64, String)> {
        json(output)["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["position"].as_u64().unwrap(),
                    i["kind"]["kind"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(issues(&with_plugin), issues(&built_in));
    assert_eq!(issues(&with_plugin), [(1759, "invariant_violated".to_owned())]);
    assert!(
        stderr(&with_plugin).contains("plug-in bank-js 1.0.0 claims BankAccount"),
        "{}",
        stderr(&with_plugin)
    );

    // The account's state at the incident, folded by the plug-in from a checkpoint it answered.
    let state_at_incident = |more: &[&str]| {
        let mut args = vec![
            "state",
            store,
            "--stream",
            "account-0002",
            "--position",
            "1759",
            "--plugin",
            &plugin,
        ];
        args.extend_from_slice(more);
        json(&run(&args))
    };
    let state = state_at_incident(&[]);
    assert_eq!(state["replayed_by"], "bank-js: BankAccount");
    assert_eq!(state["state"]["balance_cents"], -141_643);
    assert_eq!(state["issues"][0]["kind"]["invariant"], "balance_never_negative");

    // The plug-in alone (no built-in bank beside it) says what money is.
    let alone = state_at_incident(&["--domain", "bank-js"]);
    assert_eq!(alone["state_money"]["balance_cents"], "-1,416.43 EUR", "{alone}");
}

/// The plug-in's read model, kept by Rewind from the rows it answered, agrees with the
/// built-in bank's at a position, account by account.
#[test]
fn the_javascript_read_model_agrees_with_the_built_in_one() {
    let store = sample_sqlite();
    let store = store.to_str().unwrap();
    let plugin = js_bank();
    let balances = |extra: &[&str]| -> Vec<(String, i64)> {
        let mut args = vec!["projection", store, "account_balances", "--position", "1800"];
        args.extend_from_slice(extra);
        let output = run(&args);
        assert!(output.status.success(), "{}", stderr(&output));
        let mut rows: Vec<(String, i64)> = json(&output)["state"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(key, row)| (key.clone(), row["balance_cents"].as_i64().unwrap()))
            .collect();
        rows.sort();
        rows
    };
    let from_plugin = balances(&["--plugin", &plugin, "--domain", "bank-js"]);
    assert!(from_plugin.len() > 50, "{from_plugin:?}");
    assert_eq!(from_plugin, balances(&[]));
}

/// The same plug-in replays an EventStoreDB export of one of the sample's accounts (no schema
/// versions recorded) to the balance the built-in bank gives.
#[test]
fn the_javascript_bank_replays_an_eventstoredb_export() {
    let export = root().join("fixtures/json/esdb-atom-bank-account-0070.json");
    let export = export.to_str().unwrap();
    let plugin = js_bank();
    let state = |extra: &[&str]| {
        let mut args = vec!["state", export, "--stream", "account-0070"];
        args.extend_from_slice(extra);
        let output = run(&args);
        assert!(output.status.success(), "{}", stderr(&output));
        json(&output)
    };
    let from_plugin = state(&["--plugin", &plugin]);
    assert_eq!(from_plugin["replayed_by"], "bank-js: BankAccount");
    assert_eq!(
        from_plugin["state"]["balance_cents"],
        state(&[])["state"]["balance_cents"]
    );
}

/// A Python `eventsourcing` store, folded by a plug-in through the library's own `mutate` on
/// the domain module that wrote it: the real balances (the fixture's story: 150 in, 30 out for
/// Alice; 500 in for Bob).
#[test]
fn the_python_plugin_rebuilds_the_eventsourcing_balances_with_the_library() {
    let store = root().join("fixtures/python-eventsourcing/bank.sqlite");
    let store = store.to_str().unwrap();
    let plugin = python_bank();
    let balance = |stream: &str| -> Value {
        let output = run(&["state", store, "--stream", stream, "--plugin", &plugin]);
        assert!(output.status.success(), "{}", stderr(&output));
        let state = json(&output);
        assert_eq!(state["replayed_by"], "eventsourcing-bank: BankAccount", "{state}");
        state["state"]["balance"].clone()
    };
    assert_eq!(balance("2cb26e6aae4b5fc0b3e84f8a1bf4b1f1"), 120);
    assert_eq!(balance("c0cc35036b255facafcd233c0bd42d49"), 500);
    let verified = run(&["verify", store, "--plugin", &plugin]);
    assert_eq!(verified.status.code(), Some(0), "{}", stderr(&verified));
}

/// Runs `verify` on the sample with a faulty plug-in: the status and the one line on stderr
/// that says what happened.
fn fails_with(mode: &str, timeout: &str) -> (Option<i32>, String) {
    let store = sample_sqlite();
    let output = run(&[
        "verify",
        store.to_str().expect("a UTF-8 path"),
        "--plugin",
        &faulty(mode),
        "--plugin-timeout",
        timeout,
    ]);
    let said = stderr(&output);
    let error: Vec<&str> = said.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(error.len(), 1, "one line says what went wrong: {said}");
    (output.status.code(), error[0].to_owned())
}

/// Each way a plug-in can fail is one line and exit status 2, naming the plug-in and what
/// happened: it does not start, speaks another protocol version, crashes mid-build (with the
/// batch's positions and its last stderr line), hangs (the timeout), answers garbage, or reports
/// an invariant it did not declare, or takes a built-in domain's name.
#[test]
fn a_failing_plugin_is_one_line_and_exit_status_two() {
    let cases = [
        (
            "protocol2",
            "speaks protocol version 2; this Rewind speaks protocol version 1",
        ),
        (
            "crash-after 2",
            "the plug-in exited (exit status: 3) while folding positions 2050 to 2830; its last line on stderr: boom: the faulty plug-in broke on purpose",
        ),
        ("hang", "the plug-in did not answer within 1 s"),
        ("garbage", "wrote a line that is not JSON"),
        (
            "undeclared",
            "reported invariant `never_declared`, which its hello did not declare",
        ),
        (
            "named-bank",
            "names itself `bank`, the name of a domain built into Rewind",
        ),
    ];
    for (mode, says) in cases {
        let (status, line) = fails_with(mode, "1");
        assert_eq!(status, Some(2), "{mode}: {line}");
        assert!(line.contains(says), "{mode}: {line}");
        assert!(line.contains("faulty.py"), "{mode} names the plug-in: {line}");
    }
    let store = sample_sqlite();
    let missing = run(&[
        "verify",
        store.to_str().unwrap(),
        "--plugin",
        "no-such-plugin-program --flag",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("cannot start the plug-in `no-such-plugin-program --flag`"),
        "{}",
        stderr(&missing)
    );
}

/// A plug-in never sees a PG* variable (a database password in PGPASSWORD, say), and its
/// command is split without a shell: a `;` is an argument, not a second command.
#[test]
fn a_plugin_gets_no_pg_variables_and_no_shell() {
    let store = sample_sqlite();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["verify", store.to_str().unwrap(), "--plugin", &faulty("pg")])
        .env("PGPASSWORD", "s3cret")
        .env("PGHOST", "db.example")
        .output()
        .expect("rewind runs");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker");
    let injected = format!("{}; touch {}", faulty("ok"), marker.display());
    let output = run(&["verify", store.to_str().unwrap(), "--plugin", &injected]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!Path::new(&marker).exists(), "a shell ran the plug-in command");
    assert!(stdout(&output).is_empty());
}

/// `verify` holds a plug-in to determinism: states folded from its checkpoints must equal a
/// full replay; a plug-in that puts the clock in its state fails it, and the built-in-equivalent
/// fold passes.
#[test]
fn verify_finds_a_plugin_whose_fold_reads_the_clock() {
    let store = sample_sqlite();
    let store = store.to_str().unwrap();
    let steady = run(&["verify", store, "--plugin", &faulty("ok")]);
    assert_eq!(steady.status.code(), Some(0), "{}", stderr(&steady));
    let clock = run(&["verify", store, "--plugin", &faulty("clock")]);
    assert_eq!(clock.status.code(), Some(1), "{}", stderr(&clock));
    assert!(
        stderr(&clock).contains("the plug-in is not deterministic: account-"),
        "{}",
        stderr(&clock)
    );
}

/// Evidence exported through a plug-in holds what the built-in bank's holds: the state after
/// every event, the state they leave and the broken invariant.
#[test]
fn evidence_through_a_plugin_has_its_states_and_its_violation() {
    let store = sample_sqlite();
    let store = store.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let export = |name: &str, plugin: Option<&str>| -> Value {
        let out = dir.path().join(name);
        let out = out.to_str().unwrap();
        let mut args = vec![
            "evidence",
            store,
            "--stream",
            "account-0002",
            "--position",
            "1759",
            "--out",
            out,
        ];
        if let Some(plugin) = plugin {
            args.extend(["--plugin", plugin]);
        }
        let output = run(&args);
        assert!(output.status.success(), "{}", stderr(&output));
        serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
    };
    let plugin = js_bank();
    let through_plugin = export("plugin.json", Some(&plugin));
    let built_in = export("built-in.json", None);
    let balances = |document: &Value| -> Vec<Value> {
        document["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|event| event["state_after"]["balance_cents"].clone())
            .collect()
    };
    assert_eq!(balances(&through_plugin), balances(&built_in));
    assert_eq!(through_plugin["state"]["balance_cents"], -1416_43);
    let issues = through_plugin["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0]["position"], 1759);
    assert_eq!(issues[0]["kind"]["invariant"], "balance_never_negative");
}
