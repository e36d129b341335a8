//! Playback: the cursor and how it moves. It changes only through [`TimelineCommand`]s, which
//! the GUI sends once per frame (the shape of Rerun's `TimeControl`).

use crate::index::{Ordinal, StreamIdx, TimelineIndex};

/// What the cursor steps through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CursorMode {
    /// Every stream, interleaved by global position.
    Global,
    /// One stream, by stream version.
    Stream(StreamIdx),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TimelineCommand {
    /// Put the cursor on the event at this ordinal (clamped).
    SeekTo(Ordinal),
    /// Put the cursor on the event at this global position, or the last one before it.
    SeekToPosition(u64),
    /// The last event recorded at or before this time (milliseconds since the Unix epoch).
    SeekToTime(i64),
    /// In stream mode, the stream's event at this version (or the last one before it).
    SeekToVersion(u64),
    StepForward,
    StepBack,
    /// Step this many events (negative: back), in the current mode.
    StepBy(i64),
    JumpToStart,
    JumpToEnd,
    SetPlaying(bool),
    TogglePlaying,
    /// Events per second while playing at 1×; the multiplier is applied on top.
    SetSpeed(f32),
    /// Play with the recorded time between events (scaled by the speed).
    SetAsRecorded(bool),
    SetMode(CursorMode),
}

/// The cursor over an index: always on an event (or nowhere, for an empty store).
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    cursor: Option<Ordinal>,
    mode: CursorMode,
    playing: bool,
    speed: f32,
    as_recorded: bool,
    /// Fractional progress while playing (events, or recorded milliseconds when as recorded).
    carry: f64,
}

/// Events per second at 1× speed.
pub const BASE_EVENTS_PER_SECOND: f64 = 10.0;

impl Timeline {
    /// A timeline at the start of `index`.
    pub fn new(index: &TimelineIndex) -> Self {
        Self {
            cursor: (!index.is_empty()).then_some(0),
            mode: CursorMode::Global,
            playing: false,
            speed: 1.0,
            as_recorded: false,
            carry: 0.0,
        }
    }

    pub fn cursor(&self) -> Option<Ordinal> {
        self.cursor
    }

    pub fn mode(&self) -> CursorMode {
        self.mode
    }

    pub fn is_playing(&self) -> bool {
        self.playing
    }

    pub fn speed(&self) -> f32 {
        self.speed
    }

    pub fn is_as_recorded(&self) -> bool {
        self.as_recorded
    }

    pub fn handle(&mut self, index: &TimelineIndex, command: TimelineCommand) {
        let last = index.len().checked_sub(1);
        let Some(last) = last else {
            self.cursor = None;
            return;
        };
        match command {
            TimelineCommand::SeekTo(ordinal) => self.cursor = Some(ordinal.min(last)),
            TimelineCommand::SeekToPosition(position) => {
                self.cursor = Some(index.ordinal_at_or_before_position(position).unwrap_or(0));
            }
            TimelineCommand::SeekToTime(ms) => {
                let time = chrono::DateTime::from_timestamp_millis(ms).unwrap_or(chrono::DateTime::UNIX_EPOCH);
                self.cursor = Some(index.ordinal_at_or_before_time(time).unwrap_or(0));
            }
            TimelineCommand::SeekToVersion(version) => {
                if let CursorMode::Stream(s) = self.mode
                    && let Some(entry) = index.stream(s)
                {
                    let headers = index.headers();
                    let at = entry
                        .ordinals
                        .partition_point(|&o| u64::from(headers[o as usize].stream_version) <= version);
                    if let Some(&o) = entry.ordinals.get(at.saturating_sub(1)) {
                        self.cursor = Some(o as usize);
                    }
                }
            }
            TimelineCommand::StepForward => self.step(index, 1),
            TimelineCommand::StepBack => self.step(index, -1),
            TimelineCommand::StepBy(n) => self.step(index, n),
            TimelineCommand::JumpToStart => {
                self.cursor = Some(match self.mode {
                    CursorMode::Global => 0,
                    CursorMode::Stream(s) => index
                        .stream(s)
                        .and_then(|e| e.ordinals.first())
                        .map_or(0, |&o| o as usize),
                });
            }
            TimelineCommand::JumpToEnd => {
                self.cursor = Some(match self.mode {
                    CursorMode::Global => last,
                    CursorMode::Stream(s) => index
                        .stream(s)
                        .and_then(|e| e.ordinals.last())
                        .map_or(last, |&o| o as usize),
                });
                self.playing = false;
            }
            TimelineCommand::SetPlaying(playing) => {
                self.playing = playing;
                self.carry = 0.0;
            }
            TimelineCommand::TogglePlaying => {
                self.playing = !self.playing;
                self.carry = 0.0;
            }
            TimelineCommand::SetSpeed(speed) => self.speed = speed.clamp(0.25, 64.0),
            TimelineCommand::SetAsRecorded(as_recorded) => self.as_recorded = as_recorded,
            TimelineCommand::SetMode(mode) => {
                self.mode = mode;
                if let (CursorMode::Stream(s), Some(cursor)) = (mode, self.cursor) {
                    // Land on the stream's event at or before the cursor (or its first).
                    let entry = index.stream(s);
                    let at = index.stream_index_at(s, cursor).unwrap_or(0);
                    if let Some(&o) = entry.and_then(|e| e.ordinals.get(at)) {
                        self.cursor = Some(o as usize);
                    }
                }
            }
        }
    }

