//! Rewind's own formats: the SQLite store (written by `rewind sample` and `rewind import`,
//! read by the debugger) and the NDJSON export.

pub(crate) mod ndjson;
mod raw;
pub(crate) mod sqlite;
