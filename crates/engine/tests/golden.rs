//! Golden tests over `sample-data/`: issues, states, diffs and blame at chosen positions.

mod support;

use std::sync::Arc;

use rewind_bank::BankDomain;
use rewind_core::{DomainSet, RecordedEvent};
use rewind_engine::{Condition, Engine, EngineBuilder, EngineConfig, Query, diff};
use support::MemoryFetch;

fn sample() -> Vec<RecordedEvent> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sample-data/bank.ndjson");
    std::fs::read_to_string(path)
        .expect("sample-data/bank.ndjson exists")
        .lines()
        .map(|line| serde_json::from_str(line).expect("valid event"))
        .collect()
}

fn engine(events: &[RecordedEvent]) -> Engine {
    let domain = Arc::new(DomainSet::new(vec![Box::new(BankDomain::default())]));
    let mut builder = EngineBuilder::new(domain, EngineConfig::for_size(events.len() as u64), events.len());
    builder.push(events);
    builder.finish()
}

/// The position `sample-data/README.md` names for the planted incident.
fn readme_incident_position() -> u64 {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../sample-data/README.md"))
        .expect("sample README exists");
    let marker = "duplicate withdrawal is at global position ";
    let at = readme.find(marker).expect("README names the position") + marker.len();
    readme[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .expect("a number")
}

#[test]
fn the_first_violation_is_the_planted_duplicate_withdrawal() {
    let events = sample();
    let engine = engine(&events);
    let first = engine.first_violation().expect("the sample has an incident");
    assert_eq!(first.position, readme_incident_position());
    insta::assert_json_snapshot!(engine.issues());
}

#[test]
fn the_incident_account_before_at_and_after_the_duplicate() {
    let events = sample();
    let engine = engine(&events);
    let fetch = MemoryFetch(&events);
    let incident = readme_incident_position();
    let stream = engine
        .index()
        .stream_idx("account-0002")
        .expect("incident account exists");
    let at = |position: u64| {
        let cursor = engine.index().ordinal_at_or_before_position(position);
        engine.aggregate_at(stream, cursor, &fetch).unwrap().unwrap()
    };
    let states = [at(incident - 2), at(incident - 1), at(incident)];
    insta::assert_json_snapshot!("incident_states", states);
    insta::assert_json_snapshot!("incident_diff", diff(&states[1].state, &states[2].state));

    let cursor = engine.index().ordinal_at_or_before_position(incident).unwrap();
    assert_eq!(
        engine.event_change(cursor, &fetch).unwrap(),
        diff(&states[1].state, &states[2].state)
    );

    let blame = engine
        .blame(stream, cursor, "/balance_cents", &fetch)
        .unwrap()
        .expect("the balance changed");
    assert_eq!(blame.position, incident);
    assert_eq!(blame.event_type, "MoneyWithdrawn");
    // Much later, the balance was last changed by some later event, never by the incident.
    let end = engine.index().len() - 1;
    let late = engine
        .blame(stream, end, "/holder", &fetch)
        .unwrap()
        .expect("the holder was set once");
    assert_eq!(late.event_type, "AccountOpened");
}

#[test]
fn projections_at_the_incident() {
    let events = sample();
    let engine = engine(&events);
    let fetch = MemoryFetch(&events);
    let cursor = engine.index().ordinal_at_or_before_position(readme_incident_position());
    let projections = engine.projections_at(cursor, &fetch).unwrap();
    let names: Vec<&str> = projections.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["account_balances", "order_summaries", "daily_totals"]);
    insta::assert_json_snapshot!("incident_account_balance", projections[0].1["account-0002"]);
    let days = projections[2].1.as_array().unwrap();
    insta::assert_json_snapshot!("incident_day_totals", days.last());
    let before = engine.projections_at(cursor.map(|c| c - 1), &fetch).unwrap();
    insta::assert_json_snapshot!("incident_projection_diff", diff(&before[0].1, &projections[0].1));
}

