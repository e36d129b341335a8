//! The desktop app, driven headlessly with `egui_kittest`: find widgets by label, click, type,
//! press keys, and check what changed.

use std::path::PathBuf;
use std::sync::Arc;

use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use rewind::app::{App, FileDialog, Prefs};

/// A file dialog that answers with a fixed path, as a user picking it (or typing it to save)
/// would.
struct ScriptedDialog(Option<PathBuf>);

impl FileDialog for ScriptedDialog {
    fn pick(&self) -> Option<PathBuf> {
        self.0.clone()
    }

    fn save(&self, _file_name: &str) -> Option<PathBuf> {
        self.0.clone()
    }
}

fn harness_with(dialog: Option<PathBuf>) -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| App::new(Prefs::default(), Arc::new(ScriptedDialog(dialog)), None, &cc.egui_ctx))
}

/// Steps the UI until `done` holds; the store thread works in the background meanwhile.
pub(crate) fn step_until(harness: &mut Harness<'static, App>, what: &str, done: impl Fn(&App) -> bool) {
    for _ in 0..1000 {
        harness.step();
        if done(harness.state()) {
            harness.step();
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("gave up waiting for {what}");
}

fn settle(harness: &mut Harness<'static, App>) {
    step_until(harness, "the seek to finish", App::seek_settled);
}

fn cursor_position(harness: &Harness<'static, App>) -> u64 {
    let app = harness.state();
    let (session, view) = (app.session().expect("a store is open"), app.view().expect("a view"));
    let cursor = view.timeline.cursor().expect("a cursor");
    session.engine.index().position(cursor)
}

/// The id of the stream whose state the app shows (the watched one, or the cursor's).
fn shown_stream_id(harness: &Harness<'static, App>) -> String {
    let app = harness.state();
    let view = app.view().expect("a view");
    let session = app.session().expect("a store is open");
    let selected = view.state_stream(session).expect("a stream is shown");
    session
        .engine
        .index()
        .stream(selected)
        .expect("the selected stream is indexed")
        .stream_id
        .to_string()
}

/// Clicks a tab of the details panel and lets it draw.
fn open_tab(harness: &mut Harness<'static, App>, label: &str) {
    harness.get_by_label(label).click();
    harness.step();
    harness.step();
}

/// The sample, loaded through the start screen's button.
pub(crate) fn loaded_sample() -> Harness<'static, App> {
    loaded_sample_with(None)
}

/// The sample, with a file dialog that answers `dialog`.
fn loaded_sample_with(dialog: Option<PathBuf>) -> Harness<'static, App> {
    loaded_sample_in(egui::vec2(1400.0, 900.0), dialog)
}

/// The sample in a window of `size`, with a file dialog that answers `dialog`.
fn loaded_sample_in(size: egui::Vec2, dialog: Option<PathBuf>) -> Harness<'static, App> {
    let mut harness = Harness::builder()
        .with_size(size)
        .build_eframe(move |cc| App::new(Prefs::default(), Arc::new(ScriptedDialog(dialog)), None, &cc.egui_ctx));
    harness.step();
    let buttons: Vec<_> = harness.query_all_by_label("Load sample bank data").collect();
    assert_eq!(buttons.len(), 2, "one in the top bar, one on the start screen");
    buttons[1].click();
    step_until(&mut harness, "the sample to open", |app| app.session().is_some());
    settle(&mut harness);
    harness
}

#[test]
fn the_start_screen_loads_the_sample_bank_data() {
    let harness = loaded_sample();
    assert!(
        harness.query_by_label_contains("2831 events").is_some(),
        "the status bar counts the events"
    );
    assert_eq!(cursor_position(&harness), 1);
    assert!(
        harness.query_all_by_label_contains("holder: \"").count() >= 2,
        "the payload and the state show the holder"
    );
    assert!(
        harness.query_by_label("following the cursor").is_some(),
        "no stream is selected yet"
    );
}

#[test]
fn stepping_forward_changes_the_state_panel() {
    let mut harness = loaded_sample();
    assert!(harness.query_by_label("balance_cents: 0.00 EUR").is_some());
    harness.get_by_label("Fwd ▶").click();
    harness.step();
    settle(&mut harness);
    assert_eq!(cursor_position(&harness), 2);
    // Event 2 is the first (legacy v1) deposit into account-0001, upcast to cents.
    // {"amount": 1273.28} in major units became 127328 cents, shown as money.
    assert!(
        harness.query_by_label("balance_cents: 1,273.28 EUR").is_some(),
        "the deposit is in the state"
    );
    assert!(
        harness.query_by_label("balance_cents: 0.00 EUR").is_none(),
        "the balance changed"
    );
    assert!(
        harness.query_by_label("was 0.00 EUR").is_some(),
        "the previous value is shown"
    );
}

#[test]
fn typing_a_position_moves_the_cursor() {
    let mut harness = loaded_sample();
    go_to(&mut harness, 1759);
    assert_eq!(cursor_position(&harness), 1759);
    assert!(
        harness
            .query_by_label_contains("balance_cents: -1,416.43 EUR")
            .is_some(),
        "the incident's state"
    );
}

#[test]
fn a_projection_row_links_to_the_event_that_last_changed_it() {
    let mut harness = loaded_sample();
    go_to(&mut harness, 1759);
    open_tab(&mut harness, "Projections");
    // What the table shows for two accounts: the incident's row changed here, the one before
    // it earlier.
    let blamed = |harness: &Harness<'static, App>, key: &str| -> u64 {
        let app = harness.state();
        let balances = &app.view().unwrap().result.as_ref().unwrap().projections[0];
        assert_eq!(balances.name, "account_balances");
        let row = balances
            .rows
            .iter()
            .position(|(k, _)| k == key)
            .expect("the row is in the window");
        let ordinal = balances.changed_at[row].expect("the row's last change is known");
        app.session().unwrap().engine.index().position(ordinal)
    };
    assert_eq!(blamed(&harness, "account-0002"), 1759);
    let earlier = blamed(&harness, "account-0001");
    assert!(
        earlier < 1759,
        "account-0001 last changed before the cursor, at {earlier}"
    );
    harness
        .query_all_by_label(&format!("#{earlier}"))
        .next()
        .expect("the link to account-0001's last change")
        .click();
    harness.step();
    settle(&mut harness);
    assert_eq!(cursor_position(&harness), earlier);
    assert_eq!(shown_stream_id(&harness), "account-0001");
    // There, that row's last change is the cursor's own event.
    assert_eq!(blamed(&harness, "account-0001"), earlier);
}

