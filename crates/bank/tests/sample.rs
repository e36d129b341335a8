//! The sample history: deterministic, replays through the domain, one planted incident.

use rewind_bank::BankDomain;
use rewind_bank::sample::{SampleConfig, generate};
use rewind_core::{Domain, RecordedEvent};

fn history(config: &SampleConfig) -> (Vec<RecordedEvent>, rewind_bank::sample::SampleSummary) {
    let mut events = Vec::new();
    let summary = generate(config, |batch| -> Result<(), ()> {
        events.extend(batch);
        Ok(())
    })
    .expect("the sink never fails");
    (events, summary)
}

fn small() -> SampleConfig {
    SampleConfig {
        accounts: 30,
        orders: 80,
        ..SampleConfig::default()
    }
}

#[test]
fn the_same_seed_gives_the_same_history() {
    assert_eq!(history(&small()).0, history(&small()).0);
}

#[test]
fn another_seed_gives_another_history() {
    let other = SampleConfig { seed: 7, ..small() };
    assert_ne!(history(&small()).0, history(&other).0);
}

#[test]
fn the_history_has_legacy_events_rejections_freezes_closures_and_one_incident() {
    let (events, summary) = history(&SampleConfig::default());
    let count = |t: &str| events.iter().filter(|e| e.event_type == t).count();
    assert!(summary.legacy_events > 0);
    assert!(count("WithdrawalRejected") > 0);
    assert!(count("AccountFrozen") > 0);
    assert!(count("AccountClosed") > 0);
    assert!(count("OrderShipped") > 0);
    let incident = summary.incident.expect("the incident is planted");
    let first = &events[incident.first_position as usize - 1];
    let duplicate = &events[incident.duplicate_position as usize - 1];
    assert_eq!(first.data, duplicate.data);
    assert_ne!(first.event_id, duplicate.event_id);
    assert_eq!(duplicate.stream_id, incident.account_id);
}

#[test]
fn every_stream_replays_and_only_the_incident_breaks_an_invariant() {
    let (events, summary) = history(&SampleConfig::default());
    let domain = BankDomain::default();
    let mut streams: std::collections::BTreeMap<&str, Vec<RecordedEvent>> = std::collections::BTreeMap::new();
    for event in &events {
        streams.entry(&event.stream_id).or_default().push(event.clone());
    }
    let mut violations = Vec::new();
    for (stream_id, stream) in &streams {
        for (step, event) in domain.replay_stream(stream).iter().zip(stream) {
            assert!(
                step.state.is_ok(),
                "{stream_id} v{}: {:?}",
                step.stream_version,
                step.state
            );
            if !step.violations.is_empty() {
                violations.push(event.global_position);
            }
        }
    }
    assert_eq!(violations, [summary.incident.unwrap().duplicate_position]);
}

#[test]
fn a_clean_history_has_no_incident() {
    let (_, summary) = history(&SampleConfig { clean: true, ..small() });
    assert!(summary.incident.is_none());
}

#[test]
fn asking_for_a_number_of_events_gives_about_that_many() {
    let (events, _) = history(&SampleConfig {
        events: Some(20_000),
        ..SampleConfig::default()
    });
    assert!((20_000..20_010).contains(&events.len()), "{}", events.len());
}
