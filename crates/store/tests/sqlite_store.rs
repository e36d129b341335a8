//! The native SQLite store: appends, concurrency, idempotency, reads, read-only opening.

use std::path::Path;
use std::sync::{Arc, Barrier};

use chrono::{TimeZone, Utc};
use rewind_store::{EventSource, ExpectedVersion, NewEvent, SqliteStore, StoreError, export_ndjson, open_store};
use serde_json::json;
use uuid::Uuid;

fn new_event(event_type: &str, amount: i64) -> NewEvent {
    NewEvent {
        event_id: Uuid::new_v4(),
        event_type: event_type.into(),
        schema_version: 1,
        recorded_at: Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap(),
        data: json!({ "amount_cents": amount }),
        metadata: json!({ "correlation_id": "c-1" }),
    }
}

/// A new store in `dir` holding `events` as stream `stream`, and its path.
fn store_holding(dir: &Path, stream: &str, events: &[NewEvent]) -> (std::path::PathBuf, SqliteStore) {
    let path = dir.join("events.sqlite");
    let mut store = SqliteStore::create(&path).expect("store is created");
    store
        .append(stream, "T", ExpectedVersion::Any, events)
        .expect("events are appended");
    (path, store)
}

fn store_in(dir: &Path) -> SqliteStore {
    SqliteStore::create(&dir.join("events.sqlite")).expect("store is created")
}

#[test]
fn appending_to_a_new_stream_numbers_versions_from_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_in(dir.path());
    let outcome = store
        .append(
            "account-1",
            "BankAccount",
            ExpectedVersion::NoStream,
            &[new_event("A", 1), new_event("B", 2)],
        )
        .unwrap();
    assert_eq!(outcome.stream_version, 2);
    assert_eq!(outcome.positions, [1, 2]);
    let events = store.read_stream("account-1", None).unwrap();
    assert_eq!(events.iter().map(|e| e.stream_version).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(events[1].data, json!({ "amount_cents": 2 }));
    assert_eq!(events[1].correlation_id(), Some("c-1"));
}

#[test]
fn appending_with_a_stale_expected_version_fails_and_names_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_in(dir.path());
    store
        .append("s", "T", ExpectedVersion::Exact(0), &[new_event("A", 1)])
        .unwrap();
    let error = store
        .append("s", "T", ExpectedVersion::Exact(0), &[new_event("B", 2)])
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Concurrency {
                expected: 0,
                actual: 1,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("expected version 0"));
    assert_eq!(store.event_count().unwrap(), 1);
}

#[test]
fn a_batch_is_written_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_in(dir.path());
    // The second event repeats the first one's id inside the same batch: the insert of the
    // second fails on the UNIQUE constraint after the first was inserted, and the whole
    // batch rolls back.
    let event = new_event("A", 1);
    let batch = [new_event("B", 2), event.clone(), event];
    assert!(store.append("s", "T", ExpectedVersion::NoStream, &batch).is_err());
    assert!(store.read_stream("s", None).unwrap().is_empty());
    assert_eq!(store.event_count().unwrap(), 0);
    // A stale expected version writes nothing either.
    store
        .append("s", "T", ExpectedVersion::NoStream, &[new_event("C", 3)])
        .unwrap();
    assert!(
        store
            .append("s", "T", ExpectedVersion::Exact(5), &[new_event("D", 4)])
            .is_err()
    );
    assert_eq!(store.event_count().unwrap(), 1);
}

#[test]
fn appending_an_already_stored_event_id_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_in(dir.path());
    let event = new_event("A", 1);
    store
        .append("s", "T", ExpectedVersion::NoStream, std::slice::from_ref(&event))
        .unwrap();
    let retry = store.append("s", "T", ExpectedVersion::NoStream, &[event]).unwrap();
    assert!(retry.positions.is_empty());
    assert_eq!(retry.stream_version, 1);
    assert_eq!(store.event_count().unwrap(), 1);
}

