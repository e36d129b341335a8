//! The one statement that walks a whole STRICT table, stepped through SQLite's C interface.
//!
//! rusqlite asks every value for its type and checks its column number before reading it (four
//! calls into SQLite for each text); here a text costs two (its bytes and their length), since
//! SQLite keeps anything but text out of a STRICT `TEXT NOT NULL` column. This runs on the
//! thread that limits an index build (docs/performance.md has the figures).
#![allow(unsafe_code)]

use std::ffi::{CStr, c_int};
use std::marker::PhantomData;
use std::ptr::{self, NonNull};

use rusqlite::{Connection, ffi};

pub struct Statement<'c> {
    handle: NonNull<ffi::sqlite3_stmt>,
    database: *mut ffi::sqlite3,
    _connection: PhantomData<&'c Connection>,
}

/// The row a [`Statement`] is at; it borrows the statement, so its texts cannot outlive
/// the next step.
pub struct Row<'s> {
    statement: *mut ffi::sqlite3_stmt,
    _step: PhantomData<&'s mut ()>,
}

impl<'c> Statement<'c> {
    pub fn prepare(connection: &'c Connection, sql: &str) -> Result<Self, rusqlite::Error> {
        let length = c_int::try_from(sql.len()).map_err(|_| rusqlite::Error::InvalidQuery)?;
        // SAFETY: the handle is the open connection's, which outlives the statement (the
        // lifetime `'c`); rusqlite's `Connection` is not `Sync`, so no other thread uses it
        // meanwhile, and SQLite allows many statements on one connection.
        let database = unsafe { connection.handle() };
        let mut statement = ptr::null_mut();
        // SAFETY: `sql` is valid for `length` bytes (SQLite reads no further), and
        // `statement` is a place for the statement's pointer.
        let code = unsafe {
            ffi::sqlite3_prepare_v2(
                database,
                sql.as_ptr().cast(),
                length,
                &raw mut statement,
                ptr::null_mut(),
            )
        };
        if code != ffi::SQLITE_OK {
            return Err(error(database, code));
        }
        let statement = NonNull::new(statement).ok_or(rusqlite::Error::InvalidQuery)?;
        Ok(Self {
            handle: statement,
            database,
            _connection: PhantomData,
        })
    }

    /// Steps to the next row; `None` after the last.
    pub fn step(&mut self) -> Result<Option<Row<'_>>, rusqlite::Error> {
        // SAFETY: the statement is prepared and not finalized; no row of it is borrowed
        // (`Row` borrows `self` mutably), so nothing points into the values a step frees.
        match unsafe { ffi::sqlite3_step(self.handle.as_ptr()) } {
            ffi::SQLITE_ROW => Ok(Some(Row {
                statement: self.handle.as_ptr(),
                _step: PhantomData,
            })),
            ffi::SQLITE_DONE => Ok(None),
            code => Err(error(self.database, code)),
        }
    }
}

impl Drop for Statement<'_> {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared by `prepare` and is finalized once, here.
        unsafe { ffi::sqlite3_finalize(self.handle.as_ptr()) };
    }
}

impl Row<'_> {
    /// The text in column `index`; `None` when it is NULL (or `index` is not a column).
    pub fn text(&self, index: usize) -> Option<&[u8]> {
        let index = c_int::try_from(index).ok()?;
        // SAFETY: the statement is at a row (a `Row` exists only then). SQLite returns a
        // pointer to the value's text and its length in bytes, valid until the statement
        // steps again or the value is converted to another type; the statement cannot step
        // while `self` is borrowed, and nothing here converts a value once it is text.
        unsafe {
            let text = ffi::sqlite3_column_text(self.statement, index);
            let length = ffi::sqlite3_column_bytes(self.statement, index);
            if text.is_null() {
                return None;
            }
            Some(std::slice::from_raw_parts(text, usize::try_from(length).ok()?))
        }
    }

    /// The integer in column `index`; `None` for a value of another type.
    pub fn integer(&self, index: usize) -> Option<i64> {
        let index = c_int::try_from(index).ok()?;
        // SAFETY: the statement is at a row; asking a value's type converts nothing.
        unsafe {
            (ffi::sqlite3_column_type(self.statement, index) == ffi::SQLITE_INTEGER)
                .then(|| ffi::sqlite3_column_int64(self.statement, index))
        }
    }
}

/// SQLite's error for `code` on `database`, with its message.
fn error(database: *mut ffi::sqlite3, code: c_int) -> rusqlite::Error {
    // SAFETY: the connection is open; the message SQLite returns is NUL-terminated and
    // copied before anything else runs on the connection.
    let message = unsafe {
        let message = ffi::sqlite3_errmsg(database);
        (!message.is_null()).then(|| CStr::from_ptr(message).to_string_lossy().into_owned())
    };
    rusqlite::Error::SqliteFailure(ffi::Error::new(code), message)
}
