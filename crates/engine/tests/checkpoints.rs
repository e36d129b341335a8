//! Property: the state reached through checkpoints equals a full replay from zero.
#![allow(clippy::comparison_chain, clippy::single_match_else)] // Test data reads better as written.

mod support;

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use rewind_bank::BankDomain;
use rewind_core::{Domain, DomainSet, RecordedEvent};
use rewind_engine::{Engine, EngineBuilder, EngineConfig, Replay};
use serde_json::{Value, json};
use support::MemoryFetch;

/// A random event for one of a few account and order streams, including legacy, malformed
/// and out-of-order ones.
fn arb_event() -> impl Strategy<Value = (u8, u8, i64)> {
    (0u8..6, 0u8..12, 1i64..50_000)
}

fn make(history: &[(u8, u8, i64)]) -> Vec<RecordedEvent> {
    let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).single().expect("valid");
    let mut versions = [0u64; 6];
    history
        .iter()
        .enumerate()
        .map(|(i, &(stream, kind, amount))| {
            let s = stream as usize;
            versions[s] += 1;
            let (stream_id, stream_type, event_type, schema_version, data) = if stream < 4 {
                let (t, v, d): (&str, u32, Value) = match kind {
                    0 | 1 => ("AccountOpened", 1, json!({"holder": "Ada", "currency": "EUR"})),
                    2..=4 => ("MoneyDeposited", 2, json!({"amount_cents": amount, "reference": "r"})),
                    5 => ("MoneyDeposited", 1, json!({"amount": amount as f64 / 100.0})),
                    6 | 7 => ("MoneyWithdrawn", 1, json!({"amount_cents": amount, "reference": "w"})),
                    8 => ("AccountFrozen", 1, json!({"reason": "x"})),
                    9 => ("AccountUnfrozen", 1, json!({})),
                    10 => ("AccountClosed", 1, json!({})),
                    _ => ("MoneyDeposited", 2, json!({"amount_cents": "not a number"})),
                };
                (format!("account-{stream}"), "BankAccount", t, v, d)
            } else if stream == 4 {
                let (t, d) = match kind % 4 {
                    0 => (
                        "OrderCreated",
                        json!({"customer_id": "c", "account_id": "account-0",
                        "items": [{"product_id": "p", "product_name": "P", "quantity": 2, "unit_price_cents": amount}],
                        "total_cents": if kind == 4 { amount } else { 2 * amount }}),
                    ),
                    1 => ("OrderConfirmed", json!({})),
                    2 => ("OrderShipped", json!({})),
                    _ => ("OrderCancelled", json!({"reason": "r"})),
                };
                (
                    "order-1".to_owned(),
                    "Order",
                    t,
                    if t == "OrderCreated" { 2 } else { 1 },
                    d,
                )
            } else {
                (
                    "thing-1".to_owned(),
                    "Thing",
                    "ThingChanged",
                    1,
                    json!({"n": amount, "k": {"x": kind}}),
                )
            };
            RecordedEvent {
                global_position: i as u64 * 2 + 1,
                stream_id: stream_id.into(),
                stream_type: stream_type.into(),
                stream_version: versions[s],
                event_id: uuid::Uuid::from_u128(i as u128 + 1),
                event_type: event_type.into(),
                schema_version: Some(schema_version),
                recorded_at: Some(start + Duration::seconds(i as i64)),
                // As a store reader hands it over: JSON text, read into types without a tree.
                data: rewind_core::Payload::from_json(data.to_string()).expect("JSON"),
                metadata: json!({}).into(),
            }
        })
        .collect()
}

fn domain() -> Arc<dyn Domain> {
    Arc::new(DomainSet::new(vec![Box::new(BankDomain::default())]))
}

fn build(events: &[RecordedEvent], config: EngineConfig) -> Engine {
    let mut builder = EngineBuilder::new(domain(), config, events.len());
    builder.push(events);
    builder.finish()
}