#[test]
fn concurrent_writers_lose_nothing_and_every_loser_gets_a_concurrency_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.sqlite");
    drop(SqliteStore::create(&path).unwrap());
    let threads = 4;
    let appends_each = 25;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let path = path.clone();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let mut store = SqliteStore::create(&path).unwrap();
                barrier.wait();
                let (mut won, mut lost) = (0, 0);
                while won < appends_each {
                    let version = store.read_stream("shared", None).unwrap().len() as u64;
                    match store.append(
                        "shared",
                        "T",
                        ExpectedVersion::Exact(version),
                        &[new_event("E", t as i64)],
                    ) {
                        Ok(_) => won += 1,
                        Err(StoreError::Concurrency { expected, actual, .. }) => {
                            assert_eq!(expected, version);
                            assert!(actual > expected);
                            lost += 1;
                        }
                        Err(other) => panic!("unexpected error: {other}"),
                    }
                }
                (won, lost)
            })
        })
        .collect();
    let results: Vec<(u32, u32)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let store = SqliteStore::open_read_only(&path).unwrap();
    let events = store.read_stream("shared", None).unwrap();
    assert_eq!(events.len(), threads * appends_each as usize);
    let versions: Vec<u64> = events.iter().map(|e| e.stream_version).collect();
    assert_eq!(versions, (1..=events.len() as u64).collect::<Vec<_>>());
    let ids: std::collections::HashSet<_> = events.iter().map(|e| e.event_id).collect();
    assert_eq!(ids.len(), events.len());
    assert_eq!(results.iter().map(|r| r.0).sum::<u32>() as usize, events.len());
}

#[test]
fn streams_are_listed_with_counts_positions_and_times() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_in(dir.path());
    store
        .append("a", "T", ExpectedVersion::Any, &[new_event("A", 1), new_event("A", 2)])
        .unwrap();
    store
        .append("b", "U", ExpectedVersion::Any, &[new_event("B", 3)])
        .unwrap();
    let streams = store.streams().unwrap();
    assert_eq!(streams.len(), 2);
    assert_eq!(
        (
            streams[0].stream_id.as_str(),
            streams[0].event_count,
            streams[0].last_position
        ),
        ("a", 2, 2)
    );
    assert_eq!((streams[1].stream_type.as_str(), streams[1].first_position), ("U", 3));
}

#[test]
fn reading_all_in_batches_returns_every_event_in_global_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_in(dir.path());
    for i in 0..10 {
        store
            .append(&format!("s{}", i % 3), "T", ExpectedVersion::Any, &[new_event("E", i)])
            .unwrap();
    }
    let mut positions = Vec::new();
    store
        .read_all(3, &mut |batch| {
            positions.extend(batch.iter().map(|e| e.global_position));
            Ok(())
        })
        .unwrap();
    assert_eq!(positions, (1..=10).collect::<Vec<_>>());
    assert_eq!(store.read_stream("s0", Some(2)).unwrap().len(), 2);
}

#[test]
fn opening_for_debugging_leaves_the_file_byte_for_byte_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (path, store) = store_holding(dir.path(), "a", &[new_event("A", 1)]);
    store.finish_as_single_file().unwrap();
    let before = std::fs::read(&path).unwrap();
    let reader = open_store(&path).unwrap();
    reader.streams().unwrap();
    reader.read_batch(0, 100).unwrap();
    drop(reader);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_read_only_store_cannot_be_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.sqlite");
    drop(SqliteStore::create(&path).unwrap());
    let mut reader = SqliteStore::open_read_only(&path).unwrap();
    assert!(
        reader
            .append("a", "T", ExpectedVersion::Any, &[new_event("A", 1)])
            .is_err()
    );
}

#[test]
fn a_reader_sees_events_a_writer_appends_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.sqlite");
    let mut writer = SqliteStore::create(&path).unwrap();
    writer
        .append("a", "T", ExpectedVersion::Any, &[new_event("A", 1)])
        .unwrap();
    let reader = SqliteStore::open_read_only(&path).unwrap();
    assert_eq!(reader.event_count().unwrap(), 1);
    writer
        .append("a", "T", ExpectedVersion::Exact(1), &[new_event("A", 2)])
        .unwrap();
    assert_eq!(reader.event_count().unwrap(), 2);
}

#[test]
fn a_missing_file_is_a_clear_error_naming_it() {
    let error = open_store(Path::new("/nonexistent/bank.sqlite")).err().unwrap();
    assert_eq!(error.to_string(), "cannot open /nonexistent/bank.sqlite: no such file");
}

