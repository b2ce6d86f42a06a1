//! Standard output of the commands that print. `println!` panics when a
//! write fails, so `bindspace stats | head -1` died with a backtrace once
//! `head` had gone; here every write's error is handled: a reader that
//! went away stops the command quietly, any other failure (a full disk)
//! is a one-line error and a non-zero exit.

use super::CliError;
use core::fmt;
use std::io::{self, Write};

/// Where a command prints: `writeln!(out, "...")?` (the macro calls
/// [`Out::write_fmt`]), stopping the command at the first failed write.
#[derive(Debug, Default)]
pub(crate) struct Out {
    reader_gone: bool,
}

impl Out {
    /// Standard output, nothing written yet.
    pub(crate) fn stdout() -> Out {
        Out::default()
    }

    /// Writes `args` and flushes them, so that a failure is met here, by
    /// the command, and not in a buffer flushed at exit.
    pub(crate) fn write_fmt(&mut self, args: fmt::Arguments<'_>) -> Result<(), CliError> {
        self.write_with(|stdout| stdout.write_fmt(args))
    }

    /// Writes `bytes` as they are (an export sent to standard output).
    pub(crate) fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), CliError> {
        self.write_with(|stdout| stdout.write_all(bytes))
    }

    /// Runs `write` on standard output and flushes it, turning a failure
    /// of either into the command's error.
    fn write_with(
        &mut self,
        write: impl FnOnce(&mut io::StdoutLock<'static>) -> io::Result<()>,
    ) -> Result<(), CliError> {
        // Locked per write, not for the whole command: a thread printing
        // meanwhile waits for one line, not for the command to end.
        let mut stdout = io::stdout().lock();
        write(&mut stdout)
            .and_then(|()| stdout.flush())
            .map_err(|e| self.failed(&e))
    }

    /// Whether `path` names this process's standard output: `-`, or the
    /// same file (`/dev/stdout`, or the file a shell redirected it to).
    pub(crate) fn is_stdout(path: &std::path::Path) -> bool {
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        if path.as_os_str() == "-" {
            return true;
        }
        let (Ok(target), Ok(out)) = (
            std::fs::metadata(path),
            rustix::fs::fstat(io::stdout().as_fd()),
        ) else {
            return false;
        };
        target.dev() == out.st_dev && target.ino() == out.st_ino
    }

    /// Whether a write failed because the reader of standard output had
    /// closed it (a broken pipe).
    pub(crate) fn reader_gone(&self) -> bool {
        self.reader_gone
    }

    fn failed(&mut self, e: &io::Error) -> CliError {
        if e.kind() == io::ErrorKind::BrokenPipe {
            self.reader_gone = true;
            return CliError("standard output was closed by its reader".into());
        }
        CliError(format!("cannot write to standard output: {e}"))
    }
}
