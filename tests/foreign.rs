//! Stores written by other libraries (fixtures made by the libraries themselves, see
//! `fixtures/README.md`), foreign JSON, mappings, skipped records and `--strict`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};

use rewind::pipeline::replay_all;
use rewind_core::Domain;
use rewind_store::{Mapping, OpenOptions, StoreError, open_store, open_store_with};

use crate::util::{json, rewind, stderr, stdout};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path)
}

/// The bank story every fixture holds: account A's amounts in order, and B's.
const A_AMOUNTS: [Option<i64>; 4] = [None, Some(100), Some(50), Some(30)];

struct Expected {
    file: &'static str,
    describe: &'static str,
    stream_a: &'static str,
    event_types_a: [&'static str; 4],
}

const FIXTURES: [Expected; 7] = [
    Expected {
        file: "python-eventsourcing/bank.sqlite",
        describe: "Python eventsourcing SQLite (table stored_events)",
        stream_a: "2cb26e6aae4b5fc0b3e84f8a1bf4b1f1",
        event_types_a: [
            "bankdomain:BankAccount.Opened",
            "bankdomain:BankAccount.Deposited",
            "bankdomain:BankAccount.Deposited",
            "bankdomain:BankAccount.Withdrew",
        ],
    },
    Expected {
        file: "emmett-sqlite/bank.sqlite",
        describe: "Emmett SQLite (table emt_messages)",
        stream_a: "account-A",
        event_types_a: ["AccountOpened", "MoneyDeposited", "MoneyDeposited", "MoneyWithdrawn"],
    },
    Expected {
        file: "sqlite-es/bank.sqlite",
        describe: "cqrs-es SQLite (table events)",
        stream_a: "account-A",
        event_types_a: ["AccountOpened", "MoneyDeposited", "MoneyDeposited", "MoneyWithdrawn"],
    },
    Expected {
        file: "tutorial-events/bank.sqlite",
        describe: "tutorial events table SQLite (table events)",
        stream_a: "account-A",
        event_types_a: ["AccountOpened", "MoneyDeposited", "MoneyDeposited", "MoneyWithdrawn"],
    },
    Expected {
        file: "json/esdb-atom-account-A.json",
        describe: "EventStoreDB Atom feed (JSON)",
        stream_a: "account-A",
        event_types_a: ["AccountOpened", "MoneyDeposited", "MoneyDeposited", "MoneyWithdrawn"],
    },
    Expected {
        file: "json/cloudevents-bank.json",
        describe: "CloudEvents (JSON)",
        stream_a: "account-A",
        event_types_a: [
            "io.example.bank.opened",
            "io.example.bank.deposited",
            "io.example.bank.deposited",
            "io.example.bank.withdrew",
        ],
    },
    Expected {
        file: "json/eventsourcingdb-bank.ndjson",
        describe: "EventSourcingDB events (NDJSON)",
        stream_a: "/accounts/A",
        event_types_a: [
            "io.example.bank.opened",
            "io.example.bank.deposited",
            "io.example.bank.deposited",
            "io.example.bank.withdrew",
        ],
    },
];

/// The `amount` a generic state shows, wherever the library put it (cqrs-es nests the payload
/// under its enum tag).
fn amount(state: &Value) -> Option<i64> {
    state.get("amount").and_then(Value::as_i64).or_else(|| {
        state
            .as_object()?
            .values()
            .find_map(|v| v.get("amount").and_then(Value::as_i64))
    })
}

#[test]
fn every_library_fixture_opens_read_only_recognised_with_streams_types_and_amounts() {
    for expected in &FIXTURES {
        let path = fixture(expected.file);
        let before = std::fs::read(&path).unwrap();
        let source = open_store(&path).unwrap_or_else(|e| panic!("{}: {e}", expected.file));
        assert_eq!(source.describe(), expected.describe);
        assert!(source.skipped().is_empty(), "{}: {:?}", expected.file, source.skipped());

        let events = source.read_stream(expected.stream_a, None).unwrap();
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(types, expected.event_types_a, "{}", expected.file);
        assert_eq!(
            events.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
            [1, 2, 3, 4],
            "{}",
            expected.file
        );

        // The generic plug-in folds the payloads: `amount` changes event by event.
        let domain = Arc::new(rewind_core::DomainSet::new(Vec::new()));
        let steps = domain.replay_stream(&events);
        let amounts: Vec<Option<i64>> = steps.iter().map(|s| s.state.as_ref().ok().and_then(amount)).collect();
        // The opening event has no amount (cqrs-es and the rest): only the later ones count.
        assert_eq!(amounts[1..], A_AMOUNTS[1..], "{}", expected.file);

        let replay = replay_all(source.as_ref(), domain).unwrap();
        let streams = source.streams().unwrap();
        let total: u64 = streams.iter().map(|s| s.event_count).sum();
        if expected.file.contains("atom") {
            assert_eq!((streams.len(), total), (1, 4), "{}", expected.file);
        } else {
            assert_eq!((streams.len(), total), (2, 6), "{}", expected.file);
        }
        assert!(replay.issues().is_empty(), "{}: {:?}", expected.file, replay.issues());
        drop(source);
        assert_eq!(std::fs::read(&path).unwrap(), before, "{} was modified", expected.file);
    }
}

#[test]
fn python_eventsourcing_times_come_from_inside_the_state_and_type_tags_are_unwrapped() {
    let source = open_store(fixture("python-eventsourcing/bank.sqlite")).unwrap();
    let events = source.read_batch(0, 10).unwrap();
    assert_eq!(events.len(), 6);
    assert!(
        events[0].recorded_at.is_some_and(|at| at.timestamp() > 1_700_000_000),
        "{:?}",
        events[0].recorded_at
    );
    assert!(events[0].data.value()["timestamp"].is_string(), "{}", events[0].data);
    assert!(events.windows(2).all(|w| w[0].recorded_at <= w[1].recorded_at));
}

#[test]
fn the_cli_names_the_format_it_picked_on_stderr() {
    let output = rewind(&["streams", fixture("emmett-sqlite/bank.sqlite").to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("as Emmett SQLite (table emt_messages)"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).contains("account-A"));
}

fn sqlite_with(dir: &Path, sql: &str) -> PathBuf {
    let path = dir.join("store.db");
    let connection = rusqlite::Connection::open(&path).expect("the database is created");
    connection.execute_batch(sql).expect("the schema is created");
    drop(connection);
    path
}

const UNKNOWN_SCHEMA: &str = r#"
CREATE TABLE "domain events" (seq INTEGER PRIMARY KEY, aggregate TEXT, kind TEXT, body TEXT, at TEXT, ver INTEGER);
INSERT INTO "domain events" (aggregate, kind, body, at, ver) VALUES
  ('cart-1', 'ItemAdded', '{"sku": "a", "qty": 1}', '2024-01-01 10:00:00', 1),
  ('cart-1', 'ItemAdded', '{"sku": "b", "qty": 2}', '2024-01-01 10:00:05', 2),
  ('cart-2', 'ItemAdded', '<xml>not json</xml>', '2024-01-01 10:00:07', 1),
  (NULL, 'ItemAdded', '{}', '2024-01-01 10:00:09', 3);
"#;

#[test]
fn an_unknown_sqlite_schema_gets_a_proposed_mapping_and_opens_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = sqlite_with(dir.path(), UNKNOWN_SCHEMA);
    let Err(StoreError::NeedsMapping { proposal, .. }) = open_store(&path) else {
        panic!("expected a mapping proposal");
    };
    assert_eq!(proposal.table.as_deref(), Some("domain events"));
    assert_eq!(proposal.stream, "aggregate");
    assert_eq!(proposal.payload.as_deref(), Some("body"));
    // The user confirms after one correction: `ver` is the version.
    let mut mapping = *proposal;
    mapping.version = Some("ver".into());
    mapping.event_type = Some("kind".into());
    mapping.time = Some("at".into());
    let source = open_store_with(
        &path,
        &OpenOptions {
            mapping: Some(mapping),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    assert_eq!(source.event_count().unwrap(), 3);
    // The row without a stream is skipped and reported by row.
    let skipped: Vec<String> = source
        .skipped()
        .iter()
        .map(|s| format!("{}: {}", s.record, s.reason))
        .collect();
    assert_eq!(skipped, ["row 4: no stream id (column \"aggregate\" is NULL)"]);
    // The XML payload is shown as text and is a replay issue; the load goes on.
    let events = source.read_batch(0, 10).unwrap();
    assert_eq!(events[2].data, json!("<xml>not json</xml>"));
    let replay = replay_all(source.as_ref(), Arc::new(rewind_core::DomainSet::new(Vec::new()))).unwrap();
    let issues: Vec<(u64, &str)> = replay.issues().iter().map(|i| (i.position, i.kind.label())).collect();
    assert_eq!(issues, [(3, "invalid_payload")]);
}

#[test]
fn the_cli_prints_the_proposal_takes_it_back_with_mapping_and_strict_fails_on_skipped_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = sqlite_with(dir.path(), UNKNOWN_SCHEMA);
    let store = path.to_str().unwrap();
    let output = rewind(&["streams", store]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("--mapping FILE.toml"), "{message}");
    let toml_start = message.find("table = ").expect("the proposal is printed");
    let mut mapping = Mapping::from_toml(&message[toml_start..]).expect("the printed proposal is valid TOML");
    mapping.version = Some("ver".into());
    let mapping_path = dir.path().join("mapping.toml");
    std::fs::write(&mapping_path, mapping.to_toml()).unwrap();
    let mapping = mapping_path.to_str().unwrap();

    let output = rewind(&["streams", store, "--mapping", mapping, "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let streams = json(&output);
    assert_eq!(streams.as_array().map(Vec::len), Some(2));
    assert!(stderr(&output).contains("1 record(s) skipped"), "{}", stderr(&output));
    assert!(stderr(&output).contains("row 4: no stream id"), "{}", stderr(&output));

    let output = rewind(&["streams", store, "--mapping", mapping, "--strict"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--strict"), "{}", stderr(&output));
}

#[test]
fn hostile_table_and_column_names_are_quoted_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = sqlite_with(
        dir.path(),
        r#"CREATE TABLE "ev""ents; DROP TABLE x; --" ("stream""id" TEXT, "data" TEXT, "version" INTEGER);
           CREATE TABLE x (y);
           INSERT INTO "ev""ents; DROP TABLE x; --" VALUES ('s-1', '{"a": 1}', 1);"#,
    );
    let mapping = Mapping {
        table: Some("ev\"ents; DROP TABLE x; --".into()),
        stream: "stream\"id".into(),
        version: Some("version".into()),
        payload: Some("data".into()),
        position: Some("rowid".into()),
        ..Mapping::default()
    };
    let source = open_store_with(
        &path,
        &OpenOptions {
            mapping: Some(mapping),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    assert_eq!(source.read_stream("s-1", None).unwrap()[0].data, json!({"a": 1}));
    let bad = Mapping {
        table: Some("nope".into()),
        stream: "s".into(),
        payload: Some("p".into()),
        ..Mapping::default()
    };
    let error = open_store_with(
        &path,
        &OpenOptions {
            mapping: Some(bad),
            ..OpenOptions::default()
        },
    )
    .err()
    .unwrap()
    .to_string();
    assert!(error.contains("no table `nope`"), "{error}");
}

#[test]
fn gzip_files_are_read_transparently() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("events.json.gz");
    let mut encoder = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::fast());
    encoder
        .write_all(&std::fs::read(fixture("json/cloudevents-bank.json")).unwrap())
        .unwrap();
    encoder.finish().unwrap();
    let source = open_store(&gz).unwrap();
    assert_eq!(source.describe(), "CloudEvents (JSON), gzip");
    assert_eq!(source.event_count().unwrap(), 6);
}

#[test]
fn a_sqlite_file_without_events_and_an_image_get_one_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = sqlite_with(
        dir.path(),
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT);",
    );
    let output = rewind(&["streams", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("none of its tables (users) looks like events"),
        "{}",
        stderr(&output)
    );
    let image = dir.path().join("events.json");
    std::fs::write(&image, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    let output = rewind(&["streams", image.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("it is an image"), "{}", stderr(&output));
}

#[test]
fn emmetts_older_emt_events_schema_is_recognised_and_archived_rows_left_out() {
    let dir = tempfile::tempdir().unwrap();
    // The schema before emmett's February 2025 rename (commit 5ea81b21, SQLite flavour).
    let path = sqlite_with(
        dir.path(),
        r#"CREATE TABLE emt_events (stream_id TEXT NOT NULL, stream_position BIGINT NOT NULL, partition TEXT NOT NULL DEFAULT 'global',
               event_data JSONB NOT NULL, event_metadata JSONB NOT NULL, event_schema_version TEXT NOT NULL, event_type TEXT NOT NULL,
               event_id TEXT NOT NULL, is_archived BOOLEAN NOT NULL DEFAULT FALSE, global_position INTEGER PRIMARY KEY,
               created DATETIME DEFAULT CURRENT_TIMESTAMP);
           INSERT INTO emt_events (stream_id, stream_position, event_data, event_metadata, event_schema_version, event_type, event_id, is_archived, created) VALUES
             ('cart-1', 1, '{"sku": "a"}', '{"correlationId": "c-1"}', '1', 'ItemAdded', 'e1', 0, '2024-01-01 10:00:00'),
             ('cart-1', 2, '{"sku": "b"}', '{}', '1', 'ItemAdded', 'e2', 1, '2024-01-01 10:00:01'),
             ('cart-1', 2, '{"sku": "c"}', '{}', '1', 'ItemAdded', 'e3', 0, '2024-01-01 10:00:02');"#,
    );
    let source = open_store(&path).unwrap();
    assert_eq!(
        source.describe(),
        "Emmett (emt_events, before 2025) SQLite (table emt_events)"
    );
    let events = source.read_batch(0, 10).unwrap();
    let skus: Vec<&str> = events.iter().map(|e| e.data.value()["sku"].as_str().unwrap()).collect();
    assert_eq!(skus, ["a", "c"], "the archived row is not replayed");
    assert_eq!(events[0].correlation_id(), Some("c-1"));
    assert_eq!(
        events[1].recorded_at.map(|at| at.to_rfc3339()).as_deref(),
        Some("2024-01-01T10:00:02+00:00")
    );
}

/// Domains claim streams wherever they are: an EventStoreDB export of one of the sample's
/// accounts (Rewind's own bank events; the export records no schema version) replays through
/// the bank domain, claimed by its category, to the balance the native store gives; with
/// `--domain generic` the same export folds generically.
#[test]
fn an_eventstoredb_export_of_a_bank_account_replays_through_the_bank_domain() {
    let export = fixture("json/esdb-atom-bank-account-0070.json");
    let export = export.to_str().unwrap();
    let native = crate::util::sample_sqlite();
    let state = |store: &str, extra: &[&str]| {
        let mut args = vec!["state", store, "--stream", "account-0070"];
        args.extend_from_slice(extra);
        let output = rewind(&args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        json(&output)
    };
    let exported = state(export, &[]);
    let recorded = state(native.to_str().unwrap(), &[]);
    assert_eq!(exported["replayed_by"], "bank: BankAccount");
    assert_eq!(exported["generic"], false);
    assert_eq!(
        exported["state"], recorded["state"],
        "the export's balance is the store's"
    );
    assert!(exported["state"]["balance_cents"].as_i64().is_some_and(|b| b > 0));
    assert_eq!(exported["issues"], json!([]));

    let generic = state(export, &["--domain", "generic"]);
    assert_eq!(generic["replayed_by"], "generic fold");
    assert_eq!(generic["generic"], true);
    assert!(generic["state"].get("balance_cents").is_none(), "{}", generic["state"]);
    assert!(generic["state"].get("amount_cents").is_some(), "{}", generic["state"]);
}

/// A stream another library wrote (cqrs-es's `account-A`) is claimed by the bank domain for its
/// category, but its events are not the bank's: each is a replay issue that names the event and
/// why it does not read, and `--domain generic` replays the store cleanly.
#[test]
fn another_librarys_events_claimed_by_the_bank_say_why_they_do_not_read() {
    let store = fixture("sqlite-es/bank.sqlite");
    let store = store.to_str().unwrap();
    let claimed = rewind(&["verify", store]);
    assert_eq!(claimed.status.code(), Some(1), "{}", stderr(&claimed));
    let issues = stdout(&claimed);
    assert!(
        issues.contains("payload of `AccountOpened` does not parse: missing field `holder`"),
        "{issues}"
    );
    assert!(issues.contains("account-A"), "{issues}");
    let generic = rewind(&["verify", store, "--domain", "generic"]);
    assert_eq!(generic.status.code(), Some(0), "{}", stderr(&generic));
    let unknown = rewind(&["verify", store, "--domain", "cqrs"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("no domain named `cqrs`; known: bank, generic"),
        "{}",
        stderr(&unknown)
    );
}

/// A store in WAL mode in a directory the user cannot write (an evidence copy, a mounted
/// volume) opens, with what its log holds: the file alone when it has no log, a private copy of
/// the file and its log when it has one. Run as `nobody` when the tests run as root, whom no
/// directory stops.
#[test]
fn a_wal_store_in_a_directory_the_user_cannot_write_opens_with_its_log() {
    use std::os::unix::fs::PermissionsExt;
    let root = is_root();
    if root && std::process::Command::new("runuser").arg("--help").output().is_err() {
        eprintln!("skipped: running as root without runuser to drop to `nobody`");
        return;
    }
    let live = tempfile::tempdir().unwrap();
    let path = live.path().join("events.sqlite");
    let mut writer = rewind_store::SqliteStore::create(&path).unwrap();
    let event = |n: i64| rewind_store::NewEvent {
        event_id: uuid::Uuid::new_v4(),
        event_type: "Deposited".into(),
        schema_version: 1,
        recorded_at: chrono::Utc::now(),
        data: json!({"amount_cents": n}),
        metadata: json!({}),
    };
    writer
        .append("a", "T", rewind_store::ExpectedVersion::Any, &[event(1), event(2)])
        .unwrap();
    let copies = tempfile::tempdir().unwrap();
    // One copy without a log (the file alone), one with the log the live writer holds.
    let (alone, logged) = (copies.path().join("alone"), copies.path().join("logged"));
    for dir in [&alone, &logged] {
        std::fs::create_dir(dir).unwrap();
        std::fs::copy(&path, dir.join("events.sqlite")).unwrap();
    }
    std::fs::copy(live.path().join("events.sqlite-wal"), logged.join("events.sqlite-wal")).unwrap();
    drop(writer);
    // The file alone is a whole store once its writer has checkpointed: take that one.
    std::fs::copy(&path, alone.join("events.sqlite")).unwrap();
    for dir in [copies.path(), &alone, &logged] {
        let mode = if dir == copies.path() || root { 0o755 } else { 0o555 };
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    for dir in [&alone, &logged] {
        let file = dir.join("events.sqlite");
        let file = file.to_str().unwrap();
        let output = if root {
            std::process::Command::new("runuser")
                .args(["-u", "nobody", "--", env!("CARGO_BIN_EXE_rewind"), "events", file])
                .output()
                .unwrap()
        } else {
            rewind(&["events", file])
        };
        assert!(output.status.success(), "{file}: {}", stderr(&output));
        assert_eq!(stdout(&output).lines().count(), 2, "{file}: {}", stderr(&output));
        let listed: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(listed.len(), if dir == &alone { 1 } else { 2 }, "{file}: {listed:?}");
    }
    for dir in [&alone, &logged] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// Whether the tests run as root.
fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A store that records no time (cqrs-es) shows its times as unknown, never as 1970: `null` in
/// JSON, `—` in tables, and `--at` is an error that says why, not the final state.
#[test]
fn a_store_without_times_says_so_and_refuses_a_time_to_stop_at() {
    let store = fixture("sqlite-es/bank.sqlite");
    let store = store.to_str().unwrap();
    let streams = rewind(&["streams", store, "--json"]);
    assert!(streams.status.success(), "{}", stderr(&streams));
    for stream in json(&streams).as_array().unwrap() {
        assert_eq!(stream["first_recorded_at"], Value::Null, "{stream}");
        assert_eq!(stream["last_recorded_at"], Value::Null, "{stream}");
    }
    let table = rewind(&["streams", store]);
    assert!(!stdout(&table).contains("1970"), "{}", stdout(&table));
    assert!(stdout(&table).contains('—'), "{}", stdout(&table));
    let events = rewind(&["events", store]);
    for line in stdout(&events).lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        assert_eq!(event["recorded_at"], Value::Null, "{line}");
    }
    let at = rewind(&["state", store, "--stream", "account-A", "--at", "1970-01-02T00:00:00Z"]);
    assert_eq!(at.status.code(), Some(2), "{}", stdout(&at));
    assert!(
        stderr(&at).contains("the store records no time for 4 of `account-A`'s 4 events"),
        "{}",
        stderr(&at)
    );
    // Exported and imported into Rewind's own store, the times stay unknown.
    let dir = tempfile::tempdir().unwrap();
    let imported = dir.path().join("imported.sqlite");
    let import = rewind(&["import", store, "--out", imported.to_str().unwrap()]);
    assert!(import.status.success(), "{}", stderr(&import));
    let again = rewind(&["events", imported.to_str().unwrap()]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(stdout(&again).lines().count(), 6);
    for line in stdout(&again).lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        assert_eq!(event["recorded_at"], Value::Null, "{line}");
    }
}

/// The proposal looks at the data, not only the names: a column called a version that is NULL
/// in every row (a schema version nobody filled in) or that never varies within a stream is
/// not the stream's version; the next one whose data agrees is, or none.
#[test]
fn a_version_column_that_holds_no_versions_is_not_proposed() {
    let dir = tempfile::tempdir().unwrap();
    let path = sqlite_with(
        dir.path(),
        r"CREATE TABLE domain_events (stream_id TEXT, version INTEGER, revision INTEGER, kind TEXT, body TEXT, event_number INTEGER);
           INSERT INTO domain_events VALUES
             ('cart-1', NULL, 1, 'ItemAdded', '{}', 1),
             ('cart-1', NULL, 1, 'ItemAdded', '{}', 2),
             ('cart-2', NULL, 1, 'ItemAdded', '{}', 1);",
    );
    let Err(StoreError::NeedsMapping { proposal, .. }) = open_store(&path) else {
        panic!("expected a mapping proposal");
    };
    // By name alone `version` comes first, then `revision`: the first is NULL in every row,
    // the second is 1 in both of cart-1's rows.
    assert_eq!(proposal.version.as_deref(), Some("event_number"), "{proposal:?}");

    let dir = tempfile::tempdir().unwrap();
    let path = sqlite_with(
        dir.path(),
        r"CREATE TABLE domain_events (stream_id TEXT, event_version INTEGER, kind TEXT, body TEXT);
           INSERT INTO domain_events VALUES ('cart-1', NULL, 'ItemAdded', '{}'), ('cart-1', NULL, 'ItemAdded', '{}');",
    );
    let Err(StoreError::NeedsMapping { proposal, .. }) = open_store(&path) else {
        panic!("expected a mapping proposal");
    };
    assert_eq!(
        proposal.version, None,
        "no column holds versions: events are numbered in order"
    );
}

/// cqrs-es keys a stream by aggregate type and id together: an account and a payment both
/// numbered 17 are two streams (fixtures/sqlite-es/shared-ids.sqlite, written by the library).
/// They were merged into one, with false version duplicates; the data now shows the type tells
/// them apart, and it becomes part of the stream id.
#[test]
fn streams_told_apart_by_two_columns_are_two_streams() {
    let store = fixture("sqlite-es/shared-ids.sqlite");
    let store = store.to_str().unwrap();
    let streams = rewind(&["streams", store, "--json"]);
    assert!(streams.status.success(), "{}", stderr(&streams));
    let listed = listed_streams(&streams);
    let expected = [
        ("BankAccount-17", "BankAccount", 3),
        ("Payment-17", "Payment", 2),
        ("BankAccount-18", "BankAccount", 1),
        ("Payment-18", "Payment", 2),
    ]
    .map(|(id, kind, n)| (id.to_owned(), kind.to_owned(), n));
    assert_eq!(listed, expected);
    let verified = rewind(&["verify", store, "--domain", "generic", "--json"]);
    assert_eq!(verified.status.code(), Some(0), "{}", stdout(&verified));
}

/// A table that keys streams by a category and an id, with versions from 0: the proposal finds
/// the column that tells the repeats apart, and counts from 0. A mapping that misses it does not
/// give a confident verdict: verify says the mapping is likely wrong, and why.
#[test]
fn a_proposal_finds_the_second_stream_column_and_a_wrong_mapping_is_said_to_be_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let path = sqlite_with(
        dir.path(),
        r"CREATE TABLE journal (position INTEGER PRIMARY KEY, category TEXT, entity_id INTEGER, version INTEGER, kind TEXT, data TEXT);
           INSERT INTO journal (category, entity_id, version, kind, data) VALUES
             ('order', 17, 0, 'Placed', '{}'), ('payment', 17, 0, 'Requested', '{}'),
             ('order', 17, 1, 'Paid', '{}'), ('payment', 17, 1, 'Captured', '{}'),
             ('order', 18, 0, 'Placed', '{}'), ('payment', 18, 0, 'Requested', '{}'),
             ('order', 19, 0, 'Placed', '{}'), ('payment', 19, 0, 'Requested', '{}');",
    );
    let Err(StoreError::NeedsMapping { proposal, .. }) = open_store(&path) else {
        panic!("expected a mapping proposal");
    };
    assert_eq!(proposal.stream, "entity_id");
    assert_eq!(proposal.category.as_deref(), Some("category"), "{proposal:?}");
    assert_eq!(proposal.version_base, 0);
    let source = open_store_with(
        &path,
        &OpenOptions {
            mapping: Some(Mapping {
                event_type: Some("kind".into()),
                ..*proposal.clone()
            }),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let ids: Vec<String> = source.streams().unwrap().into_iter().map(|s| s.stream_id).collect();
    assert_eq!(
        ids,
        [
            "order-17",
            "payment-17",
            "order-18",
            "payment-18",
            "order-19",
            "payment-19"
        ]
    );

    // Without the category, the streams merge: verify says the mapping is likely wrong.
    let wrong = Mapping {
        category: None,
        stream_type: None,
        event_type: Some("kind".into()),
        ..*proposal
    };
    let mapping_file = dir.path().join("wrong.toml");
    std::fs::write(&mapping_file, wrong.to_toml()).unwrap();
    let output = rewind(&[
        "verify",
        path.to_str().unwrap(),
        "--mapping",
        mapping_file.to_str().unwrap(),
        "--domain",
        "generic",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the mapping is likely wrong: 4 version duplicates or gaps in 3 streams of 8 events"),
        "{}",
        stderr(&output)
    );
}

/// Event types where the library put them: a field inside the payload (proposed when the
/// first payload has one named like a type), or the tag of an externally tagged enum,
/// including a unit variant stored as a bare string. They showed `(no type)`.
#[test]
fn event_types_are_read_where_the_library_put_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = sqlite_with(
        dir.path(),
        r#"CREATE TABLE limits_log (stream_id TEXT, version INTEGER, body TEXT);
           INSERT INTO limits_log VALUES
             ('card-1', 1, '{"event_type": "limit_set", "amount": 100}'),
             ('card-1', 2, '{"event_type": "limit_changed", "amount": 50}');"#,
    );
    let Err(StoreError::NeedsMapping { proposal, .. }) = open_store(&path) else {
        panic!("expected a mapping proposal");
    };
    assert_eq!(proposal.event_type, None);
    assert_eq!(proposal.event_type_in_payload.as_deref(), Some("event_type"));
    let source = crate::util::opened_with(&path, *proposal);
    assert_eq!(
        crate::util::event_types(source.as_ref()),
        ["limit_set", "limit_changed"]
    );

    let dir = tempfile::tempdir().unwrap();
    let path = sqlite_with(
        dir.path(),
        r#"CREATE TABLE account_log (stream_id TEXT, version INTEGER, body TEXT);
           INSERT INTO account_log VALUES
             ('account-1', 1, '{"Deposited": {"amount": 5}}'),
             ('account-1', 2, '"AccountClosed"');"#,
    );
    let mapping = Mapping {
        table: Some("account_log".into()),
        stream: "stream_id".into(),
        version: Some("version".into()),
        payload: Some("body".into()),
        ..Mapping::default()
    };
    let source = crate::util::opened_with(&path, mapping);
    assert_eq!(
        crate::util::event_types(source.as_ref()),
        ["Deposited", "AccountClosed"]
    );
}

/// sqlite-es configured with a table per aggregate type (`with_tables`): the proposal covers
/// both tables, each table's name its streams' type; opened with it, the two tables are one
/// store whose streams stay apart (account 17 and payment 17 are two streams), in one order
/// that says how it was made, and verify finds nothing wrong.
#[test]
fn a_store_kept_in_a_table_per_aggregate_type_opens_as_one() {
    let store = fixture("sqlite-es/per-type-tables.sqlite");
    let Err(StoreError::NeedsMapping { proposal, .. }) = open_store(&store) else {
        panic!("expected a mapping proposal");
    };
    assert_eq!(proposal.table.as_deref(), Some("bank_account_events"));
    assert_eq!(proposal.stream_type_name.as_deref(), Some("bank_account"));
    let more: Vec<(Option<&str>, Option<&str>)> = proposal
        .more_tables
        .iter()
        .map(|m| (m.table.as_deref(), m.stream_type_name.as_deref()))
        .collect();
    assert_eq!(more, [(Some("payment_events"), Some("payment"))], "{proposal:?}");

    // The proposal, printed and read back, as a user saves it.
    let dir = tempfile::tempdir().unwrap();
    let mapping_file = dir.path().join("tables.toml");
    std::fs::write(&mapping_file, proposal.to_toml()).unwrap();
    assert_eq!(Mapping::from_toml(&proposal.to_toml()).unwrap(), *proposal);
    let (store, mapping) = (store.to_str().unwrap(), mapping_file.to_str().unwrap());
    let streams = rewind(&["streams", store, "--mapping", mapping, "--json"]);
    assert!(streams.status.success(), "{}", stderr(&streams));
    let mut listed = listed_streams(&streams);
    listed.sort();
    let expected = [
        ("bank_account-17", "bank_account", 3),
        ("bank_account-18", "bank_account", 1),
        ("payment-17", "payment", 2),
        ("payment-18", "payment", 2),
    ]
    .map(|(id, kind, n)| (id.to_owned(), kind.to_owned(), n));
    assert_eq!(listed, expected);
    assert!(
        stderr(&streams).contains("2 tables merged by time, then stream version, then stream"),
        "{}",
        stderr(&streams)
    );

    // One order over both tables: positions 1 to 8, each stream in version order.
    let events = rewind(&["events", store, "--mapping", mapping]);
    assert!(events.status.success(), "{}", stderr(&events));
    let events: Vec<Value> = stdout(&events)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let positions: Vec<u64> = events.iter().map(|e| e["global_position"].as_u64().unwrap()).collect();
    assert_eq!(positions, (1..=8).collect::<Vec<_>>());
    let payment_17: Vec<u64> = events
        .iter()
        .filter(|e| e["stream_id"] == "payment-17")
        .map(|e| e["stream_version"].as_u64().unwrap())
        .collect();
    assert_eq!(payment_17, [1, 2]);
    let one = rewind(&["events", store, "--mapping", mapping, "--stream", "payment-17"]);
    assert_eq!(stdout(&one).lines().count(), 2, "{}", stderr(&one));

    let verified = rewind(&["verify", store, "--mapping", mapping, "--domain", "generic", "--json"]);
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}{}",
        stdout(&verified),
        stderr(&verified)
    );
}

/// Python `eventsourcing` with its zlib compressor: every payload is inflated and read, the
/// replay finds nothing wrong, and each event says how its payload was stored.
#[test]
fn a_compressed_payload_is_read_and_says_so() {
    let store = fixture("python-eventsourcing/compressed.sqlite");
    let store = store.to_str().unwrap();
    let events = rewind(&["events", store]);
    assert!(events.status.success(), "{}", stderr(&events));
    let events: Vec<Value> = stdout(&events)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 6);
    for event in &events {
        assert_eq!(
            event["metadata"]["$rewind.payload_encoding"], "stored zlib-compressed; shown inflated",
            "{event}"
        );
        assert!(
            event["metadata"].get("$rewind.payload").is_none(),
            "not an issue: {event}"
        );
    }
    assert_eq!(events[0]["data"]["owner"], "Alice");
    let verified = rewind(&["verify", store, "--json"]);
    assert_eq!(verified.status.code(), Some(0), "{}", stdout(&verified));
}

/// What `rewind streams --json` printed: each stream's id, type and number of events.
fn listed_streams(streams: &std::process::Output) -> Vec<(String, String, u64)> {
    json(streams)
        .as_array()
        .expect("an array of streams")
        .iter()
        .map(|s| {
            (
                s["stream_id"].as_str().unwrap_or_default().to_owned(),
                s["stream_type"].as_str().unwrap_or_default().to_owned(),
                s["event_count"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}
