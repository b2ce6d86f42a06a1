//! Why a command was refused: small `Copy` values with messages a user can
//! act on. Nothing here allocates; a piece of the offending input is kept
//! inline ([`Token`]) so the message can quote it.

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

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.as_bytes() {
            if b.is_ascii_graphic() || b == b' ' {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        if self.truncated {
            f.write_str("...")?;
        }
        Ok(())
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

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ErrorKind::EmptyCommand => f.write_str("empty command"),
            ErrorKind::UnknownCommand(t) => write!(f, "unknown command '{t}'"),
            ErrorKind::WrongArity(name) => {
                write!(f, "wrong number of arguments for '{name}'")
            }
            ErrorKind::Syntax(t) => write!(f, "syntax error near '{t}'"),
            ErrorKind::MissingValue(option) => write!(f, "option {option} needs a value"),
            ErrorKind::BadAddress { arg, reason } => {
                write!(f, "bad address '{arg}': {reason}")
            }
            ErrorKind::BadHex { at } => {
                write!(f, "bad hex in fingerprint at offset {at}")
            }
            ErrorKind::WrongWidth { expected, got } => write!(
                f,
                "wrong width (expected {expected} bits, got {got} bits)"
            ),
            ErrorKind::NotInteger(t) => {
                write!(f, "value '{t}' is not an integer or out of range")
            }
            ErrorKind::OutOfRange {
                what,
                got,
                min,
                max,
            } => write!(f, "{what} out of range: got {got}, allowed {min}..={max}"),
            ErrorKind::UnknownZone(t) => {
                write!(f, "unknown zone '{t}' (use surface, fluid or nodes)")
            }
            ErrorKind::NoEntry(addr) => write!(f, "no entry at @{addr}"),
            ErrorKind::NotUtf8(what) => write!(f, "{what} is not valid UTF-8"),
            ErrorKind::NotFluid(addr) => write!(
                f,
                "{addr} is not in the fluid zone (0x10:00-0x7F:FF); only fluid entries expire"
            ),
            ErrorKind::Space(e) => fmt::Display::fmt(&e, f),
            ErrorKind::Path(e) => fmt::Display::fmt(&e, f),
            ErrorKind::TooManyChanges { max } => write!(
                f,
                "too many changes for one command or transaction (at most {max})"
            ),
            ErrorKind::TooManyArguments { max } => {
                write!(f, "too many arguments (at most {max}, the command included)")
            }
            ErrorKind::ScratchWords { capacity } => write!(
                f,
                "the {capacity}-word fingerprint scratch of this front end is too small for this command"
            ),
            ErrorKind::ScratchBytes { capacity } => write!(
                f,
                "the {capacity}-byte reply scratch of this front end is too small for this command"
            ),
            ErrorKind::UnterminatedQuote { at } => {
                write!(f, "unterminated quote opened at offset {at}")
            }
            ErrorKind::BadEscape { at } => write!(
                f,
                "bad escape at offset {at} (inside quotes only \\\" and \\\\ are escapes)"
            ),
            ErrorKind::StrayQuote { at } => write!(
                f,
                "unexpected quote at offset {at} (quote whole arguments, separated by spaces)"
            ),
            ErrorKind::NestedMulti => f.write_str("MULTI calls can not be nested"),
            ErrorKind::ExecWithoutMulti => f.write_str("EXEC without MULTI"),
            ErrorKind::DiscardWithoutMulti => f.write_str("DISCARD without MULTI"),
            ErrorKind::WatchInsideMulti => f.write_str("WATCH inside MULTI is not allowed"),
            ErrorKind::TooManyWatches { max } => {
                write!(f, "too many watched addresses (at most {max} per session)")
            }
            ErrorKind::QueueFull { capacity } => write!(
                f,
                "transaction too large for the {capacity}-byte queue of this session"
            ),
            ErrorKind::QueuedErrors => {
                f.write_str("Transaction discarded because of previous errors")
            }
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.exec {
            None => fmt::Display::fmt(&self.kind, f),
            Some(ExecFailure {
                index: Some(i),
                queued,
                command,
            }) => write!(
                f,
                "Transaction discarded: command {i} of {queued} ({command}) failed: {}; nothing was applied",
                self.kind
            ),
            Some(ExecFailure { index: None, .. }) => write!(
                f,
                "Transaction discarded: {}; nothing was applied",
                self.kind
            ),
        }
    }
}
