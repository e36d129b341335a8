//! `rewind bench`: index build, seeks and full replay on a real store, measured.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use rewind_core::Domain;
use rewind_store::EventSource;

use crate::fetch::StoreFetch;
use crate::session::SeekRequest;

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub store: String,
    pub events: u64,
    pub streams: usize,
    /// How many times the index was built, and the store replayed (`--runs`): on a shared,
    /// noisy machine one run can be off by a third, so the figures below are the median run's.
    pub runs: usize,
    /// The median run's index build time; every run's is in `index_build_runs_s`.
    pub index_build_s: f64,
    pub index_build_runs_s: Vec<f64>,
    pub index_events_per_s: f64,
    /// CPU time of the whole process (every thread) during the median run's index build: the
    /// work it cost, without the time one thread spent waiting for the other.
    pub index_build_cpu_s: Option<f64>,
    pub index_bytes: usize,
    pub projection_interval: usize,
    pub projection_checkpoints: usize,
    pub stream_checkpoints: usize,
    /// Peak resident memory right after the index was built (what the app holds).
    pub peak_rss_after_build_bytes: Option<u64>,
    /// Peak over the whole benchmark: the seeks, then the full replay, which runs after the
    /// engine is dropped, as `rewind verify` runs without one.
    pub peak_rss_bytes: Option<u64>,
    pub global_seek: Latency,
    /// Seeks one event forward at a time, as stepping or playback does.
    pub step_forward: Latency,
    pub stream_seek: Latency,
    pub longest_stream: String,
    pub longest_stream_events: usize,
    pub longest_stream_seek: Latency,
    /// The median run's full replay time; every run's is in `full_replay_runs_s`.
    pub full_replay_s: f64,
    pub full_replay_runs_s: Vec<f64>,
    pub full_replay_events_per_s: f64,
    /// CPU time of the whole process during the median run's full replay.
    pub full_replay_cpu_s: Option<f64>,
    /// Reading every event from the store on one thread and nothing else: the most index build
    /// and full replay could reach while they fold on a second thread.
    pub store_read_s: f64,
    pub store_read_events_per_s: f64,
    /// The store walking every event without making any (for SQLite, summing its texts'
    /// lengths): the floor under reading it, which shows how fast the machine is at the
    /// moment; `None` for stores that cannot say.
    pub bare_scan_s: Option<f64>,
    pub bare_scan_query: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Latency {
    pub samples: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    fn from(mut samples: Vec<Duration>) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
        Self {
            samples: samples.len(),
            p50_ms: at(0.5),
            p95_ms: at(0.95),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

/// One timed run of some work: how long it took, and the CPU time it cost.
#[derive(Clone, Copy, Debug)]
struct Timed {
    wall: Duration,
    cpu: Option<Duration>,
}

impl Timed {
    /// Runs `work`, timing it.
    fn run<T>(work: impl FnOnce() -> Result<T>) -> Result<(T, Self)> {
        let started = Instant::now();
        let cpu_started = process_cpu_time();
        let made = work()?;
        Ok((
            made,
            Self {
                wall: started.elapsed(),
                cpu: cpu_since(cpu_started),
            },
        ))
    }

    /// The run of median wall time (the lower middle one of an even count).
    fn median(runs: &[Self]) -> Self {
        let mut sorted = runs.to_vec();
        sorted.sort_by_key(|run| run.wall);
        sorted[(sorted.len() - 1) / 2]
    }

    fn walls(runs: &[Self]) -> Vec<f64> {
        runs.iter().map(|run| run.wall.as_secs_f64()).collect()
    }
}

/// Builds the index `runs` times (at least once), then seeks `seeks` times of each kind in the
/// last one built, then replays the store `runs` times and reads it once. Says each step as it
/// ends through `say`: at 10M events a benchmark runs for minutes.
pub fn run(
    source: &dyn EventSource,
    domain: &Arc<dyn Domain>,
    seeks: usize,
    runs: usize,
    say: &mut dyn FnMut(String),
) -> Result<BenchReport> {
    let runs = runs.max(1);
    let mut builds = Vec::with_capacity(runs);
    let mut engine = None;
    for run in 1..=runs {
        // The one built before is dropped first, so that no run holds two in memory.
        if engine.take().is_some() {
            crate::allocator::give_back_freed_memory();
        }
        let indexing = crate::pipeline::Progress::default();
        let (built, timed) = Timed::run(|| {
            crate::pipeline::build_engine(source, Arc::clone(domain), &indexing)?
                .ok_or_else(|| anyhow::anyhow!("indexing stopped"))
        })?;
        engine = Some(built);
        say(format!(
            "index built in {:.2} s (run {run} of {runs})",
            timed.wall.as_secs_f64()
        ));
        builds.push(timed);
    }
    let engine = engine.expect("at least one run");
    let index_build = Timed::median(&builds);
    let peak_rss_after_build_bytes = peak_rss_bytes();
    let events = engine.index().len();
    let fetch = StoreFetch(source);
    let mut rng = ChaCha8Rng::seed_from_u64(7);

    // Exactly what the app asks for when the playhead lands on `cursor`.
    let seek = |cursor: usize| -> Result<Duration> {
        let stream = engine.index().headers()[cursor].stream;
        let request = SeekRequest {
            cursor: Some(cursor),
            stream: Some(stream),
            pinned: None,
            rows: (cursor..(cursor + 30).min(events)).collect(),
            row_states_of: None,
            projection_starts: Vec::new(),
            seq: 0,
        };
        let t = Instant::now();
        let result = crate::session::seek(&engine, &fetch, &request);
        let took = t.elapsed();
        match result.error {
            Some(error) => anyhow::bail!("seek to {cursor} failed: {error}"),
            None => Ok(took),
        }
    };
    let mut global = Vec::with_capacity(seeks);
    for _ in 0..seeks.min(events) {
        global.push(seek(rng.random_range(0..events))?);
    }
    // Stepping forward one event at a time (the arrow key, or playback), from a random start.
    let mut steps = Vec::with_capacity(seeks);
    let start = rng.random_range(0..events.saturating_sub(seeks).max(1));
    for cursor in (start..events).take(seeks) {
        steps.push(seek(cursor)?);
    }

    let streams = engine.index().stream_count();
    let mut stream_seeks = Vec::with_capacity(seeks);
    for _ in 0..seeks.min(events) {
        let stream = rng.random_range(0..streams) as u32;
        let entry = engine
            .index()
            .stream(stream)
            .ok_or_else(|| anyhow::anyhow!("stream {stream} is not in the index"))?;
        let cursor = entry.ordinals[rng.random_range(0..entry.ordinals.len())] as usize;
        let t = Instant::now();
        std::hint::black_box(engine.aggregate_at(stream, Some(cursor), &fetch)?);
        stream_seeks.push(t.elapsed());
    }

    let (longest, longest_entry) = engine
        .index()
        .streams()
        .enumerate()
        .max_by_key(|(_, s)| s.ordinals.len())
        .map(|(i, s)| (i as u32, s))
        .ok_or_else(|| anyhow::anyhow!("the store has no events"))?;
    let mut longest_seeks = Vec::with_capacity(seeks);
    for _ in 0..seeks.min(events) {
        let cursor = longest_entry.ordinals[rng.random_range(0..longest_entry.ordinals.len())] as usize;
        let t = Instant::now();
        std::hint::black_box(engine.aggregate_at(longest, Some(cursor), &fetch)?);
        longest_seeks.push(t.elapsed());
    }

    let (projection_checkpoints, stream_checkpoints) = engine.checkpoint_counts();
    let longest_stream = longest_entry.stream_id.to_string();
    let longest_stream_events = longest_entry.ordinals.len();
    let index_bytes = engine.index_bytes();
    let projection_interval = engine.config().projection_interval;
    // The full replay is what `rewind verify` does, without an engine beside it (and, as in a
    // process of its own, without the engine's memory held for the allocator's purge delay).
    drop(engine);
    crate::allocator::give_back_freed_memory();
    let mut replays = Vec::with_capacity(runs);
    let mut replayed = 0;
    say(format!("{} seeks of each kind done; replaying the store", global.len()));
    for run in 1..=runs {
        let (replay, timed) = Timed::run(|| Ok(crate::pipeline::replay_all(source, Arc::clone(domain))?))?;
        replayed = replay.event_count();
        drop(replay);
        say(format!(
            "replayed in {:.2} s (run {run} of {runs})",
            timed.wall.as_secs_f64()
        ));
        replays.push(timed);
    }
    let full_replay = Timed::median(&replays);
    let started = Instant::now();
    let mut read = 0;
    source.read_all(source.preferred_batch(), &mut |batch| {
        read += batch.len();
        Ok(())
    })?;
    let store_read = started.elapsed();
    let bare_scan = source.bare_scan()?;

    Ok(BenchReport {
        store: source.location(),
        events: events as u64,
        streams,
        runs,
        index_build_s: index_build.wall.as_secs_f64(),
        index_build_runs_s: Timed::walls(&builds),
        index_events_per_s: events as f64 / index_build.wall.as_secs_f64().max(1e-9),
        index_build_cpu_s: index_build.cpu.map(|t| t.as_secs_f64()),
        index_bytes,
        projection_interval,
        projection_checkpoints,
        stream_checkpoints,
        peak_rss_after_build_bytes,
        peak_rss_bytes: peak_rss_bytes(),
        global_seek: Latency::from(global),
        step_forward: Latency::from(steps),
        stream_seek: Latency::from(stream_seeks),
        longest_stream,
        longest_stream_events,
        longest_stream_seek: Latency::from(longest_seeks),
        full_replay_s: full_replay.wall.as_secs_f64(),
        full_replay_runs_s: Timed::walls(&replays),
        full_replay_events_per_s: replayed as f64 / full_replay.wall.as_secs_f64().max(1e-9),
        full_replay_cpu_s: full_replay.cpu.map(|t| t.as_secs_f64()),
        store_read_s: store_read.as_secs_f64(),
        store_read_events_per_s: read as f64 / store_read.as_secs_f64().max(1e-9),
        bare_scan_s: bare_scan.as_ref().map(|scan| scan.elapsed.as_secs_f64()),
        bare_scan_query: bare_scan.map(|scan| scan.query),
    })
}

/// CPU time this process has used so far, over all its threads (those that ended too).
#[cfg(any(target_os = "linux", target_os = "macos"))]
fn process_cpu_time() -> Option<Duration> {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Some(Duration::new(
        u64::try_from(t.tv_sec).ok()?,
        u32::try_from(t.tv_nsec).ok()?,
    ))
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn process_cpu_time() -> Option<Duration> {
    None
}

/// CPU time used since `started` (a [`process_cpu_time`]).
fn cpu_since(started: Option<Duration>) -> Option<Duration> {
    Some(process_cpu_time()?.saturating_sub(started?))
}

/// Says `seconds` of CPU time, and what that is per event over `events`.
fn cpu_text(seconds: Option<f64>, events: u64) -> String {
    match seconds {
        Some(cpu) => format!(
            ", CPU {cpu:.2} s, {:.2} µs an event",
            cpu * 1e6 / (events.max(1) as f64)
        ),
        None => String::new(),
    }
}

/// Says every run's time, when there was more than one: `; median of 3: 9.81 10.20 12.02 s`.
fn runs_text(runs: &[f64]) -> String {
    if runs.len() < 2 {
        return String::new();
    }
    let mut sorted = runs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let each: Vec<String> = sorted.iter().map(|s| format!("{s:.2}")).collect();
    format!("; median of {}: {} s", runs.len(), each.join(" "))
}

/// Peak resident memory of this process (Linux `VmHWM`), if the platform tells.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lat = |l: &Latency| {
            format!(
                "p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms  max {:.2} ms  ({} seeks)",
                l.p50_ms, l.p95_ms, l.p99_ms, l.max_ms, l.samples
            )
        };
        writeln!(f, "store            {}", self.store)?;
        writeln!(f, "events           {} in {} streams", self.events, self.streams)?;
        writeln!(
            f,
            "index build      {:.2} s ({:.0} events/s{}{}), index {:.1} MiB",
            self.index_build_s,
            self.index_events_per_s,
            cpu_text(self.index_build_cpu_s, self.events),
            runs_text(&self.index_build_runs_s),
            self.index_bytes as f64 / 1_048_576.0
        )?;
        if self.projection_checkpoints == 0 {
            writeln!(
                f,
                "checkpoints      {} stream (projections are read from their rows' history)",
                self.stream_checkpoints
            )?;
        } else {
            writeln!(
                f,
                "checkpoints      {} projection (every {} events), {} stream",
                self.projection_checkpoints, self.projection_interval, self.stream_checkpoints
            )?;
        }
        if let (Some(built), Some(rss)) = (self.peak_rss_after_build_bytes, self.peak_rss_bytes) {
            writeln!(
                f,
                "peak RSS         {:.1} MiB after the index build, {:.1} MiB overall",
                built as f64 / 1_048_576.0,
                rss as f64 / 1_048_576.0
            )?;
        }
        writeln!(f, "global seek      {}", lat(&self.global_seek))?;
        writeln!(f, "step forward     {}", lat(&self.step_forward))?;
        writeln!(f, "stream seek      {}", lat(&self.stream_seek))?;
        writeln!(
            f,
            "longest stream   {} ({} events): {}",
            self.longest_stream,
            self.longest_stream_events,
            lat(&self.longest_stream_seek)
        )?;
        writeln!(
            f,
            "full replay      {:.2} s ({:.0} events/s{}{})",
            self.full_replay_s,
            self.full_replay_events_per_s,
            cpu_text(self.full_replay_cpu_s, self.events),
            runs_text(&self.full_replay_runs_s)
        )?;
        write!(
            f,
            "store read alone {:.2} s ({:.0} events/s), the ceiling for both",
            self.store_read_s, self.store_read_events_per_s
        )?;
        if let Some(scan) = self.bare_scan_s {
            write!(
                f,
                "\nbare scan        {scan:.2} s ({:.0} events/s): the store walking its events, none made",
                self.events as f64 / scan.max(1e-9)
            )?;
        }
        Ok(())
    }
}