/// The reference: a full replay of `events`.
fn replay(events: &[RecordedEvent]) -> Replay {
    let mut replay = Replay::new(domain());
    for event in events {
        replay.apply(event);
    }
    replay
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn state_via_checkpoints_equals_full_replay(
        history in prop::collection::vec(arb_event(), 1..120),
        cursors in prop::collection::vec(any::<prop::sample::Index>(), 1..12),
        projection_interval in 1usize..40,
        stream_interval in 1usize..5,
        projection_history in any::<bool>(),
    ) {
        let events = make(&history);
        let engine = build(&events, EngineConfig { projection_interval, stream_interval, projection_history, check_event_ids: true });
        let fetch = MemoryFetch(&events);

        for cursor in cursors {
            let cursor = cursor.index(events.len());
            let replay = replay(&events[..=cursor]);
            for (stream, entry) in engine.index().streams().enumerate() {
                let at = engine.aggregate_at(stream as u32, Some(cursor), &fetch).unwrap().unwrap();
                let expected = replay.aggregate_state(entry.stream_id);
                match expected {
                    Some(state) => prop_assert_eq!(&at.state, &state, "{} at {}", entry.stream_id, cursor),
                    None => prop_assert_eq!(at.events_applied, 0),
                }
            }
            let projections = engine.projections_at(Some(cursor), &fetch).unwrap();
            for (name, state) in projections {
                prop_assert_eq!(Some(state), replay.projection_state(&name), "{} at {}", name, cursor);
            }
        }
        // And the issues the builder found are the full replay's.
        let full = replay(&events);
        prop_assert_eq!(engine.issues(), full.issues());
    }

    /// Folding a batch at a time (which looks each chunk's streams up first and reads ahead
    /// for them) finds what folding one event at a time finds.
    #[test]
    fn folding_in_batches_equals_folding_one_by_one(
        history in prop::collection::vec(arb_event(), 1..120),
        batch in 1usize..40,
    ) {
        let events = make(&history);
        let one_by_one = replay(&events);
        let mut batched = Replay::new(domain());
        for events in events.chunks(batch) {
            batched.apply_all(events);
        }
        prop_assert_eq!(batched.issues(), one_by_one.issues());
        prop_assert_eq!(batched.streams().len(), one_by_one.streams().len());
        for event in &events {
            let id = event.stream_id.as_str();
            prop_assert_eq!(batched.aggregate_state(id), one_by_one.aggregate_state(id), "{}", id);
        }
        for name in one_by_one.projection_names() {
            prop_assert_eq!(batched.projection_state(name), one_by_one.projection_state(name), "{}", name);
        }
    }

    /// Stepping forward (the engine reuses the last seek's projections) and jumping back gives
    /// the states a full replay gives, and the same row changes as an engine seen fresh, and
    /// as an engine reading the projections' history.
    #[test]
    fn stepping_through_the_timeline_equals_full_replay(
        history in prop::collection::vec(arb_event(), 1..80),
        projection_interval in 1usize..60,
        back in any::<prop::sample::Index>(),
    ) {
        let events = make(&history);
        let config = EngineConfig { projection_interval, stream_interval: 4, projection_history: false, check_event_ids: true };
        let with_history = build(&events, EngineConfig { projection_history: true, ..config });
        let engine = build(&events, config);
        let fetch = MemoryFetch(&events);
        let back = back.index(events.len());
        let cursors = (0..events.len()).chain([back]).chain(back..events.len());
        let mut replay = Replay::new(domain());
        let mut replayed = 0;
        for cursor in cursors {
            if cursor + 1 < replayed {
                replay = Replay::new(domain());
                replayed = 0;
            }
            for event in &events[replayed..=cursor] {
                replay.apply(event);
            }
            replayed = cursor + 1;
            let stepped = engine.projections_around(Some(cursor), &fetch).unwrap();
            let fresh = build(&events, config).projections_around(Some(cursor), &fetch).unwrap();
            let read = with_history.projections_around(Some(cursor), &fetch).unwrap();
            prop_assert_eq!(stepped.len(), 3);
            prop_assert_eq!(read.len(), 3);
            for ((stepped, fresh), read) in stepped.iter().zip(&fresh).zip(&read) {
                prop_assert_eq!(Some(stepped.state.to_json()), replay.projection_state(&stepped.name), "{} at {}", stepped.name, cursor);
                prop_assert_eq!(&stepped.changes, &fresh.changes, "{} at {}", stepped.name, cursor);
                prop_assert_eq!(read.state.to_json(), stepped.state.to_json(), "{} at {}", read.name, cursor);
                prop_assert_eq!(&read.changes, &stepped.changes, "{} at {}", read.name, cursor);
                // A window of rows, and each changed row with its index, as a debugger asks.
                prop_assert_eq!(read.state.row_count(), stepped.state.row_count());
                prop_assert_eq!(read.state.rows(1, 3), stepped.state.rows(1, 3));
                for change in &read.changes {
                    prop_assert_eq!(read.state.row(&change.key), stepped.state.row(&change.key));
                }
            }
        }
    }

    /// Seeks thousands of events past a checkpoint read the store in chunks on one thread and
    /// fold them on another; the states are still exactly the full replay's.
    #[test]
    fn long_seeks_read_and_fold_in_chunks_like_a_full_replay(
        history in prop::collection::vec(arb_event(), 1500..3000),
        cursors in prop::collection::vec(any::<prop::sample::Index>(), 1..4),
    ) {
        let events = make(&history);
        let config = EngineConfig { projection_interval: 100_000, stream_interval: 64, projection_history: false, check_event_ids: true };
        let engine = build(&events, config);
        let fetch = MemoryFetch(&events);
        for cursor in cursors {
            let cursor = cursor.index(events.len());
            let replay = replay(&events[..=cursor]);
            for (name, state) in engine.projections_at(Some(cursor), &fetch).unwrap() {
                prop_assert_eq!(Some(state), replay.projection_state(&name), "{} at {}", name, cursor);
            }
        }
    }
}
