//! Fuzz-style: random bytes and mutations of real stores, fed to every reader through
//! `open_store` and then read whole. Any outcome is fine except a panic.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rewind_store::{Mapping, OpenOptions, open_store, open_store_with};

fn fixture(path: &str) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Seeds: one file of every format Rewind reads.
fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let ndjson = fixture("sample-data/bank.ndjson");
    let first_lines: Vec<u8> = ndjson
        .split(|b| *b == b'\n')
        .take(40)
        .flat_map(|line| line.iter().copied().chain([b'\n']))
        .collect();
    let mut gzip = Vec::new();
    {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(&mut gzip, flate2::Compression::fast());
        encoder
            .write_all(&fixture("fixtures/json/cloudevents-bank.json"))
            .expect("compresses");
        encoder.finish().expect("compresses");
    }
    vec![
        ("ndjson", first_lines),
        ("atom", fixture("fixtures/json/esdb-atom-account-A.json")),
        ("cloudevents", fixture("fixtures/json/cloudevents-bank.json")),
        ("eventsourcingdb", fixture("fixtures/json/eventsourcingdb-bank.ndjson")),
        ("gzip", gzip),
        ("python", fixture("fixtures/python-eventsourcing/bank.sqlite")),
        ("emmett", fixture("fixtures/emmett-sqlite/bank.sqlite")),
        ("sqlite-es", fixture("fixtures/sqlite-es/bank.sqlite")),
        ("tutorial", fixture("fixtures/tutorial-events/bank.sqlite")),
    ]
}

/// Opens `bytes` as a store and reads everything it offers. Errors are fine; panics are not.
fn exercise(dir: &Path, bytes: &[u8], mapping: Option<Mapping>) {
    let path: PathBuf = dir.join("input");
    std::fs::write(&path, bytes).expect("written");
    let Ok(source) = open_store_with(
        &path,
        &OpenOptions {
            mapping,
            ..OpenOptions::default()
        },
    ) else {
        return;
    };
    let _ = source.event_count();
    let _ = source.skipped();
    if let Ok(streams) = source.streams() {
        for stream in streams.iter().take(3) {
            let _ = source.read_stream(&stream.stream_id, None);
        }
    }
    let _ = source.read_all(7, &mut |_| Ok(()));
    let _ = source.read_positions(&[1, 2, 5, 1000]);
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, byte: u8 },
    Truncate { at: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (
            any::<usize>(),
            prop::collection::vec(
                prop_oneof![any::<u8>(), Just(b'"'), Just(b'{'), Just(b'}'), Just(b'\n'), Just(0xff)],
                1..8
            )
        )
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for mutation in mutations {
        let len = bytes.len().max(1);
        match mutation {
            Mutation::Flip { at, byte } => {
                if let Some(b) = bytes.get_mut(at % len) {
                    *b ^= byte | 1;
                }
            }
            Mutation::Truncate { at } => bytes.truncate(at % len),
            Mutation::Insert { at, bytes: inserted } => {
                let at = (at % len).min(bytes.len());
                bytes.splice(at..at, inserted.iter().copied());
            }
            Mutation::Delete { at, len: n } => {
                let at = (at % len).min(bytes.len());
                let end = (at + n).min(bytes.len());
                bytes.drain(at..end);
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_stores_of_every_format_never_panic(
        seed in 0usize..9,
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let (_, bytes) = seeds().swap_remove(seed);
        exercise(dir.path(), &apply(bytes, &mutations), None);
    }

    #[test]
    fn random_bytes_never_panic(
        prefix in prop_oneof![
            Just(Vec::new()),
            Just(b"SQLite format 3\0".to_vec()),
            Just(vec![0x1f, 0x8b]),
            Just(b"{".to_vec()),
            Just(b"[".to_vec()),
        ],
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut input = prefix;
        input.extend(bytes);
        exercise(dir.path(), &input, None);
    }

    #[test]
    fn arbitrary_mappings_over_real_stores_never_panic(
        seed in 0usize..9,
        names in prop::collection::vec(
            prop_oneof![
                Just("stream_id".to_owned()), Just("rowid".to_owned()), Just("payload".to_owned()),
                Just("state".to_owned()), Just("message_data".to_owned()), Just("type".to_owned()),
                Just("subject".to_owned()), Just("data".to_owned()), Just("time".to_owned()),
                "[a-z_\"']{0,12}",
            ],
            9,
        ),
        table in prop_oneof![
            Just("events".to_owned()), Just("stored_events".to_owned()), Just("emt_messages".to_owned()),
            "[a-z_\"';]{0,12}",
        ],
        base in 0u64..3,
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let (_, bytes) = seeds().swap_remove(seed);
        let pick = |i: usize| Some(names[i].clone()).filter(|n| !n.is_empty());
        let mapping = Mapping {
            table: Some(table),
            stream: names[0].clone(),
            stream_type: pick(1),
            version: pick(2),
            version_base: base,
            position: pick(3),
            event_id: pick(4),
            event_type: pick(5),
            time: pick(6),
            payload: pick(7),
            metadata: pick(8),
            ..Mapping::default()
        };
        exercise(dir.path(), &bytes, Some(mapping));
    }
}

#[test]
fn every_seed_opens_unmutated() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, bytes) in seeds() {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("written");
        let source = open_store(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(source.event_count().expect("counts") > 0, "{name}");
    }
}
