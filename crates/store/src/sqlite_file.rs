//! Opening a SQLite file so that nothing can write to it, whichever schema it holds: the one
//! place the "a store opened for debugging is never modified" rule lives for SQLite files.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Result, StoreError, io_reason};

/// Opens `path` read-only: SQLite's read-only flag, and `query_only` on the connection, so a
/// statement that would write fails in SQLite rather than changing the file.
pub(crate) fn open_read_only(path: &Path) -> Result<Connection> {
    let metadata = std::fs::metadata(path).map_err(|e| StoreError::Open {
        path: path.to_owned(),
        reason: io_reason(&e),
    })?;
    if metadata.is_dir() {
        return Err(StoreError::Open {
            path: path.to_owned(),
            reason: "it is a directory".into(),
        });
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags).map_err(|e| StoreError::Open {
        path: path.to_owned(),
        reason: sqlite_reason(&e),
    })?;
    connection
        .execute_batch("PRAGMA query_only = ON; PRAGMA busy_timeout = 10000;")
        .map_err(|e| StoreError::NotAStore {
            path: path.to_owned(),
            reason: sqlite_reason(&e),
        })?;
    Ok(connection)
}

/// What a SQLite error means to the person who named the file.
pub(crate) fn sqlite_reason(error: &rusqlite::Error) -> String {
    match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => "it is not a SQLite database (or it is encrypted or corrupt)".into(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => "the SQLite database is corrupt".into(),
        _ => error.to_string(),
    }
}

pub(crate) fn sqlite_error(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.to_owned(),
        source,
    }
}
