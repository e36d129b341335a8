//! Opening a store: recognise its format by content (or its URL), and pick the reader. The only
//! module that names every backend.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::error::{Result, StoreError, io_reason};
use crate::foreign::json::{JsonRead, read_json};
use crate::foreign::sqlite::{MappedSqliteStore, inspect_sqlite};
use crate::location::StoreLocation;
use crate::mapping::Mapping;
use crate::merged::{MergedStore, TablePart};
use crate::native::ndjson::NdjsonStore;
use crate::native::sqlite::SqliteStore;
use crate::postgres::PostgresStore;
use crate::schema::Recognised;
use crate::source::EventSource;
use crate::sqlite_file;

/// The formats Rewind recognises by content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreFormat {
    Sqlite,
    /// JSON of any shape (Rewind NDJSON, arrays, Atom feeds, CloudEvents, generic).
    Json,
    /// gzip-compressed; what is inside is recognised after decompressing.
    Gzip,
}

fn open_error(path: &Path, e: &std::io::Error) -> StoreError {
    StoreError::Open {
        path: path.to_owned(),
        reason: io_reason(e),
    }
}

const EXPECTED: &str = "expected a SQLite event store, NDJSON or JSON events (an array, an EventStoreDB Atom feed or CloudEvents), or any of these gzip-compressed";

/// Recognises content by its first bytes, not its extension.
pub fn detect_bytes(path: &Path, head: &[u8]) -> Result<StoreFormat> {
    if head.starts_with(b"SQLite format 3\0") {
        return Ok(StoreFormat::Sqlite);
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return Ok(StoreFormat::Gzip);
    }
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => Ok(StoreFormat::Json),
        None => Err(StoreError::NotAStore {
            path: path.to_owned(),
            reason: format!("the file is empty; {EXPECTED}"),
        }),
        Some(_) => {
            let what = if head.starts_with(b"\x89PNG") || head.starts_with(b"\xff\xd8\xff") || head.starts_with(b"GIF8")
            {
                "it is an image; "
            } else if head.starts_with(b"%PDF") {
                "it is a PDF document; "
            } else if head.starts_with(b"PK\x03\x04") {
                "it is a zip archive; "
            } else {
                ""
            };
            Err(StoreError::NotAStore {
                path: path.to_owned(),
                reason: format!("{what}{EXPECTED}"),
            })
        }
    }
}

/// Recognises a file by its first bytes, not its extension.
pub fn detect_format(path: &Path) -> Result<StoreFormat> {
    if path.is_dir() {
        return Err(StoreError::Open {
            path: path.to_owned(),
            reason: "it is a directory".into(),
        });
    }
    let mut file = std::fs::File::open(path).map_err(|e| open_error(path, &e))?;
    let mut head = [0u8; 64];
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) => {
                return Err(StoreError::Io {
                    path: path.to_owned(),
                    source: e,
                });
            }
        }
    }
    detect_bytes(path, &head[..filled])
}

/// Called while a file is read: (bytes read, file size).
pub type ReadProgress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// How to open a store.
#[derive(Clone, Default)]
pub struct OpenOptions {
    /// A confirmed mapping for a shape Rewind does not recognise by itself (or to override
    /// what it recognised).
    pub mapping: Option<Mapping>,
    /// Told how far reading the file got, for formats read in a first pass (NDJSON).
    pub progress: Option<ReadProgress>,
}

impl std::fmt::Debug for OpenOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenOptions")
            .field("mapping", &self.mapping)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// Opens a store read-only, picking the reader by the file's content (or its URL).
pub fn open_store(location: impl Into<StoreLocation>) -> Result<Box<dyn EventSource>> {
    open_store_with(location, &OpenOptions::default())
}

/// Opens a store read-only with options (a mapping, a progress report).
pub fn open_store_with(location: impl Into<StoreLocation>, options: &OpenOptions) -> Result<Box<dyn EventSource>> {
    let location = location.into();
    // A store kept in a table per aggregate type: each table through its own mapping, merged.
    if let Some(mapping) = &options.mapping
        && !mapping.more_tables.is_empty()
    {
        let problems = mapping.problems();
        if !problems.is_empty() {
            return Err(StoreError::BadMapping {
                path: PathBuf::from(location.to_string()),
                reason: problems.join("; "),
            });
        }
        let mut parts = Vec::new();
        for (table, stream_type) in mapping.tables() {
            let options = OpenOptions {
                mapping: Some(table),
                ..options.clone()
            };
            parts.push(TablePart {
                source: open_one(location.clone(), &options)?,
                stream_type,
            });
        }
        return Ok(Box::new(MergedStore::new(parts, "mapped")?));
    }
    open_one(location, options)
}

fn open_one(location: StoreLocation, options: &OpenOptions) -> Result<Box<dyn EventSource>> {
    match location {
        StoreLocation::File(path) => open_file(&path, options),
        StoreLocation::Postgres(db) => Ok(Box::new(PostgresStore::open(
            db.connection_url(),
            options.mapping.clone(),
            db.table(),
        )?)),
    }
}

