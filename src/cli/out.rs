//! Standard output for the commands: buffered, and quiet when its reader goes away.
//!
//! `rewind events … | head` closes the pipe after ten lines. Rust ignores SIGPIPE, so the next
//! write fails with `BrokenPipe`; here that ends the output, not the command's outcome (`verify`
//! still exits 1 when it found issues), and nothing is said about it. Only standard output is
//! treated so: a database socket or a plug-in's pipe that breaks is an error as before.

use std::io::{self, BufWriter, StdoutLock, Write};

pub struct Out {
    inner: BufWriter<StdoutLock<'static>>,
    /// The reader is gone: what is written from now on is dropped.
    closed: bool,
}

impl Out {
    pub fn new() -> Self {
        Self {
            inner: BufWriter::new(io::stdout().lock()),
            closed: false,
        }
    }

    /// Whether the reader went away (a command that streams output can stop early).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// `value` as pretty JSON, and a newline.
    pub fn json(&mut self, value: &impl serde::Serialize) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *self, value).map_err(io::Error::from)?;
        writeln!(self)
    }

    fn quiet(&mut self, result: io::Result<usize>, len: usize) -> io::Result<usize> {
        match result {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(len)
            }
            other => other,
        }
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let result = self.inner.write(buf);
        self.quiet(result, buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let result = self.inner.flush().map(|()| 0);
        self.quiet(result, 0).map(|_| ())
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}
