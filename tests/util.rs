//! Helpers: run the built binary, find the sample data.

use std::path::{Path, PathBuf};
use std::process::Output;

pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data")
}

pub fn sample_sqlite() -> PathBuf {
    sample_dir().join("bank.sqlite")
}

pub fn sample_ndjson() -> PathBuf {
    sample_dir().join("bank.ndjson")
}

/// Runs `rewind ARGS` and returns its output.
pub fn rewind(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(args)
        .output()
        .expect("the rewind binary runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout(output)))
}

/// The event types of a store's first hundred events, in order.
pub fn event_types(source: &dyn rewind_store::EventSource) -> Vec<String> {
    source
        .read_batch(0, 100)
        .expect("the store reads")
        .iter()
        .map(|e| e.event_type.to_string())
        .collect()
}

/// The store at `location`, read through `mapping`.
pub fn opened_with(
    location: impl Into<rewind_store::StoreLocation>,
    mapping: rewind_store::Mapping,
) -> Box<dyn rewind_store::EventSource> {
    rewind_store::open_store_with(
        location,
        &rewind_store::OpenOptions {
            mapping: Some(mapping),
            ..rewind_store::OpenOptions::default()
        },
    )
    .expect("the store opens with the mapping")
}