/// The saga's chain walked back: the rejected withdrawal (1920) was caused by the order at 1919,
/// and the order's cancellation (1921) by the rejection.
#[test]
fn caused_by_jumps_to_the_event_that_caused_this_one() {
    let mut harness = loaded_sample();
    for (from, cause, stream) in [(1921, 1920, "account-0002"), (1920, 1919, "order-00325")] {
        go_to(&mut harness, from);
        harness.get_by_label_contains("caused by").click();
        step_until(&mut harness, "the cause to be found, or a message", |app| {
            let (session, view) = (app.session().unwrap(), app.view().unwrap());
            status(app).is_some() || view.timeline.cursor().map(|c| session.engine.index().position(c)) == Some(cause)
        });
        settle(&mut harness);
        assert_eq!(cursor_position(&harness), cause, "{:?}", status(harness.state()));
        assert_eq!(shown_stream_id(&harness), stream);
    }
}

fn go_to(harness: &mut Harness<'static, App>, position: u64) {
    type_go_to(harness, &position.to_string());
    assert_eq!(cursor_position(harness), position);
}

/// Types `text` in the Go to field and presses Go.
pub(crate) fn type_go_to(harness: &mut Harness<'static, App>, text: &str) {
    harness.get_by_label("Go to").focus();
    harness.step();
    // Replace what an earlier jump left in the field.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
    harness.step();
    harness.get_by_label("Go to").type_text(text);
    harness.step();
    harness.get_by_label("Go").click();
    harness.step();
    settle(harness);
}

/// Go to refuses what it cannot do, saying why, and leaves the cursor; a version goes to the
/// selected stream (switching to its mode), and a time in stream mode stays in the stream.
#[test]
fn go_to_says_what_it_cannot_do_and_a_version_goes_to_the_stream_shown() {
    let mut harness = loaded_sample();
    go_to(&mut harness, 1000);
    let error = |harness: &Harness<'static, App>| harness.state().view().unwrap().position_error.clone();
    for (text, says) in [
        ("abc", "`abc` is not a position"),
        ("99999", "no position 99999: this store's are 1 to 2831"),
        ("v21", "no v21 in order-00165: its versions are 1 to 3"),
        ("2023-12-31", "nothing was recorded by 2023-12-31 23:59:59.999"),
    ] {
        type_go_to(&mut harness, text);
        assert_eq!(cursor_position(&harness), 1000, "`{text}` leaves the cursor");
        assert!(
            error(&harness).is_some_and(|e| e.contains(says)),
            "`{text}`: {:?}",
            error(&harness)
        );
        assert!(
            harness.query_by_label_contains(says).is_some(),
            "`{text}`: the message is shown"
        );
    }

    open_tab(&mut harness, "Issues (1)");
    harness.get_by_label("Find first violation").click();
    harness.step();
    settle(&mut harness);
    assert_eq!(shown_stream_id(&harness), "account-0002");
    let at_cursor = |harness: &Harness<'static, App>| {
        let app = harness.state();
        let index = app.session().unwrap().engine.index();
        let header = index
            .header(app.view().unwrap().timeline.cursor().unwrap())
            .copied()
            .unwrap();
        (
            index.stream(header.stream).unwrap().stream_id.to_owned(),
            header.stream_version,
        )
    };
    type_go_to(&mut harness, "v21");
    assert_eq!(error(&harness), None);
    assert_eq!(at_cursor(&harness), ("account-0002".to_owned(), 21));
    assert!(harness.query_by_label("Only account-0002").is_some());

    type_go_to(&mut harness, "v99");
    assert!(
        error(&harness).is_some_and(|e| e.contains("no v99 in account-0002: its versions are 1 to 24")),
        "{:?}",
        error(&harness)
    );
    assert_eq!(at_cursor(&harness).1, 21, "the cursor stays");

    type_go_to(&mut harness, "2024-02-01");
    assert_eq!(error(&harness), None);
    let (stream, version) = at_cursor(&harness);
    assert_eq!(
        stream, "account-0002",
        "a time in stream mode stays in the stream (at v{version})"
    );
}

/// A read model with more rows than one window pages through them, and the page stays while
/// the cursor moves, until "Around the change" brings back the rows the cursor's event changed.
#[test]
fn a_projection_pages_through_its_rows() {
    let mut harness = loaded_sample();
    go_to(&mut harness, 1759);
    open_tab(&mut harness, "Projections");
    let window = rewind::session::PROJECTION_WINDOW;
    let shown = |harness: &Harness<'static, App>| -> Vec<(usize, usize, usize)> {
        let result = harness.state().view().unwrap().result.as_ref().unwrap();
        result
            .projections
            .iter()
            .map(|p| (p.window_start, p.rows.len(), p.row_count))
            .collect()
    };
    let before = shown(&harness);
    let big = before
        .iter()
        .position(|&(_, _, count)| count > 2 * window)
        .expect("a read model with more than two windows of rows");
    let (start, _, count) = before[big];
    let later: Vec<_> = harness.query_all_by_label("Later ▶").collect();
    assert_eq!(later.len(), before.len(), "one per read model");
    later[big].click_accesskit();
    harness.step();
    settle(&mut harness);
    let (paged, rows, _) = shown(&harness)[big];
    assert_eq!((paged, rows), (start + window, window.min(count - start - window)));
    assert!(
        harness
            .query_by_label_contains(&format!("rows {}–", paged + 1))
            .is_some()
    );

    // The page stays as the cursor moves; the other read models still follow the change.
    go_to(&mut harness, 1000);
    assert_eq!(shown(&harness)[big].0, paged);
    harness
        .query_all_by_label("◀ Earlier")
        .nth(big)
        .unwrap()
        .click_accesskit();
    harness.step();
    settle(&mut harness);
    assert_eq!(shown(&harness)[big].0, paged - window);

    harness.get_by_label("Around the change").click_accesskit();
    harness.step();
    settle(&mut harness);
    go_to(&mut harness, 1759);
    assert_eq!(shown(&harness), before, "back to the rows around the change");
}

#[test]
fn with_a_pinned_position_the_projection_rows_show_what_differs() {
    let mut harness = loaded_sample();
    go_to(&mut harness, 1000);
    harness.get_by_label("Pin").click();
    harness.step();
    go_to(&mut harness, 1759);
    open_tab(&mut harness, "Projections");
    assert!(
        harness
            .query_all_by_label_contains("of the shown rows differ from the pinned position 1000")
            .count()
            >= 2,
        "each projection counts the rows that differ"
    );
    let app = harness.state();
    let balances = &app.view().unwrap().result.as_ref().unwrap().projections[0];
    let pinned = balances.pinned_rows.as_ref().expect("the rows at the pinned position");
    let row = balances.rows.iter().position(|(k, _)| k == "account-0002").unwrap();
    let then = pinned[row].as_ref().expect("account-0002 was open at 1000");
    assert_ne!(
        then, &balances.rows[row].1,
        "its balance moved between 1000 and the incident"
    );
    assert_eq!(balances.rows[row].1["balance_cents"], -141_643);
}

