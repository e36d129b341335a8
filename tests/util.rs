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