#[test]
fn a_file_that_is_not_a_store_says_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("picture.sqlite");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n0000").unwrap();
    let error = open_store(&png).err().unwrap().to_string();
    assert!(
        error.contains("picture.sqlite") && error.contains("expected a SQLite event store"),
        "{error}"
    );

    let empty = dir.path().join("empty.sqlite");
    std::fs::write(&empty, b"").unwrap();
    assert!(open_store(&empty).err().unwrap().to_string().contains("empty"));

    let other = dir.path().join("other.sqlite");
    rusqlite_free_create(&other);
    let error = open_store(&other).err().unwrap().to_string();
    assert!(
        error.contains("none of its tables (customers) looks like events"),
        "{error}"
    );
}

/// A real SQLite database that holds something other than events.
fn rusqlite_free_create(path: &Path) {
    let connection = rusqlite::Connection::open(path).expect("database is created");
    connection
        .execute_batch("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        .expect("table is created");
}

#[test]
fn export_writes_one_event_per_line_and_the_export_reads_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut store) = store_holding(dir.path(), "a", &[new_event("A", 1), new_event("B", 2)]);
    store
        .append("b", "T", ExpectedVersion::Any, &[new_event("C", 3)])
        .unwrap();
    let out = dir.path().join("events.ndjson");
    assert_eq!(export_ndjson(&store, &out, &mut |_| ()).unwrap(), 3);
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 3);
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    for field in [
        "global_position",
        "stream_id",
        "stream_type",
        "stream_version",
        "event_id",
        "event_type",
        "schema_version",
        "recorded_at",
        "data",
        "metadata",
    ] {
        assert!(first.get(field).is_some(), "missing {field}");
    }
    let imported = open_store(&out).unwrap();
    let mut original = Vec::new();
    store
        .read_all(100, &mut |b| {
            original.append(b);
            Ok(())
        })
        .unwrap();
    let mut round_trip = Vec::new();
    imported
        .read_all(100, &mut |b| {
            round_trip.append(b);
            Ok(())
        })
        .unwrap();
    assert_eq!(original, round_trip);

    // And import into a fresh SQLite store gives the same events again.
    let copy = dir.path().join("copy.sqlite");
    let mut copy_store = SqliteStore::create(&copy).unwrap();
    copy_store.insert_recorded(&round_trip).unwrap();
    let mut copied = Vec::new();
    copy_store
        .read_all(100, &mut |b| {
            copied.append(b);
            Ok(())
        })
        .unwrap();
    assert_eq!(copied, original);
}

#[test]
fn a_file_of_nothing_but_malformed_json_is_an_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.ndjson");
    std::fs::write(&path, "\n{\"global_position\": 1,\n").unwrap();
    let error = open_store(&path).err().unwrap().to_string();
    assert!(
        error.contains(&path.display().to_string()) && error.contains("line 3: EOF"),
        "{error}"
    );
}

#[test]
fn malformed_truncated_and_non_utf8_ndjson_lines_are_skipped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (_, store) = store_holding(
        dir.path(),
        "a",
        &[new_event("A", 1), new_event("B", 2), new_event("C", 3)],
    );
    let out = dir.path().join("events.ndjson");
    export_ndjson(&store, &out, &mut |_| ()).unwrap();
    let text = std::fs::read(&out).unwrap();
    let lines: Vec<&[u8]> = text.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
    let mut damaged = Vec::new();
    damaged.extend_from_slice(lines[0]);
    damaged.extend_from_slice(b"\nnot json at all\n");
    damaged.extend_from_slice(&lines[1][..20]);
    damaged.extend_from_slice(b"\xff\xfe\n");
    damaged.extend_from_slice(&lines[2][..lines[2].len() - 5]);
    std::fs::write(&out, damaged).unwrap();

    let opened = open_store(&out).unwrap();
    assert_eq!(opened.event_count().unwrap(), 1);
    let skipped: Vec<String> = opened
        .skipped()
        .iter()
        .map(|s| format!("{}: {}", s.record, s.reason))
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(skipped[0].starts_with("line 2: expected ident"), "{skipped:?}");
    assert!(skipped[1].starts_with("line 3: not UTF-8 at byte 21"), "{skipped:?}");
    assert!(skipped[2].starts_with("line 4: EOF while parsing"), "{skipped:?}");
}