#[test]
fn dragging_the_playhead_scrubs_the_timeline() {
    let mut harness = loaded_sample();
    let track = harness.get_by_label("Timeline").rect();
    harness.drag_at(track.left_center() + egui::vec2(10.0, 0.0));
    harness.step();
    harness.drop_at(track.center());
    harness.step();
    settle(&mut harness);
    let middle = cursor_position(&harness);
    assert!(
        (900..2000).contains(&middle),
        "the middle of the time track is mid-history, got {middle}"
    );
}

/// Zoomed in, the track pans to the cursor when a jump takes it out of sight.
#[test]
fn a_zoomed_timeline_follows_the_cursor_out_of_sight() {
    let mut harness = loaded_sample();
    let track = harness.get_by_label("Timeline").rect();
    harness.hover_at(track.center());
    harness.step();
    zoom_in(&mut harness, 20);
    let time_at_cursor = |harness: &Harness<'static, App>| {
        let app = harness.state();
        let index = app.session().unwrap().engine.index();
        index
            .header(app.view().unwrap().timeline.cursor().unwrap())
            .unwrap()
            .recorded_at_ms
    };
    let range = |harness: &Harness<'static, App>| harness.state().view().unwrap().timeline_view.range;
    let (start, end) = range(&harness).expect("zoomed in");
    let first = time_at_cursor(&harness);
    assert!(
        first < start,
        "the cursor (the first event) is out of sight once zoomed into the middle"
    );
    harness.key_press(Key::End);
    harness.step();
    settle(&mut harness);
    let last = time_at_cursor(&harness);
    let (after_start, after_end) = range(&harness).expect("still zoomed");
    assert_eq!(after_end - after_start, end - start, "the same zoom");
    assert!(
        (after_start..=after_end).contains(&last),
        "the view shows the last event"
    );
    harness.key_press(Key::Home);
    harness.step();
    settle(&mut harness);
    let (start, end) = range(&harness).expect("still zoomed");
    assert!((start..=end).contains(&first), "the view shows the first event again");
}

/// Turns the wheel `notches` times over the hovered track, a frame each.
fn zoom_in(harness: &mut Harness<'static, App>, notches: usize) {
    for _ in 0..notches {
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, 200.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: Modifiers::NONE,
        });
        harness.step();
    }
}

#[test]
fn keyboard_space_arrows_and_end_move_the_cursor() {
    let mut harness = loaded_sample();
    harness.key_press(Key::ArrowRight);
    harness.step();
    assert_eq!(cursor_position(&harness), 2);
    harness.key_press_modifiers(Modifiers::SHIFT, Key::ArrowRight);
    harness.step();
    assert_eq!(cursor_position(&harness), 102);
    harness.key_press(Key::ArrowLeft);
    harness.step();
    assert_eq!(cursor_position(&harness), 101);
    harness.key_press(Key::Space);
    harness.step();
    assert!(harness.state().view().unwrap().timeline.is_playing());
    harness.key_press(Key::Space);
    harness.step();
    assert!(!harness.state().view().unwrap().timeline.is_playing());
    harness.key_press(Key::End);
    harness.step();
    assert_eq!(cursor_position(&harness), 2831);
    harness.key_press(Key::Home);
    harness.step();
    assert_eq!(cursor_position(&harness), 1);
}

#[test]
fn clicking_an_issue_jumps_to_it_and_find_first_violation_does_too() {
    let mut harness = loaded_sample();
    open_tab(&mut harness, "Issues (1)");
    harness.get_by_label("invariant_violated").click();
    harness.step();
    settle(&mut harness);
    assert_eq!(cursor_position(&harness), 1759);

    harness.key_press(Key::Home);
    harness.step();
    open_tab(&mut harness, "Issues (1)");
    harness.get_by_label("Find first violation").click();
    harness.step();
    settle(&mut harness);
    assert_eq!(cursor_position(&harness), 1759);
    assert_eq!(shown_stream_id(&harness), "account-0002");

    // The status bar says what it found until the message is dismissed.
    assert!(status(harness.state()).is_some_and(|s| s.starts_with("first violation: ")));
    harness.get_by_label("×").click();
    harness.step();
    harness.step();
    assert_eq!(status(harness.state()), None);
    assert!(harness.query_by_label_contains("first violation: ").is_none());
}

#[test]
fn opening_a_corrupt_file_shows_the_error_and_the_app_keeps_running() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("broken.sqlite");
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend(std::iter::repeat_n(0x5A_u8, 8192));
    std::fs::write(&corrupt, bytes).unwrap();

    let mut harness = harness_with(Some(corrupt));
    harness.step();
    harness
        .query_all_by_label("Open file…")
        .next()
        .expect("an Open file button")
        .click();
    step_until(&mut harness, "the error", |app| app.error().is_some());
    let error = harness.state().error().unwrap().to_owned();
    assert!(error.contains("broken.sqlite"), "{error}");
    assert!(
        harness.query_by_label_contains("broken.sqlite").is_some(),
        "the error is shown in the window"
    );
    // Still usable: the sample opens afterwards.
    harness
        .query_all_by_label("Load sample bank data")
        .next()
        .unwrap()
        .click();
    step_until(&mut harness, "the sample to open", |app| app.session().is_some());
}

#[test]
fn filtering_the_event_list_by_payload_finds_the_duplicate_payout() {
    let mut harness = loaded_sample();
    harness.get_by_label("Find").focus();
    harness.step();
    harness.get_by_label("Find").type_text("legacy-payout");
    harness.step();
    harness.get_by_label("Filter").click();
    step_until(&mut harness, "the filter", |app| {
        app.view().is_some_and(|v| v.filter.matches.is_some())
    });
    let matches = harness.state().view().unwrap().filter.matches.clone().unwrap();
    assert_eq!(matches.len(), 2, "the payout and its duplicate");
    assert!(harness.query_by_label("2 matching event(s)").is_some());

    // A condition on a payload field works the same way.
    harness.get_by_label("Clear filter").click();
    harness.step();
    harness.get_by_label("Find").focus();
    harness.step();
    harness.get_by_label("Find").type_text("amount_cents > 280000");
    harness.step();
    harness.get_by_label("Filter").click();
    step_until(&mut harness, "the condition filter", |app| {
        app.view()
            .is_some_and(|v| v.filter.matches.is_some() && !v.filter.searching)
    });
    let found = harness.state().view().unwrap().filter.matches.clone().unwrap();
    let session = harness.state().session().unwrap();
    let positions: Vec<u64> = found.iter().map(|&o| session.engine.index().position(o)).collect();
    assert!(positions.contains(&1758) && positions.contains(&1759), "{positions:?}");

    // Every matching row on screen shows its payload, however far apart the matches lie.
    step_until(&mut harness, "the payloads of the rows shown", |app| {
        let view = app.view().unwrap();
        let index = app.session().unwrap().engine.index();
        let fetched: Vec<u64> = view.result.as_ref().map_or_else(Vec::new, |r| {
            r.window_events.iter().map(|e| e.global_position).collect()
        });
        !view.visible_rows.is_empty() && view.visible_rows.iter().all(|&o| fetched.contains(&index.position(o)))
    });
    let view = harness.state().view().unwrap();
    let (first, last) = (view.visible_rows[0], *view.visible_rows.last().unwrap());
    assert!(
        last - first > 400,
        "the rows shown lie {} events apart, more than one window of the list",
        last - first
    );
    assert!(
        harness.query_by_label_contains("legacy-payout").is_some(),
        "the duplicate payout's payload is shown in its row"
    );
}

