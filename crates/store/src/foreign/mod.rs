//! Other libraries' stores in files: SQLite tables read through a [`Mapping`], and JSON exports
//! (arrays, EventStoreDB Atom pages, CloudEvents, generic records) read into memory.
//!
//! [`Mapping`]: crate::Mapping

pub(crate) mod json;
pub(crate) mod memory;
pub(crate) mod sqlite;
