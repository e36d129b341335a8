//! PostgreSQL stores, against a real server: each test starts a throwaway cluster (`initdb` +
//! `pg_ctl` in a temporary directory, on a free loopback port) and stops it afterwards.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde_json::Value;

use rewind::pipeline::replay_all;
use rewind_store::{Mapping, OpenOptions, StoreError, open_store, open_store_with};

use crate::util::{json, rewind, sample_sqlite, stderr, stdout};

/// A PostgreSQL cluster of its own, stopped (and deleted) when dropped.
pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres_user: bool,
}

fn server_binaries() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop()
}

impl Cluster {
    pub fn start() -> Self {
        let bin = server_binaries().unwrap_or_else(|| {
            panic!(
                "the PostgreSQL tests need the server (initdb, pg_ctl under /usr/lib/postgresql/*/bin): \
                 install it with `apt-get update && apt-get install -y postgresql` (bash .ci/run does this)"
            )
        });
        let dir = tempfile::Builder::new()
            .prefix("rewind-pg-")
            .tempdir_in("/tmp")
            .expect("a temporary directory");
        // initdb refuses to run as root: run the server as the `postgres` user the package made.
        let uid = Command::new("id").arg("-u").output().expect("id runs");
        let as_postgres_user = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        if as_postgres_user {
            let chown = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown runs");
            assert!(
                chown.success(),
                "cannot hand the cluster directory to the postgres user"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = Self {
            dir,
            bin,
            port,
            as_postgres_user,
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "rewind",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off",
            cluster.dir.path().display()
        );
        let log = cluster.dir.path().join("server.log").display().to_string();
        cluster.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-o", &options, "-w", "-t", "60", "start"],
        );
        cluster
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// A server program, run as the `postgres` user when the tests run as root.
    fn command(&self, program: &str) -> Command {
        let binary = self.bin.join(program);
        if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(binary);
            command
        } else {
            Command::new(binary)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = self
            .command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        assert!(
            output.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://rewind@127.0.0.1:{}/{database}", self.port)
    }

    /// A fresh database, and a read-write connection to it (for setting up, never Rewind's).
    pub fn database(&self, name: &str) -> (String, postgres::Client) {
        let mut admin = postgres::Client::connect(&self.url("postgres"), postgres::NoTls).expect("connects");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("database is created");
        let url = self.url(name);
        let client = postgres::Client::connect(&url, postgres::NoTls).expect("connects");
        (url, client)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args(["-D", data.as_str(), "-m", "immediate", "-w", "stop"])
            .output();
    }
}

#[test]
fn the_bank_sample_in_postgres_replays_exactly_like_the_sqlite_file() {
    let cluster = Cluster::start();
    let (url, mut client) = cluster.database("bank");
    let made = rewind(&["sample", "--postgres", &url]);
    assert!(made.status.success(), "{}", stderr(&made));
    let count: i64 = client.query_one("SELECT count(*) FROM events", &[]).unwrap().get(0);
    assert_eq!(count, 2831);
    // Its ids are a `uuid` column under a unique index: a replay need not remember them all.
    let source = open_store(rewind_store::StoreLocation::parse(&url)).unwrap();
    assert!(source.unique_event_ids());
    drop(source);

    // verify finds the planted incident, and only it, at the position the README names.
    let output = rewind(&["verify", &url]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("as Rewind PostgreSQL (table events)"),
        "{}",
        stderr(&output)
    );
    let sqlite = rewind(&["verify", sample_sqlite().to_str().unwrap()]);
    assert_eq!(stdout(&output), stdout(&sqlite));

    // Same streams, same states, same projections as the SQLite file.
    let sqlite_path = sample_sqlite();
    let sqlite = sqlite_path.to_str().unwrap();
    assert_eq!(
        json(&rewind(&["streams", &url, "--json"])),
        json(&rewind(&["streams", sqlite, "--json"]))
    );
    for args in [
        ["state", "--stream", "account-0002", "--position", "1759"],
        ["state", "--stream", "account-0002", "--position", "1758"],
        ["projection", "account_balances", "--position", "1759", ""],
    ] {
        let args: Vec<&str> = args.into_iter().filter(|a| !a.is_empty()).collect();
        let (command, rest) = args.split_first().unwrap();
        let from_postgres = rewind(&[&[*command, url.as_str()], rest].concat());
        let from_sqlite = rewind(&[&[*command, sqlite], rest].concat());
        assert!(from_postgres.status.success(), "{}", stderr(&from_postgres));
        assert_eq!(json(&from_postgres), json(&from_sqlite), "{args:?}");
    }
}

#[test]
fn rewinds_connection_cannot_write_and_the_database_is_unchanged() {
    let cluster = Cluster::start();
    let (url, mut client) = cluster.database("bank");
    assert!(
        rewind(&["sample", "--postgres", &url, "--accounts", "5", "--orders", "5"])
            .status
            .success()
    );
    let before = event_rows(&mut client);

    let mut rewinds = rewind_store::connect_postgres_read_only(&url).unwrap();
    for write in [
        "DELETE FROM events",
        "UPDATE events SET data = '{}'",
        "INSERT INTO events SELECT * FROM events LIMIT 1",
        "CREATE TABLE scratch (x int)",
        "DROP TABLE events",
    ] {
        let error = rewinds.batch_execute(write).expect_err(write);
        let message = format!("{error:?}");
        assert!(message.contains("read-only transaction"), "{write}: {message}");
    }
    // Rewind's own reads run in read-only transactions too.
    let source = open_store(rewind_store::StoreLocation::parse(&url)).unwrap();
    source.read_all(100, &mut |_| Ok(())).unwrap();
    drop(source);
    let after = event_rows(&mut client);
    assert_eq!(before, after, "the database changed");
}

/// The bank story (as in `fixtures/`) in each library's PostgreSQL schema, from its published
/// DDL; each opens recognised, with `amount` folding event by event.
#[test]
fn other_libraries_postgres_schemas_are_recognised_and_replay_generically() {
    let cluster = Cluster::start();
    let cases: [(&str, &str, &str, &str); 5] = [
        (
            "marten",
            // JasperFx/marten EventsTable.cs / StreamsTable.cs, default schema `public`.
            "CREATE TABLE mt_streams (id uuid PRIMARY KEY, type varchar, version bigint, timestamp timestamptz NOT NULL DEFAULT now(),
                 snapshot jsonb, snapshot_version integer, created timestamptz NOT NULL DEFAULT now(), tenant_id varchar DEFAULT '*DEFAULT*',
                 is_archived bool DEFAULT false);
             CREATE SEQUENCE mt_events_sequence;
             CREATE TABLE mt_events (seq_id bigint NOT NULL DEFAULT nextval('mt_events_sequence') PRIMARY KEY, id uuid NOT NULL,
                 stream_id uuid REFERENCES mt_streams(id), version bigint NOT NULL, data jsonb NOT NULL, type varchar(500) NOT NULL,
                 timestamp timestamptz NOT NULL DEFAULT now(), tenant_id varchar DEFAULT '*DEFAULT*', mt_dotnet_type varchar,
                 is_archived bool DEFAULT false);
             INSERT INTO mt_streams (id, type, version) VALUES ('aaaaaaaa-0000-0000-0000-000000000001', 'bank_account', 4),
                 ('bbbbbbbb-0000-0000-0000-000000000002', 'bank_account', 2);
             INSERT INTO mt_events (id, stream_id, version, data, type, timestamp) VALUES
               (gen_random_uuid(), 'aaaaaaaa-0000-0000-0000-000000000001', 1, '{\"owner\": \"Alice\"}', 'account_opened', '2024-05-01 10:00:01+00'),
               (gen_random_uuid(), 'bbbbbbbb-0000-0000-0000-000000000002', 1, '{\"owner\": \"Bob\"}', 'account_opened', '2024-05-01 10:00:02+00'),
               (gen_random_uuid(), 'aaaaaaaa-0000-0000-0000-000000000001', 2, '{\"amount\": 100}', 'money_deposited', '2024-05-01 10:00:03+00'),
               (gen_random_uuid(), 'bbbbbbbb-0000-0000-0000-000000000002', 2, '{\"amount\": 500}', 'money_deposited', '2024-05-01 10:00:04+00'),
               (gen_random_uuid(), 'aaaaaaaa-0000-0000-0000-000000000001', 3, '{\"amount\": 50}', 'money_deposited', '2024-05-01 10:00:05+00'),
               (gen_random_uuid(), 'aaaaaaaa-0000-0000-0000-000000000001', 4, '{\"amount\": 30}', 'money_withdrawn', '2024-05-01 10:00:06+00');",
            "Marten PostgreSQL (table mt_events)",
            "aaaaaaaa-0000-0000-0000-000000000001",
        ),
        (
            "messagedb",
            // message-db/message-db database/tables/messages.sql, in schema `message_store`.
            "CREATE SCHEMA message_store;
             CREATE TABLE message_store.messages (global_position bigserial NOT NULL, position bigint NOT NULL,
                 time timestamp without time zone DEFAULT (now() AT TIME ZONE 'utc') NOT NULL, stream_name text NOT NULL,
                 type text NOT NULL, data jsonb, metadata jsonb, id uuid NOT NULL DEFAULT gen_random_uuid());
             INSERT INTO message_store.messages (position, time, stream_name, type, data, metadata) VALUES
               (0, '2024-05-01 10:00:01', 'account-A', 'Opened', '{\"owner\": \"Alice\"}', '{\"correlationStreamName\": \"x\"}'),
               (0, '2024-05-01 10:00:02', 'account-B', 'Opened', '{\"owner\": \"Bob\"}', NULL),
               (1, '2024-05-01 10:00:03', 'account-A', 'Deposited', '{\"amount\": 100}', NULL),
               (1, '2024-05-01 10:00:04', 'account-B', 'Deposited', '{\"amount\": 500}', NULL),
               (2, '2024-05-01 10:00:05', 'account-A', 'Deposited', '{\"amount\": 50}', NULL),
               (3, '2024-05-01 10:00:06', 'account-A', 'Withdrawn', '{\"amount\": 30}', NULL);",
            "Message DB PostgreSQL (table message_store.messages)",
            "account-A",
        ),
        (
            "emmett",
            // event-driven-io/emmett emmett-postgresql schema/tables.ts (not partitioned here).
            "CREATE SEQUENCE emt_global_message_position;
             CREATE TABLE emt_messages (stream_position BIGINT NOT NULL, global_position BIGINT DEFAULT nextval('emt_global_message_position'),
                 transaction_id XID8 NOT NULL DEFAULT pg_current_xact_id(), created TIMESTAMPTZ NOT NULL DEFAULT now(),
                 is_archived BOOLEAN NOT NULL DEFAULT FALSE, message_kind VARCHAR(1) NOT NULL DEFAULT 'E', stream_id TEXT NOT NULL,
                 partition TEXT NOT NULL DEFAULT 'emt:default', message_schema_version TEXT NOT NULL DEFAULT '1',
                 message_id TEXT NOT NULL DEFAULT gen_random_uuid()::text, message_type TEXT NOT NULL, message_data JSONB NOT NULL,
                 message_metadata JSONB NOT NULL DEFAULT '{}', PRIMARY KEY (stream_id, stream_position, partition, is_archived));
             INSERT INTO emt_messages (stream_position, stream_id, message_type, message_data) VALUES
               (1, 'account-A', 'AccountOpened', '{\"owner\": \"Alice\"}'), (1, 'account-B', 'AccountOpened', '{\"owner\": \"Bob\"}'),
               (2, 'account-A', 'MoneyDeposited', '{\"amount\": 100}'), (2, 'account-B', 'MoneyDeposited', '{\"amount\": 500}'),
               (3, 'account-A', 'MoneyDeposited', '{\"amount\": 50}'), (4, 'account-A', 'MoneyWithdrawn', '{\"amount\": 30}');
             INSERT INTO emt_messages (stream_position, stream_id, message_type, message_data, message_kind) VALUES
               (5, 'account-A', 'Deposit', '{\"amount\": 9999}', 'C');",
            "Emmett PostgreSQL (table emt_messages)",
            "account-A",
        ),
        (
            "python",
            // pyeventsourcing/eventsourcing postgres.py, application recorder, uuid originator ids.
            "CREATE TABLE stored_events (originator_id uuid NOT NULL, originator_version bigint NOT NULL, topic text, state bytea,
                 notification_id bigserial, PRIMARY KEY (originator_id, originator_version));
             INSERT INTO stored_events (originator_id, originator_version, topic, state) VALUES
               ('2cb26e6a-ae4b-5fc0-b3e8-4f8a1bf4b1f1', 1, 'bank:BankAccount.Opened', convert_to('{\"timestamp\": {\"_type_\": \"datetime_iso\", \"_data_\": \"2024-05-01T10:00:01+00:00\"}, \"owner\": \"Alice\"}', 'UTF8')),
               ('c0cc3503-6b25-5fac-afcd-233c0bd42d49', 1, 'bank:BankAccount.Opened', convert_to('{\"timestamp\": {\"_type_\": \"datetime_iso\", \"_data_\": \"2024-05-01T10:00:02+00:00\"}, \"owner\": \"Bob\"}', 'UTF8')),
               ('2cb26e6a-ae4b-5fc0-b3e8-4f8a1bf4b1f1', 2, 'bank:BankAccount.Deposited', convert_to('{\"timestamp\": {\"_type_\": \"datetime_iso\", \"_data_\": \"2024-05-01T10:00:03+00:00\"}, \"amount\": 100}', 'UTF8')),
               ('c0cc3503-6b25-5fac-afcd-233c0bd42d49', 2, 'bank:BankAccount.Deposited', convert_to('{\"timestamp\": {\"_type_\": \"datetime_iso\", \"_data_\": \"2024-05-01T10:00:04+00:00\"}, \"amount\": 500}', 'UTF8')),
               ('2cb26e6a-ae4b-5fc0-b3e8-4f8a1bf4b1f1', 3, 'bank:BankAccount.Deposited', convert_to('{\"timestamp\": {\"_type_\": \"datetime_iso\", \"_data_\": \"2024-05-01T10:00:05+00:00\"}, \"amount\": 50}', 'UTF8')),
               ('2cb26e6a-ae4b-5fc0-b3e8-4f8a1bf4b1f1', 4, 'bank:BankAccount.Withdrew', convert_to('{\"timestamp\": {\"_type_\": \"datetime_iso\", \"_data_\": \"2024-05-01T10:00:06+00:00\"}, \"amount\": 30}', 'UTF8'));",
            "Python eventsourcing PostgreSQL (table stored_events)",
            "2cb26e6a-ae4b-5fc0-b3e8-4f8a1bf4b1f1",
        ),
        (
            "cqrs",
            // serverlesstechnology/cqrs persistence/postgres-es/db/init.sql.
            "CREATE TABLE events (aggregate_type text NOT NULL, aggregate_id text NOT NULL, sequence bigint CHECK (sequence >= 0) NOT NULL,
                 event_type text NOT NULL, event_version text NOT NULL, payload json NOT NULL, metadata json NOT NULL,
                 PRIMARY KEY (aggregate_type, aggregate_id, sequence));
             INSERT INTO events VALUES
               ('BankAccount', 'account-A', 1, 'AccountOpened', '1.0', '{\"AccountOpened\": {\"owner\": \"Alice\"}}', '{}'),
               ('BankAccount', 'account-B', 1, 'AccountOpened', '1.0', '{\"AccountOpened\": {\"owner\": \"Bob\"}}', '{}'),
               ('BankAccount', 'account-A', 2, 'MoneyDeposited', '1.0', '{\"MoneyDeposited\": {\"amount\": 100}}', '{}'),
               ('BankAccount', 'account-B', 2, 'MoneyDeposited', '1.0', '{\"MoneyDeposited\": {\"amount\": 500}}', '{}'),
               ('BankAccount', 'account-A', 3, 'MoneyDeposited', '1.0', '{\"MoneyDeposited\": {\"amount\": 50}}', '{}'),
               ('BankAccount', 'account-A', 4, 'MoneyWithdrawn', '1.0', '{\"MoneyWithdrawn\": {\"amount\": 30}}', '{}');",
            "cqrs-es PostgreSQL (table events), ordered as its rows lie, then by sequence, then aggregate_id (no position or time column; VACUUM FULL or CLUSTER can change that)",
            "account-A",
        ),
    ];
    for (database, ddl, describe, stream_a) in cases {
        let (url, mut client) = cluster.database(database);
        client
            .batch_execute(ddl)
            .unwrap_or_else(|e| panic!("{database}: {e:?}"));
        let source = open_store(rewind_store::StoreLocation::parse(&url)).unwrap_or_else(|e| panic!("{database}: {e}"));
        assert_eq!(source.describe(), describe);
        assert!(source.skipped().is_empty(), "{database}: {:?}", source.skipped());
        assert_eq!(source.event_count().unwrap(), 6, "{database}");
        let events = source.read_stream(stream_a, None).unwrap();
        assert_eq!(
            events.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
            [1, 2, 3, 4],
            "{database}"
        );
        let domain = Arc::new(rewind_core::DomainSet::new(Vec::new()));
        let amounts = amounts(domain.as_ref(), &events);
        assert_eq!(amounts[1..], [Some(100), Some(50), Some(30)], "{database}");
        let replay = replay_all(source.as_ref(), domain).unwrap();
        assert!(replay.issues().is_empty(), "{database}: {:?}", replay.issues());
        // cqrs-es records no time: unknown, not made up.
        if database == "cqrs" {
            assert!(events.iter().all(|e| e.recorded_at.is_none()), "{database}");
        } else {
            assert!(
                events
                    .iter()
                    .all(|e| e.recorded_at.is_some_and(|at| at.timestamp() > 0)),
                "{database}"
            );
        }
    }
}

