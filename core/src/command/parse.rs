//! From an argument list to a typed [`Command`]: names, arity, addresses,
//! numbers, options. Everything that can be checked without looking at
//! the space is checked here, so a transaction refuses a malformed command
//! when it is queued, not at EXEC.

use super::error::{ErrorKind, Token};
use super::paths;
use crate::addr::{Addr, Zone};
use crate::space::Filter;
use crate::width::Width;

/// The most hits one SEARCH returns.
pub const SEARCH_K_MAX: usize = 128;
/// Hits a SEARCH returns unless told otherwise.
pub const SEARCH_K_DEFAULT: usize = 10;
/// The most addresses one SCAN returns.
pub const SCAN_COUNT_MAX: usize = 1024;
/// Addresses a SCAN returns unless told otherwise.
pub const SCAN_COUNT_DEFAULT: usize = 10;

/// A fingerprint argument: hex digits of exactly the space's width
/// (`0x` optional), or `@addr`, the fingerprint stored at `addr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FpArg<'a> {
    /// Hex digits, the optional `0x` included; the digits are checked.
    Hex(&'a [u8]),
    /// The fingerprint of the live entry at this address.
    At(Addr),
}

impl<'a> FpArg<'a> {
    /// Parses `@addr` or hex, checking the hex digits (not yet the width).
    pub fn parse(arg: &'a [u8]) -> Result<Self, ErrorKind> {
        if let Some(rest) = arg.strip_prefix(b"@") {
            return parse_addr(rest).map(FpArg::At);
        }
        let (digits, base) = match arg.strip_prefix(b"0x") {
            Some(rest) => (rest, 2),
            None => (arg, 0),
        };
        if let Some(at) = digits.iter().position(|c| !c.is_ascii_hexdigit()) {
            return Err(ErrorKind::BadHex { at: at + base });
        }
        Ok(FpArg::Hex(arg))
    }

    /// Checks that hex has exactly `width` (a reference is checked when
    /// it is read).
    pub fn check_width(&self, width: Width) -> Result<(), ErrorKind> {
        if let FpArg::Hex(hex) = *self {
            let digits = hex.strip_prefix(b"0x").unwrap_or(hex).len();
            if digits != width.words() * 16 {
                return Err(ErrorKind::WrongWidth {
                    expected: width.bits(),
                    got: digits * 4,
                });
            }
        }
        Ok(())
    }
}

/// Arguments already checked to be addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addrs<'a>(&'a [&'a [u8]]);

impl<'a> Addrs<'a> {
    fn checked(args: &'a [&'a [u8]]) -> Result<Self, ErrorKind> {
        for a in args {
            parse_addr(a)?;
        }
        Ok(Addrs(args))
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The addresses, in argument order.
    pub fn iter(&self) -> impl Iterator<Item = Addr> + Clone + 'a {
        self.0.iter().filter_map(|a| parse_addr(a).ok())
    }
}

/// Arguments already checked to be fingerprints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FpArgs<'a>(&'a [&'a [u8]]);

impl<'a> FpArgs<'a> {
    fn checked(args: &'a [&'a [u8]]) -> Result<Self, ErrorKind> {
        for a in args {
            FpArg::parse(a)?;
        }
        Ok(FpArgs(args))
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The fingerprints, in argument order.
    pub fn iter(&self) -> impl Iterator<Item = FpArg<'a>> + Clone + 'a {
        self.0.iter().filter_map(|a| FpArg::parse(a).ok())
    }
}

/// What SEARCH asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchArgs<'a> {
    /// The query.
    pub query: FpArg<'a>,
    /// How many hits at most.
    pub k: usize,
    /// Which addresses may be returned.
    pub filter: Filter,
    /// Hits farther than this are left out.
    pub max_distance: Option<u32>,
    /// Whether each hit comes with its distance.
    pub with_dist: bool,
}

