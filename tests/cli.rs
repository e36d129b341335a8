//! The command line, run as a user would, on the bundled sample data.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::util::{json, rewind, sample_dir, sample_ndjson, sample_sqlite, stderr, stdout};

/// The planted incident's position, as `sample-data/README.md` names it.
fn readme_incident_position() -> u64 {
    let readme = std::fs::read_to_string(sample_dir().join("README.md")).expect("sample-data/README.md exists");
    let marker = "duplicate withdrawal is at global position ";
    let at = readme.find(marker).expect("the README names the incident position") + marker.len();
    readme[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .expect("a number")
}

#[test]
fn verify_finds_the_planted_incident_at_the_position_the_readme_names_and_nothing_else() {
    for store in [sample_sqlite(), sample_ndjson()] {
        let output = rewind(&["verify", store.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let lines: Vec<String> = stdout(&output).lines().map(str::to_owned).collect();
        assert_eq!(lines.len(), 1, "{lines:?}");
        let position: u64 = lines[0].split_whitespace().next().unwrap().parse().unwrap();
        assert_eq!(position, readme_incident_position());
        assert!(lines[0].contains("balance_never_negative") || lines[0].contains("invariant_violated"));
    }
}

#[test]
fn verify_of_a_clean_sample_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let made = rewind(&["sample", "--out", out, "--clean", "--accounts", "40", "--orders", "100"]);
    assert!(made.status.success(), "{}", stderr(&made));
    let output = rewind(&["verify", dir.path().join("bank.sqlite").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(&output), stderr(&output));
    assert_eq!(stdout(&output), "");
}

/// Balance per account computed straight from the events table in SQL (v1 deposits are in
/// major units, v2 in cents).
fn balances_in_sql() -> BTreeMap<String, i64> {
    let connection = rusqlite::Connection::open_with_flags(sample_sqlite(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("sample opens");
    let mut statement = connection
        .prepare(
            "SELECT stream_id, SUM(CASE
                 WHEN event_type = 'MoneyDeposited' AND schema_version = 1 THEN CAST(ROUND(json_extract(data, '$.amount') * 100) AS INTEGER)
                 WHEN event_type = 'MoneyDeposited' THEN json_extract(data, '$.amount_cents')
                 WHEN event_type = 'MoneyWithdrawn' THEN -json_extract(data, '$.amount_cents')
                 ELSE 0 END)
             FROM events WHERE stream_type = 'BankAccount' GROUP BY stream_id",
        )
        .expect("the query prepares");
    statement
        .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))
        .expect("the query runs")
        .map(|row| row.expect("a row reads"))
        .collect()
}

#[test]
fn state_and_projection_balances_agree_with_sums_computed_in_sql() {
    let expected = balances_in_sql();
    assert!(expected.len() >= 100);
    assert!(
        expected.values().any(|&b| b < 0),
        "the incident leaves one balance negative"
    );

    let projection = rewind(&["projection", sample_sqlite().to_str().unwrap(), "account_balances"]);
    assert!(projection.status.success(), "{}", stderr(&projection));
    let projected: BTreeMap<String, i64> = json(&projection)["state"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, row)| (id.clone(), row["balance_cents"].as_i64().unwrap()))
        .collect();
    assert_eq!(projected, expected);

    for (stream, balance) in expected.iter().step_by(12) {
        let output = rewind(&["state", sample_sqlite().to_str().unwrap(), "--stream", stream]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(
            json(&output)["state"]["balance_cents"].as_i64(),
            Some(*balance),
            "{stream}"
        );
        // And as money, beside the raw value.
        let currency = json(&output)["state"]["currency"].as_str().unwrap().to_owned();
        let money = json(&output)["state_money"]["balance_cents"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(money.ends_with(&format!(" {currency}")), "{money}");
        let digits: String = money.chars().filter(|c| c.is_ascii_digit() || *c == '-').collect();
        assert_eq!(digits.parse::<i64>().ok(), Some(*balance), "{money} is {balance} cents");
    }
}

#[test]
fn state_prints_the_documented_fields_at_a_version_a_position_and_a_time() {
    let store = sample_sqlite();
    let store = store.to_str().unwrap();
    let at_version = json(&rewind(&["state", store, "--stream", "account-0001", "--version", "2"]));
    for field in [
        "stream_id",
        "stream_type",
        "stream_version",
        "global_position",
        "state",
        "issues",
    ] {
        assert!(at_version.get(field).is_some(), "missing {field}: {at_version}");
    }
    assert_eq!(at_version["stream_version"], 2);
    assert_eq!(at_version["stream_type"], "BankAccount");
    assert_eq!(at_version["state"]["status"], "open");

    let position = at_version["global_position"].as_u64().unwrap();
    let at_position = json(&rewind(&[
        "state",
        store,
        "--stream",
        "account-0001",
        "--position",
        &position.to_string(),
    ]));
    assert_eq!(at_position["stream_version"], 2);
    assert_eq!(at_position["state"], at_version["state"]);

    let events = stdout(&rewind(&["events", store, "--stream", "account-0001", "--limit", "2"]));
    let second: Value = serde_json::from_str(events.lines().nth(1).unwrap()).unwrap();
    let at_time = json(&rewind(&[
        "state",
        store,
        "--stream",
        "account-0001",
        "--at",
        second["recorded_at"].as_str().unwrap(),
    ]));
    assert_eq!(at_time["stream_version"], 2);
}

#[test]
fn streams_lists_every_stream_with_its_counts() {
    let output = rewind(&["streams", sample_sqlite().to_str().unwrap(), "--json"]);
    assert!(output.status.success());
    assert!(
        stderr(&output).contains("Rewind SQLite store"),
        "the reader is named on stderr"
    );
    let streams = json(&output);
    let streams = streams.as_array().unwrap();
    let total: u64 = streams.iter().map(|s| s["event_count"].as_u64().unwrap()).sum();
    let ndjson_lines = std::fs::read_to_string(sample_ndjson()).unwrap().lines().count() as u64;
    assert_eq!(total, ndjson_lines);
    assert!(streams.iter().any(|s| s["stream_type"] == "Order"));
    let table = stdout(&rewind(&["streams", sample_ndjson().to_str().unwrap()]));
    assert!(table.starts_with("STREAM"));
    assert_eq!(table.lines().count(), streams.len() + 1);
}

#[test]
fn events_prints_ndjson_from_a_position_with_a_limit() {
    let output = rewind(&[
        "events",
        sample_sqlite().to_str().unwrap(),
        "--from",
        "100",
        "--limit",
        "5",
    ]);
    let positions: Vec<u64> = stdout(&output)
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["global_position"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(positions, [101, 102, 103, 104, 105]);
}

#[test]
fn export_writes_the_same_events_as_the_bundled_ndjson() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export.ndjson");
    let output = rewind(&[
        "export",
        sample_sqlite().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let parse = |text: String| -> Vec<Value> { text.lines().map(|l| serde_json::from_str(l).unwrap()).collect() };
    assert_eq!(
        parse(std::fs::read_to_string(&out).unwrap()),
        parse(std::fs::read_to_string(sample_ndjson()).unwrap())
    );
}

#[test]
fn sample_writes_identical_events_to_sqlite_and_ndjson_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let made = rewind(&["sample", "--out", out, "--events", "3000", "--seed", "9"]);
    assert!(made.status.success(), "{}", stderr(&made));
    let summary = json(&made);
    assert!(summary["events"].as_u64().unwrap() >= 3000);
    let from_sqlite = stdout(&rewind(&["events", dir.path().join("bank.sqlite").to_str().unwrap()]));
    let from_ndjson = stdout(&rewind(&["events", dir.path().join("bank.ndjson").to_str().unwrap()]));
    assert_eq!(from_sqlite, from_ndjson);

    let again = rewind(&["sample", "--out", out]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("already exists"), "{}", stderr(&again));
}

#[test]
fn a_missing_file_gets_one_line_naming_it_and_exit_code_two() {
    let output = rewind(&["streams", "/no/such/bank.sqlite"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "rewind: error: cannot open /no/such/bank.sqlite: no such file\n"
    );
}

#[test]
fn a_corrupt_file_gets_a_clear_error_and_exit_code_two() {
    let dir = tempfile::tempdir().unwrap();
    // A SQLite header followed by garbage.
    let corrupt = dir.path().join("corrupt.sqlite");
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend(std::iter::repeat_n(0xAB_u8, 4096));
    std::fs::write(&corrupt, bytes).unwrap();
    let output = rewind(&["verify", corrupt.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("corrupt.sqlite"), "{message}");

    // An export with a line missing its stream: the load goes on and says what it skipped;
    // `--strict` makes that an error.
    let sample = std::fs::read_to_string(sample_ndjson()).unwrap();
    let mut lines: Vec<String> = sample.lines().take(3).map(str::to_owned).collect();
    lines[1] = lines[1].replacen("\"stream_id\"", "\"no_stream\"", 1);
    let bad_json = dir.path().join("bad.ndjson");
    std::fs::write(&bad_json, lines.join("\n")).unwrap();
    let output = rewind(&["events", bad_json.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output).lines().count(), 2);
    let message = stderr(&output);
    assert!(
        message.contains("bad.ndjson: line 2: missing field `stream_id`"),
        "{message}"
    );
    assert!(message.contains("1 record(s) skipped"), "{message}");
    let output = rewind(&["events", bad_json.to_str().unwrap(), "--strict"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).lines().last().unwrap().contains("--strict"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unknown_stream_or_projection_is_an_error_not_an_empty_answer() {
    let store = sample_sqlite();
    let output = rewind(&["state", store.to_str().unwrap(), "--stream", "account-9999"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no stream named `account-9999`"));
    let output = rewind(&["projection", store.to_str().unwrap(), "balances"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("account_balances"));
}

#[test]
fn import_of_the_ndjson_export_gives_a_store_with_the_same_events() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("imported.sqlite");
    let output = rewind(&[
        "import",
        sample_ndjson().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let imported = stdout(&rewind(&["events", out.to_str().unwrap()]));
    let original = stdout(&rewind(&["events", sample_sqlite().to_str().unwrap()]));
    assert_eq!(imported, original);
    let again = rewind(&[
        "import",
        sample_ndjson().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2), "never overwrites");
}

/// A small sample store in a new temporary directory (kept alive by the returned guard).
fn small_sample() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().to_str().expect("a UTF-8 path");
    let made = rewind(&["sample", "--out", out, "--clean", "--accounts", "10", "--orders", "10"]);
    assert!(made.status.success(), "{}", stderr(&made));
    let path = dir.path().join("bank.sqlite");
    (dir, path)
}

/// What `rewind verify` prints of the store at `path`, which has issues (exit code 1).
fn issues_from_verify(path: &std::path::Path) -> String {
    let output = rewind(&["verify", path.to_str().expect("a UTF-8 path")]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    stdout(&output)
}

/// The engine the app builds over the store at `path` (on two threads, as it opens a store).
fn engine_over(path: &std::path::Path) -> rewind_engine::Engine {
    let source = rewind_store::open_store(path).expect("the store opens");
    let domain = std::sync::Arc::new(rewind::domains());
    let progress = rewind::pipeline::Progress::default();
    rewind::pipeline::build_engine(source.as_ref(), domain, &progress)
        .expect("the store reads")
        .expect("not cancelled")
}

/// A native store's unique index spares the replay remembering every id, but it compares ids as
/// text: the same UUID in capitals slips past it, and is still reported.
#[test]
fn an_event_id_repeated_in_another_spelling_is_found_by_verify_and_the_engine() {
    let (_dir, path) = small_sample();
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .execute_batch(
            "INSERT INTO events (stream_id, stream_type, stream_version, event_id, event_type, schema_version, \
             recorded_at, data, metadata) SELECT 'probe-1', 'Probe', 1, upper(event_id), 'Probed', 1, \
             (SELECT max(recorded_at) FROM events), '{}', '{}' FROM events WHERE global_position = 3",
        )
        .unwrap();
    let (position, id): (i64, String) = connection
        .query_row(
            "SELECT global_position, lower(event_id) FROM events ORDER BY global_position DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    drop(connection);
    let position = position as u64;

    let stdout = issues_from_verify(&path);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with(&format!("{position:>10}")), "{lines:?}");
    assert!(
        lines[0].contains(&format!("event id {id} was already recorded earlier")),
        "{lines:?}"
    );

    let engine = engine_over(&path);
    let issues: Vec<(u64, String)> = engine
        .issues()
        .iter()
        .map(|i| (i.position, i.message.clone()))
        .collect();
    assert_eq!(
        issues,
        [(position, format!("event id {id} was already recorded earlier"))]
    );
    let last = engine.index().headers().last().unwrap();
    assert_eq!(engine.index().position(engine.index().len() - 1), position);
    assert_ne!(last.flags & rewind_engine::EventHeader::HAS_ISSUE, 0);
}

/// A native store's payloads and metadata are checked by the first parse of them, not when read:
/// a payload that is not JSON is still reported at its position, whether the domain reads it (a
/// deposit) or nothing does (a stream no domain claims), and so is metadata that is not JSON;
/// the replay goes on past them.
#[test]
fn a_payload_or_metadata_that_is_not_json_in_a_native_store_is_reported_where_it_is() {
    let (_dir, path) = small_sample();
    let connection = rusqlite::Connection::open(&path).unwrap();
    // The last event of its stream, so nothing after it depends on it.
    let deposit: i64 = connection
        .query_row(
            "SELECT global_position FROM events e WHERE event_type = 'MoneyDeposited' AND schema_version = 2 \
             AND stream_version = (SELECT max(stream_version) FROM events WHERE stream_id = e.stream_id) LIMIT 1",
            [],
            |row| row.get(0),
        )
        .unwrap();
    connection
        .execute(
            "UPDATE events SET data = '{\"amount_cents\": 12' WHERE global_position = ?1",
            [deposit],
        )
        .unwrap();
    connection
        .execute_batch(
            "INSERT INTO events (stream_id, stream_type, stream_version, event_id, event_type, schema_version, \
             recorded_at, data, metadata) SELECT 'probe-1', 'Probe', 1, '00000000-0000-4000-8000-000000000001', \
             'Probed', 1, (SELECT max(recorded_at) FROM events), '<probe/>', '{}'",
        )
        .unwrap();
    let probe: i64 = connection
        .query_row("SELECT max(global_position) FROM events", [], |row| row.get(0))
        .unwrap();
    connection
        .execute(
            "UPDATE events SET metadata = '{\"correlation_id\": ' WHERE global_position = 1",
            [],
        )
        .unwrap();
    drop(connection);

    let stdout = issues_from_verify(&path);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with(&format!("{:>10}", 1)), "{lines:?}");
    assert!(lines[0].contains("the metadata is not JSON"), "{lines:?}");
    assert!(lines[1].starts_with(&format!("{deposit:>10}")), "{lines:?}");
    assert!(lines[1].contains("MoneyDeposited"), "{lines:?}");
    assert!(lines[2].starts_with(&format!("{probe:>10}")), "{lines:?}");
    assert!(lines[2].contains("the payload is not JSON"), "{lines:?}");

    let engine = engine_over(&path);
    let issues: Vec<(u64, rewind_core::ReplayIssueKind)> =
        engine.issues().iter().map(|i| (i.position, i.kind.clone())).collect();
    assert_eq!(
        issues,
        [
            (1, rewind_core::ReplayIssueKind::InvalidPayload),
            (deposit as u64, rewind_core::ReplayIssueKind::InvalidPayload),
            (probe as u64, rewind_core::ReplayIssueKind::InvalidPayload)
        ]
    );

    // An export or an import writes each as a JSON string of its text, and says which, since
    // the copy no longer shows them as errors.
    let out = tempfile::tempdir().unwrap();
    for (command, file) in [("export", "copy.ndjson"), ("import", "copy.sqlite")] {
        let copy = out.path().join(file);
        let output = rewind(&[command, path.to_str().unwrap(), "--out", copy.to_str().unwrap()]);
        assert!(output.status.success(), "{}", stderr(&output));
        let said = stderr(&output);
        for (position, part) in [(1, "metadata"), (deposit, "payload"), (probe, "payload")] {
            assert!(
                said.contains(&format!("position {position} (")) && said.contains(&format!("the {part} is not JSON")),
                "{command}: {said}"
            );
        }
        assert!(
            said.contains("3 payload(s) or metadata that are not JSON"),
            "{command}: {said}"
        );
    }
    let first = std::fs::read_to_string(out.path().join("copy.ndjson")).unwrap();
    let first: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert_eq!(
        first["metadata"],
        serde_json::json!("{\"correlation_id\": "),
        "the text is kept"
    );
}

/// An auditor's evidence at the planted incident: every event of the account up to it, the
/// state after each (the last one is the state `state` prints there), the issue, and a file that
/// is never replaced.
#[test]
fn evidence_at_the_incident_holds_the_account_history_its_states_and_the_issue() {
    let store = sample_sqlite();
    let store = store.to_str().unwrap();
    let incident = readme_incident_position();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("evidence.json");
    let out_arg = out.to_str().unwrap();
    let stream = "account-0002";
    let position = incident.to_string();
    let written = rewind(&[
        "evidence",
        store,
        "--stream",
        stream,
        "--position",
        &position,
        "--out",
        out_arg,
    ]);
    assert!(written.status.success(), "{}", stderr(&written));
    let evidence: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();

    let state = json(&rewind(&["state", store, "--stream", stream, "--position", &position]));
    assert_eq!(evidence["stream_id"], stream);
    assert_eq!(evidence["state"], state["state"]);
    assert_eq!(evidence["as_of"]["global_position"], incident);
    let events = evidence["events"].as_array().unwrap();
    assert_eq!(evidence["event_count"], events.len());
    assert_eq!(events.len() as u64, state["stream_version"].as_u64().unwrap());
    assert_eq!(events.last().unwrap()["state_after"], state["state"]);
    // Every event of the stream up to the incident, in version order, each with its state.
    let listed = stdout(&rewind(&["events", store, "--stream", stream]));
    let expected: Vec<u64> = listed
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["global_position"]
                .as_u64()
                .unwrap()
        })
        .filter(|&p| p <= incident)
        .collect();
    let got: Vec<u64> = events.iter().map(|e| e["global_position"].as_u64().unwrap()).collect();
    assert_eq!(got, expected);
    assert!(
        events
            .iter()
            .all(|e| e["state_after"].is_object() && e["data"].is_object())
    );
    let issues = evidence["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0]["position"], incident);
    assert_eq!(issues[0]["kind"]["kind"], "invariant_violated");

    // The file is never replaced; nothing else is left in the folder.
    let again = rewind(&["evidence", store, "--stream", stream, "--out", out_arg]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("exists"), "{}", stderr(&again));
    assert_eq!(
        serde_json::from_slice::<Value>(&std::fs::read(&out).unwrap()).unwrap(),
        evidence
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    // At a time: the events recorded until then; an unknown stream is an error.
    let before = dir.path().join("before.json");
    let at = events[1]["recorded_at"].as_str().unwrap();
    let written = rewind(&[
        "evidence",
        store,
        "--stream",
        stream,
        "--at",
        at,
        "--out",
        before.to_str().unwrap(),
    ]);
    assert!(written.status.success(), "{}", stderr(&written));
    let before: Value = serde_json::from_slice(&std::fs::read(&before).unwrap()).unwrap();
    assert_eq!(before["event_count"], 2);
    assert_eq!(before["state"], events[1]["state_after"]);
    let too_early = rewind(&[
        "evidence",
        store,
        "--stream",
        stream,
        "--position",
        "1",
        "--out",
        out_arg,
    ]);
    assert_eq!(too_early.status.code(), Some(2));
    let said = stderr(&too_early);
    assert!(
        said.contains("has no event at or before position 1 (its first is at position"),
        "{said}"
    );
    let unknown = rewind(&["evidence", store, "--stream", "no-such-stream", "--out", out_arg]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("no stream named `no-such-stream`"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn bench_reports_the_build_seeks_replay_and_their_cpu_time() {
    let store = sample_sqlite();
    let output = rewind(&["bench", store.to_str().unwrap(), "--seeks", "20", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["events"], 2831);
    assert_eq!(report["streams"], 617);
    for latency in ["global_seek", "step_forward", "stream_seek", "longest_stream_seek"] {
        assert_eq!(report[latency]["samples"], 20, "{latency}");
        assert!(report[latency]["p50_ms"].as_f64().unwrap() <= report[latency]["max_ms"].as_f64().unwrap());
    }
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    for (wall, cpu) in [
        ("index_build_s", "index_build_cpu_s"),
        ("full_replay_s", "full_replay_cpu_s"),
    ] {
        let wall = report[wall].as_f64().unwrap();
        let cpu = report[cpu].as_f64().expect("CPU time is measured on this platform");
        assert!(wall > 0.0 && cpu > 0.0, "{wall} {cpu}");
        // Two threads at most are busy while the events are read and folded.
        assert!(cpu <= wall * 2.0 + 0.05, "CPU {cpu} s in {wall} s");
    }
    assert_eq!(report["runs"], 1);
    assert_eq!(report["index_build_runs_s"].as_array().unwrap().len(), 1);
    // SQLite walked the table by itself too: the floor under reading it.
    assert!(report["bare_scan_s"].as_f64().unwrap() > 0.0, "{report}");
    assert!(report["bare_scan_query"].as_str().unwrap().contains("FROM events"));
    let text = rewind(&["bench", store.to_str().unwrap(), "--seeks", "5"]);
    assert!(text.status.success(), "{}", stderr(&text));
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    assert!(stdout(&text).contains("µs an event"), "{}", stdout(&text));
    assert!(stdout(&text).contains("bare scan"), "{}", stdout(&text));
}

#[test]
fn bench_runs_reports_the_median_of_every_run() {
    let store = sample_sqlite();
    let output = rewind(&[
        "bench",
        store.to_str().unwrap(),
        "--seeks",
        "3",
        "--runs",
        "3",
        "--json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["runs"], 3);
    for (median, runs) in [
        ("index_build_s", "index_build_runs_s"),
        ("full_replay_s", "full_replay_runs_s"),
    ] {
        let mut each: Vec<f64> = report[runs]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_f64().unwrap())
            .collect();
        assert_eq!(each.len(), 3, "{runs}");
        each.sort_by(f64::total_cmp);
        let median = report[median].as_f64().unwrap();
        // JSON carries each figure exactly, so the median is one of the runs, not near one.
        assert!(
            (median - each[1]).abs() < 1e-12,
            "{median} is not the middle of {each:?}"
        );
    }
    // Every run indexed the whole store, and the events counted are the store's.
    assert_eq!(report["events"], 2831);
    // Each run is said as it ends, on stderr (stdout is the report).
    for step in [
        "(run 1 of 3)",
        "(run 3 of 3)",
        "3 seeks of each kind done",
        "replayed in",
    ] {
        assert!(stderr(&output).contains(step), "{step}: {}", stderr(&output));
    }
    let text = rewind(&["bench", store.to_str().unwrap(), "--seeks", "1", "--runs", "2"]);
    assert!(stdout(&text).contains("median of 2:"), "{}", stdout(&text));

    let zero = rewind(&["bench", store.to_str().unwrap(), "--runs", "0"]);
    assert_eq!(zero.status.code(), Some(2), "{}", stderr(&zero));
}

/// Runs `rewind ARGS` with its standard output closed by the reader before anything is read,
/// as `rewind … | head -0` does: the exit status and what was said on stderr.
fn with_stdout_closed(args: &[&str]) -> (Option<i32>, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the rewind binary runs");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("rewind ends");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A reader that goes away ends the output quietly: no "Broken pipe" error, and the status the
/// command would have had (`verify` still says it found the planted incident).
#[test]
fn a_closed_pipe_on_stdout_ends_quietly_with_the_commands_own_status() {
    let store = sample_sqlite();
    let store = store.to_str().unwrap();
    for (args, status) in [
        (vec!["events", store], 0),
        (vec!["streams", store], 0),
        (vec!["verify", store], 1),
        (vec!["verify", store, "--json"], 1),
        (vec!["state", store, "--stream", "account-0002"], 0),
    ] {
        let (code, stderr) = with_stdout_closed(&args);
        assert_eq!(code, Some(status), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
        assert!(!stderr.to_lowercase().contains("broken pipe"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// Every command takes `--json`; those that print JSON anyway print the same with it, and
/// `verify` prints its issues as a document.
#[test]
fn every_command_takes_json_and_verify_prints_its_issues_as_json() {
    let store = sample_sqlite();
    let store = store.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("evidence.json");
    let exported = dir.path().join("export.ndjson");
    let imported = dir.path().join("import.sqlite");
    let sample = dir.path().join("sample");
    for args in [
        vec!["streams", store],
        vec!["events", store, "--limit", "3"],
        vec!["state", store, "--stream", "account-0002"],
        vec!["projection", store, "account_balances"],
        vec![
            "evidence",
            store,
            "--stream",
            "account-0002",
            "--out",
            evidence.to_str().unwrap(),
        ],
        vec!["export", store, "--out", exported.to_str().unwrap()],
        vec![
            "import",
            exported.to_str().unwrap(),
            "--out",
            imported.to_str().unwrap(),
        ],
        vec![
            "sample",
            "--out",
            sample.to_str().unwrap(),
            "--accounts",
            "3",
            "--orders",
            "3",
        ],
        vec!["bench", store, "--seeks", "5"],
    ] {
        let mut with_json = args.clone();
        with_json.push("--json");
        let output = rewind(&with_json);
        assert!(output.status.success(), "{with_json:?}: {}", stderr(&output));
        let printed = stdout(&output);
        for line in printed.lines().filter(|_| args[0] == "events") {
            serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        }
        if !printed.is_empty() && args[0] != "events" {
            json(&output);
        }
    }
    let verified = rewind(&["verify", store, "--json"]);
    assert_eq!(verified.status.code(), Some(1));
    let document = json(&verified);
    assert_eq!(document["events"], 2831);
    assert_eq!(document["issues"][0]["position"], readme_incident_position());
    assert_eq!(document["issues"][0]["kind"]["kind"], "invariant_violated");
}

/// A clean verdict needs events: `verify` fails (exit 2) when records had to be skipped, unless
/// told to go on, and never calls a store clean when it replayed nothing.
#[test]
fn verify_needs_every_record_and_some_events_for_a_clean_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let sample = std::fs::read_to_string(sample_ndjson()).unwrap();
    let mut lines: Vec<String> = sample.lines().take(3).map(str::to_owned).collect();
    lines[1] = lines[1].replacen("\"stream_id\"", "\"no_stream\"", 1);
    let partial = dir.path().join("partial.ndjson");
    std::fs::write(&partial, lines.join("\n")).unwrap();
    let partial = partial.to_str().unwrap();
    let output = rewind(&["verify", partial]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let said = stderr(&output);
    assert!(said.contains("line 2: missing field `stream_id`"), "{said}");
    assert!(
        said.lines().last().unwrap().contains("1 record(s) of")
            && said.contains("--allow-skipped verifies what was read"),
        "{said}"
    );
    let output = rewind(&["verify", partial, "--allow-skipped", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let verdict = json(&output);
    assert_eq!(
        (verdict["events"].as_u64(), verdict["skipped"].as_u64()),
        (Some(2), Some(1))
    );
    assert!(stderr(&output).contains("this verdict covers the rest"));

    // Every record skipped: nothing was verified, and that is not clean.
    // (Each line is an export's, with an event id that is not a UUID.)
    let none: Vec<String> = sample
        .lines()
        .take(3)
        .map(|l| l.replacen("\"event_id\":\"", "\"event_id\":\"not-a-uuid-", 1))
        .collect();
    let empty = dir.path().join("unreadable.ndjson");
    std::fs::write(&empty, none.join("\n")).unwrap();
    let output = rewind(&["verify", empty.to_str().unwrap(), "--allow-skipped"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("there is nothing to verify (every record was skipped)"),
        "{}",
        stderr(&output)
    );
}

/// Where a library stamps events when they are made, not when they are stored, the global
/// order and the times disagree across streams by design (Python eventsourcing saving two
/// accounts of a transfer together): that is no issue. Within a stream (a second server whose
/// clock runs behind) it is a note: counted, listed on request, failed on only when asked.
#[test]
fn time_that_goes_backwards_across_streams_is_no_issue_and_within_one_a_note() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/python-eventsourcing");
    let transfers = fixtures.join("transfers.sqlite");
    let output = rewind(&["verify", transfers.to_str().unwrap(), "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let verdict = json(&output);
    assert_eq!(verdict["events"], 208);
    assert_eq!(verdict["issues"], serde_json::json!([]));

    let skewed = fixtures.join("skewed.sqlite");
    let skewed = skewed.to_str().unwrap();
    let output = rewind(&["verify", skewed, "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let verdict = json(&output);
    let notes = verdict["notes"].as_u64().unwrap();
    assert!(notes > 0, "{verdict}");
    assert_eq!(verdict["integrity_issues"], 0);
    for issue in verdict["issues"].as_array().unwrap() {
        assert_eq!(issue["severity"], "note", "{issue}");
        assert_eq!(issue["kind"]["kind"], "time_went_backwards", "{issue}");
    }
    let output = rewind(&["verify", skewed]);
    assert!(stdout(&output).is_empty(), "notes are not listed unless asked");
    assert!(
        stderr(&output).contains(&format!("0 issue(s), {notes} note(s)")),
        "{}",
        stderr(&output)
    );
    let listed = rewind(&["verify", skewed, "--notes"]);
    assert_eq!(listed.status.code(), Some(0));
    assert_eq!(stdout(&listed).lines().count() as u64, notes);
    let failing = rewind(&["verify", skewed, "--fail-on-notes"]);
    assert_eq!(failing.status.code(), Some(1));
}