#[test]
fn the_write_side_saves_and_loads_its_latest_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    assert_eq!(store.latest_snapshot("account-1").unwrap(), None);
    store
        .save_snapshot("account-1", 10, &json!({"balance_cents": 100}))
        .unwrap();
    store
        .save_snapshot("account-1", 20, &json!({"balance_cents": 250}))
        .unwrap();
    assert_eq!(
        store.latest_snapshot("account-1").unwrap(),
        Some((20, json!({"balance_cents": 250})))
    );
}

/// The unique index on `event_id` lets a replay skip remembering every id; the store says so
/// only while every id it read is in the spelling the index compares.
#[test]
fn a_store_vouches_for_unique_ids_only_while_its_index_covers_them() {
    let dir = tempfile::tempdir().unwrap();
    let (path, store) = store_holding(dir.path(), "s", &[new_event("E", 1), new_event("E", 2)]);
    drop(store);
    let read_everything = |store: &SqliteStore| store.read_all(10, &mut |_| Ok(())).unwrap();

    let store = SqliteStore::open_read_only(&path).unwrap();
    assert!(store.unique_event_ids());
    read_everything(&store);
    assert!(store.unique_event_ids(), "ids Rewind wrote are covered");
    drop(store);

    // The same UUID as the first event's, in capitals: the index tells the texts apart.
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .execute_batch(
            "INSERT INTO events (stream_id, stream_type, stream_version, event_id, event_type, schema_version, \
             recorded_at, data, metadata) SELECT stream_id, stream_type, 3, upper(event_id), event_type, \
             schema_version, recorded_at, data, metadata FROM events WHERE global_position = 1",
        )
        .unwrap();
    drop(connection);
    let store = SqliteStore::open_read_only(&path).unwrap();
    assert!(store.unique_event_ids(), "nothing read yet");
    read_everything(&store);
    assert!(!store.unique_event_ids(), "an id in capitals is not covered");
    drop(store);

    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .execute_batch("DELETE FROM events WHERE global_position = 3; DROP INDEX events_event_id")
        .unwrap();
    drop(connection);
    let store = SqliteStore::open_read_only(&path).unwrap();
    assert!(!store.unique_event_ids(), "no unique index, no guarantee");
}

/// A row whose id, time or column type does not read stops the read with an error that names
/// the row's position, the column and why; a time in another RFC 3339 spelling reads.
#[test]
fn a_row_that_does_not_read_is_an_error_naming_its_position_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let (path, store) = store_holding(
        dir.path(),
        "s",
        &[new_event("E", 1), new_event("E", 2), new_event("E", 3)],
    );
    drop(store);
    let with = |change: &str| {
        let connection = rusqlite::Connection::open(&path).unwrap();
        connection.execute_batch(change).unwrap();
        drop(connection);
        let store = SqliteStore::open_read_only(&path).unwrap();
        let mut read = Vec::new();
        store
            .read_all(10, &mut |batch| {
                read.append(batch);
                Ok(())
            })
            .map(|()| read)
    };
    let bad_row = |result: Result<Vec<rewind_core::RecordedEvent>, StoreError>| match result {
        Err(StoreError::BadRow {
            position,
            column,
            reason,
            ..
        }) => (position, column, reason),
        other => panic!("expected a bad row, got {other:?}"),
    };

    let (position, column, reason) = bad_row(with(
        "UPDATE events SET event_id = 'not-a-uuid' WHERE global_position = 2",
    ));
    assert_eq!((position, column), (2, "event_id"));
    assert!(reason.contains("`not-a-uuid` is not a UUID"), "{reason}");

    let (position, column, reason) = bad_row(with(
        "UPDATE events SET event_id = '0b7e3d38-6b2e-4d6a-9c51-3b0d3f1c2a10' WHERE global_position = 2; \
         UPDATE events SET recorded_at = 'yesterday' WHERE global_position = 3",
    ));
    assert_eq!((position, column), (3, "recorded_at"));
    assert!(reason.contains("`yesterday` is not an RFC 3339 time"), "{reason}");

    let (position, column, _) = bad_row(with(
        "UPDATE events SET recorded_at = CAST(x'ff' AS TEXT) WHERE global_position = 3",
    ));
    assert_eq!((position, column), (3, "recorded_at"), "not UTF-8");

    let events = with("UPDATE events SET recorded_at = '2024-03-01T14:00:00+02:00' WHERE global_position = 3").unwrap();
    assert_eq!(
        events[2].recorded_at,
        Some(Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap())
    );
    assert_eq!(events.len(), 3);

    // Empty: the store it was imported from recorded no time.
    let events = with("UPDATE events SET recorded_at = '' WHERE global_position = 3").unwrap();
    assert_eq!(events[2].recorded_at, None);

    // A name every row repeats, and a payload, that are not UTF-8: the reason says where.
    let (position, column, reason) = bad_row(with(
        "UPDATE events SET event_type = CAST(x'4f72646572ff' AS TEXT) WHERE global_position = 3",
    ));
    assert_eq!((position, column), (3, "event_type"));
    assert!(reason.contains("from index 5"), "{reason}");
    let (position, column, reason) = bad_row(with(
        "UPDATE events SET event_type = 'E' WHERE global_position = 3; \
         UPDATE events SET data = CAST(x'7b7d2020ff' AS TEXT) WHERE global_position = 2",
    ));
    assert_eq!((position, column), (2, "data"));
    assert!(reason.contains("from index 4"), "{reason}");

    // Another tool's table with the same columns need not be STRICT: a blob for an id.
    let (position, column, reason) = bad_row(with(
        "CREATE TABLE loose AS SELECT * FROM events; DROP TABLE events; ALTER TABLE loose RENAME TO events; \
         UPDATE events SET event_id = x'0102' WHERE global_position = 2",
    ));
    assert_eq!((position, column), (2, "event_id"));
    assert!(reason.contains("Blob"), "{reason}");
}

