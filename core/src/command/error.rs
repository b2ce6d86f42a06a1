//! Why a command was refused: small `Copy` values with messages a user can
//! act on. Nothing here allocates; a piece of the offending input is kept
//! inline ([`Token`]) so the message can quote it.

use super::text::{self, FmtSink, TextFull, TextSink};
use crate::addr::{Addr, AddrError};
use crate::space::{PathError, SpaceError};
use core::fmt;

/// How many bytes of an offending argument an error quotes.
pub const TOKEN_MAX: usize = 32;

/// The first [`TOKEN_MAX`] bytes of an argument, kept for an error message.
/// Displays printable ASCII as is and other bytes as `\xHH`, with `...`
/// when the argument was longer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Token {
    bytes: [u8; TOKEN_MAX],
    len: u8,
    truncated: bool,
}

impl Token {
    /// Keeps (the start of) `arg`.
    pub fn new(arg: &[u8]) -> Token {
        let len = arg.len().min(TOKEN_MAX);
        let mut bytes = [0; TOKEN_MAX];
        bytes[..len].copy_from_slice(&arg[..len]);
        Token {
            bytes,
            len: len as u8,
            truncated: arg.len() > TOKEN_MAX,
        }
    }

    /// The bytes kept.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

impl Token {
    /// Writes the token as `Display` does, without `core::fmt`.
    pub fn write_text(&self, out: &mut dyn TextSink) -> Result<(), TextFull> {
        // Printable ASCII and the space stay; every other byte is `\xHH`.
        text::put_escaped(out, self.as_bytes(), |_| None)?;
        if self.truncated {
            out.put("...")?;
        }
        Ok(())
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(&mut FmtSink(f)).map_err(|_| fmt::Error)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token(\"{self}\")")
    }
}

/// What was wrong with a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The line or argument list held no command.
    EmptyCommand,
    /// No command has this name.
    UnknownCommand(Token),
    /// The command got too few or too many arguments.
    WrongArity(&'static str),
    /// An option the command does not know, or a stray argument.
    Syntax(Token),
    /// An option was given without its value.
    MissingValue(&'static str),
    /// An argument that should be an address is not one.
    BadAddress {
        /// The argument.
        arg: Token,
        /// What is wrong with it.
        reason: AddrError,
    },
    /// A hex fingerprint has a character that is not a hex digit.
    BadHex {
        /// Offset of the character in the argument.
        at: usize,
    },
    /// A hex fingerprint does not have the space's width.
    WrongWidth {
        /// Bits the space's fingerprints have.
        expected: u32,
        /// Bits the argument has (four per hex digit).
        got: usize,
    },
    /// An argument that should be a decimal integer is not one (or does
    /// not fit 64 bits).
    NotInteger(Token),
    /// A number outside the range the command allows.
    OutOfRange {
        /// Which value (`COUNT`, `ticks`, ...).
        what: &'static str,
        /// The value given.
        got: i128,
        /// The smallest value allowed.
        min: i128,
        /// The largest value allowed.
        max: i128,
    },
    /// A zone name that is not `surface`, `fluid` or `nodes`.
    UnknownZone(Token),
    /// A fingerprint reference `@addr` names an address with no (live) entry.
    NoEntry(Addr),
    /// Text (ENCODE) or a path (DN.*) is not UTF-8.
    NotUtf8(&'static str),
    /// EXPIRE or PERSIST outside the fluid zone, where entries do not expire.
    NotFluid(Addr),
    /// The space refused the change (full, ...).
    Space(SpaceError),
    /// A named path was refused.
    Path(PathError),
    /// One command or transaction would make more changes than an
    /// [`Outcome`](super::Outcome) holds.
    TooManyChanges {
        /// Changes allowed.
        max: usize,
    },
    /// More arguments than a command can have.
    TooManyArguments {
        /// Arguments allowed, the command name included.
        max: usize,
    },
    /// The fingerprint scratch lent by the front end is too small.
    ScratchWords {
        /// Words of the scratch.
        capacity: usize,
    },
    /// The reply (or the unquoted line, or a path's labels) does not fit
    /// the byte scratch lent by the front end.
    ScratchBytes {
        /// Bytes of the scratch.
        capacity: usize,
    },
    /// A double-quoted argument is not closed.
    UnterminatedQuote {
        /// Offset of the opening quote in the line.
        at: usize,
    },
    /// A backslash in a quoted argument not followed by `"` or `\`.
    BadEscape {
        /// Offset of the backslash in the line.
        at: usize,
    },
    /// A closing quote followed by something other than a space, or a
    /// quote inside an unquoted argument.
    StrayQuote {
        /// Offset of the quote in the line.
        at: usize,
    },
    /// MULTI inside MULTI.
    NestedMulti,
    /// EXEC without MULTI.
    ExecWithoutMulti,
    /// DISCARD without MULTI.
    DiscardWithoutMulti,
    /// WATCH inside MULTI.
    WatchInsideMulti,
    /// More addresses watched than a session holds.
    TooManyWatches {
        /// Addresses a session can watch.
        max: usize,
    },
    /// The transaction queue lent to the session is full.
    QueueFull {
        /// Bytes of the queue.
        capacity: usize,
    },
    /// EXEC of a transaction in which a command was refused while queued.
    QueuedErrors,
}

/// Where in a transaction a command failed at EXEC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecFailure {
    /// The failed command's place in the transaction, from 1; `None` when
    /// the batch as a whole was refused (for example a full space).
    pub index: Option<u16>,
    /// Commands queued.
    pub queued: u16,
    /// The failed command's name.
    pub command: &'static str,
}

/// A refused command: what was wrong, and, for EXEC, where. A refused
/// command changes nothing; a refused EXEC applies none of its commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandError {
    /// What was wrong.
    pub kind: ErrorKind,
    /// Set when the error aborted a transaction at EXEC.
    pub exec: Option<ExecFailure>,
}

impl CommandError {
    /// The error code a RESP front end puts before the message
    /// (`-ERR ...`): `EXECABORT` for a discarded transaction, `ERR` else.
    pub const fn code(&self) -> &'static str {
        if self.exec.is_some() || matches!(self.kind, ErrorKind::QueuedErrors) {
            "EXECABORT"
        } else {
            "ERR"
        }
    }
}

