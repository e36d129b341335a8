//! Opening a SQLite file so that nothing can write to it, whichever schema it holds: the one
//! place the "a store opened for debugging is never modified" rule lives for SQLite files.

use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::error::{Result, StoreError, io_reason};

/// A SQLite file opened for reading, and what it took.
pub(crate) struct ReadOnlyFile {
    pub connection: Connection,
    /// The private copy read instead of the file, removed when the store closes (after the
    /// connection: keep it declared after it wherever it is kept).
    pub copy: Option<tempfile::TempDir>,
    /// How the file had to be read, when that is worth saying.
    pub note: Option<String>,
}

/// Opens `path` so that nothing can write to it, and so that its directory is left as it was
/// found: SQLite's read-only flag, and `query_only` on the connection, so a statement that
/// would write fails in SQLite rather than changing the file.
///
/// A file in WAL mode is read with what its write-ahead log holds. SQLite would make the
/// log's index (`-shm`, and an empty `-wal`) beside the file to read it, and cannot where the
/// directory is not writable, so: with no log to read (none, or empty), the file is opened
/// `immutable`, which makes nothing; where a writer's log and index are there (a live
/// system), it is read with them; otherwise the file and its log are copied to a private
/// directory and read there.
pub(crate) fn open_read_only(path: &Path) -> Result<ReadOnlyFile> {
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
    if !in_wal_mode(path) {
        return plain(path, path);
    }
    let log = beside(path, "-wal");
    let log_len = std::fs::metadata(&log).map(|m| m.len()).ok();
    match log_len {
        None | Some(0) => immutable(path),
        Some(_) if beside(path, "-shm").exists() => match plain(path, path) {
            Ok(file) if readable(&file.connection) => Ok(file),
            _ => private_copy(path, &log),
        },
        Some(_) => private_copy(path, &log),
    }
}

/// Whether the file's header says WAL mode (its read and write versions are 2).
fn in_wal_mode(path: &Path) -> bool {
    let mut header = [0u8; 20];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut header))
        .is_ok()
        && header.starts_with(b"SQLite format 3\0")
        && header[18] == 2
        && header[19] == 2
}

/// `path` with `suffix` appended to its name (`bank.sqlite-wal`).
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Whether the connection can read the schema (a WAL index it cannot use fails here).
fn readable(connection: &Connection) -> bool {
    connection
        .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get::<_, i64>(0))
        .is_ok()
}

/// Opens `file` read-only (reported as `path`).
fn plain(file: &Path, path: &Path) -> Result<ReadOnlyFile> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(file, flags).map_err(|e| StoreError::Open {
        path: path.to_owned(),
        reason: sqlite_reason(&e),
    })?;
    finish(connection, path, None, None)
}

/// Opens `path` as immutable: SQLite takes no lock and makes no file beside it.
fn immutable(path: &Path) -> Result<ReadOnlyFile> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let connection = Connection::open_with_flags(uri(path, "immutable=1"), flags).map_err(|e| StoreError::Open {
        path: path.to_owned(),
        reason: sqlite_reason(&e),
    })?;
    finish(connection, path, None, None)
}

/// Copies the file and its log to a private directory and opens the copy.
fn private_copy(path: &Path, log: &Path) -> Result<ReadOnlyFile> {
    let failed = |what: &str, e: &std::io::Error| StoreError::Open {
        path: path.to_owned(),
        reason: format!(
            "it is in WAL mode and its write-ahead log cannot be read beside it, and {what}: {}",
            io_reason(e)
        ),
    };
    let dir = tempfile::Builder::new()
        .prefix("rewind-wal-")
        .tempdir()
        .map_err(|e| failed("no private copy could be made", &e))?;
    let copy = dir.path().join("store.sqlite");
    std::fs::copy(path, &copy).map_err(|e| failed("the file could not be copied", &e))?;
    std::fs::copy(log, beside(&copy, "-wal")).map_err(|e| failed("its log could not be copied", &e))?;
    let mut opened = plain(&copy, path)?;
    opened.copy = Some(dir);
    opened.note = Some(
        "read from a private copy of the file and its write-ahead log, made when it was opened (the log's \
         index is not beside it, or the directory is not writable): later writes are not seen"
            .to_owned(),
    );
    Ok(opened)
}

/// `path` as a SQLite URI with `query` (characters a URI gives a meaning escaped).
fn uri(path: &Path, query: &str) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut out = String::from("file:");
    for c in absolute.to_string_lossy().chars() {
        match c {
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    out.push('?');
    out.push_str(query);
    out
}

fn finish(
    connection: Connection,
    path: &Path,
    copy: Option<tempfile::TempDir>,
    note: Option<String>,
) -> Result<ReadOnlyFile> {
    connection
        .execute_batch("PRAGMA query_only = ON; PRAGMA busy_timeout = 10000;")
        .map_err(|e| StoreError::NotAStore {
            path: path.to_owned(),
            reason: sqlite_reason(&e),
        })?;
    Ok(ReadOnlyFile { connection, copy, note })
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
