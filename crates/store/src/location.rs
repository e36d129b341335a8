//! Where a store is: a file, or a PostgreSQL database (optionally one table of it).
//!
//! A database URL may carry a password. It is kept for connecting and never shown: `Display`,
//! `Debug` and the serialised form (what the app's preferences remember) all leave it out, and
//! two locations that differ only by a password are the same store.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A store's location.
#[derive(Clone)]
pub enum StoreLocation {
    /// A file (SQLite, NDJSON, JSON, gzip): its format is recognised by its content.
    File(PathBuf),
    /// A PostgreSQL database.
    Postgres(PostgresLocation),
}

/// A PostgreSQL database, and optionally the one table to read events from.
#[derive(Clone)]
pub struct PostgresLocation {
    /// As given, password included: only for connecting.
    url: String,
    /// `schema.table`, or `table` in any schema.
    table: Option<String>,
}

impl PostgresLocation {
    pub fn new(url: impl Into<String>, table: Option<String>) -> Self {
        Self {
            url: url.into(),
            table: table.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()),
        }
    }

    /// The URL to connect with, password included. Never show it.
    pub fn connection_url(&self) -> &str {
        &self.url
    }

    /// The URL without its password.
    pub fn shown_url(&self) -> String {
        redact(&self.url)
    }

    pub fn table(&self) -> Option<&str> {
        self.table.as_deref()
    }
}

impl StoreLocation {
    /// A location as a person types it: a `postgres://` (or `postgresql://`) URL, or a path.
    pub fn parse(text: &str) -> Self {
        if is_postgres_url(text) {
            Self::Postgres(PostgresLocation::new(text, None))
        } else {
            Self::File(PathBuf::from(text))
        }
    }

    /// The file's path, for a file.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::File(path) => Some(path),
            Self::Postgres(_) => None,
        }
    }

    /// What identifies the store, without a password: its key in preferences and comparisons.
    fn key(&self) -> (u8, String, Option<&str>) {
        match self {
            Self::File(path) => (0, path.display().to_string(), None),
            Self::Postgres(db) => (1, db.shown_url(), db.table()),
        }
    }
}

impl From<PathBuf> for StoreLocation {
    fn from(path: PathBuf) -> Self {
        Self::File(path)
    }
}

impl From<&Path> for StoreLocation {
    fn from(path: &Path) -> Self {
        Self::File(path.to_owned())
    }
}

impl From<&PathBuf> for StoreLocation {
    fn from(path: &PathBuf) -> Self {
        Self::File(path.clone())
    }
}

impl From<&StoreLocation> for StoreLocation {
    fn from(location: &StoreLocation) -> Self {
        location.clone()
    }
}

impl std::str::FromStr for StoreLocation {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self::parse(text))
    }
}

/// The path, or the URL without its password (and the table, when one is named).
impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Postgres(db) => match db.table() {
                Some(table) => write!(f, "{} (table {table})", db.shown_url()),
                None => write!(f, "{}", db.shown_url()),
            },
        }
    }
}

/// As [`fmt::Display`]: a password never reaches a log through `{:?}` either.
impl fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Postgres(db) => f
                .debug_struct("Postgres")
                .field("url", &db.shown_url())
                .field("table", &db.table)
                .finish(),
        }
    }
}

impl PartialEq for StoreLocation {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for StoreLocation {}

impl PartialOrd for StoreLocation {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for StoreLocation {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl std::hash::Hash for StoreLocation {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

/// The serialised form: a string (a path, or a URL without its password), or
/// `{ url, table }` for one table of a database. A path saved as a plain string by earlier
/// versions reads back as the same location.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Stored {
    Text(String),
    Table { url: String, table: String },
}

impl Serialize for StoreLocation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let stored = match self {
            Self::File(path) => Stored::Text(path.display().to_string()),
            Self::Postgres(db) => match db.table() {
                Some(table) => Stored::Table {
                    url: db.shown_url(),
                    table: table.to_owned(),
                },
                None => Stored::Text(db.shown_url()),
            },
        };
        stored.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for StoreLocation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Stored::deserialize(deserializer)? {
            Stored::Text(text) => Self::parse(&text),
            // A password that somehow reached the file is dropped here too.
            Stored::Table { url, table } => Self::Postgres(PostgresLocation::new(redact(&url), Some(table))),
        })
    }
}

/// Whether a STORE argument is a PostgreSQL connection URL rather than a file.
pub fn is_postgres_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

/// The URL without its password, for the status bar, logs and preferences.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_leave_the_url() {
        assert_eq!(
            redact("postgres://ada:s3cret@db.example:5432/bank?sslmode=disable"),
            "postgres://ada@db.example:5432/bank?sslmode=disable"
        );
        assert_eq!(
            redact("postgresql://ada@localhost/bank"),
            "postgresql://ada@localhost/bank"
        );
        assert_eq!(redact("postgres://localhost/bank"), "postgres://localhost/bank");
        assert_eq!(redact("postgres://a:b:c@h/d"), "postgres://a@h/d");
    }

    /// Display, Debug and the serialised form (the app's preferences) never hold the password,
    /// and the password is not part of what makes two locations the same.
    #[test]
    fn a_location_never_shows_or_saves_its_password() {
        let secret = "s3cret-pw";
        let with = StoreLocation::parse(&format!("postgres://ada:{secret}@db.example:5432/bank"));
        let table = StoreLocation::Postgres(PostgresLocation::new(
            format!("postgres://ada:{secret}@db.example/bank"),
            Some("es.events".into()),
        ));
        for location in [&with, &table] {
            let shown = [
                location.to_string(),
                format!("{location:?}"),
                format!("{location:#?}"),
                serde_json::to_string(location).expect("serialises"),
                toml::to_string(&std::collections::BTreeMap::from([("at", location)])).expect("serialises"),
            ];
            for text in shown {
                assert!(!text.contains(secret), "{text}");
                assert!(text.contains("ada@db.example"), "{text}");
            }
        }
        let StoreLocation::Postgres(db) = &with else {
            panic!("a URL is a database")
        };
        assert!(db.connection_url().contains(secret), "kept for connecting");
        assert_eq!(with, StoreLocation::parse("postgres://ada@db.example:5432/bank"));
        assert_eq!(table.to_string(), "postgres://ada@db.example/bank (table es.events)");
    }

    #[test]
    fn a_location_reads_back_as_it_was_saved_and_paths_saved_as_text_still_load() {
        let file = StoreLocation::parse("/data/bank.sqlite");
        let db = StoreLocation::parse("postgres://ada@localhost/bank");
        let table = StoreLocation::Postgres(PostgresLocation::new("postgres://ada@localhost/bank", Some("t".into())));
        for location in [&file, &db, &table] {
            let text = serde_json::to_string(location).expect("serialises");
            let back: StoreLocation = serde_json::from_str(&text).expect("deserialises");
            assert_eq!(&back, location, "{text}");
            assert_eq!(back.to_string(), location.to_string());
        }
        assert_eq!(
            serde_json::to_string(&file).expect("serialises"),
            "\"/data/bank.sqlite\""
        );
        assert!(matches!(file, StoreLocation::File(_)));
        assert!(matches!(db, StoreLocation::Postgres(_)));
    }
}
