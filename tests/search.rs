//! Finding events: the filter language in the app's event list and in `rewind search`, on the
//! payloads as the domain reads them (upcast), with times, and with errors that say where.

use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use serde_json::Value;

use rewind::app::App;
use rewind_core::{Domain, RecordedEvent};

use crate::app::{loaded_sample, step_until};
use crate::util::{rewind, sample_sqlite, stderr, stdout};

/// Every event of the sample as the bank domain reads it (upcast to the current schema): the
/// oracle the filters are checked against, made without the filter language.
fn sample_as_the_domain_reads_it() -> Vec<RecordedEvent> {
    let source = rewind_store::open_store(sample_sqlite()).expect("the sample opens");
    let domain = rewind_bank::BankDomain::default();
    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let batch = source.read_batch(after, 1000).expect("the sample reads");
        let Some(last) = batch.last() else { break };
        after = last.global_position;
        for event in batch {
            let upcast = domain.upcast(&event).expect("the sample upcasts");
            events.push(upcast.unwrap_or(event));
        }
    }
    events
}

fn amount_cents(event: &RecordedEvent) -> Option<i64> {
    event.data.value().get("amount_cents").and_then(Value::as_i64)
}

/// Types `text` in the labelled field (replacing what it held) and presses Enter.
fn type_in(harness: &mut Harness<'static, App>, label: &str, text: &str) {
    harness.get_by_label(label).focus();
    harness.step();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
    harness.step();
    harness.key_press(Key::Backspace);
    harness.step();
    harness.get_by_label(label).type_text(text);
    harness.step();
    harness.key_press(Key::Enter);
    harness.step();
}

/// Filters with what is in the fields now, and waits for the answer (matches or an error).
fn filtered(harness: &mut Harness<'static, App>) -> Result<Vec<u64>, String> {
    harness.get_by_label("Filter").click();
    step_until(harness, "the filter's answer", |app| {
        app.view()
            .is_some_and(|v| !v.filter.searching && (v.filter.matches.is_some() || v.filter.error.is_some()))
    });
    let app = harness.state();
    let (view, index) = (
        app.view().expect("a view"),
        app.session().expect("a store is open").engine.index(),
    );
    match (&view.filter.error, &view.filter.matches) {
        (Some(error), _) => Err(error.clone()),
        (None, Some(matches)) => Ok(matches.iter().map(|&o| index.position(o)).collect()),
        (None, None) => unreachable!("waited for one"),
    }
}

#[test]
fn find_matches_payloads_as_the_domain_reads_them_and_the_stored_form_on_request() {
    let events = sample_as_the_domain_reads_it();
    let large: Vec<u64> = events
        .iter()
        .filter(|e| e.event_type == "MoneyDeposited" && amount_cents(e).is_some_and(|a| a > 150_000))
        .map(|e| e.global_position)
        .collect();
    let stored_large = rewind_store::open_store(sample_sqlite())
        .unwrap()
        .read_batch(0, 100_000)
        .unwrap()
        .iter()
        .filter(|e| e.event_type == "MoneyDeposited" && amount_cents(e).is_some_and(|a| a > 150_000))
        .count();
    assert!(stored_large < large.len(), "the sample has large legacy v1 deposits");

    let mut harness = loaded_sample();
    type_in(
        &mut harness,
        "Find",
        "event_type == MoneyDeposited and amount_cents > 150000",
    );
    let found = filtered(&mut harness).unwrap();
    assert_eq!(found, large, "every large deposit, the legacy ones included");
    assert!(harness.query_by_label("(payloads as the domain reads them)").is_some());

    // The stored form on request: the legacy deposits' stored payloads have no `amount_cents`.
    harness.get_by_label("Stored form").click();
    harness.step();
    let stored = filtered(&mut harness).unwrap();
    assert_eq!(stored.len(), stored_large);
    assert!(stored.iter().all(|p| large.contains(p)));
    assert!(harness.query_by_label("(payloads as stored)").is_some());
    type_in(&mut harness, "Find", "amount > 1500");
    let legacy_large = filtered(&mut harness).unwrap();
    assert_eq!(
        stored.len() + legacy_large.len(),
        large.len(),
        "the stored float amounts make up the rest"
    );

    // As the domain reads them, no payload has a float `amount` left.
    harness.get_by_label("Stored form").click();
    harness.step();
    assert_eq!(filtered(&mut harness).unwrap(), Vec::<u64>::new());
}

