//! The scrubber: controls, a time track with the density graph, issue markers and the
//! draggable playhead, zoom and pan.

use egui::{Align2, FontId, Pos2, Rect, RichText, Sense, Stroke, Ui, pos2, vec2};

use rewind_engine::{CursorMode, Ordinal, TimelineCommand};

use crate::app::{AppCommand, View};
use crate::session::Session;
use crate::theme;

/// The visible time range (zoom and pan), in milliseconds; `None` shows everything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrackView {
    pub range: Option<(i64, i64)>,
    /// The cursor when the track was last drawn: a zoomed view pans to the cursor when it
    /// moves out of sight (a jump, a step, playback), not when the user pans away from it.
    followed: Option<Ordinal>,
}

const SPEEDS: &[f32] = &[0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];

pub fn show(ui: &mut Ui, session: &Session, view: &mut View, commands: &mut Vec<AppCommand>) {
    egui::Panel::bottom("timeline").resizable(false).show(ui, |ui| {
        ui.add_space(4.0);
        controls(ui, session, view, commands);
        ui.add_space(2.0);
        track(ui, session, view, commands);
        ui.add_space(4.0);
    });
}

fn controls(ui: &mut Ui, session: &Session, view: &mut View, commands: &mut Vec<AppCommand>) {
    let index = session.engine.index();
    let timeline = &view.timeline;
    let mut timeline_commands = Vec::new();
    let mut send = |command| timeline_commands.push(command);
    let mut asked = None;
    ui.horizontal(|ui| {
        if ui.button("|◀ Start").on_hover_text("Jump to start (Home)").clicked() {
            send(TimelineCommand::JumpToStart);
        }
        if ui
            .button("◀ Back")
            .on_hover_text("Step back (Left arrow; Shift+Left for 100)")
            .clicked()
        {
            send(TimelineCommand::StepBack);
        }
        let play = if timeline.is_playing() { "Pause" } else { "▶ Play" };
        if ui.button(play).on_hover_text("Play / pause (Space)").clicked() {
            send(TimelineCommand::TogglePlaying);
        }
        if ui
            .button("Fwd ▶")
            .on_hover_text("Step forward (Right arrow; Shift+Right for 100)")
            .clicked()
        {
            send(TimelineCommand::StepForward);
        }
        if ui.button("End ▶|").on_hover_text("Jump to end (End)").clicked() {
            send(TimelineCommand::JumpToEnd);
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
                if ui
                    .checkbox(&mut as_recorded, "As recorded")
                    .on_hover_text("Replay with the recorded time between events")
                    .changed()
                {
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
        let selected = view.selected_stream;
        let stream_label = selected
            .and_then(|s| index.stream(s))
            .map_or("Selected stream".to_owned(), |e| format!("Only {}", e.stream_id));
        let response = ui.add_enabled(selected.is_some(), egui::Button::selectable(!global, stream_label));
        if response
            .on_hover_text("Step through the selected stream by version")
            .clicked()
            && let Some(s) = selected
        {
            send(TimelineCommand::SetMode(CursorMode::Stream(s)));
        }
        ui.separator();
        let label = ui.label("Go to");
        let edit = egui::TextEdit::singleline(&mut view.position_text)
            .hint_text("position or time")
            .desired_width(190.0);
        let response = ui
            .add(edit)
            .labelled_by(label.id)
            .on_hover_text("A global position (1759), a version of the selected stream (v21), a time (2024-02-26T05:00:00Z) or a date (2024-02-26, its end); Enter to go");
        let go = ui.button("Go").clicked();
        if go || (response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))) {
            asked = Some(parse_position(&view.position_text));
        }
        ui.separator();
        match view.pinned {
            Some(pinned) => {
                let position = index.position_of(pinned).unwrap_or(0);
                if ui.button(format!("Unpin {position}")).clicked() {
                    commands.push(AppCommand::Unpin);
                }
            }
            None => {
                if ui
                    .button("Pin")
                    .on_hover_text("Pin this position to diff the state against it")
                    .clicked()
                {
                    commands.push(AppCommand::Pin);
                }
            }
        }
    });
    match asked.map(|target| target.and_then(|target| go_to(view, session, target))) {
        Some(Ok(go)) => {
            view.position_error = None;
            timeline_commands.extend(go);
        }
        Some(Err(message)) => view.position_error = Some(message),
        None => {}
    }
    // On a line of its own, so the controls and the track keep their width.
    if let Some(error) = &view.position_error {
        ui.label(RichText::new(error).color(theme::text(ui, theme::VIOLATION)));
    }
    commands.extend(timeline_commands.into_iter().map(AppCommand::Timeline));
}