/// A parsed command. See `docs/COMMANDS.md` for each one's meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command<'a> {
    /// `PING [message]`
    Ping(Option<&'a [u8]>),
    /// `SET addr fp`
    Set {
        /// Where.
        addr: Addr,
        /// What.
        fp: FpArg<'a>,
    },
    /// `GET addr`
    Get(Addr),
    /// `DEL addr [addr ...]`
    Del(Addrs<'a>),
    /// `EXISTS addr [addr ...]`
    Exists(Addrs<'a>),
    /// `COUNT [ZONE z]`
    Count(Filter),
    /// `SCAN [ZONE z] [CURSOR c] [COUNT n]`
    Scan {
        /// Which addresses.
        filter: Filter,
        /// Where to start (0 = the beginning).
        cursor: u32,
        /// How many addresses at most.
        count: usize,
    },
    /// `BIND dst a b`
    Bind {
        /// Where the result goes.
        dst: Addr,
        /// First operand.
        a: FpArg<'a>,
        /// Second operand.
        b: FpArg<'a>,
    },
    /// `BUNDLE dst fp [fp ...]`
    Bundle {
        /// Where the result goes.
        dst: Addr,
        /// The inputs.
        inputs: FpArgs<'a>,
    },
    /// `PERMUTE dst src n`
    Permute {
        /// Where the result goes.
        dst: Addr,
        /// The input.
        src: FpArg<'a>,
        /// Bits to rotate by (negative: the other way).
        n: i64,
    },
    /// `HAMMING a b`
    Hamming {
        /// First operand.
        a: FpArg<'a>,
        /// Second operand.
        b: FpArg<'a>,
    },
    /// `ENCODE dst text`
    Encode {
        /// Where the result goes.
        dst: Addr,
        /// The text.
        text: &'a str,
    },
    /// `SEARCH query [COUNT k] [ZONE z] [MAXDIST d] [WITHDIST]`
    Search(SearchArgs<'a>),
    /// `EXPIRE addr ticks`
    Expire {
        /// Which entry.
        addr: Addr,
        /// Ticks from now.
        ticks: u64,
    },
    /// `PERSIST addr`
    Persist(Addr),
    /// `DN.SET path fp`
    DnSet {
        /// `a/b/c`.
        path: &'a str,
        /// What to store at the last component.
        fp: FpArg<'a>,
    },
    /// `DN.GET path`
    DnGet(&'a str),
    /// `DN.CHILDREN path`
    DnChildren(&'a str),
    /// `DN.PARENT path`
    DnParent(&'a str),
    /// `MULTI`
    Multi,
    /// `EXEC`
    Exec,
    /// `DISCARD`
    Discard,
    /// `WATCH addr [addr ...]`
    Watch(Addrs<'a>),
    /// `UNWATCH`
    Unwatch,
    /// `INFO`
    Info,
}

/// Which command a [`Spec`] describes: the parser dispatches on this, not
/// on the name's text (one compare instead of one per command name).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Id {
    Ping,
    Set,
    Get,
    Del,
    Exists,
    Count,
    Scan,
    Bind,
    Bundle,
    Permute,
    Hamming,
    Encode,
    Search,
    Expire,
    Persist,
    DnSet,
    DnGet,
    DnChildren,
    DnParent,
    Multi,
    Exec,
    Discard,
    Watch,
    Unwatch,
    Info,
}

/// The name a command is known by, and how many arguments it takes
/// (counting its name).
struct Spec {
    name: &'static str,
    id: Id,
    min: usize,
    max: usize,
}

const ANY: usize = usize::MAX;

// One line per command reads as a table.
#[rustfmt::skip]
const SPECS: &[Spec] = &[
    Spec { name: "PING", id: Id::Ping, min: 1, max: 2 },
    Spec { name: "SET", id: Id::Set, min: 3, max: 3 },
    Spec { name: "GET", id: Id::Get, min: 2, max: 2 },
    Spec { name: "DEL", id: Id::Del, min: 2, max: ANY },
    Spec { name: "EXISTS", id: Id::Exists, min: 2, max: ANY },
    Spec { name: "COUNT", id: Id::Count, min: 1, max: 3 },
    Spec { name: "SCAN", id: Id::Scan, min: 1, max: 7 },
    Spec { name: "BIND", id: Id::Bind, min: 4, max: 4 },
    Spec { name: "BUNDLE", id: Id::Bundle, min: 3, max: ANY },
    Spec { name: "PERMUTE", id: Id::Permute, min: 4, max: 4 },
    Spec { name: "HAMMING", id: Id::Hamming, min: 3, max: 3 },
    Spec { name: "ENCODE", id: Id::Encode, min: 3, max: 3 },
    Spec { name: "SEARCH", id: Id::Search, min: 2, max: 9 },
    Spec { name: "EXPIRE", id: Id::Expire, min: 3, max: 3 },
    Spec { name: "PERSIST", id: Id::Persist, min: 2, max: 2 },
    Spec { name: "DN.SET", id: Id::DnSet, min: 3, max: 3 },
    Spec { name: "DN.GET", id: Id::DnGet, min: 2, max: 2 },
    Spec { name: "DN.CHILDREN", id: Id::DnChildren, min: 2, max: 2 },
    Spec { name: "DN.PARENT", id: Id::DnParent, min: 2, max: 2 },
    Spec { name: "MULTI", id: Id::Multi, min: 1, max: 1 },
    Spec { name: "EXEC", id: Id::Exec, min: 1, max: 1 },
    Spec { name: "DISCARD", id: Id::Discard, min: 1, max: 1 },
    Spec { name: "WATCH", id: Id::Watch, min: 2, max: ANY },
    Spec { name: "UNWATCH", id: Id::Unwatch, min: 1, max: 1 },
    Spec { name: "INFO", id: Id::Info, min: 1, max: 1 },
];

/// The canonical (upper-case) name of the command `name` (any case), if
/// there is one.
pub fn command_name(name: &[u8]) -> Option<&'static str> {
    SPECS
        .iter()
        .find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
        .map(|s| s.name)
}

impl<'a> Command<'a> {
    /// Parses an argument list (`args[0]` is the command name, in any
    /// case).
    pub fn parse(args: &'a [&'a [u8]]) -> Result<Command<'a>, ErrorKind> {
        let Some((&name, rest)) = args.split_first() else {
            return Err(ErrorKind::EmptyCommand);
        };
        let spec = SPECS
            .iter()
            .find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
            .ok_or_else(|| ErrorKind::UnknownCommand(Token::new(name)))?;
        if args.len() < spec.min || args.len() > spec.max {
            return Err(ErrorKind::WrongArity(spec.name));
        }
        let addr = |i: usize| parse_addr(rest[i]);
        let fp = |i: usize| FpArg::parse(rest[i]);
        Ok(match spec.id {
            Id::Ping => Command::Ping(rest.first().copied()),
            Id::Set => Command::Set {
                addr: addr(0)?,
                fp: fp(1)?,
            },
            Id::Get => Command::Get(addr(0)?),
            Id::Del => Command::Del(Addrs::checked(rest)?),
            Id::Exists => Command::Exists(Addrs::checked(rest)?),
            Id::Count => Command::Count(Options::parse(rest, &[Opt::Zone])?.filter),
            Id::Scan => {
                let o = Options::parse(rest, &[Opt::Zone, Opt::Cursor, Opt::ScanCount])?;
                Command::Scan {
                    filter: o.filter,
                    cursor: o.cursor,
                    count: o.count.unwrap_or(SCAN_COUNT_DEFAULT),
                }
            }
            Id::Bind => Command::Bind {
                dst: addr(0)?,
                a: fp(1)?,
                b: fp(2)?,
            },
            Id::Bundle => Command::Bundle {
                dst: addr(0)?,
                inputs: FpArgs::checked(&rest[1..])?,
            },
            Id::Permute => Command::Permute {
                dst: addr(0)?,
                src: fp(1)?,
                n: parse_i64(rest[2])?,
            },
            Id::Hamming => Command::Hamming {
                a: fp(0)?,
                b: fp(1)?,
            },
            Id::Encode => Command::Encode {
                dst: addr(0)?,
                text: core::str::from_utf8(rest[1]).map_err(|_| ErrorKind::NotUtf8("text"))?,
            },
            Id::Search => {
                let query = fp(0)?;
                let o = Options::parse(
                    &rest[1..],
                    &[Opt::Zone, Opt::SearchCount, Opt::MaxDist, Opt::WithDist],
                )?;
                Command::Search(SearchArgs {
                    query,
                    k: o.count.unwrap_or(SEARCH_K_DEFAULT),
                    filter: o.filter,
                    max_distance: o.max_distance,
                    with_dist: o.with_dist,
                })
            }
            Id::Expire => Command::Expire {
                addr: addr(0)?,
                ticks: in_range("ticks", parse_i64(rest[1])?, 0, i64::MAX)? as u64,
            },
            Id::Persist => Command::Persist(addr(0)?),
            Id::DnSet => Command::DnSet {
                path: path(rest[0])?,
                fp: fp(1)?,
            },
            Id::DnGet => Command::DnGet(path(rest[0])?),
            Id::DnChildren => Command::DnChildren(path(rest[0])?),
            Id::DnParent => Command::DnParent(path(rest[0])?),
            Id::Multi => Command::Multi,
            Id::Exec => Command::Exec,
            Id::Discard => Command::Discard,
            Id::Watch => Command::Watch(Addrs::checked(rest)?),
            Id::Unwatch => Command::Unwatch,
            Id::Info => Command::Info,
        })
    }

    /// The command's canonical name.
    pub const fn name(&self) -> &'static str {
        match self {
            Command::Ping(_) => "PING",
            Command::Set { .. } => "SET",
            Command::Get(_) => "GET",
            Command::Del(_) => "DEL",
            Command::Exists(_) => "EXISTS",
            Command::Count(_) => "COUNT",
            Command::Scan { .. } => "SCAN",
            Command::Bind { .. } => "BIND",
            Command::Bundle { .. } => "BUNDLE",
            Command::Permute { .. } => "PERMUTE",
            Command::Hamming { .. } => "HAMMING",
            Command::Encode { .. } => "ENCODE",
            Command::Search(_) => "SEARCH",
            Command::Expire { .. } => "EXPIRE",
            Command::Persist(_) => "PERSIST",
            Command::DnSet { .. } => "DN.SET",
            Command::DnGet(_) => "DN.GET",
            Command::DnChildren(_) => "DN.CHILDREN",
            Command::DnParent(_) => "DN.PARENT",
            Command::Multi => "MULTI",
            Command::Exec => "EXEC",
            Command::Discard => "DISCARD",
            Command::Watch(_) => "WATCH",
            Command::Unwatch => "UNWATCH",
            Command::Info => "INFO",
        }
    }

    /// Whether the command may change the space (EXEC included). A front
    /// end that lets readers run beside its writer may run the others
    /// without the writer's lock; these it must run holding it, through
    /// the commit.
    pub const fn may_write(&self) -> bool {
        matches!(
            self,
            Command::Set { .. }
                | Command::Del(_)
                | Command::Bind { .. }
                | Command::Bundle { .. }
                | Command::Permute { .. }
                | Command::Encode { .. }
                | Command::Expire { .. }
                | Command::Persist(_)
                | Command::DnSet { .. }
                | Command::Exec
        )
    }

    /// Checks every hex fingerprint argument against `width`.
    pub fn check_width(&self, width: Width) -> Result<(), ErrorKind> {
        match self {
            Command::Set { fp, .. } | Command::DnSet { fp, .. } => fp.check_width(width),
            Command::Permute { src: fp, .. } => fp.check_width(width),
            Command::Bind { a, b, .. } | Command::Hamming { a, b } => {
                a.check_width(width)?;
                b.check_width(width)
            }
            Command::Bundle { inputs, .. } => inputs.iter().try_for_each(|f| f.check_width(width)),
            Command::Search(s) => s.query.check_width(width),
            _ => Ok(()),
        }
    }
}

/// Parses an address argument.
pub(crate) fn parse_addr(arg: &[u8]) -> Result<Addr, ErrorKind> {
    Addr::parse(arg).map_err(|reason| ErrorKind::BadAddress {
        arg: Token::new(arg),
        reason,
    })
}

/// Parses and checks a path argument.
fn path(arg: &[u8]) -> Result<&str, ErrorKind> {
    let path = core::str::from_utf8(arg).map_err(|_| ErrorKind::NotUtf8("path"))?;
    paths::check_path(path)?;
    Ok(path)
}

/// Parses a decimal integer (`-` allowed, `+` not).
pub(crate) fn parse_i64(arg: &[u8]) -> Result<i64, ErrorKind> {
    let bad = || ErrorKind::NotInteger(Token::new(arg));
    let (negative, digits) = match arg.strip_prefix(b"-") {
        Some(d) => (true, d),
        None => (false, arg),
    };
    if digits.is_empty() {
        return Err(bad());
    }
    let mut value: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(bad());
        }
        let d = i64::from(c - b'0');
        // Accumulating negatively reaches i64::MIN without overflow.
        value = value.checked_mul(10).ok_or_else(bad)?;
        value = if negative {
            value.checked_sub(d)
        } else {
            value.checked_add(d)
        }
        .ok_or_else(bad)?;
    }
    Ok(value)
}