#[test]
fn the_last_store_is_one_click_away_on_the_next_start() {
    let last = crate::util::sample_sqlite();
    let prefs = Prefs {
        recent_files: vec![last.clone().into()],
        last_store: Some(last.into()),
        ..Prefs::default()
    };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| App::new(prefs, Arc::new(ScriptedDialog(None)), None, &cc.egui_ctx));
    harness.step();
    harness.get_by_label("Reopen bank.sqlite").click();
    step_until(&mut harness, "the last store to open", |app| app.session().is_some());
    assert!(harness.query_by_label_contains("read as Rewind SQLite store").is_some());
}

/// Opens `path` through the (scripted) file dialog.
fn open_through_dialog(path: PathBuf) -> Harness<'static, App> {
    let mut harness = harness_with(Some(path));
    harness.step();
    harness
        .query_all_by_label("Open file…")
        .next()
        .expect("an Open file button")
        .click();
    harness
}

#[test]
fn a_python_eventsourcing_store_opens_generic_and_shows_its_amounts() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/python-eventsourcing/bank.sqlite");
    let mut harness = open_through_dialog(path);
    step_until(&mut harness, "the store to open", |app| app.session().is_some());
    settle(&mut harness);
    assert!(
        harness
            .query_by_label_contains("read as Python eventsourcing SQLite (table stored_events)")
            .is_some()
    );
    // Step to the first deposit: the generic state shows the library's `amount`.
    for _ in 0..2 {
        harness.key_press(Key::ArrowRight);
        harness.step();
    }
    settle(&mut harness);
    assert_eq!(cursor_position(&harness), 3);
    assert!(
        harness
            .query_by_label_contains("generic: fold of the payloads")
            .is_some()
    );
    let state = harness
        .state()
        .view()
        .unwrap()
        .result
        .clone()
        .unwrap()
        .aggregate
        .unwrap();
    assert_eq!(state.state["amount"], 100, "{}", state.state);
    assert!(
        harness
            .query_all_by_label_contains("bankdomain:BankAccount.Deposited")
            .next()
            .is_some(),
        "the inspector shows the whole topic"
    );
    // Lists show an event by its own name.
    assert!(harness.query_all_by_label("Deposited").count() >= 2, "the events list");
    assert!(harness.query_all_by_label("Opened").next().is_some());

    // The library's bookkeeping is hidden from the state until asked for.
    assert!(
        state.state.get("originator_topic").is_some(),
        "the fold keeps it: {}",
        state.state
    );
    assert!(harness.query_by_label_contains("originator_topic: ").is_none());
    assert!(harness.query_all_by_label_contains("amount: 100").next().is_some());
    harness
        .get_by_label_contains("Show the library's bookkeeping fields (originator_topic, timestamp)")
        .click();
    harness.step();
    harness.step();
    assert!(harness.query_by_label_contains("originator_topic: ").is_some());

    // No read models, and why.
    open_tab(&mut harness, "Projections");
    assert!(
        harness
            .query_by_label_contains("no domain replays its streams (they fold generically)")
            .is_some()
    );
    assert!(
        harness
            .query_by_label_contains("Read models come with a domain")
            .is_some()
    );
}

#[test]
fn an_unknown_schema_opens_through_the_mapping_dialog_and_the_mapping_is_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.db");
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .execute_batch(
            r#"CREATE TABLE "domain events" (seq INTEGER PRIMARY KEY, aggregate TEXT, kind TEXT, body TEXT, at TEXT, ver INTEGER);
               INSERT INTO "domain events" (aggregate, kind, body, at, ver) VALUES
                 ('cart-1', 'ItemAdded', '{"sku": "a"}', '2024-01-01 10:00:00', 1),
                 ('cart-1', 'ItemAdded', '{"sku": "b"}', '2024-01-01 10:00:05', 2),
                 (NULL, 'ItemAdded', '{}', '2024-01-01 10:00:09', 3);"#,
        )
        .unwrap();
    drop(connection);

    let mut harness = open_through_dialog(path.clone());
    step_until(&mut harness, "the mapping dialog", |app| app.mapping_dialog().is_some());
    assert!(harness.query_by_label("Map this store's events").is_some());
    let proposal = harness.state().mapping_dialog().unwrap().mapping.clone();
    assert_eq!(proposal.stream, "aggregate");
    assert_eq!(proposal.version.as_deref(), Some("seq"));
    // The version is wrong: pick `ver` instead.
    harness.run(); // the window sizes itself over the first frames
    harness.get_by_value("seq").click_accesskit();
    harness.step();
    harness.step();
    harness.get_by_label("ver").click();
    harness.step();
    assert_eq!(
        harness.state().mapping_dialog().unwrap().mapping.version.as_deref(),
        Some("ver")
    );
    harness.get_by_label("Open with this mapping").click();
    step_until(&mut harness, "the mapped store to open", |app| app.session().is_some());
    let session = harness.state().session().unwrap();
    assert_eq!(session.engine.index().len(), 2);
    assert_eq!(session.skipped.len(), 1);
    assert!(harness.query_by_label_contains("1 record(s) skipped").is_some());
    assert_eq!(
        harness
            .state()
            .prefs()
            .store(&path.clone().into())
            .and_then(|s| s.mapping.as_ref())
            .and_then(|m| m.version.as_deref()),
        Some("ver"),
        "the confirmed mapping is remembered for the file"
    );
}