#[test]
fn conditions_combine_with_times_and_an_unreadable_one_says_where_it_stopped() {
    let events = sample_as_the_domain_reads_it();
    let february = "2024-02-01T00:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let expected: Vec<u64> = events
        .iter()
        .filter(|e| amount_cents(e).is_some_and(|a| a > 200_000) && e.recorded_at.is_some_and(|t| t >= february))
        .map(|e| e.global_position)
        .collect();
    assert!(!expected.is_empty());

    let mut harness = loaded_sample();
    type_in(
        &mut harness,
        "Find",
        "amount_cents > 200000 and recorded_at >= 2024-02-01",
    );
    assert_eq!(filtered(&mut harness).unwrap(), expected);

    type_in(
        &mut harness,
        "Find",
        "amount_cents > 200000 andd recorded_at >= 2024-02-01",
    );
    let error = filtered(&mut harness).unwrap_err();
    assert!(error.contains("at column 23"), "{error}");
    assert!(
        harness
            .query_by_label_contains("expected `and`, `or` or the end")
            .is_some(),
        "the error is shown: {error}"
    );

    // A time range of its own: one day, as From and To.
    type_in(&mut harness, "Find", "");
    type_in(&mut harness, "From", "2024-02-10");
    type_in(&mut harness, "To", "2024-02-10");
    let day: Vec<u64> = events
        .iter()
        .filter(|e| {
            e.recorded_at
                .is_some_and(|t| t.date_naive().to_string() == "2024-02-10")
        })
        .map(|e| e.global_position)
        .collect();
    assert!(!day.is_empty());
    assert_eq!(filtered(&mut harness).unwrap(), day);
    type_in(&mut harness, "To", "yesterday");
    let error = filtered(&mut harness).unwrap_err();
    assert!(error.contains("cannot read the To time `yesterday`"), "{error}");
}

#[test]
fn a_stream_on_its_own_lists_its_events_with_the_state_after_each() {
    let mut harness = loaded_sample();
    // The violation selects its stream, account-0002.
    harness.get_by_label("Issues (1)").click();
    harness.step();
    harness.step();
    harness.get_by_label("Find first violation").click();
    step_until(&mut harness, "the seek to finish", App::seek_settled);
    harness.get_by_label("Only account-0002").click();
    step_until(&mut harness, "the states after each row", |app| {
        app.seek_settled()
            && app
                .view()
                .unwrap()
                .result
                .as_ref()
                .is_some_and(|r| !r.row_states.is_empty())
    });
    let app = harness.state();
    let (view, index) = (app.view().unwrap(), app.session().unwrap().engine.index());
    let stream = view.selected_stream.unwrap();
    let entry = index.stream(stream).unwrap();
    assert!(
        view.visible_rows.iter().all(|&o| index.headers()[o].stream == stream),
        "only the stream's events are listed"
    );
    assert!(
        harness
            .query_by_label(&format!("of {} only, in version order", entry.stream_id))
            .is_some()
    );
    assert!(harness.query_by_label("State after").is_some());
    // The state after each row is the stream's own fold up to that event.
    let source = rewind_store::open_store(sample_sqlite()).unwrap();
    let domain = rewind_bank::BankDomain::default();
    let steps = domain.replay_stream(&source.read_stream(entry.stream_id, None).unwrap());
    for (ordinal, state) in &view.result.as_ref().unwrap().row_states {
        let version = index.headers()[*ordinal].stream_version as usize;
        assert_eq!(Some(state), steps[version - 1].state.as_ref().ok(), "after v{version}");
    }
}