fn open_file(path: &Path, options: &OpenOptions) -> Result<Box<dyn EventSource>> {
    match detect_format(path)? {
        StoreFormat::Sqlite => open_sqlite(path, options),
        StoreFormat::Json => {
            if options.mapping.is_none() && first_line_is_rewind_event(path)? {
                let size = std::fs::metadata(path).map_or(0, |m| m.len());
                let progress = options.progress.clone();
                return Ok(Box::new(NdjsonStore::open_with_progress(path, &mut |read| {
                    if let Some(progress) = &progress {
                        progress(read, size);
                    }
                })?));
            }
            let bytes = std::fs::read(path).map_err(|e| StoreError::Io {
                path: path.to_owned(),
                source: e,
            })?;
            open_json_bytes(path, bytes, options, "")
        }
        StoreFormat::Gzip => {
            let file = std::fs::File::open(path).map_err(|e| open_error(path, &e))?;
            let mut bytes = Vec::new();
            flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file))
                .read_to_end(&mut bytes)
                .map_err(|e| StoreError::NotAStore {
                    path: path.to_owned(),
                    reason: format!("it looks gzip-compressed but cannot be decompressed: {e}"),
                })?;
            match detect_bytes(path, &bytes[..bytes.len().min(64)])? {
                StoreFormat::Json => open_json_bytes(path, bytes, options, ", gzip"),
                StoreFormat::Sqlite => Err(StoreError::NotAStore {
                    path: path.to_owned(),
                    reason: "it is a gzip-compressed SQLite file; decompress it first (gunzip) and open the result"
                        .into(),
                }),
                StoreFormat::Gzip => Err(StoreError::NotAStore {
                    path: path.to_owned(),
                    reason: "it is gzip-compressed twice".into(),
                }),
            }
        }
    }
}

fn first_line_is_rewind_event(path: &Path) -> Result<bool> {
    let file = std::fs::File::open(path).map_err(|e| open_error(path, &e))?;
    let mut line = Vec::new();
    std::io::BufReader::new(file)
        .take(1 << 20)
        .read_until(b'\n', &mut line)
        .map_err(|e| StoreError::Io {
            path: path.to_owned(),
            source: e,
        })?;
    Ok(is_rewind_line(&line))
}

/// Whether a line is one of Rewind's own NDJSON events (by its field names).
fn is_rewind_line(line: &[u8]) -> bool {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(line) else {
        return false;
    };
    [
        "global_position",
        "stream_id",
        "stream_version",
        "event_type",
        "recorded_at",
    ]
    .iter()
    .all(|k| map.contains_key(*k))
}

fn open_json_bytes(path: &Path, bytes: Vec<u8>, options: &OpenOptions, suffix: &str) -> Result<Box<dyn EventSource>> {
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
    if options.mapping.is_none() && is_rewind_line(first_line) {
        return Ok(Box::new(NdjsonStore::from_bytes(
            path,
            bytes,
            format!("Rewind NDJSON export{suffix}"),
        )?));
    }
    match read_json(path, &bytes, options.mapping.as_ref())? {
        JsonRead::Store(mut store) => {
            store.describe_suffix(suffix);
            Ok(Box::new(store))
        }
        JsonRead::NeedsMapping {
            proposal,
            names,
            examples,
        } => Err(StoreError::NeedsMapping {
            path: path.to_owned(),
            what: "JSON records that are not Rewind events, an Atom feed or CloudEvents".into(),
            proposal,
            names,
            examples,
        }),
    }
}

fn open_sqlite(path: &Path, options: &OpenOptions) -> Result<Box<dyn EventSource>> {
    if let Some(mapping) = &options.mapping {
        return Ok(Box::new(MappedSqliteStore::open(path, mapping.clone(), "mapped")?));
    }
    let file = sqlite_file::open_read_only(path)?;
    match inspect_sqlite(&file.connection, path)? {
        Recognised::Rewind => Ok(Box::new(SqliteStore::with_read_only_connection(file, path)?)),
        Recognised::Known { name, mapping } => {
            let mapping = crate::foreign::sqlite::separated(&file.connection, mapping);
            Ok(Box::new(MappedSqliteStore::with_connection(file, path, mapping, name)?))
        }
        Recognised::Unknown {
            proposal,
            columns,
            examples,
        } => Err(StoreError::NeedsMapping {
            names: columns,
            examples,
            path: path.to_owned(),
            what: format!(
                "table `{}` looks like events but its schema is not one Rewind knows",
                proposal.table.as_deref().unwrap_or("?")
            ),
            proposal: Box::new(proposal),
        }),
        Recognised::NoEvents { tables } => Err(StoreError::NotAStore {
            path: path.to_owned(),
            reason: Recognised::no_events_reason("it is a SQLite database", &tables),
        }),
    }
}
