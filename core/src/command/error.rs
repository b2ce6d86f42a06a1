//! Why a command was refused: small `Copy` values with messages a user can
//! act on. Nothing here allocates; a piece of the offending input is kept
//! inline ([`Token`]) so the message can quote it.

use super::text::{self, fill, Arg, FmtSink, TextFull, TextSink};
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
        got: i64,
        /// The smallest value allowed.
        min: i64,
        /// The largest value allowed.
        max: i64,
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
        let (size, token) = (Arg::size, Arg::Token);
        match self {
            ErrorKind::EmptyCommand => out.put("empty command"),
            ErrorKind::UnknownCommand(t) => fill(out, "unknown command '{}'", &[token(t)]),
            ErrorKind::WrongArity(name) => {
                fill(out, "wrong number of arguments for '{}'", &[Arg::Str(name)])
            }
            ErrorKind::Syntax(t) => fill(out, "syntax error near '{}'", &[token(t)]),
            ErrorKind::MissingValue(option) => {
                fill(out, "option {} needs a value", &[Arg::Str(option)])
            }
            ErrorKind::BadAddress { arg, reason } => fill(
                out,
                "bad address '{}': {}",
                &[token(arg), Arg::Str(text::addr_error_text(*reason))],
            ),
            ErrorKind::BadHex { at } => {
                fill(out, "bad hex in fingerprint at offset {}", &[size(*at)])
            }
            ErrorKind::WrongWidth { expected, got } => fill(
                out,
                "wrong width (expected {} bits, got {} bits)",
                &[Arg::Int((*expected).into()), size(*got)],
            ),
            ErrorKind::NotInteger(t) => fill(
                out,
                "value '{}' is not an integer or out of range",
                &[token(t)],
            ),
            ErrorKind::OutOfRange {
                what,
                got,
                min,
                max,
            } => fill(
                out,
                "{} out of range: got {}, allowed {}..={}",
                &[
                    Arg::Str(what),
                    Arg::Int((*got).into()),
                    Arg::Int((*min).into()),
                    Arg::Int((*max).into()),
                ],
            ),
            ErrorKind::UnknownZone(t) => fill(
                out,
                "unknown zone '{}' (use surface, fluid or nodes)",
                &[token(t)],
            ),
            ErrorKind::NoEntry(addr) => fill(out, "no entry at @{}", &[Arg::Addr(*addr)]),
            ErrorKind::NotUtf8(what) => fill(out, "{} is not valid UTF-8", &[Arg::Str(what)]),
            ErrorKind::NotFluid(addr) => fill(
                out,
                "{} is not in the fluid zone (0x10:00-0x7F:FF); only fluid entries expire",
                &[Arg::Addr(*addr)],
            ),
            ErrorKind::Space(e) => text::put_space_error(out, *e),
            ErrorKind::Path(e) => text::put_path_error(out, *e),
            ErrorKind::TooManyChanges { max } => fill(
                out,
                "too many changes for one command or transaction (at most {})",
                &[size(*max)],
            ),
            ErrorKind::TooManyArguments { max } => fill(
                out,
                "too many arguments (at most {}, the command included)",
                &[size(*max)],
            ),
            ErrorKind::ScratchWords { capacity } => fill(
                out,
                "the {}-word fingerprint scratch of this front end is too small for this command",
                &[size(*capacity)],
            ),
            ErrorKind::ScratchBytes { capacity } => fill(
                out,
                "the {}-byte reply scratch of this front end is too small for this command",
                &[size(*capacity)],
            ),
            ErrorKind::UnterminatedQuote { at } => {
                fill(out, "unterminated quote opened at offset {}", &[size(*at)])
            }
            ErrorKind::BadEscape { at } => fill(
                out,
                "bad escape at offset {} (inside quotes only \\\" and \\\\ are escapes)",
                &[size(*at)],
            ),
            ErrorKind::StrayQuote { at } => fill(
                out,
                "unexpected quote at offset {} (quote whole arguments, separated by spaces)",
                &[size(*at)],
            ),
            ErrorKind::NestedMulti => out.put("MULTI calls can not be nested"),
            ErrorKind::ExecWithoutMulti => out.put("EXEC without MULTI"),
            ErrorKind::DiscardWithoutMulti => out.put("DISCARD without MULTI"),
            ErrorKind::WatchInsideMulti => out.put("WATCH inside MULTI is not allowed"),
            ErrorKind::TooManyWatches { max } => fill(
                out,
                "too many watched addresses (at most {} per session)",
                &[size(*max)],
            ),
            ErrorKind::QueueFull { capacity } => fill(
                out,
                "transaction too large for the {}-byte queue of this session",
                &[size(*capacity)],
            ),
            ErrorKind::QueuedErrors => out.put("Transaction discarded because of previous errors"),
        }
    }
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
        if let Some(i) = failure.index {
            fill(
                out,
                "Transaction discarded: command {} of {} ({}) failed: ",
                &[
                    Arg::Int(i.into()),
                    Arg::Int(failure.queued.into()),
                    Arg::Str(failure.command),
                ],
            )?;
        } else {
            out.put("Transaction discarded: ")?;
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