#[test]
fn an_unknown_postgres_table_gets_a_proposal_and_a_bad_url_a_clear_error() {
    let cluster = Cluster::start();
    let (url, mut client) = cluster.database("shop");
    client
        .batch_execute(
            "CREATE TABLE cart_log (seq bigserial PRIMARY KEY, aggregate text, kind text, body jsonb, at timestamptz, ver int);
             INSERT INTO cart_log (aggregate, kind, body, at, ver) VALUES
               ('cart-1', 'ItemAdded', '{\"sku\": \"a\"}', '2024-01-01 10:00:00+00', 1),
               ('cart-1', 'ItemAdded', '{\"sku\": \"b\"}', '2024-01-01 10:00:05+00', 2);",
        )
        .unwrap();
    let Err(StoreError::NeedsMapping { proposal, .. }) = open_store(rewind_store::StoreLocation::parse(&url)) else {
        panic!("expected a proposal");
    };
    assert_eq!(proposal.table.as_deref(), Some("cart_log"));
    assert_eq!(proposal.schema.as_deref(), Some("public"));
    let mapping = Mapping {
        version: Some("ver".into()),
        position: Some("seq".into()),
        event_type: Some("kind".into()),
        ..*proposal
    };
    let source = open_store_with(
        rewind_store::StoreLocation::parse(&url),
        &OpenOptions {
            mapping: Some(mapping),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let events = source.read_stream("cart-1", None).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].data.value()["sku"], "b");
    assert_eq!(
        events[1].recorded_at.map(|at| at.to_rfc3339()).as_deref(),
        Some("2024-01-01T10:00:05+00:00")
    );

    // Nobody listens on this port: one clear line, no password in it.
    let dead = format!("postgres://rewind:hunter2@127.0.0.1:{}/shop", free_port());
    let output = rewind(&["streams", &dead]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("cannot connect"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

/// Every event's position and payload, read with a plain connection (not Rewind's).
fn event_rows(client: &mut postgres::Client) -> Vec<(i64, String)> {
    client
        .query("SELECT global_position, data::text FROM events ORDER BY 1", &[])
        .expect("events are readable")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// The generic state's `amount` after each event of a stream.
fn amounts(domain: &dyn rewind_core::Domain, events: &[rewind_core::RecordedEvent]) -> Vec<Option<i64>> {
    domain
        .replay_stream(events)
        .iter()
        .map(|s| {
            s.state
                .as_ref()
                .ok()
                .and_then(|state| state.get("amount").and_then(Value::as_i64))
        })
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[test]
fn a_dropped_connection_is_reopened_and_the_read_retried() {
    let cluster = Cluster::start();
    let (url, mut admin) = cluster.database("bank");
    assert!(
        rewind(&["sample", "--postgres", &url, "--accounts", "5", "--orders", "5"])
            .status
            .success()
    );
    let source = open_store(rewind_store::StoreLocation::parse(&url)).unwrap();
    let first = source.read_batch(0, 10).unwrap();
    // The server drops Rewind's session (a restart, an idle timeout, a DBA).
    let killed: i64 = admin
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'rewind'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(killed, 1);
    assert_eq!(
        source.read_batch(0, 10).unwrap(),
        first,
        "the read is retried on a new session"
    );

    // Dropped in the middle of streaming the whole store: it resumes after the last event
    // handed over, so every event arrives once, in order.
    let mut positions: Vec<u64> = Vec::new();
    let mut dropped = false;
    source
        .read_all(7, &mut |batch| {
            positions.extend(batch.iter().map(|e| e.global_position));
            if !dropped {
                dropped = true;
                admin
                    .batch_execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'rewind'",
                    )
                    .unwrap();
            }
            Ok(())
        })
        .unwrap();
    assert!(dropped);
    assert_eq!(positions.len() as u64, source.event_count().unwrap());
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "in order, none twice");
}

/// The Python plug-in folds the store the `eventsourcing` library wrote into PostgreSQL through
/// the library's own code, as it does the SQLite one: the same domain module wrote both.
#[test]
fn the_python_plugin_rebuilds_the_balances_the_library_wrote_into_postgresql() {
    let cluster = Cluster::start();
    let dump = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/postgres/python-eventsourcing/dump.sql");
    let (url, mut client) = cluster.database("python_plugin");
    client.batch_execute(&std::fs::read_to_string(dump).unwrap()).unwrap();
    let plugin = format!(
        "python3 {}",
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("plugins/python/examples/eventsourcing_bank.py")
            .display()
    );
    for (stream, balance) in [
        ("2cb26e6a-ae4b-5fc0-b3e8-4f8a1bf4b1f1", 120),
        ("c0cc3503-6b25-5fac-afcd-233c0bd42d49", 500),
    ] {
        let output = rewind(&["state", &url, "--stream", stream, "--plugin", &plugin]);
        assert!(output.status.success(), "{}", stderr(&output));
        let state = json(&output);
        assert_eq!(state["replayed_by"], "eventsourcing-bank: BankAccount", "{state}");
        assert_eq!(state["state"]["balance"], balance, "{state}");
    }
}

/// Dumps of tables written by the libraries themselves into PostgreSQL (see
/// `fixtures/postgres/README.md`), loaded into a fresh database and opened like any store.
#[test]
fn stores_written_into_postgresql_by_the_real_libraries_open_and_replay() {
    let cluster = Cluster::start();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/postgres");
    for (name, describe, stream_a, types_a) in [
        (
            "python-eventsourcing",
            "Python eventsourcing PostgreSQL (table stored_events)",
            "2cb26e6a-ae4b-5fc0-b3e8-4f8a1bf4b1f1",
            [
                "bankdomain:BankAccount.Opened",
                "bankdomain:BankAccount.Deposited",
                "bankdomain:BankAccount.Deposited",
                "bankdomain:BankAccount.Withdrew",
            ],
        ),
        (
            "emmett-postgresql",
            "Emmett PostgreSQL (table emt_messages)",
            "account-A",
            ["AccountOpened", "MoneyDeposited", "MoneyDeposited", "MoneyWithdrawn"],
        ),
        (
            "postgres-es",
            "cqrs-es PostgreSQL (table events), ordered as its rows lie, then by sequence, then aggregate_id (no position or time column; VACUUM FULL or CLUSTER can change that)",
            "account-A",
            ["AccountOpened", "MoneyDeposited", "MoneyDeposited", "MoneyWithdrawn"],
        ),
    ] {
        let dump = std::fs::read_to_string(fixtures.join(name).join("dump.sql")).unwrap();
        let (url, mut client) = cluster.database(&name.replace('-', "_"));
        client.batch_execute(&dump).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let source = open_store(rewind_store::StoreLocation::parse(&url)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(source.describe(), describe);
        assert!(source.skipped().is_empty(), "{name}: {:?}", source.skipped());
        // The story's global order: A opened, B opened, A +100, B +500, A +50, A -30.
        let all = source.read_batch(0, 100).unwrap();
        let order: Vec<(bool, u64)> = all
            .iter()
            .map(|e| (e.stream_id == stream_a, e.stream_version))
            .collect();
        assert_eq!(
            order,
            [(true, 1), (false, 1), (true, 2), (false, 2), (true, 3), (true, 4)],
            "{name}"
        );
        let events = source.read_stream(stream_a, None).unwrap();
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(types, types_a, "{name}");
        let domain = Arc::new(rewind_core::DomainSet::new(Vec::new()));
        let amounts = amounts(domain.as_ref(), &events);
        assert_eq!(amounts[1..], [Some(100), Some(50), Some(30)], "{name}");
        let replay = replay_all(source.as_ref(), domain).unwrap();
        assert!(replay.issues().is_empty(), "{name}: {:?}", replay.issues());
    }
}

/// The TypeScript guide's table (fixtures/postgres/ts-guide, written by its own code through
/// node-postgres) has no position column and one time per transaction: its order is the time,
/// then the stream version, then the stream, never where rows lie, so a routine `CLUSTER` or
/// `VACUUM FULL` changes nothing (it made false version gaps and duplicates). It says how it
/// ordered them. Its stream ids are UUIDs and it records no stream type: the type is unknown,
/// not the id's first group.
#[test]
fn a_table_without_positions_is_ordered_by_what_its_events_say_whatever_its_rows_order() {
    let cluster = Cluster::start();
    let dump = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/postgres/ts-guide/dump.sql");
    let (url, mut client) = cluster.database("ts_guide");
    client.batch_execute(&std::fs::read_to_string(dump).unwrap()).unwrap();
    let order = |url: &str| -> Vec<(String, u64)> {
        let output = rewind(&["events", url]);
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output)
            .lines()
            .map(|line| {
                let event: Value = serde_json::from_str(line).unwrap();
                (
                    event["event_id"].as_str().unwrap().to_owned(),
                    event["stream_version"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let before = order(&url);
    assert_eq!(before.len(), 15);
    let verified = rewind(&["verify", &url, "--json"]);
    assert_eq!(verified.status.code(), Some(0), "{}", stderr(&verified));
    assert!(
        stderr(&verified).contains("ordered by created_at, then event_version, then aggregate_id (no position column)"),
        "{}",
        stderr(&verified)
    );
    let streams = rewind(&["streams", &url, "--json"]);
    for stream in json(&streams).as_array().unwrap() {
        assert_eq!(stream["stream_type"], "", "{stream}");
    }
    client.batch_execute("CLUSTER events USING events_pkey").unwrap();
    client.batch_execute("VACUUM FULL events").unwrap();
    assert_eq!(order(&url), before, "the same order after the rows moved");
    let verified = rewind(&["verify", &url, "--json"]);
    assert_eq!(verified.status.code(), Some(0), "{}", stdout(&verified));
    assert_eq!(json(&verified)["issues"], serde_json::json!([]));
}

/// Events shown to a read-only role through a view, and events kept in a materialized view,
/// open like tables (a view failed with `column "ctid" does not exist`; a materialized view
/// was not found). A view's rows lie nowhere of their own: one without a position or time
/// column is ordered by stream and version, and said so. The rows are the postgres-es
/// library's, behind its own DDL.
#[test]
fn views_and_materialized_views_of_events_open_like_tables() {
    use rewind_store::{PostgresLocation, StoreLocation};
    let cluster = Cluster::start();
    let dump = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/postgres/postgres-es/dump.sql");
    let (url, mut client) = cluster.database("views");
    client.batch_execute(&std::fs::read_to_string(dump).unwrap()).unwrap();
    client
        .batch_execute(
            "CREATE SCHEMA private; ALTER TABLE public.events SET SCHEMA private; \
             CREATE VIEW public.events AS SELECT * FROM private.events; \
             CREATE SCHEMA kept; CREATE MATERIALIZED VIEW kept.events AS SELECT * FROM private.events; \
             CREATE ROLE reader LOGIN; GRANT USAGE ON SCHEMA kept TO reader; \
             GRANT SELECT ON public.events, kept.events TO reader; \
             REVOKE ALL ON SCHEMA private FROM PUBLIC;",
        )
        .unwrap();
    let reader_url = url.replacen("rewind@", "reader@", 1);
    for table in ["public.events", "kept.events"] {
        let location = StoreLocation::Postgres(PostgresLocation::new(reader_url.clone(), Some(table.to_owned())));
        let source = open_store(location).unwrap_or_else(|e| panic!("{table}: {e}"));
        assert!(
            source
                .describe()
                .ends_with("ordered by aggregate_id, then sequence (a view with no position or time column: its streams follow one another)"),
            "{table}: {}",
            source.describe()
        );
        assert!(source.skipped().is_empty(), "{table}: {:?}", source.skipped());
        let events = source.read_batch(0, 100).unwrap();
        let order: Vec<(&str, u64)> = events
            .iter()
            .map(|e| (e.stream_id.as_str(), e.stream_version))
            .collect();
        assert_eq!(
            order,
            [
                ("account-A", 1),
                ("account-A", 2),
                ("account-A", 3),
                ("account-A", 4),
                ("account-B", 1),
                ("account-B", 2)
            ],
            "{table}"
        );
        let domain = Arc::new(rewind_core::DomainSet::new(Vec::new()));
        let replay = replay_all(source.as_ref(), domain).unwrap();
        assert!(replay.issues().is_empty(), "{table}: {:?}", replay.issues());
    }
}

/// An unknown PostgreSQL table's proposal comes with the first row's values beside its
/// columns (the mapping dialog showed none for PostgreSQL, as it did for SQLite), and counts
/// versions from 0 when the first row's version is 0.
#[test]
fn an_unknown_postgres_tables_proposal_shows_example_values_and_counts_from_zero() {
    let cluster = Cluster::start();
    let (url, mut client) = cluster.database("ledger");
    client
        .batch_execute(
            "CREATE TABLE ledger_entries (stream_name text, version int, kind text, body jsonb, at timestamptz);
             INSERT INTO ledger_entries VALUES
               ('ledger-1', 0, 'Opened', '{\"owner\": \"Ada\"}', '2024-01-01 10:00:00+00'),
               ('ledger-1', 1, 'Credited', '{\"amount\": 5}', '2024-01-01 10:00:05+00');",
        )
        .unwrap();
    let Err(StoreError::NeedsMapping {
        proposal,
        names,
        examples,
        ..
    }) = open_store(rewind_store::StoreLocation::parse(&url))
    else {
        panic!("expected a proposal");
    };
    let example = |column: &str| examples[names.iter().position(|n| n == column).unwrap()].clone();
    assert_eq!(example("stream_name"), "ledger-1");
    assert_eq!(example("kind"), "Opened");
    assert_eq!(example("body"), "{\"owner\": \"Ada\"}");
    assert_eq!(proposal.version.as_deref(), Some("version"));
    assert_eq!(proposal.version_base, 0, "the first version is 0");
}

/// On PostgreSQL too, a mapping takes the event type from a field of the payload.
#[test]
fn a_postgres_mapping_takes_the_event_type_from_the_payload() {
    let cluster = Cluster::start();
    let (url, mut client) = cluster.database("limits");
    client
        .batch_execute(
            "CREATE TABLE limits_log (stream_id text, version int, body jsonb);
             INSERT INTO limits_log VALUES
               ('card-1', 1, '{\"event_type\": \"limit_set\", \"amount\": 100}'),
               ('card-1', 2, '{\"event_type\": \"limit_changed\", \"amount\": 50}');",
        )
        .unwrap();
    let Err(StoreError::NeedsMapping { proposal, .. }) = open_store(rewind_store::StoreLocation::parse(&url)) else {
        panic!("expected a proposal");
    };
    assert_eq!(
        proposal.event_type_in_payload.as_deref(),
        Some("event_type"),
        "{proposal:?}"
    );
    let source = crate::util::opened_with(rewind_store::StoreLocation::parse(&url), *proposal);
    assert_eq!(
        crate::util::event_types(source.as_ref()),
        ["limit_set", "limit_changed"]
    );
}

/// A PostgreSQL store kept in a table per aggregate type: the TypeScript guide's rows (its own
/// code wrote them), split into two tables by account as such an application keeps them. The
/// proposal covers both tables; opened with it, the events come in the order the one table had
/// (time, then version, then stream), and verify finds nothing wrong.
#[test]
fn a_postgres_store_kept_in_a_table_per_type_merges_by_time() {
    let cluster = Cluster::start();
    let dump = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/postgres/ts-guide/dump.sql");
    let (url, mut client) = cluster.database("per_type");
    client.batch_execute(&std::fs::read_to_string(dump).unwrap()).unwrap();
    let ids = |output: &std::process::Output| -> Vec<String> {
        assert!(output.status.success(), "{}", stderr(output));
        stdout(output)
            .lines()
            .map(|line| {
                serde_json::from_str::<Value>(line).unwrap()["event_id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let one_table = ids(&rewind(&["events", &url]));
    client
        .batch_execute(
            "CREATE TABLE savings_events AS SELECT * FROM events WHERE aggregate_id = (SELECT MIN(aggregate_id::text)::uuid FROM events);
             CREATE TABLE checking_events AS SELECT * FROM events WHERE aggregate_id <> (SELECT MIN(aggregate_id::text)::uuid FROM events);
             DROP TABLE events;",
        )
        .unwrap();
    let Err(StoreError::NeedsMapping { proposal, .. }) = open_store(rewind_store::StoreLocation::parse(&url)) else {
        panic!("expected a proposal");
    };
    let mut tables: Vec<Option<String>> = std::iter::once(proposal.table.clone())
        .chain(proposal.more_tables.iter().map(|m| m.table.clone()))
        .collect();
    tables.sort();
    assert_eq!(
        tables,
        [Some("checking_events".to_owned()), Some("savings_events".to_owned())],
        "{proposal:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("tables.toml");
    std::fs::write(&mapping, proposal.to_toml()).unwrap();
    let mapping = mapping.to_str().unwrap();
    let merged = rewind(&["events", &url, "--mapping", mapping]);
    assert_eq!(ids(&merged), one_table, "the one table's order");
    assert!(
        stderr(&merged).contains("2 tables merged by time, then stream version, then stream ("),
        "{}",
        stderr(&merged)
    );
    let verified = rewind(&["verify", &url, "--mapping", mapping, "--domain", "generic", "--json"]);
    assert_eq!(verified.status.code(), Some(0), "{}", stdout(&verified));
}