/// The names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the directory lists")
        .map(|entry| entry.expect("an entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A store in WAL mode (as Rewind's writer and Python `eventsourcing` leave theirs) is read
/// without SQLite making its log files beside it: the directory is left as it was found.
#[test]
fn opening_a_wal_store_leaves_its_directory_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (path, writer) = store_holding(dir.path(), "a", &[new_event("A", 1), new_event("A", 2)]);
    drop(writer);
    let eventsourcing = dir.path().join("eventsourcing.sqlite");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/python-eventsourcing/bank.sqlite"),
        &eventsourcing,
    )
    .unwrap();
    // What the library does to its file (its fixture was switched back afterwards).
    rusqlite::Connection::open(&eventsourcing)
        .unwrap()
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get::<_, String>(0))
        .unwrap();
    let before = listing(dir.path());
    assert_eq!(before, ["events.sqlite", "eventsourcing.sqlite"]);
    for (file, events) in [(&path, 2), (&eventsourcing, 6)] {
        let bytes = std::fs::read(file).unwrap();
        let reader = open_store(file).unwrap();
        assert_eq!(reader.read_batch(0, 100).unwrap().len(), events);
        reader.streams().unwrap();
        drop(reader);
        assert_eq!(listing(dir.path()), before, "{}", file.display());
        assert_eq!(std::fs::read(file).unwrap(), bytes);
    }
}

/// A copy of a live WAL store, taken without the log's index (evidence taken off a running
/// system), is read with what its log holds, from a private copy, said so, and its directory is
/// left as it was.
#[test]
fn a_wal_store_copied_without_its_index_is_read_with_its_log() {
    let live = tempfile::tempdir().unwrap();
    let (path, mut writer) = store_holding(live.path(), "a", &[new_event("A", 1)]);
    writer
        .append(
            "a",
            "T",
            ExpectedVersion::Exact(1),
            &[new_event("A", 2), new_event("A", 3)],
        )
        .unwrap();
    let log = live.path().join("events.sqlite-wal");
    assert!(std::fs::metadata(&log).unwrap().len() > 0, "the events are in the log");
    let evidence = tempfile::tempdir().unwrap();
    std::fs::copy(&path, evidence.path().join("events.sqlite")).unwrap();
    std::fs::copy(&log, evidence.path().join("events.sqlite-wal")).unwrap();
    let before = listing(evidence.path());
    let reader = open_store(evidence.path().join("events.sqlite")).unwrap();
    assert_eq!(reader.event_count().unwrap(), 3);
    assert!(reader.describe().contains("private copy"), "{}", reader.describe());
    drop(reader);
    assert_eq!(listing(evidence.path()), before);
    drop(writer);
}
