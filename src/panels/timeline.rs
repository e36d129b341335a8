//! The scrubber: controls, a time track with the density graph, issue markers and the
//! draggable playhead, zoom and pan.

use egui::{Align2, FontId, Pos2, Rect, RichText, Sense, Stroke, Ui, pos2, vec2};

use rewind_engine::filter::{Bound, time_bound};
use rewind_engine::{CursorMode, Ordinal, TimelineCommand};

use crate::command::{AppCommand, UiCommand, ViewCommand};
use crate::session::Session;
use crate::theme;
use crate::view::{Axis, View, clamp_range, seek_to_ordinal, seek_to_time};

const SPEEDS: &[f32] = &[0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];

/// The scrubber, and the Go to field as typed.
#[derive(Default)]
pub struct TimelinePanel {
    go_to: String,
    /// Where the cursor was before the last click on the track: a double-click (to see
    /// everything) puts it back, since its first click moved it.
    before_click: Option<Ordinal>,
    /// Where a Shift+drag started (a time on the track): the range it sweeps filters the events.
    range_from: Option<i64>,
}

impl TimelinePanel {
    pub fn show(&mut self, ui: &mut Ui, session: &Session, view: &View, commands: &mut Vec<AppCommand>) {
        egui::Panel::bottom("timeline").resizable(false).show(ui, |ui| {
            ui.add_space(4.0);
            self.controls(ui, session, view, commands);
            ui.add_space(2.0);
            track(
                ui,
                session,
                view,
                (&mut self.before_click, &mut self.range_from),
                commands,
            );
            ui.add_space(4.0);
        });
    }

    fn controls(&mut self, ui: &mut Ui, session: &Session, view: &View, commands: &mut Vec<AppCommand>) {
        controls(&mut self.go_to, ui, session, view, commands);
    }
}

fn controls(go_to: &mut String, ui: &mut Ui, session: &Session, view: &View, commands: &mut Vec<AppCommand>) {
    let index = session.engine.index();
    let timeline = &view.timeline;
    let mut timeline_commands = Vec::new();
    let mut send = |command| timeline_commands.push(command);
    // Wrapped: in a small window the rest goes to a second line rather than out of sight.
    ui.horizontal_wrapped(|ui| {
        for command in [UiCommand::JumpToStart, UiCommand::StepBack] {
            if command.button(ui) {
                commands.push(command.command());
            }
        }
        let play = if timeline.is_playing() { "Pause" } else { UiCommand::PlayPause.label() };
        if UiCommand::PlayPause.button_labelled(ui, play) {
            commands.push(UiCommand::PlayPause.command());
        }
        for command in [UiCommand::StepForward, UiCommand::JumpToEnd] {
            if command.button(ui) {
                commands.push(command.command());
            }
        }
        let speed_label = if timeline.is_as_recorded() {
            format!("{}× as recorded", timeline.speed())
        } else {
            format!("{}×", timeline.speed())
        };
        egui::ComboBox::from_id_salt("speed")
            .selected_text(speed_label)
            .show_ui(ui, |ui| {
                for &speed in SPEEDS {
                    if ui
                        .selectable_label((timeline.speed() - speed).abs() < f32::EPSILON, format!("{speed}×"))
                        .clicked()
                    {
                        send(TimelineCommand::SetSpeed(speed));
                    }
                }
                ui.separator();
                let mut as_recorded = timeline.is_as_recorded();
                let (axis, why) = Axis::of(index);
                let checkbox = ui.add_enabled(
                    axis == Axis::Time,
                    egui::Checkbox::new(&mut as_recorded, "As recorded"),
                );
                let checkbox = match why {
                    Some(why) => checkbox.on_disabled_hover_text(format!("Playback goes event by event: the track is {why}")),
                    None => checkbox.on_hover_text("Replay with the recorded time between events"),
                };
                if checkbox.changed() {
                    send(TimelineCommand::SetAsRecorded(as_recorded));
                }
            })
            .response
            .on_hover_text("Playback speed");
        ui.separator();
        let global = timeline.mode() == CursorMode::Global;
        if ui
            .selectable_label(global, "All streams")
            .on_hover_text("Step through every event in global order")
            .clicked()
        {
            send(TimelineCommand::SetMode(CursorMode::Global));
        }
        // The stream the state shows: the watched one, or the cursor's.
        let shown = view.state_stream(session);
        let stream_label = shown.and_then(|s| index.stream(s)).map_or("One stream".to_owned(), |e| {
            format!("Only {}", crate::widgets::elided_middle(ui, e.stream_id, 150.0))
        });
        let response = ui.add_enabled(shown.is_some(), egui::Button::selectable(!global, stream_label));
        if response
            .on_hover_text("Watch this stream and step through it by version; the event list shows its events only, with the state after each")
            .clicked()
            && let Some(s) = shown
        {
            send(TimelineCommand::SetMode(CursorMode::Stream(s)));
        }
        ui.separator();
        let label = ui.label("Go to");
        let edit = egui::TextEdit::singleline(go_to)
            .hint_text("position or time")
            .desired_width(150.0);
        let response = ui
            .add(edit)
            .labelled_by(label.id)
            .on_hover_text("A global position (1759), a version of the stream shown (v21), a time (2024-02-26T05:00:00Z) or a date (2024-02-26, its end); Enter to go");
        let go = ui.button("Go").clicked();
        if go || (response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))) {
            commands.push(ViewCommand::GoTo(go_to.clone()).into());
        }
        ui.separator();
        match view.pinned {
            Some(pinned) => {
                let position = index.position_of(pinned).unwrap_or(0);
                if ui.button(format!("Unpin {position}")).clicked() {
                    commands.push(ViewCommand::Unpin.into());
                }
            }
            None => {
                if UiCommand::Pin.button(ui) {
                    commands.push(UiCommand::Pin.command());
                }
            }
        }
    });
    // On a line of its own, so the controls and the track keep their width.
    if let Some(error) = &view.position_error {
        ui.label(RichText::new(error).color(theme::text(ui, theme::VIOLATION)));
    }
    commands.extend(timeline_commands.into_iter().map(AppCommand::from));
}