fn in_range(what: &'static str, got: i64, min: i64, max: i64) -> Result<i64, ErrorKind> {
    if got < min || got > max {
        return Err(ErrorKind::OutOfRange {
            what,
            got,
            min,
            max,
        });
    }
    Ok(got)
}

/// An option a command accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Opt {
    Zone,
    Cursor,
    ScanCount,
    SearchCount,
    MaxDist,
    WithDist,
}

impl Opt {
    const fn keyword(self) -> &'static str {
        match self {
            Opt::Zone => "ZONE",
            Opt::Cursor => "CURSOR",
            Opt::ScanCount | Opt::SearchCount => "COUNT",
            Opt::MaxDist => "MAXDIST",
            Opt::WithDist => "WITHDIST",
        }
    }
}

/// Options after a command's fixed arguments; the last of a repeated
/// option wins.
#[derive(Default)]
struct Options {
    filter: Filter,
    cursor: u32,
    count: Option<usize>,
    max_distance: Option<u32>,
    with_dist: bool,
}

impl Options {
    fn parse(args: &[&[u8]], allowed: &[Opt]) -> Result<Options, ErrorKind> {
        let mut o = Options::default();
        let mut i = 0;
        while let Some(&arg) = args.get(i) {
            let opt = allowed
                .iter()
                .copied()
                .find(|o| o.keyword().as_bytes().eq_ignore_ascii_case(arg))
                .ok_or_else(|| ErrorKind::Syntax(Token::new(arg)))?;
            if opt == Opt::WithDist {
                o.with_dist = true;
                i += 1;
                continue;
            }
            let value = *args
                .get(i + 1)
                .ok_or(ErrorKind::MissingValue(opt.keyword()))?;
            i += 2;
            match opt {
                Opt::Zone => {
                    let zone = Zone::parse(value)
                        .ok_or_else(|| ErrorKind::UnknownZone(Token::new(value)))?;
                    o.filter = Filter::Zone(zone);
                }
                Opt::Cursor => {
                    o.cursor = in_range("CURSOR", parse_i64(value)?, 0, 0xFFFF)? as u32;
                }
                Opt::ScanCount => {
                    let n = in_range("COUNT", parse_i64(value)?, 1, SCAN_COUNT_MAX as i64)?;
                    o.count = Some(n as usize);
                }
                Opt::SearchCount => {
                    let n = in_range("COUNT", parse_i64(value)?, 1, SEARCH_K_MAX as i64)?;
                    o.count = Some(n as usize);
                }
                Opt::MaxDist => {
                    let d = in_range("MAXDIST", parse_i64(value)?, 0, Width::MAX_BITS as i64)?;
                    o.max_distance = Some(d as u32);
                }
                Opt::WithDist => {}
            }
        }
        Ok(o)
    }
}