    /// Moves `n` events in the current mode (clamped at both ends).
    fn step(&mut self, index: &TimelineIndex, n: i64) {
        let Some(cursor) = self.cursor else { return };
        let last = index.len().saturating_sub(1);
        self.cursor = Some(match self.mode {
            CursorMode::Global => (cursor as i64 + n).clamp(0, last as i64) as usize,
            CursorMode::Stream(s) => {
                let Some(entry) = index.stream(s) else { return };
                let here = index.stream_index_at(s, cursor);
                let target = match here {
                    // Before the stream's first event: a step forward lands on it.
                    None if n > 0 => n - 1,
                    None => return,
                    Some(i) => i as i64 + n,
                };
                let target = target.clamp(0, entry.ordinals.len() as i64 - 1) as usize;
                entry.ordinals[target] as usize
            }
        });
    }

    /// Advances playback by `dt_seconds` of wall time. Returns whether the cursor moved.
    pub fn tick(&mut self, index: &TimelineIndex, dt_seconds: f64) -> bool {
        if !self.playing {
            return false;
        }
        let Some(cursor) = self.cursor else { return false };
        let before = self.cursor;
        // Without times to go by, playback goes event by event.
        let timed = matches!(index.times(), Some(crate::Times::Spread { .. }));
        if self.as_recorded && self.mode == CursorMode::Global && timed {
            // Move through recorded time at `speed` × wall time.
            self.carry += dt_seconds * 1000.0 * f64::from(self.speed);
            let now = index.header(cursor).map_or(0, |h| h.recorded_at_ms);
            let target = now.saturating_add(self.carry as i64);
            let mut next = cursor;
            while let Some(h) = index.header(next + 1) {
                if h.recorded_at_ms > target {
                    break;
                }
                next += 1;
            }
            if next != cursor {
                let moved = index.header(next).map_or(0, |h| h.recorded_at_ms) - now;
                self.carry -= moved as f64;
                self.cursor = Some(next);
            }
        } else {
            self.carry += dt_seconds * BASE_EVENTS_PER_SECOND * f64::from(self.speed);
            let whole = self.carry.floor();
            if whole >= 1.0 {
                self.carry -= whole;
                self.step(index, whole as i64);
            }
        }
        if self.at_end(index) {
            self.playing = false;
        }
        self.cursor != before
    }

    fn at_end(&self, index: &TimelineIndex) -> bool {
        let Some(cursor) = self.cursor else { return true };
        match self.mode {
            CursorMode::Global => cursor + 1 >= index.len(),
            CursorMode::Stream(s) => index
                .stream(s)
                .and_then(|e| e.ordinals.last())
                .is_none_or(|&o| o as usize <= cursor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rewind_core::RecordedEvent;

    /// Events alternating between two streams, one second apart.
    fn index(count: u64) -> TimelineIndex {
        let mut index = TimelineIndex::default();
        for i in 0..count {
            let event = RecordedEvent {
                global_position: i + 1,
                stream_id: format!("s{}", i % 2).into(),
                stream_type: "T".into(),
                stream_version: i / 2 + 1,
                event_id: uuid::Uuid::from_u128(u128::from(i) + 1),
                event_type: "E".into(),
                schema_version: Some(1),
                recorded_at: chrono::DateTime::from_timestamp(i as i64, 0),
                data: serde_json::json!({}).into(),
                metadata: serde_json::json!({}).into(),
            };
            index.push(&event);
        }
        index.seal();
        index
    }

    #[test]
    fn steps_clamp_at_both_ends_and_seeks_find_the_event_at_or_before() {
        let index = index(10);
        let mut timeline = Timeline::new(&index);
        timeline.handle(&index, TimelineCommand::StepBack);
        assert_eq!(timeline.cursor(), Some(0));
        timeline.handle(&index, TimelineCommand::StepBy(100));
        assert_eq!(timeline.cursor(), Some(9));
        timeline.handle(&index, TimelineCommand::SeekToPosition(5));
        assert_eq!(timeline.cursor(), Some(4));
        timeline.handle(&index, TimelineCommand::SeekToTime(7_500));
        assert_eq!(timeline.cursor(), Some(7));
    }

    #[test]
    fn in_stream_mode_steps_and_version_seeks_stay_on_the_stream() {
        let index = index(10);
        let mut timeline = Timeline::new(&index);
        timeline.handle(&index, TimelineCommand::SetMode(CursorMode::Stream(1)));
        assert_eq!(timeline.cursor(), Some(1), "the cursor lands on the first event of s1");
        timeline.handle(&index, TimelineCommand::StepForward);
        assert_eq!(timeline.cursor(), Some(3), "the next event of s1, skipping s0's");
        timeline.handle(&index, TimelineCommand::SeekToVersion(4));
        assert_eq!(timeline.cursor(), Some(7));
        timeline.handle(&index, TimelineCommand::JumpToEnd);
        assert_eq!(timeline.cursor(), Some(9));
    }

    #[test]
    fn playing_advances_with_time_and_stops_at_the_end() {
        let index = index(10);
        let mut timeline = Timeline::new(&index);
        timeline.handle(&index, TimelineCommand::SetSpeed(2.0));
        timeline.handle(&index, TimelineCommand::SetPlaying(true));
        assert!(timeline.tick(&index, 0.25), "2x of 10 events/s for 0.25 s is 5 events");
        assert_eq!(timeline.cursor(), Some(5));
        timeline.tick(&index, 10.0);
        assert_eq!(timeline.cursor(), Some(9));
        assert!(!timeline.is_playing());

        // As recorded: one recorded second per wall second at 1x.
        timeline.handle(&index, TimelineCommand::JumpToStart);
        timeline.handle(&index, TimelineCommand::SetSpeed(1.0));
        timeline.handle(&index, TimelineCommand::SetAsRecorded(true));
        timeline.handle(&index, TimelineCommand::SetPlaying(true));
        timeline.tick(&index, 2.5);
        assert_eq!(timeline.cursor(), Some(2));
    }
}