fn track(
    ui: &mut Ui,
    session: &Session,
    view: &View,
    (before_click, range_from): (&mut Option<Ordinal>, &mut Option<i64>),
    commands: &mut Vec<AppCommand>,
) {
    let index = session.engine.index();
    let headers = index.headers();
    if headers.is_empty() {
        ui.label("This store has no events.");
        return;
    }
    // By time when the store's times allow it, by position otherwise (and said).
    let (axis, why) = Axis::of(index);
    let at = |ordinal: usize| axis.value(headers, ordinal);
    let full = axis.full(index);
    let (start, end) = view.timeline_view.range.unwrap_or(full);
    let width = ui.available_width();
    let (rect, response) = ui.allocate_exact_size(vec2(width, theme::TIMELINE_TRACK_HEIGHT), Sense::click_and_drag());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Slider, true, "Timeline"));
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    painter.rect_filled(rect, 4.0, visuals.extreme_bg_color);

    let graph = Rect::from_min_max(
        pos2(rect.left(), rect.top() + 14.0),
        pos2(rect.right(), rect.bottom() - 14.0),
    );
    let x_from_time =
        |t: i64| graph.left() + ((t - start) as f64 / (end - start).max(1) as f64 * f64::from(graph.width())) as f32;
    let time_from_x = |x: f32| start + (f64::from((x - graph.left()) / graph.width()) * (end - start) as f64) as i64;
    // The event a click there would go to, and how to move about.
    let under = response
        .hover_pos()
        .and_then(|p| event_under(view, session, axis, time_from_x(p.x.clamp(graph.left(), graph.right()))));
    let response = response.on_hover_ui(|ui| {
        if let Some(ordinal) = under {
            ui.label(RichText::new(describe(session, ordinal)).strong());
            let flags = headers[ordinal].flags;
            if flags & rewind_engine::EventHeader::VIOLATION != 0 {
                ui.label(RichText::new("⚠ an invariant broke here").color(theme::text(ui, theme::VIOLATION)));
            } else if flags & rewind_engine::EventHeader::HAS_ISSUE != 0 {
                ui.label(RichText::new("⚠ a replay issue here").color(theme::text(ui, theme::ISSUE)));
            }
        }
        ui.label(
            RichText::new("Click or drag to go there · Shift+drag to filter the events to a time range · scroll to zoom · Shift+scroll to pan · double-click to see all")
                .weak(),
        );
    });

    // Density: events per pixel column. In stream mode, only the watched stream's events.
    let columns = graph.width().max(1.0) as usize;
    let counts: Vec<u32> = match view.timeline.mode() {
        CursorMode::Global => (0..columns)
            .map(|c| {
                let t0 = time_from_x(graph.left() + c as f32);
                let t1 = time_from_x(graph.left() + c as f32 + 1.0);
                (axis.events_up_to(headers, t1 - 1) - axis.events_up_to(headers, t0 - 1)) as u32
            })
            .collect(),
        CursorMode::Stream(s) => {
            let mut counts = vec![0u32; columns];
            if let Some(entry) = index.stream(s) {
                for &o in entry.ordinals {
                    let x = x_from_time(at(o as usize)) - graph.left();
                    if x >= 0.0 && (x as usize) < columns {
                        counts[x as usize] += 1;
                    }
                }
            }
            counts
        }
    };
    let max = counts.iter().copied().max().unwrap_or(1).max(1) as f32;
    for (c, &count) in counts.iter().enumerate() {
        if count > 0 {
            let h = (count as f32 / max).sqrt() * graph.height();
            let x = graph.left() + c as f32;
            painter.line_segment(
                [pos2(x, graph.bottom()), pos2(x, graph.bottom() - h.max(1.0))],
                Stroke::new(1.0, theme::DENSITY),
            );
        }
    }

    // Issue markers: violations red, other issues orange, drawn on top of the graph.
    for issue in session.engine.issues() {
        let Some(ordinal) = index.ordinal_at_or_before_position(issue.position) else {
            continue;
        };
        let t = at(ordinal);
        if t < start || t > end {
            continue;
        }
        let x = x_from_time(t);
        // Notes are drawn thin and grey: seen, not alarming.
        if issue.severity() == rewind_core::Severity::Note {
            painter.line_segment(
                [pos2(x, rect.top() + 8.0), pos2(x, rect.bottom() - 2.0)],
                Stroke::new(1.0, theme::NOTE),
            );
            continue;
        }
        let colour = if issue.kind.is_invariant_violation() {
            theme::VIOLATION
        } else {
            theme::ISSUE
        };
        painter.line_segment(
            [pos2(x, rect.top() + 2.0), pos2(x, rect.bottom() - 2.0)],
            Stroke::new(2.0, colour),
        );
        painter.circle_filled(pos2(x, rect.top() + 6.0), 4.0, colour);
    }

    if let Some(pinned) = view.pinned.filter(|&p| p < headers.len()) {
        let x = x_from_time(at(pinned));
        painter.line_segment(
            [pos2(x, rect.top()), pos2(x, rect.bottom())],
            Stroke::new(1.5, theme::PINNED),
        );
    }

    // The playhead.
    if let Some(cursor) = view.timeline.cursor().filter(|&c| c < headers.len()) {
        let x = x_from_time(at(cursor));
        painter.line_segment(
            [pos2(x, rect.top()), pos2(x, rect.bottom())],
            Stroke::new(2.0, theme::PLAYHEAD),
        );
        painter.add(egui::Shape::convex_polygon(
            vec![
                pos2(x - 6.0, rect.top()),
                pos2(x + 6.0, rect.top()),
                pos2(x, rect.top() + 8.0),
            ],
            theme::PLAYHEAD,
            Stroke::NONE,
        ));
    }

    let label_font = FontId::proportional(11.0);
    let label_colour = visuals.weak_text_color();
    let fmt = |value: i64| match axis {
        Axis::Time => chrono::DateTime::from_timestamp_millis(value)
            .map_or(String::new(), |t| t.format("%Y-%m-%d %H:%M").to_string()),
        Axis::Position => usize::try_from(value)
            .ok()
            .and_then(|ordinal| index.position_of(ordinal.min(headers.len() - 1)))
            .map_or(String::new(), |position| format!("position {position}")),
    };
    painter.text(
        pos2(rect.left() + 4.0, rect.bottom() - 2.0),
        Align2::LEFT_BOTTOM,
        fmt(start),
        label_font.clone(),
        label_colour,
    );
    painter.text(
        pos2(rect.right() - 4.0, rect.bottom() - 2.0),
        Align2::RIGHT_BOTTOM,
        fmt(end),
        label_font.clone(),
        label_colour,
    );
    let middle = match (&why, view.timeline_view.range.is_some()) {
        (Some(why), true) => Some(format!("{why} · zoomed · double-click to see all")),
        (Some(why), false) => Some(why.clone()),
        (None, true) => Some("zoomed · double-click to see all".to_owned()),
        (None, false) => None,
    };
    if let Some(middle) = middle {
        painter.text(
            pos2(rect.center().x, rect.bottom() - 2.0),
            Align2::CENTER_BOTTOM,
            middle,
            label_font,
            label_colour,
        );
    }

    // The time range the event list is filtered to, shaded.
    if axis == Axis::Time {
        let applied = &view.filter.applied;
        let bound = |text: &str, bound| time_bound(text, bound, "").ok().flatten();
        let (from, to) = (bound(&applied.from, Bound::From), bound(&applied.to, Bound::To));
        if from.is_some() || to.is_some() {
            let left = from.map_or(graph.left(), &x_from_time).max(graph.left());
            let right = to.map_or(graph.right(), &x_from_time).min(graph.right());
            if right > left {
                painter.rect_filled(
                    Rect::from_x_y_ranges(left..=right, rect.y_range()),
                    0.0,
                    theme::highlight(visuals.dark_mode).gamma_multiply(0.5),
                );
            }
        }
    }

    // Shift+drag sweeps a time range that filters the event list (From/To), instead of scrubbing.
    let shift = ui.input(|i| i.modifiers.shift);
    if response.drag_started()
        && shift
        && axis == Axis::Time
        && let Some(pointer) = response.interact_pointer_pos()
    {
        *range_from = Some(time_from_x(pointer.x.clamp(graph.left(), graph.right())));
    }
    if let Some(start) = *range_from {
        let at = response
            .interact_pointer_pos()
            .or_else(|| ui.input(|i| i.pointer.latest_pos()));
        let now = at.map_or(start, |p| time_from_x(p.x.clamp(graph.left(), graph.right())));
        let (a, b) = (x_from_time(start.min(now)), x_from_time(start.max(now)));
        painter.rect_filled(
            Rect::from_x_y_ranges(a..=b.max(a + 1.0), rect.y_range()),
            0.0,
            theme::highlight(visuals.dark_mode),
        );
        if response.drag_stopped() || !response.dragged() {
            *range_from = None;
            let written = |ms: i64| {
                chrono::DateTime::from_timestamp_millis(ms)
                    .map_or_else(String::new, |t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
            };
            commands.push(
                ViewCommand::ApplyFilter(crate::view::FilterRequest {
                    from: written(start.min(now)),
                    to: written(start.max(now)),
                    ..view.filter.applied.clone()
                })
                .into(),
            );
        }
        return;
    }

    // Scrub: a click or drag puts the cursor on the last event at or before that time. A
    // double-click shows everything and leaves the cursor where it was before it.
    if response.double_clicked() {
        commands.push(ViewCommand::SetTrackRange(None).into());
        if let Some(before) = before_click.take() {
            commands.push(AppCommand::from(TimelineCommand::SeekTo(before)));
        }
    } else if (response.dragged() || response.clicked())
        && let Some(pointer) = response.interact_pointer_pos()
    {
        *before_click = if response.clicked() {
            view.timeline.cursor()
        } else {
            None
        };
        let t = time_from_x(pointer.x.clamp(graph.left(), graph.right()));
        let seek = match axis {
            Axis::Time => seek_to_time(view, session, t),
            Axis::Position => seek_to_ordinal(view, session, usize::try_from(t).unwrap_or(0)),
        };
        commands.push(seek.into());
    }
    if response.hovered() {
        let (scroll, shift, hover) = ui.input(|i| (i.smooth_scroll_delta, i.modifiers.shift, i.pointer.hover_pos()));
        let delta = if shift { scroll.y + scroll.x } else { scroll.x };
        if delta != 0.0 {
            // Pan.
            let shift_ms = (-f64::from(delta / graph.width()) * (end - start) as f64) as i64;
            commands.push(ViewCommand::SetTrackRange(Some(clamp_range(start + shift_ms, end + shift_ms, full))).into());
        } else if scroll.y != 0.0
            && let Some(Pos2 { x, .. }) = hover
        {
            // Zoom around the pointer.
            let factor = f64::from((-scroll.y / 200.0).exp());
            let anchor = time_from_x(x);
            let new_start = anchor - ((anchor - start) as f64 * factor) as i64;
            let new_end = anchor + ((end - anchor) as f64 * factor) as i64;
            let range = clamp_range(new_start, new_end.max(new_start + axis.min_span()), full);
            commands.push(ViewCommand::SetTrackRange(Some(range)).into());
        }
    }
}

