//! Benchmarks of the engine's hot paths on an in-memory sample history:
//! `cargo bench -p rewind_engine`. (Whole-store figures: `rewind bench STORE`.)

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use rewind_bank::BankDomain;
use rewind_bank::sample::{SampleConfig, generate};
use rewind_core::{Domain, DomainSet, RecordedEvent};
use rewind_engine::{Engine, EngineBuilder, EngineConfig, EventFetch, FetchError, Replay, diff};

// The allocator the app uses, so the figures are the app's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Events in memory, fetched by binary search like a store's primary key.
struct Memory(Vec<RecordedEvent>);

impl EventFetch for Memory {
    fn events_between(&self, from: u64, to: u64) -> Result<Vec<RecordedEvent>, FetchError> {
        let start = self.0.partition_point(|e| e.global_position < from);
        let end = self.0.partition_point(|e| e.global_position <= to);
        Ok(self.0[start..end].to_vec())
    }

    fn events_at(&self, positions: &[u64]) -> Result<Vec<RecordedEvent>, FetchError> {
        Ok(positions
            .iter()
            .filter_map(|p| {
                self.0
                    .binary_search_by_key(p, |e| e.global_position)
                    .ok()
                    .map(|i| self.0[i].clone())
            })
            .collect())
    }
}

fn history(events: u64) -> Vec<RecordedEvent> {
    let mut all = Vec::new();
    let config = SampleConfig {
        events: Some(events),
        ..SampleConfig::default()
    };
    generate(&config, |batch| -> Result<(), ()> {
        all.extend(batch);
        Ok(())
    })
    .expect("the sample generates");
    all
}

fn domain() -> Arc<dyn Domain> {
    Arc::new(DomainSet::new(vec![Box::new(BankDomain::default())]))
}

fn build(events: &[RecordedEvent]) -> Engine {
    let mut builder = EngineBuilder::new(domain(), EngineConfig::for_size(events.len() as u64), events.len());
    builder.push(events);
    builder.finish()
}

fn benches(c: &mut Criterion) {
    let events = history(100_000);
    let fetch = Memory(events.clone());
    let engine = build(&events);
    let len = events.len();

    c.bench_function("replay 100k events", |b| {
        b.iter(|| {
            let mut replay = Replay::with_capacity(domain(), len);
            for event in &events {
                replay.apply(event);
            }
            black_box(replay.issues().len())
        });
    });
    c.bench_function("index build 100k events", |b| {
        b.iter(|| black_box(build(&events).index().len()));
    });

    let mut cursor = 0usize;
    c.bench_function("aggregate_at (random stream, random cursor)", |b| {
        b.iter(|| {
            cursor = (cursor + 7919) % len;
            let stream = engine.index().headers()[cursor].stream;
            black_box(engine.aggregate_at(stream, Some(cursor), &fetch).expect("seek"))
        });
    });
    c.bench_function("projections_around (random cursor)", |b| {
        b.iter(|| {
            cursor = (cursor + 7919) % len;
            black_box(engine.projections_around(Some(cursor), &fetch).expect("seek").len())
        });
    });
    let old = serde_json::json!({"holder": "Ada", "balance_cents": 100, "status": "open", "items": [1, 2, 3]});
    let new = serde_json::json!({"holder": "Ada", "balance_cents": -5, "status": "frozen", "items": [1, 2]});
    c.bench_function("diff of two states", |b| b.iter(|| black_box(diff(&old, &new))));
}

criterion_group!(engine, benches);
criterion_main!(engine);