impl From<ErrorKind> for CommandError {
    fn from(kind: ErrorKind) -> Self {
        CommandError { kind, exec: None }
    }
}

impl From<SpaceError> for ErrorKind {
    fn from(e: SpaceError) -> Self {
        ErrorKind::Space(e)
    }
}

impl From<PathError> for ErrorKind {
    fn from(e: PathError) -> Self {
        match e {
            PathError::Space(s) => ErrorKind::Space(s),
            other => ErrorKind::Path(other),
        }
    }
}

impl ErrorKind {
    /// Writes the message (what `Display` prints) without `core::fmt`.
    pub fn write_text(&self, out: &mut dyn TextSink) -> Result<(), TextFull> {
        match *self {
            ErrorKind::EmptyCommand => out.put("empty command"),
            ErrorKind::UnknownCommand(t) => quoted(out, "unknown command '", t, "'"),
            ErrorKind::WrongArity(name) => {
                out.put("wrong number of arguments for '")?;
                out.put(name)?;
                out.put("'")
            }
            ErrorKind::Syntax(t) => quoted(out, "syntax error near '", t, "'"),
            ErrorKind::MissingValue(option) => {
                out.put("option ")?;
                out.put(option)?;
                out.put(" needs a value")
            }
            ErrorKind::BadAddress { arg, reason } => {
                quoted(out, "bad address '", arg, "': ")?;
                text::put_addr_error(out, reason)
            }
            ErrorKind::BadHex { at } => {
                out.put("bad hex in fingerprint at offset ")?;
                text::put_usize(out, at)
            }
            ErrorKind::WrongWidth { expected, got } => {
                out.put("wrong width (expected ")?;
                text::put_uint(out, expected)?;
                out.put(" bits, got ")?;
                text::put_usize(out, got)?;
                out.put(" bits)")
            }
            ErrorKind::NotInteger(t) => {
                quoted(out, "value '", t, "' is not an integer or out of range")
            }
            ErrorKind::OutOfRange {
                what,
                got,
                min,
                max,
            } => {
                out.put(what)?;
                out.put(" out of range: got ")?;
                text::put_int(out, got)?;
                out.put(", allowed ")?;
                text::put_int(out, min)?;
                out.put("..=")?;
                text::put_int(out, max)
            }
            ErrorKind::UnknownZone(t) => {
                quoted(out, "unknown zone '", t, "' (use surface, fluid or nodes)")
            }
            ErrorKind::NoEntry(addr) => {
                out.put("no entry at @")?;
                text::put_addr(out, addr)
            }
            ErrorKind::NotUtf8(what) => {
                out.put(what)?;
                out.put(" is not valid UTF-8")
            }
            ErrorKind::NotFluid(addr) => {
                text::put_addr(out, addr)?;
                out.put(" is not in the fluid zone (0x10:00-0x7F:FF); only fluid entries expire")
            }
            ErrorKind::Space(e) => text::put_space_error(out, e),
            ErrorKind::Path(e) => text::put_path_error(out, e),
            ErrorKind::TooManyChanges { max } => {
                out.put("too many changes for one command or transaction (at most ")?;
                text::put_usize(out, max)?;
                out.put(")")
            }
            ErrorKind::TooManyArguments { max } => {
                out.put("too many arguments (at most ")?;
                text::put_usize(out, max)?;
                out.put(", the command included)")
            }
            ErrorKind::ScratchWords { capacity } => {
                out.put("the ")?;
                text::put_usize(out, capacity)?;
                out.put("-word fingerprint scratch of this front end is too small for this command")
            }
            ErrorKind::ScratchBytes { capacity } => {
                out.put("the ")?;
                text::put_usize(out, capacity)?;
                out.put("-byte reply scratch of this front end is too small for this command")
            }
            ErrorKind::UnterminatedQuote { at } => {
                out.put("unterminated quote opened at offset ")?;
                text::put_usize(out, at)
            }
            ErrorKind::BadEscape { at } => {
                out.put("bad escape at offset ")?;
                text::put_usize(out, at)?;
                out.put(" (inside quotes only \\\" and \\\\ are escapes)")
            }
            ErrorKind::StrayQuote { at } => {
                out.put("unexpected quote at offset ")?;
                text::put_usize(out, at)?;
                out.put(" (quote whole arguments, separated by spaces)")
            }
            ErrorKind::NestedMulti => out.put("MULTI calls can not be nested"),
            ErrorKind::ExecWithoutMulti => out.put("EXEC without MULTI"),
            ErrorKind::DiscardWithoutMulti => out.put("DISCARD without MULTI"),
            ErrorKind::WatchInsideMulti => out.put("WATCH inside MULTI is not allowed"),
            ErrorKind::TooManyWatches { max } => {
                out.put("too many watched addresses (at most ")?;
                text::put_usize(out, max)?;
                out.put(" per session)")
            }
            ErrorKind::QueueFull { capacity } => {
                out.put("transaction too large for the ")?;
                text::put_usize(out, capacity)?;
                out.put("-byte queue of this session")
            }
            ErrorKind::QueuedErrors => out.put("Transaction discarded because of previous errors"),
        }
    }
}

/// `before`, the token, `after`.
fn quoted(out: &mut dyn TextSink, before: &str, token: Token, after: &str) -> Result<(), TextFull> {
    out.put(before)?;
    token.write_text(out)?;
    out.put(after)
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(&mut FmtSink(f)).map_err(|_| fmt::Error)
    }
}

impl CommandError {
    /// Writes the message (what `Display` prints, without the
    /// [`code`](Self::code)) without `core::fmt`.
    pub fn write_text(&self, out: &mut dyn TextSink) -> Result<(), TextFull> {
        let Some(failure) = self.exec else {
            return self.kind.write_text(out);
        };
        out.put("Transaction discarded: ")?;
        if let Some(i) = failure.index {
            out.put("command ")?;
            text::put_uint(out, i)?;
            out.put(" of ")?;
            text::put_uint(out, failure.queued)?;
            out.put(" (")?;
            out.put(failure.command)?;
            out.put(") failed: ")?;
        }
        self.kind.write_text(out)?;
        out.put("; nothing was applied")
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(&mut FmtSink(f)).map_err(|_| fmt::Error)
    }
}