#[test]
fn connect_to_postgresql_tests_the_connection_opens_read_only_and_remembers_no_password() {
    let cluster = crate::postgres::Cluster::start();
    let (url, _client) = cluster.database("bank");
    let made = crate::util::rewind(&["sample", "--postgres", &url, "--accounts", "10", "--orders", "10"]);
    assert!(made.status.success(), "{}", crate::util::stderr(&made));
    let with_password = url.replace("rewind@", "rewind:s3cret-pw@");

    let mut harness = harness_with(None);
    harness.step();
    harness.get_by_label("Connect to PostgreSQL…").click();
    harness.run();
    harness.get_by_label("URL").focus();
    harness.step();
    harness.get_by_label("URL").type_text(&with_password);
    harness.step();
    harness.get_by_label("Test connection").click();
    step_until(&mut harness, "the connection test", |app| {
        app.connect_dialog().is_some_and(|d| d.tested.is_some())
    });
    let tested = harness.state().connect_dialog().unwrap().tested.clone().unwrap();
    assert!(
        tested
            .as_ref()
            .is_ok_and(|t| t.contains("Rewind PostgreSQL (table events)")),
        "{tested:?}"
    );
    harness.get_by_label("Connect").click();
    step_until(&mut harness, "the database to open", |app| app.session().is_some());
    settle(&mut harness);
    assert!(
        harness
            .query_by_label_contains("read as Rewind PostgreSQL (table events)")
            .is_some()
    );
    assert!(
        harness.query_by_label_contains("s3cret-pw").is_none(),
        "the password is shown"
    );
    let prefs = harness.state().prefs();
    assert_eq!(
        prefs.last_store,
        Some(rewind_store::StoreLocation::parse(&url)),
        "remembered without the password"
    );
    assert!(prefs.recent_files.iter().all(|p| !p.to_string().contains("s3cret")));
}

fn status(app: &App) -> Option<&str> {
    app.view().and_then(|v| v.status.as_deref())
}

/// An auditor at the planted incident saves the account's evidence: its events up to the
/// cursor, the state after each, and the broken invariant; a save that cannot be written says
/// where and why, and the shortcut does the same as the button.
#[test]
fn export_evidence_saves_the_stream_shown_up_to_the_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("evidence.json");
    let mut harness = loaded_sample_with(Some(out.clone()));
    go_to(&mut harness, 1759);
    harness.get_by_label("Export evidence…").click();
    step_until(&mut harness, "the evidence to be written", |app| {
        status(app).is_some_and(|s| s.contains("written to"))
    });
    let shown = status(harness.state()).unwrap().to_owned();
    assert!(
        shown.contains("account-0002") && shown.contains("1 issue(s)"),
        "{shown}"
    );
    let evidence: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(evidence["stream_id"], "account-0002");
    assert_eq!(evidence["as_of"]["requested"]["global_position"], 1759);
    assert_eq!(evidence["as_of"]["global_position"], 1759);
    assert_eq!(evidence["state"]["balance_cents"], -141_643);
    assert_eq!(
        evidence["state_money"]["balance_cents"], "-1,416.43 EUR",
        "the raw value, and money as money"
    );
    let events = evidence["events"].as_array().unwrap();
    assert_eq!(events.last().unwrap()["state_after"], evidence["state"]);
    assert_eq!(evidence["issues"][0]["position"], 1759);

    // Nowhere to write: the status bar says so, and the app goes on.
    let mut harness = loaded_sample_with(Some(dir.path().join("missing-folder").join("evidence.json")));
    go_to(&mut harness, 1759);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::E);
    step_until(&mut harness, "the failure to be shown", |app| {
        status(app).is_some_and(|s| s.starts_with("⚠"))
    });
    let shown = status(harness.state()).unwrap();
    assert!(
        shown.contains("cannot write evidence") && shown.contains("missing-folder"),
        "{shown}"
    );

    // No file dialog on this desktop (it answers at once): the app asks for the path itself,
    // proposing a name, and never replaces a file there.
    let mut harness = loaded_sample_with(None);
    go_to(&mut harness, 1759);
    let typed = dir.path().join("typed.json");
    for attempt in 0..2 {
        harness.get_by_label("Export evidence…").click();
        step_until(&mut harness, "the app's own prompt", |app| app.path_prompt().is_some());
        let proposed = harness.state().path_prompt().unwrap().path.clone();
        assert!(proposed.ends_with("account-0002-at-1759.json"), "{proposed}");
        harness.get_by_label("file").focus();
        harness.step();
        harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
        harness.step();
        harness.get_by_label("file").type_text(typed.to_str().unwrap());
        harness.step();
        if attempt == 0 {
            harness.get_by_label("Save").click();
        } else {
            // Enter in the field saves too.
            harness.key_press(Key::Enter);
        }
        if attempt == 0 {
            step_until(&mut harness, "the save to finish", |app| {
                app.path_prompt().is_none() && status(app).is_some_and(|s| !s.starts_with("writing"))
            });
            let shown = status(harness.state()).unwrap();
            assert!(shown.contains("written to"), "{shown}");
        } else {
            // The file is there now: the prompt stays, and says why where it can be read whole.
            step_until(&mut harness, "the prompt's error", |app| {
                app.path_prompt().is_some_and(|p| p.error.is_some())
            });
            let error = harness.state().path_prompt().unwrap().error.clone().unwrap();
            assert!(
                error.contains("already exists") && error.contains("typed.json"),
                "{error}"
            );
            assert!(
                harness
                    .query_by_label_contains("never replaces a file: choose another name")
                    .is_some()
            );
            harness.key_press(Key::Escape);
            step_until(&mut harness, "the prompt to close", |app| app.path_prompt().is_none());
        }
    }
    let evidence: serde_json::Value = serde_json::from_slice(&std::fs::read(&typed).unwrap()).unwrap();
    assert_eq!(evidence["as_of"]["global_position"], 1759);
}

/// On a desktop with no file dialog (it answers at once), "Open file…" asks for the path in the
/// app; Escape closes the prompt, Enter opens what was typed.
#[test]
fn without_a_file_dialog_open_file_asks_for_the_path_in_the_app() {
    let mut harness = harness_with(None);
    harness.step();
    let open_file = |harness: &mut Harness<'static, App>| {
        harness
            .query_all_by_label("Open file…")
            .next()
            .expect("an Open file button")
            .click();
        step_until(harness, "the app's own prompt", |app| app.path_prompt().is_some());
    };
    open_file(&mut harness);
    assert!(harness.query_by_label("Open a store").is_some(), "the prompt is shown");
    harness.key_press(Key::Escape);
    step_until(&mut harness, "the prompt to close", |app| app.path_prompt().is_none());
    assert!(harness.state().session().is_none());

    open_file(&mut harness);
    harness.get_by_label("file").focus();
    harness.step();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
    harness.step();
    // A path with nothing there is said in the prompt, which stays.
    harness.get_by_label("file").type_text("/no/such/store.sqlite");
    harness.step();
    harness.key_press(Key::Enter);
    step_until(&mut harness, "the prompt's error", |app| {
        app.path_prompt().is_some_and(|p| p.error.is_some())
    });
    assert!(
        harness
            .query_by_label_contains("there is no file at /no/such/store.sqlite")
            .is_some()
    );
    harness.get_by_label("file").focus();
    harness.step();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
    harness.step();
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/bank.sqlite");
    harness.get_by_label("file").type_text(sample.to_str().unwrap());
    harness.step();
    harness.key_press(Key::Enter);
    step_until(&mut harness, "the store to open", |app| app.session().is_some());
    assert!(harness.query_by_label_contains("read as Rewind SQLite store").is_some());
}

