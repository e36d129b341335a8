//! The only code in Rewind that writes to PostgreSQL: `rewind sample --postgres`.

use std::io::Write as _;

use postgres::{Client, Config, NoTls};

use super::{describe, error, with_password};
use crate::encoded::EncodedEvent;
use crate::error::Result;
use crate::location::redact;

/// Writes Rewind's own events table into a PostgreSQL database (`rewind sample --postgres`).
/// The only code in Rewind that writes to PostgreSQL; it uses its own read-write connection.
pub struct PostgresWriter {
    client: Client,
    shown: String,
    written: u64,
}

impl PostgresWriter {
    /// Creates the `events` table; an existing one is an error unless `replace`.
    pub fn create(url: &str, replace: bool) -> Result<Self> {
        let shown = redact(url);
        let config: Config = url
            .parse()
            .map_err(|e: postgres::Error| error(&shown, format!("not a PostgreSQL URL: {e}")))?;
        let mut client = with_password(config)
            .connect(NoTls)
            .map_err(|e| error(&shown, format!("cannot connect: {}", describe(&e))))?;
        let fail = |e: postgres::Error| error(&shown, describe(&e));
        let exists: bool = client
            .query_one("SELECT to_regclass('public.events') IS NOT NULL", &[])
            .map_err(fail)?
            .get(0);
        if exists && !replace {
            return Err(error(
                &shown,
                "a table `events` already exists; pass --force to replace it",
            ));
        }
        client
            .batch_execute(
                "DROP TABLE IF EXISTS public.events;
                 CREATE TABLE public.events (
                     global_position bigint      NOT NULL,
                     stream_id       text        NOT NULL,
                     stream_type     text        NOT NULL,
                     stream_version  bigint      NOT NULL,
                     event_id        uuid        NOT NULL,
                     event_type      text        NOT NULL,
                     schema_version  integer     NOT NULL,
                     recorded_at     timestamptz NOT NULL,
                     data            json        NOT NULL,
                     metadata        json        NOT NULL
                 );",
            )
            .map_err(fail)?;
        Ok(Self {
            client,
            shown,
            written: 0,
        })
    }

    /// Appends events with `COPY`.
    pub fn write_encoded(&mut self, events: &[EncodedEvent]) -> Result<()> {
        let shown = self.shown.clone();
        let fail = |e: postgres::Error| error(&shown, describe(&e));
        let mut copy = self
            .client
            .copy_in(
                "COPY public.events (global_position, stream_id, stream_type, stream_version, event_id, event_type, \
                 schema_version, recorded_at, data, metadata) FROM STDIN",
            )
            .map_err(fail)?;
        let mut buffer = Vec::with_capacity(events.len() * 400);
        for encoded in events {
            let e = &encoded.event;
            let _ = write!(buffer, "{}\t", e.global_position);
            copy_text(&mut buffer, &e.stream_id);
            buffer.push(b'\t');
            copy_text(&mut buffer, &e.stream_type);
            let _ = write!(buffer, "\t{}\t{}\t", e.stream_version, e.event_id);
            copy_text(&mut buffer, &e.event_type);
            let _ = write!(
                buffer,
                "\t{}\t{}\t",
                e.schema_version.unwrap_or(0),
                // COPY's NULL: a time the source store did not record.
                e.recorded_at.map_or_else(|| "\\N".to_owned(), |t| t.to_rfc3339())
            );
            copy_text(&mut buffer, &encoded.data);
            buffer.push(b'\t');
            copy_text(&mut buffer, &encoded.metadata);
            buffer.push(b'\n');
        }
        copy.write_all(&buffer).map_err(|e| error(&self.shown, e))?;
        copy.finish().map_err(fail)?;
        self.written += events.len() as u64;
        Ok(())
    }

    /// Adds the keys and indexes (once, after the bulk load) and returns the count written.
    pub fn finish(mut self) -> Result<u64> {
        let shown = self.shown.clone();
        self.client
            .batch_execute(
                "ALTER TABLE public.events ADD PRIMARY KEY (global_position);
                 CREATE UNIQUE INDEX events_stream_version ON public.events (stream_id, stream_version);
                 CREATE UNIQUE INDEX events_event_id ON public.events (event_id);
                 ANALYZE public.events;",
            )
            .map_err(|e| error(&shown, describe(&e)))?;
        Ok(self.written)
    }
}

/// A value in `COPY`'s text format: backslash, tab, newline and carriage return escaped.
fn copy_text(out: &mut Vec<u8>, text: &str) {
    for byte in text.bytes() {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_copy_would_misread() {
        let mut out = Vec::new();
        copy_text(&mut out, "a\tb\nc\\d\re");
        assert_eq!(out, b"a\\tb\\nc\\\\d\\re");
    }
}