/// What the Go to field asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoTo {
    Position(u64),
    /// A version of the selected stream.
    Version(u64),
    /// The last event at or before this time (ms since the Unix epoch), of the stream in stream
    /// mode.
    Time(i64),
}

/// The commands that take the cursor where `target` says, or why it cannot go there: a
/// position outside the store, a version with no stream selected or past the stream's end, a
/// time before the first event. A version with a stream selected in global mode switches to
/// that stream's mode first.
pub fn go_to(view: &View, session: &Session, target: GoTo) -> Result<Vec<TimelineCommand>, String> {
    let index = session.engine.index();
    let headers = index.headers();
    let Some(first) = headers.first() else {
        return Err("this store has no events".into());
    };
    match target {
        GoTo::Position(position) => {
            let (first_position, last_position) = (index.position(0), index.position(headers.len() - 1));
            if position < first_position || position > last_position {
                return Err(format!(
                    "no position {position}: this store's are {first_position} to {last_position}"
                ));
            }
            Ok(vec![TimelineCommand::SeekToPosition(position)])
        }
        GoTo::Version(version) => {
            let Some((stream, entry)) = view.selected_stream.and_then(|s| Some((s, index.stream(s)?))) else {
                return Err(format!("v{version} is a stream version: select a stream first"));
            };
            let last_version = entry
                .ordinals
                .last()
                .map_or(0, |&o| u64::from(headers[o as usize].stream_version));
            if version == 0 || version > last_version {
                return Err(format!(
                    "no v{version} in {}: its versions are 1 to {last_version}",
                    entry.stream_id
                ));
            }
            let mut commands = Vec::new();
            if view.timeline.mode() != CursorMode::Stream(stream) {
                commands.push(TimelineCommand::SetMode(CursorMode::Stream(stream)));
            }
            commands.push(TimelineCommand::SeekToVersion(version));
            Ok(commands)
        }
        GoTo::Time(ms) => {
            let stream_first = match view.timeline.mode() {
                CursorMode::Stream(s) => index.stream(s).and_then(|e| e.ordinals.first()),
                CursorMode::Global => None,
            };
            let (earliest, whose) = match stream_first {
                Some(&o) => (headers[o as usize].recorded_at_ms, "this stream's first event"),
                None => (first.recorded_at_ms, "the first event"),
            };
            if ms < earliest {
                return Err(format!(
                    "nothing was recorded by {}: {whose} is at {}",
                    fmt_ms(ms),
                    fmt_ms(earliest)
                ));
            }
            Ok(vec![seek_to_time(view, session, ms)])
        }
    }
}

fn fmt_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(|| ms.to_string(), |t| t.format(theme::TIME_FORMAT).to_string())
}

/// A position (`1759`), a stream version (`v21`) or a time (RFC 3339, or a date: its end).
pub fn parse_position(text: &str) -> Result<GoTo, String> {
    let text = text.trim();
    if let Some(version) = text.strip_prefix('v').and_then(|v| v.parse::<u64>().ok()) {
        return Ok(GoTo::Version(version));
    }
    if let Ok(position) = text.parse::<u64>() {
        return Ok(GoTo::Position(position));
    }
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(GoTo::Time(time.timestamp_millis()));
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(time) = date.and_hms_milli_opt(23, 59, 59, 999)
    {
        return Ok(GoTo::Time(time.and_utc().timestamp_millis()));
    }
    Err(format!(
        "`{text}` is not a position (1759), a version (v21), a time (2024-02-26T05:00:00Z) or a date (2024-02-26)"
    ))
}