/// Panels draw no background (on a software renderer their pixels were most of a frame's
/// cost); the window is cleared to the colour they had, so nothing looks different, in either
/// theme.
#[test]
fn the_window_behind_the_transparent_panels_is_their_colour_in_either_theme() {
    use eframe::App as _;
    let mut harness = harness_with(None);
    harness.step();
    for _ in 0..2 {
        let visuals = harness.ctx.global_style().visuals.clone();
        assert_eq!(visuals.panel_fill, egui::Color32::TRANSPARENT);
        let theme = if visuals.dark_mode {
            egui::Visuals::dark()
        } else {
            egui::Visuals::light()
        };
        // The same colour, bit for bit.
        assert_eq!(
            harness.state().clear_color(&visuals).map(f32::to_bits),
            theme.panel_fill.to_normalized_gamma_f32().map(f32::to_bits)
        );
        let other = if visuals.dark_mode { "Light theme" } else { "Dark theme" };
        harness.get_by_label(other).click();
        // One frame takes the click, the next is drawn in the new theme.
        harness.step();
        harness.step();
        assert_ne!(
            harness.ctx.global_style().visuals.dark_mode,
            visuals.dark_mode,
            "the theme changed"
        );
    }
}

/// A store that records no times (cqrs-es) is shown by position: the track lays its events out
/// in order (a click in its middle lands mid-history, where a time axis had nothing to spread),
/// times read `—`, and Go to a time says why it cannot.
#[test]
fn a_store_without_times_is_shown_by_position() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sqlite-es/incident.sqlite");
    let mut harness = open_through_dialog(path);
    step_until(&mut harness, "the store to open", |app| app.session().is_some());
    settle(&mut harness);
    assert!(harness.query_by_label("1970-01-01 00:00:00.000").is_none());
    assert!(
        harness.query_all_by_label("—").count() >= 12,
        "the events list and the streams list"
    );
    assert!(
        harness
            .query_by_label_contains("— (the store records no time)")
            .is_some()
    );
    let track = harness.get_by_label("Timeline").rect();
    harness.drag_at(track.center());
    harness.step();
    harness.drop_at(track.center());
    harness.step();
    settle(&mut harness);
    let middle = cursor_position(&harness);
    assert!(
        (5..=8).contains(&middle),
        "the middle of 12 events by position, got {middle}"
    );
    type_go_to(&mut harness, "2024-01-01");
    assert!(
        harness
            .query_by_label_contains("this store records no times: go to a position")
            .is_some()
    );
    assert_eq!(cursor_position(&harness), middle);
}

/// Notes (time that goes backwards within a stream) are shown apart from issues: counted in
/// the status bar and on the tab, listed under their own heading, and the store is said to
/// replay clean.
#[test]
fn notes_are_shown_apart_from_issues() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/python-eventsourcing/skewed.sqlite");
    let mut harness = open_through_dialog(path);
    step_until(&mut harness, "the store to open", |app| app.session().is_some());
    settle(&mut harness);
    let (issues, notes) = harness.state().session().unwrap().issue_counts();
    assert_eq!(issues, 0);
    assert!(notes > 0);
    assert!(
        harness
            .query_by_label_contains(&format!("0 issue(s) · {notes} note(s)"))
            .is_some()
    );
    open_tab(&mut harness, &format!("Issues (0 · {notes} notes)"));
    assert!(
        harness
            .query_by_label_contains(&format!("{notes} note(s): clock oddities"))
            .is_some()
    );
    assert!(
        harness
            .query_by_label_contains("Replay found no issue: every event applied and every invariant held.")
            .is_some()
    );
}

/// A UUID stream is found with or without its dashes, in the streams filter and on the
/// command line.
#[test]
fn a_uuid_stream_is_found_with_or_without_dashes() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/python-eventsourcing/bank.sqlite");
    let output = crate::util::rewind(&[
        "state",
        path.to_str().unwrap(),
        "--stream",
        "2cb26e6a-ae4b-5fc0-b3e8-4f8a1bf4b1f1",
    ]);
    assert!(output.status.success(), "{}", crate::util::stderr(&output));
    let state = crate::util::json(&output);
    assert_eq!(
        state["stream_id"], "2cb26e6aae4b5fc0b3e84f8a1bf4b1f1",
        "the store's spelling"
    );
    assert_eq!(state["stream_version"], 4);

    let mut harness = open_through_dialog(path);
    step_until(&mut harness, "the store to open", |app| app.session().is_some());
    settle(&mut harness);
    // The other stream's id shows in the streams list and in the events list.
    let other_before = harness.query_all_by_label_contains("c0cc35").count();
    let this_before = harness.query_all_by_label_contains("2cb26e").count();
    harness.get_by_label("Filter streams").click();
    harness.step();
    harness.get_by_label("Filter streams").type_text("2cb26e6a-ae4b");
    harness.step();
    harness.step();
    assert_eq!(
        harness.query_all_by_label_contains("c0cc35").count(),
        other_before - 1,
        "the other stream leaves the streams list"
    );
    assert_eq!(
        harness.query_all_by_label_contains("2cb26e").count(),
        this_before,
        "this one stays"
    );
}

/// Double-clicking the zoomed track shows everything and leaves the cursor where it was (its
/// first click moved it: 2666 went to 2231).
#[test]
fn double_clicking_the_track_shows_everything_and_keeps_the_cursor() {
    // Frames of a sixtieth of a second, so that two clicks fall within the double-click time.
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_step_dt(1.0 / 60.0)
        .build_eframe(|cc| App::new(Prefs::default(), Arc::new(ScriptedDialog(None)), None, &cc.egui_ctx));
    harness.step();
    harness
        .query_all_by_label("Load sample bank data")
        .nth(1)
        .expect("the start screen's button")
        .click();
    step_until(&mut harness, "the sample to open", |app| app.session().is_some());
    settle(&mut harness);
    type_go_to(&mut harness, "2666");
    settle(&mut harness);
    assert_eq!(cursor_position(&harness), 2666);
    let track = harness.get_by_label("Timeline").rect();
    harness.hover_at(track.center());
    harness.step();
    zoom_in(&mut harness, 5);
    // The wheel scrolls smoothly, over frames: let it come to rest.
    for _ in 0..120 {
        harness.step();
    }
    assert!(
        harness.state().view().unwrap().timeline_view.range.is_some(),
        "zoomed in"
    );
    let elsewhere = track.left_center() + egui::vec2(track.width() * 0.3, 0.0);
    harness.event(egui::Event::PointerMoved(elsewhere));
    harness.step();
    for _ in 0..2 {
        for pressed in [true, false] {
            harness.event(egui::Event::PointerButton {
                pos: elsewhere,
                button: egui::PointerButton::Primary,
                pressed,
                modifiers: Modifiers::NONE,
            });
            harness.step();
        }
    }
    settle(&mut harness);
    assert_eq!(
        harness.state().view().unwrap().timeline_view.range,
        None,
        "everything is shown"
    );
    assert_eq!(cursor_position(&harness), 2666, "the cursor stayed");
}