#[test]
fn rewind_search_prints_the_matching_events_as_the_domain_reads_them() {
    let sample = sample_sqlite();
    let sample = sample.to_str().unwrap();
    let events = sample_as_the_domain_reads_it();
    let expected: Vec<&RecordedEvent> = events
        .iter()
        .filter(|e| e.event_type == "MoneyDeposited" && amount_cents(e).is_some_and(|a| a > 150_000))
        .collect();
    let output = rewind(&["search", sample, "amount_cents > 150000", "--type", "MoneyDeposited"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let printed: Vec<RecordedEvent> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("NDJSON"))
        .collect();
    assert_eq!(
        printed.iter().collect::<Vec<_>>(),
        expected,
        "upcast, as the domain reads them"
    );

    // The stored form on request.
    let stored = rewind(&["search", sample, "amount > 1500", "--stored"]);
    assert!(stored.status.success(), "{}", stderr(&stored));
    assert!(!stdout(&stored).is_empty());
    assert!(stdout(&rewind(&["search", sample, "amount > 1500"])).is_empty());

    // Stream and time options narrow it; an unreadable query is an error (exit 2) saying where.
    let one = rewind(&[
        "search",
        sample,
        "amount_cents > 0",
        "--stream",
        "account-0001",
        "--from-time",
        "2024-01-01",
        "--to-time",
        "2024-12-31",
    ]);
    assert!(one.status.success(), "{}", stderr(&one));
    assert!(
        stdout(&one)
            .lines()
            .all(|l| l.contains("\"stream_id\":\"account-0001\""))
    );
    let bad = rewind(&["search", sample, "amount_cents > 1 andd x"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("at column 18"), "{}", stderr(&bad));
    let bad_type = rewind(&["search", sample, "x", "--type", "NoSuchEvent"]);
    assert_eq!(bad_type.status.code(), Some(2));
    assert!(stderr(&bad_type).contains("NoSuchEvent"), "{}", stderr(&bad_type));
}

#[test]
fn a_stream_id_typed_in_find_finds_that_streams_events_and_in_quotes_the_text() {
    let mut harness = loaded_sample();
    type_in(&mut harness, "Find", "account-0002");
    let found = filtered(&mut harness).unwrap();
    let app = harness.state();
    let index = app.session().unwrap().engine.index();
    let entry = index.stream(index.stream_idx("account-0002").unwrap()).unwrap();
    let stream: Vec<u64> = entry.ordinals.iter().map(|&o| index.position(o as usize)).collect();
    assert_eq!(found, stream);
    assert!(
        harness
            .query_by_label_contains("the events of stream account-0002")
            .is_some()
    );

    type_in(&mut harness, "Find", "\"account-0002\"");
    let mentions = filtered(&mut harness).unwrap();
    let expected: Vec<u64> = sample_as_the_domain_reads_it()
        .iter()
        .filter(|e| e.data.to_string().contains("account-0002") || e.metadata.to_string().contains("account-0002"))
        .map(|e| e.global_position)
        .collect();
    assert_eq!(mentions, expected, "the text, wherever it is");
}

/// Shift+dragging over the timeline filters the event list to the time range swept, and the
/// From and To fields show it.
#[test]
fn shift_dragging_the_timeline_filters_a_time_range() {
    let mut harness = loaded_sample();
    let track = harness.get_by_label("Timeline").rect();
    let (start, end) = (
        egui::pos2(track.left() + track.width() * 0.25, track.center().y),
        egui::pos2(track.left() + track.width() * 0.5, track.center().y),
    );
    let press = |pressed: bool, pos: egui::Pos2| egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: Modifiers::SHIFT,
    };
    harness.event(egui::Event::ModifiersChanged(Modifiers::SHIFT));
    harness.event(egui::Event::PointerMoved(start));
    harness.step();
    harness.event(press(true, start));
    harness.step();
    for step in 1..=5 {
        harness.event(egui::Event::PointerMoved(start + (end - start) * (step as f32 / 5.0)));
        harness.step();
    }
    harness.event(press(false, end));
    harness.event(egui::Event::ModifiersChanged(Modifiers::NONE));
    harness.step();
    step_until(&mut harness, "the range filter", |app| {
        app.view()
            .is_some_and(|v| v.filter.matches.is_some() && !v.filter.searching)
    });
    let app = harness.state();
    let (view, index) = (app.view().unwrap(), app.session().unwrap().engine.index());
    let (from, to) = (view.filter.applied.from.clone(), view.filter.applied.to.clone());
    assert!(!from.is_empty() && !to.is_empty(), "{from} {to}");
    let ms = |text: &str| {
        text.parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
            .timestamp_millis()
    };
    let expected: Vec<usize> = (0..index.len())
        .filter(|&o| {
            index.headers()[o]
                .recorded_at_ms()
                .is_some_and(|t| t >= ms(&from) && t <= ms(&to))
        })
        .collect();
    assert!(expected.len() > 100, "a quarter of the history");
    assert_eq!(view.filter.matches.clone().unwrap(), expected);
    harness.step();
    assert_eq!(harness.get_by_label("From").value().as_deref(), Some(from.as_str()));
}