/// The event a click at `t` on the track goes to: the last at or before it (in stream mode,
/// the watched stream's).
fn event_under(view: &View, session: &Session, axis: Axis, t: i64) -> Option<Ordinal> {
    let index = session.engine.index();
    let global = match axis {
        Axis::Time => index.ordinal_at_or_before_time(chrono::DateTime::from_timestamp_millis(t)?)?,
        Axis::Position => usize::try_from(t).ok()?.min(index.len().checked_sub(1)?),
    };
    match view.timeline.mode() {
        CursorMode::Global => Some(global),
        CursorMode::Stream(s) => {
            let ordinals = index.stream(s)?.ordinals;
            let at = ordinals.partition_point(|&o| o as usize <= global);
            ordinals.get(at.saturating_sub(1)).map(|&o| o as Ordinal)
        }
    }
}

/// Short description of the event at `ordinal` (one in the index), for the status line.
pub fn describe(session: &Session, ordinal: Ordinal) -> String {
    let index = session.engine.index();
    let Some(header) = index.header(ordinal) else {
        return String::new();
    };
    format!(
        "position {} · {} · {} v{} · {}",
        index.position(ordinal),
        theme::time_or_unknown(header.recorded_at()),
        index.stream(header.stream).map_or("?", |e| e.stream_id),
        header.stream_version,
        theme::short_event_type(index.event_type_name(header.event_type))
    )
}