fn track(ui: &mut Ui, session: &Session, view: &mut View, commands: &mut Vec<AppCommand>) {
    let index = session.engine.index();
    let headers = index.headers();
    let (Some(first), Some(last)) = (headers.first(), headers.last()) else {
        ui.label("This store has no events.");
        return;
    };
    let full = (first.recorded_at_ms, last.recorded_at_ms.max(first.recorded_at_ms + 1));
    let cursor = view.timeline.cursor();
    if let (Some((start, end)), Some(c)) = (view.timeline_view.range, cursor)
        && view.timeline_view.followed != cursor
        && let Some(at) = headers.get(c).map(|h| h.recorded_at_ms)
        && !(start..=end).contains(&at)
    {
        let span = end - start;
        view.timeline_view.range = Some(clamp_range(at - span / 2, at + span - span / 2, full));
    }
    view.timeline_view.followed = cursor;
    let (start, end) = view.timeline_view.range.unwrap_or(full);
    let width = ui.available_width();
    let (rect, response) = ui.allocate_exact_size(vec2(width, theme::TIMELINE_TRACK_HEIGHT), Sense::click_and_drag());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Slider, true, "Timeline"));
    let response =
        response.on_hover_text("Drag to scrub · scroll to zoom · Shift+scroll to pan · double-click to see all");
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

    // Density: events per pixel column. In stream mode, only the selected stream's events.
    let columns = graph.width().max(1.0) as usize;
    let counts: Vec<u32> = match view.timeline.mode() {
        CursorMode::Global => (0..columns)
            .map(|c| {
                let t0 = time_from_x(graph.left() + c as f32);
                let t1 = time_from_x(graph.left() + c as f32 + 1.0);
                (headers.partition_point(|h| h.recorded_at_ms < t1)
                    - headers.partition_point(|h| h.recorded_at_ms < t0)) as u32
            })
            .collect(),
        CursorMode::Stream(s) => {
            let mut counts = vec![0u32; columns];
            if let Some(entry) = index.stream(s) {
                for &o in entry.ordinals {
                    let x = x_from_time(headers[o as usize].recorded_at_ms) - graph.left();
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
        let t = headers[ordinal].recorded_at_ms;
        if t < start || t > end {
            continue;
        }
        let x = x_from_time(t);
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

    if let Some(pinned) = view.pinned.and_then(|p| headers.get(p)) {
        let x = x_from_time(pinned.recorded_at_ms);
        painter.line_segment(
            [pos2(x, rect.top()), pos2(x, rect.bottom())],
            Stroke::new(1.5, theme::PINNED),
        );
    }

    // The playhead.
    if let Some(header) = view.timeline.cursor().and_then(|c| headers.get(c)) {
        let x = x_from_time(header.recorded_at_ms);
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
    let fmt = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms).map_or(String::new(), |t| t.format("%Y-%m-%d %H:%M").to_string())
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
    if view.timeline_view.range.is_some() {
        painter.text(
            pos2(rect.center().x, rect.bottom() - 2.0),
            Align2::CENTER_BOTTOM,
            "zoomed · double-click to see all",
            label_font,
            label_colour,
        );
    }

    // Scrub: a click or drag puts the cursor on the last event at or before that time.
    if (response.dragged() || response.clicked())
        && let Some(pointer) = response.interact_pointer_pos()
    {
        let t = time_from_x(pointer.x.clamp(graph.left(), graph.right()));
        commands.push(AppCommand::Timeline(seek_to_time(view, session, t)));
    }
    if response.double_clicked() {
        view.timeline_view.range = None;
    }
    if response.hovered() {
        let (scroll, shift, hover) = ui.input(|i| (i.smooth_scroll_delta, i.modifiers.shift, i.pointer.hover_pos()));
        let delta = if shift { scroll.y + scroll.x } else { scroll.x };
        if delta != 0.0 {
            // Pan.
            let shift_ms = (-f64::from(delta / graph.width()) * (end - start) as f64) as i64;
            view.timeline_view.range = Some(clamp_range(start + shift_ms, end + shift_ms, full));
        } else if scroll.y != 0.0
            && let Some(Pos2 { x, .. }) = hover
        {
            // Zoom around the pointer.
            let factor = f64::from((-scroll.y / 200.0).exp());
            let anchor = time_from_x(x);
            let new_start = anchor - ((anchor - start) as f64 * factor) as i64;
            let new_end = anchor + ((end - anchor) as f64 * factor) as i64;
            view.timeline_view.range = Some(clamp_range(new_start, new_end.max(new_start + 1000), full));
        }
    }
}

fn clamp_range(start: i64, end: i64, full: (i64, i64)) -> (i64, i64) {
    let span = (end - start).min(full.1 - full.0);
    let start = start.clamp(full.0, full.1 - span);
    (start, start + span)
}

/// Seeking by time respects the mode: in stream mode, the stream's last event at or before it.
fn seek_to_time(view: &View, session: &Session, ms: i64) -> TimelineCommand {
    let index = session.engine.index();
    match view.timeline.mode() {
        CursorMode::Global => TimelineCommand::SeekToTime(ms),
        CursorMode::Stream(s) => {
            let Some(entry) = index.stream(s) else {
                return TimelineCommand::SeekToTime(ms);
            };
            let headers = index.headers();
            let at = entry
                .ordinals
                .partition_point(|&o| headers[o as usize].recorded_at_ms <= ms);
            let ordinal = entry.ordinals.get(at.saturating_sub(1)).copied().unwrap_or(0) as usize;
            TimelineCommand::SeekTo(ordinal)
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
        header.recorded_at().format(theme::TIME_FORMAT),
        index.stream(header.stream).map_or("?", |e| e.stream_id),
        header.stream_version,
        index.event_type_name(header.event_type)
    )
}