/// The diff names the stream and the two positions it compares, and which of the stream's
/// events each state is after: the pin is at 1759, the stream's event before the cursor is not
/// at the cursor.
#[test]
fn the_diff_says_exactly_what_it_compares() {
    let mut harness = loaded_sample();
    open_tab(&mut harness, "Issues (1)");
    harness.get_by_label("Find first violation").click();
    settle(&mut harness);
    harness.get_by_label("Watch this stream").click();
    harness.step();
    harness.get_by_label_contains("Pin").click();
    harness.step();
    type_go_to(&mut harness, "2000");
    settle(&mut harness);
    harness.get_by_label("Diff with pinned position").click();
    harness.step();
    settle(&mut harness);
    let app = harness.state();
    let index = app.session().unwrap().engine.index();
    let stream = index.stream(index.stream_idx("account-0002").unwrap()).unwrap();
    let (mut version, mut last) = (0, 0);
    for &o in stream.ordinals {
        let position = index.position(o as usize);
        if position <= 2000 {
            version = index.headers()[o as usize].stream_version;
            last = position;
        }
    }
    assert_ne!(last, 2000, "the stream's last event before the cursor is elsewhere");
    let pinned_version = index.headers()[index.ordinal_at_or_before_position(1759).unwrap()].stream_version;
    let heading = format!(
        "account-0002 from the pinned position 1759 (after its version {pinned_version}, at 1759) to the cursor, position 2000 (after its version {version}, at {last}):"
    );
    assert!(harness.query_by_label(&heading).is_some(), "{heading}");
}

/// Links to an event show its stream without watching it; watching is the user's choice, is
/// shown, holds while moving in time, and is let go with one click or by following a link to
/// another stream's event (which says so).
#[test]
fn a_stream_is_watched_only_when_chosen_and_let_go_visibly() {
    let mut harness = loaded_sample();
    let follow_caused_by = |harness: &mut Harness<'static, App>| {
        harness.get_by_label_contains("caused by").click();
        step_until(harness, "the cause", |app| {
            let (session, view) = (app.session().unwrap(), app.view().unwrap());
            view.timeline.cursor().map(|c| session.engine.index().position(c)) == Some(1920)
        });
        settle(harness);
    };
    go_to(&mut harness, 1921);
    follow_caused_by(&mut harness);
    assert_eq!(shown_stream_id(&harness), "account-0002");
    assert!(
        harness.state().view().unwrap().selected_stream.is_none(),
        "a link watches nothing"
    );
    assert!(harness.query_by_label("following the cursor").is_some());

    // Go to another stream's event: the state follows the cursor there.
    go_to(&mut harness, 1756);
    settle(&mut harness);
    let at_1756 = {
        let app = harness.state();
        let index = app.session().unwrap().engine.index();
        let header = index.headers()[index.ordinal_at_or_before_position(1756).unwrap()];
        index.stream(header.stream).unwrap().stream_id.to_owned()
    };
    assert_ne!(at_1756, "account-0002");
    assert_eq!(shown_stream_id(&harness), at_1756);

    // Watching is a choice: it holds through Go to, and is shown.
    harness.get_by_label("Watch this stream").click();
    harness.step();
    go_to(&mut harness, 1921);
    settle(&mut harness);
    assert_eq!(shown_stream_id(&harness), at_1756);
    assert!(harness.query_by_label("watching").is_some());

    // A link to another stream's event lets it go, and says so.
    follow_caused_by(&mut harness);
    assert_eq!(shown_stream_id(&harness), "account-0002");
    assert!(harness.state().view().unwrap().selected_stream.is_none());
    let said = status(harness.state()).unwrap_or_default();
    assert!(said.contains(&format!("stopped watching {at_1756}")), "{said}");

    // And one click lets it go.
    harness.get_by_label("Watch this stream").click();
    harness.step();
    harness.step();
    assert!(harness.state().view().unwrap().selected_stream.is_some());
    harness.query_all_by_label("Stop watching").next().unwrap().click();
    harness.step();
    assert!(harness.state().view().unwrap().selected_stream.is_none());
}

/// At 1024×700, with a position pinned and an error under Go to, every control is inside the
/// window: the toolbar wraps instead of running off its right edge, and the streams keep their
/// Last column.
#[test]
fn everything_is_reachable_in_a_1024_by_700_window() {
    let mut harness = loaded_sample_in(egui::vec2(1024.0, 700.0), None);
    settle(&mut harness);
    go_to(&mut harness, 1759);
    harness.get_by_label("Pin").click();
    harness.step();
    type_go_to(&mut harness, "abc");
    harness.step();
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1024.0, 700.0));
    for label in [
        "Unpin 1759",
        "Go",
        "Only account-0002",
        "Filter",
        "Stored form",
        "Last",
        "Export evidence…",
        "Watch this stream",
        "Diff with pinned position",
        "Light theme",
    ] {
        let node = harness
            .query_all_by_label(label)
            .next()
            .unwrap_or_else(|| panic!("`{label}` is shown"));
        let rect = node.rect();
        assert!(
            window.contains_rect(rect),
            "`{label}` at {rect:?} is outside the window"
        );
    }
    assert!(
        harness.query_by_label_contains("is not a position").is_some(),
        "the error is shown"
    );
}

/// Hovering the track names the event a click there would go to (and says when it broke an
/// invariant), not only how to use the track.
#[test]
fn hovering_the_timeline_names_the_event_under_the_pointer() {
    let mut harness = loaded_sample();
    harness.get_by_label("Timeline").hover();
    for _ in 0..60 {
        harness.step();
    }
    let app = harness.state();
    let session = app.session().unwrap();
    let index = session.engine.index();
    // The track's middle is the middle of the sample's time span.
    let times = (0..index.len()).filter_map(|o| index.headers()[o].recorded_at_ms());
    let (first, last) = (times.clone().min().unwrap(), times.max().unwrap());
    let middle = chrono::DateTime::from_timestamp_millis(first + (last - first) / 2).unwrap();
    let under = index.ordinal_at_or_before_time(middle).unwrap();
    let expected = format!("position {} · ", index.position(under));
    let near: Vec<u64> = (index.position(under).saturating_sub(3)..=index.position(under) + 3).collect();
    assert!(
        near.iter()
            .any(|p| harness.query_by_label_contains(&format!("position {p} · ")).is_some()),
        "a tooltip near {expected}"
    );
    assert!(harness.query_by_label_contains("Click or drag to go there").is_some());
}