#[test]
fn search_finds_big_withdrawals_and_everything_correlated_with_an_order() {
    let events = sample();
    let engine = engine(&events);
    let fetch = MemoryFetch(&events);
    let withdrawn = engine.index().event_type_id("MoneyWithdrawn").unwrap();
    let query = Query {
        event_types: vec![withdrawn],
        condition: Some(Condition::parse("amount_cents > 250000").unwrap()),
        ..Query::default()
    };
    let found: Vec<u64> = engine
        .search(&query, &fetch)
        .unwrap()
        .iter()
        .map(|&o| engine.index().position(o))
        .collect();
    assert!(found.contains(&readme_incident_position()), "{found:?}");
    assert!(
        found
            .iter()
            .all(|p| events[*p as usize - 1].data.value()["amount_cents"].as_i64().unwrap() > 250_000)
    );

    let confirmed = events.iter().find(|e| e.event_type == "OrderConfirmed").unwrap();
    let order_created = events
        .iter()
        .find(|e| e.stream_id == confirmed.stream_id && e.event_type == "OrderCreated")
        .unwrap();
    let correlation = order_created.correlation_id().unwrap().to_owned();
    let query = Query {
        correlation_id: Some(correlation),
        ..Query::default()
    };
    let related = engine.search(&query, &fetch).unwrap();
    let types: Vec<&str> = related
        .iter()
        .map(|&o| engine.index().event_type_name(engine.index().headers()[o].event_type))
        .collect();
    assert_eq!(
        &types[..3],
        ["OrderCreated", "MoneyWithdrawn", "OrderConfirmed"].as_slice(),
        "{types:?}"
    );
}

/// The reading thread upcasts and decodes ahead (`Domain::prepare`) only when it has time;
/// folding gives the same issues, aggregate states and read models whether an event was read
/// ahead or not.
#[test]
fn reading_ahead_changes_nothing_a_replay_finds() {
    use rewind_core::{Domain, Payload};
    use rewind_engine::Replay;

    let stored = |events: &[RecordedEvent]| -> Vec<RecordedEvent> {
        events
            .iter()
            .map(|event| RecordedEvent {
                data: Payload::from_stored_json(event.data.to_string()),
                ..event.clone()
            })
            .collect()
    };
    let domain: Arc<dyn Domain> = Arc::new(DomainSet::new(vec![Box::new(BankDomain::default())]));
    let events = sample();
    let replay = |events: &[RecordedEvent]| {
        let mut replay = Replay::new(Arc::clone(&domain));
        for event in events {
            replay.apply(event);
        }
        replay
    };
    let plain = stored(&events);
    let mut ahead = stored(&events);
    // Every other event, as when the fold catches up part way through a batch.
    for event in ahead.iter_mut().step_by(2) {
        domain.prepare(event);
    }
    // Reading ahead upcasts old events where they are: the comparison covers some.
    let upcast_ahead = ahead
        .iter()
        .zip(&plain)
        .filter(|(a, p)| a.schema_version > p.schema_version);
    assert!(upcast_ahead.count() > 0, "the sample has old events read ahead");
    let (plain, ahead) = (replay(&plain), replay(&ahead));
    assert_eq!(plain.issues(), ahead.issues());
    assert!(!plain.issues().is_empty(), "the sample has issues to compare");
    for name in plain.projection_names() {
        assert_eq!(plain.projection_state(name), ahead.projection_state(name), "{name}");
    }
    for event in &events {
        let id = event.stream_id.as_str();
        assert_eq!(plain.aggregate_state(id), ahead.aggregate_state(id), "{id}");
    }
}

/// Built on two threads (the index where the events are read, the fold on another) or on one,
/// the engine is the same: headers and their issue marks, issues, streams, and states.
#[test]
fn an_index_built_beside_the_fold_makes_the_same_engine() {
    use rewind_engine::IndexBuilder;

    let events = sample();
    let one = engine(&events);
    let domain = Arc::new(DomainSet::new(vec![Box::new(BankDomain::default())]));
    let mut index = IndexBuilder::new(0);
    let mut builder = EngineBuilder::new(domain, EngineConfig::for_size(events.len() as u64), events.len());
    for batch in events.chunks(100) {
        let streams = index.push(batch);
        builder.push_indexed(batch, &streams);
    }
    let two = builder.finish_indexed(index);

    assert_eq!(one.index().headers(), two.index().headers());
    assert!(two.index().headers().iter().any(|h| h.flags != 0), "issues are marked");
    assert_eq!(one.issues(), two.issues());
    assert_eq!(one.index().stream_count(), two.index().stream_count());
    let fetch = MemoryFetch(&events);
    for cursor in [0, events.len() / 3, events.len() - 1] {
        let stream = one.index().headers()[cursor].stream;
        let state = |engine: &Engine| {
            let at = engine.aggregate_at(stream, Some(cursor), &fetch).unwrap().unwrap();
            (at.stream_id, at.events_applied, at.state)
        };
        assert_eq!(state(&one), state(&two), "at {cursor}");
        assert_eq!(
            one.projections_at(Some(cursor), &fetch).unwrap(),
            two.projections_at(Some(cursor), &fetch).unwrap()
        );
    }
}