/// An issue's message cut by a narrow window ends in "…" and is whole on hover.
#[test]
fn an_issue_message_is_whole_on_hover() {
    let mut harness = loaded_sample_in(egui::vec2(1024.0, 700.0), None);
    settle(&mut harness);
    open_tab(&mut harness, "Issues (1)");
    let message = "balance went negative after MoneyWithdrawn: from 141643 to -141643 cents";
    let cell = harness.get_by_label(message);
    assert!(
        cell.rect().max.x <= 1024.0,
        "the cell is cut to the window: {:?}",
        cell.rect()
    );
    cell.hover();
    for _ in 0..60 {
        harness.step();
    }
    assert!(
        harness
            .query_by_label(&format!("invariant_violated: {message}"))
            .is_some(),
        "the tooltip names the kind and the whole message"
    );
}

/// The Projections tab shows the row the cursor's event changed without scrolling: after a
/// jump to the incident, account-0002's balance row is on screen in `account_balances`.
#[test]
fn the_row_an_event_changed_is_scrolled_into_view() {
    let mut harness = loaded_sample();
    open_tab(&mut harness, "Projections");
    go_to(&mut harness, 1000);
    settle(&mut harness);
    // The reader scrolls account_balances far down, then jumps.
    let title = harness.get_by_label_contains("account_balances ·").rect();
    harness.hover_at(egui::pos2(title.center().x, title.max.y + 100.0));
    harness.step();
    for _ in 0..10 {
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -400.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: Modifiers::NONE,
        });
        harness.step();
    }
    go_to(&mut harness, 1759);
    settle(&mut harness);
    // Scrolling is animated.
    for _ in 0..60 {
        harness.step();
    }
    let projections = harness.get_by_label_contains("account_balances ·").rect();
    let shown: Vec<egui::Rect> = harness
        .query_all_by_label("account-0002")
        .map(|n| n.rect())
        .filter(|r| r.min.x >= projections.min.x - 30.0 && r.min.y > projections.max.y)
        .collect();
    assert!(!shown.is_empty(), "account-0002's row is drawn in the read model");
}

/// While the cursor moves faster than seeks answer, the event list's heading and highlighted
/// row show the event the inspector shows, in every frame.
#[test]
fn every_panel_shows_the_same_event_in_each_frame() {
    let mut harness = loaded_sample();
    for _ in 0..40 {
        harness.key_press(Key::ArrowRight);
        harness.step();
        let view = harness.state().view().unwrap();
        let Some(event) = view.result.as_ref().and_then(|r| r.event.as_ref()) else {
            continue;
        };
        assert!(
            harness
                .query_by_label_contains(&format!("position {} · ", event.global_position))
                .is_some(),
            "the heading names position {}",
            event.global_position
        );
    }
}

/// The duplicate withdrawal proven side by side: pinned at the payout (1758), the duplicate at
/// 1759 has the same payload and metadata; only its own identity, place and time differ.
#[test]
fn two_events_compare_side_by_side() {
    let mut harness = loaded_sample();
    go_to(&mut harness, 1758);
    harness.get_by_label("Pin").click();
    harness.step();
    go_to(&mut harness, 1759);
    settle(&mut harness);
    harness.get_by_label("Compare with the pinned event at 1758").click();
    harness.step();
    harness.step();
    assert!(
        harness
            .query_by_label(
                "payload identical; metadata identical; its own fields: version, position, recorded at, event id differ"
            )
            .is_some(),
        "what differs is said in a line"
    );
    assert!(
        harness.query_by_label("payload reference").is_some(),
        "payload fields are listed"
    );
    assert!(harness.query_by_label("pinned, 1758").is_some());
    assert!(harness.query_by_label("this, 1759").is_some());
}

/// The bank says its `…_cents` fields are money in the row's currency: the state and the read
/// models show `-1,416.43 EUR`, the stored value on hover.
#[test]
fn money_is_shown_as_money() {
    let mut harness = loaded_sample();
    go_to(&mut harness, 1759);
    settle(&mut harness);
    assert!(
        harness.query_by_label("balance_cents: -1,416.43 EUR").is_some(),
        "the state"
    );
    harness.get_by_label("balance_cents: -1,416.43 EUR").hover();
    for _ in 0..40 {
        harness.step();
    }
    assert!(harness.query_by_label("balance_cents (as stored: -141643)").is_some());
    open_tab(&mut harness, "Projections");
    settle(&mut harness);
    assert!(
        harness.query_all_by_label("-1,416.43 EUR").next().is_some(),
        "account_balances shows the balance as money"
    );
    assert!(
        harness.query_by_label("-> -1,416.43 EUR").is_some() && harness.query_by_label("1,416.43 EUR").is_some(),
        "and so does the change the event made"
    );
}

/// A store kept in a table per aggregate type (sqlite-es `with_tables`): the mapping dialog
/// shows the tables it merges, and opens them as one store with their streams apart.
#[test]
fn the_mapping_dialog_merges_a_table_per_aggregate_type() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sqlite-es/per-type-tables.sqlite");
    let mut harness = open_through_dialog(path);
    step_until(&mut harness, "the mapping dialog", |app| app.mapping_dialog().is_some());
    assert!(harness.query_by_label("A table per aggregate type").is_some());
    assert!(
        harness
            .query_by_label("payment_events (streams of type payment)")
            .is_some()
    );
    // The window takes its size over a few frames.
    for _ in 0..5 {
        harness.step();
    }
    harness.get_by_label("Open with this mapping").click();
    step_until(&mut harness, "the merged store to open", |app| {
        assert!(app.error().is_none(), "{:?}", app.error());
        app.session().is_some()
    });
    settle(&mut harness);
    let index = harness.state().session().unwrap().engine.index();
    let mut streams: Vec<String> = index.streams().map(|s| s.stream_id.to_owned()).collect();
    streams.sort();
    assert_eq!(
        streams,
        ["bank_account-17", "bank_account-18", "payment-17", "payment-18"]
    );
    assert!(harness.query_by_label_contains("2 tables merged by time").is_some());
}

/// A payload the library stored zlib-compressed is shown inflated, and the inspector says so.
#[test]
fn the_inspector_says_a_payload_was_stored_compressed() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/python-eventsourcing/compressed.sqlite");
    let mut harness = open_through_dialog(path);
    step_until(&mut harness, "the store to open", |app| app.session().is_some());
    settle(&mut harness);
    assert!(
        harness
            .query_by_label("ℹ payload stored zlib-compressed; shown inflated")
            .is_some()
    );
    assert!(harness.query_all_by_label_contains("owner: \"Alice\"").next().is_some());
}
