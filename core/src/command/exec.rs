//! Running one parsed command: read through the overlay, compute into the
//! scratch, write the reply to the tape, push mutations onto the batch.
//! Nothing here changes the source.

use super::error::ErrorKind;
use super::overlay::{Batch, Overlay, BATCH_MAX};
use super::parse::{Command, FpArg, SearchArgs, SEARCH_K_MAX};
use super::paths;
use super::reply::Tape;
use super::scratch::Words;
use super::source::Source;
use super::text;
use super::{Context, ARGS_MAX};
use crate::addr::{Addr, Zone};
use crate::fingerprint::{self, HexError};
use crate::mutation::Mutation;
use crate::search::{Hit, SearchOptions};
use crate::space::{Filter, ZEROS};

/// Inputs of one BUNDLE at most: every argument but the name and `dst`.
const BUNDLE_MAX: usize = ARGS_MAX - 2;

/// One call's working state.
pub(crate) struct Exec<'r, 'a, R: ?Sized> {
    pub(crate) src: &'r R,
    pub(crate) ctx: Context,
    pub(crate) words: Words<'a>,
    pub(crate) tape: Tape<'a>,
    pub(crate) batch: Batch<'a>,
}

/// The overlay of `src` and a batch, borrowing only the batch (so the
/// scratch stays free to carve while what was read is held).
fn overlay<'b, 'x, R: ?Sized>(src: &'x R, batch: &'b Batch<'x>) -> Overlay<'b, 'x, R> {
    Overlay {
        src,
        pending: batch.as_slice(),
    }
}

fn hex_error(width_bits: u32) -> impl Fn(HexError) -> ErrorKind {
    move |e| match e {
        HexError::BadDigit { at } => ErrorKind::BadHex { at },
        HexError::WrongLength { got, .. } => ErrorKind::WrongWidth {
            expected: width_bits,
            got: got * 4,
        },
        _ => ErrorKind::WrongWidth {
            expected: width_bits,
            got: 0,
        },
    }
}

impl<'r, 'a, R: Source + ?Sized> Exec<'r, 'a, R> {
    fn words_per_fp(&self) -> usize {
        self.src.width().words()
    }

    /// Resolves fingerprint arguments into `out`: hex is decoded into
    /// `temp` (one width per hex argument), `@addr` borrows the live entry.
    /// The arguments come as a `dyn` iterator so that this loop is compiled
    /// once, not once per command's kind of argument list.
    fn operands<'t>(
        src: &'t R,
        batch: &'t Batch<'_>,
        now: u64,
        args: &mut dyn Iterator<Item = FpArg<'t>>,
        mut temp: &'t mut [u64],
        out: &mut [&'t [u64]],
    ) -> Result<usize, ErrorKind> {
        let width = src.width();
        let ov = overlay(src, batch);
        let mut n = 0;
        for arg in args {
            let slot = out
                .get_mut(n)
                .ok_or(ErrorKind::TooManyArguments { max: ARGS_MAX })?;
            *slot = match arg {
                FpArg::Hex(hex) => {
                    arg.check_width(width)?;
                    if temp.len() < width.words() {
                        return Err(ErrorKind::ScratchWords {
                            capacity: temp.len(),
                        });
                    }
                    let (chunk, rest) = core::mem::take(&mut temp).split_at_mut(width.words());
                    temp = rest;
                    fingerprint::from_hex(chunk, hex).map_err(hex_error(width.bits()))?;
                    chunk
                }
                FpArg::At(addr) => ov.live(addr, now).ok_or(ErrorKind::NoEntry(addr))?.fp,
            };
            n += 1;
        }
        Ok(n)
    }

    /// Words of temporary room the hex arguments among `args` need.
    fn hex_room(&self, args: &mut dyn Iterator<Item = FpArg<'_>>) -> usize {
        args.filter(|a| matches!(a, FpArg::Hex(_))).count() * self.words_per_fp()
    }

    /// Resolves up to `N` fingerprint arguments for the length of a
    /// borrow of `self` (hex decoded into temporary scratch).
    fn resolve<'t, const N: usize>(
        &'t mut self,
        mut args: impl Iterator<Item = FpArg<'t>> + Clone,
    ) -> Result<([&'t [u64]; N], usize), ErrorKind> {
        let room = self.hex_room(&mut args.clone());
        let temp = self.words.temp(room)?;
        let mut ops: [&[u64]; N] = [&[]; N];
        let n = Self::operands(
            self.src,
            &self.batch,
            self.ctx.now,
            &mut args,
            temp,
            &mut ops,
        )?;
        Ok((ops, n))
    }

    /// A fingerprint that outlives the call: hex decoded (or `@addr`
    /// copied) into carved scratch.
    fn owned_fp(&mut self, arg: FpArg<'_>) -> Result<&'a [u64], ErrorKind> {
        let width = self.src.width();
        arg.check_width(width)?;
        let out = self.words.carve(width.words())?;
        match arg {
            FpArg::Hex(hex) => fingerprint::from_hex(out, hex).map_err(hex_error(width.bits()))?,
            FpArg::At(addr) => {
                let ov = overlay(self.src, &self.batch);
                let s = ov
                    .live(addr, self.ctx.now)
                    .ok_or(ErrorKind::NoEntry(addr))?;
                out.copy_from_slice(s.fp);
            }
        }
        Ok(out)
    }

    /// Stores `fp` at `dst`: an entry invisible because it expired is
    /// replaced by a fresh one (deleted first), a live one keeps its
    /// label, parent and expiry.
    fn store(&mut self, dst: Addr, fp: &'a [u64]) -> Result<(), ErrorKind> {
        let expired = overlay(self.src, &self.batch)
            .stored(dst)
            .is_some_and(|s| !s.is_live(self.ctx.now));
        if expired {
            self.batch.push(Mutation::Delete { addr: dst })?;
        }
        self.batch.push(Mutation::Set { addr: dst, fp })
    }

    /// Runs one command (not a transaction control command), writing its
    /// reply to the tape and its mutations to the batch.
    pub(crate) fn run(&mut self, cmd: &Command<'_>) -> Result<(), ErrorKind> {
        let now = self.ctx.now;
        let w = self.words_per_fp();
        match *cmd {
            Command::Ping(None) => self.tape.status("PONG"),
            Command::Ping(Some(msg)) => self.tape.bulk(msg),
            Command::Set { addr, fp } => {
                let fp = self.owned_fp(fp)?;
                self.store(addr, fp)?;
                self.tape.status("OK")
            }
            Command::Get(addr) => {
                let ov = overlay(self.src, &self.batch);
                match ov.live(addr, now) {
                    Some(s) => self.tape.bulk_with(w * 16, |out| {
                        // `out` has exactly the hex length: this cannot fail.
                        let _ = fingerprint::to_hex(s.fp, out);
                    }),
                    None => self.tape.nil(),
                }
            }
            Command::Del(addrs) => {
                let mut deleted = 0;
                for addr in addrs.iter() {
                    let state = overlay(self.src, &self.batch).stored(addr);
                    if let Some(s) = state {
                        deleted += i64::from(s.is_live(now));
                        self.batch.push(Mutation::Delete { addr })?;
                    }
                }
                self.tape.int(deleted)
            }
            Command::Exists(addrs) => {
                let ov = overlay(self.src, &self.batch);
                let n = addrs.iter().filter(|&a| ov.live(a, now).is_some()).count();
                self.tape.int(n as i64)
            }
            Command::Count(filter) => {
                let n = overlay(self.src, &self.batch).count_live(filter, now);
                self.tape.int(n as i64)
            }
            Command::Scan {
                filter,
                cursor,
                count,
            } => self.scan(filter, cursor, count),
            Command::Bind { dst, a, b } => {
                let out = self.words.carve(w)?;
                let width_error = self.width_error();
                let (ops, _) = self.resolve::<2>([a, b].into_iter())?;
                fingerprint::bind(out, ops[0], ops[1]).map_err(|_| width_error)?;
                self.store(dst, out)?;
                self.tape.status("OK")
            }
            Command::Bundle { dst, inputs } => {
                if inputs.len() > BUNDLE_MAX {
                    return Err(ErrorKind::TooManyArguments { max: ARGS_MAX });
                }
                let out = self.words.carve(w)?;
                let width_error = self.width_error();
                let (ops, n) = self.resolve::<BUNDLE_MAX>(inputs.iter())?;
                fingerprint::bundle(out, &ops[..n]).map_err(|_| width_error)?;
                self.store(dst, out)?;
                self.tape.status("OK")
            }
            Command::Permute { dst, src, n } => {
                let out = self.words.carve(w)?;
                let width_error = self.width_error();
                let (ops, _) = self.resolve::<1>(core::iter::once(src))?;
                fingerprint::permute(out, ops[0], n).map_err(|_| width_error)?;
                self.store(dst, out)?;
                self.tape.status("OK")
            }
            Command::Hamming { a, b } => {
                let width_bits = self.src.width().bits();
                let kernel = self.ctx.kernel;
                let (ops, _) = self.resolve::<2>([a, b].into_iter())?;
                let d = kernel
                    .distance(ops[0], ops[1])
                    .map_err(|_| ErrorKind::WrongWidth {
                        expected: width_bits,
                        got: ops[1].len() * 64,
                    })?;
                self.tape.int(i64::from(d))
            }
            Command::Encode { dst, text } => {
                let out = self.words.carve(w)?;
                fingerprint::encode_text(out, text).map_err(|_| self.width_error())?;
                self.store(dst, out)?;
                self.tape.status("OK")
            }
            Command::Search(args) => self.search(&args),
            Command::Expire { addr, ticks } => {
                check_fluid(addr)?;
                if overlay(self.src, &self.batch).live(addr, now).is_none() {
                    return self.tape.int(0);
                }
                // The parser keeps ticks at most i64::MAX, so when the sum
                // overflows, `now` is above 2^63 and the room left fits i64.
                let at = now.checked_add(ticks).ok_or(ErrorKind::OutOfRange {
                    what: "ticks",
                    got: i64::try_from(ticks).unwrap_or(i64::MAX),
                    min: 0,
                    max: i64::try_from(u64::MAX - now).unwrap_or(i64::MAX),
                })?;
                self.batch.push(Mutation::Expire { addr, at: Some(at) })?;
                self.tape.int(1)
            }
            Command::Persist(addr) => {
                check_fluid(addr)?;
                let expiring = overlay(self.src, &self.batch)
                    .live(addr, now)
                    .is_some_and(|s| s.expires_at.is_some());
                if expiring {
                    self.batch.push(Mutation::Expire { addr, at: None })?;
                }
                self.tape.int(i64::from(expiring))
            }
            Command::DnSet { path, fp } => {
                let fp = self.owned_fp(fp)?;
                let copy = self.tape.carve_end(path.len())?;
                copy.copy_from_slice(path.as_bytes());
                let path = core::str::from_utf8(copy).map_err(|_| ErrorKind::NotUtf8("path"))?;
                let zeros = ZEROS.get(..w).ok_or(self.width_error())?;
                let leaf = paths::plan_set(self.src, &mut self.batch, path, fp, zeros)?;
                self.tape.addr(leaf)
            }
            Command::DnGet(path) => match paths::resolve(&overlay(self.src, &self.batch), path)? {
                Some(a) => self.tape.addr(a),
                None => self.tape.nil(),
            },
            Command::DnParent(path) => {
                let ov = overlay(self.src, &self.batch);
                let parent = paths::resolve(&ov, path)?
                    .and_then(|a| ov.stored(a))
                    .and_then(|s| s.parent);
                match parent {
                    Some(p) => self.tape.addr(p),
                    None => self.tape.nil(),
                }
            }
            Command::DnChildren(path) => {
                let ov = overlay(self.src, &self.batch);
                let node = paths::resolve(&ov, path)?;
                let tape = &mut self.tape;
                let mut list = tape.begin_array()?;
                if let Some(node) = node {
                    ov.children(node, |addr, label| {
                        let mut pair = tape.begin_array()?;
                        tape.bulk(label)?;
                        pair.push();
                        tape.addr(addr)?;
                        pair.push();
                        tape.end_array(pair);
                        list.push();
                        Ok(())
                    })?;
                }
                tape.end_array(list);
                Ok(())
            }
            Command::Info => self.info(),
            // Inside EXEC, UNWATCH has nothing left to do: EXEC unwatches.
            Command::Unwatch => self.tape.status("OK"),
            Command::Multi => Err(ErrorKind::NestedMulti),
            Command::Watch(_) => Err(ErrorKind::WatchInsideMulti),
            Command::Exec | Command::Discard => Err(ErrorKind::NestedMulti),
        }
    }

    fn width_error(&self) -> ErrorKind {
        ErrorKind::WrongWidth {
            expected: self.src.width().bits(),
            got: 0,
        }
    }

    /// `[cursor, [addr ...]]`. The cursor comes first but is known last, so
    /// the scan runs twice: once to find it, once to write the addresses.
    fn scan(&mut self, filter: Filter, cursor: u32, count: usize) -> Result<(), ErrorKind> {
        let now = self.ctx.now;
        let ov = overlay(self.src, &self.batch);
        let start = Addr(cursor as u16);
        let next = ov.scan(filter, start, count, now, &mut |_| Ok(()))?;
        let tape = &mut self.tape;
        let mut outer = tape.begin_array()?;
        tape.bulk_text(|out| text::put_uint(out, next.map_or(0, |a| a.0)))?;
        outer.push();
        let mut list = tape.begin_array()?;
        ov.scan(filter, start, count, now, &mut |addr| {
            list.push();
            tape.addr(addr)
        })?;
        tape.end_array(list);
        outer.push();
        tape.end_array(outer);
        Ok(())
    }

    fn search(&mut self, args: &SearchArgs<'_>) -> Result<(), ErrorKind> {
        let (now, kernel) = (self.ctx.now, self.ctx.kernel);
        let mut query = core::iter::once(args.query);
        let temp = self.words.temp(self.hex_room(&mut query.clone()))?;
        let mut q: [&[u64]; 1] = [&[]];
        Self::operands(self.src, &self.batch, now, &mut query, temp, &mut q)?;
        let mut opts = SearchOptions::new()
            .kernel(kernel)
            .filter(args.filter)
            .now(now);
        opts.max_distance = args.max_distance;
        let mut hits = [Hit::default(); SEARCH_K_MAX + 2 * BATCH_MAX];
        let k = args.k.min(SEARCH_K_MAX);
        let ov = overlay(self.src, &self.batch);
        let n = ov.nearest(q[0], k, &opts, kernel, &mut hits)?;
        let tape = &mut self.tape;
        let mut list = tape.begin_array()?;
        for hit in &hits[..n] {
            if args.with_dist {
                let mut pair = tape.begin_array()?;
                tape.addr(hit.addr)?;
                pair.push();
                tape.int(i64::from(hit.distance))?;
                pair.push();
                tape.end_array(pair);
            } else {
                tape.addr(hit.addr)?;
            }
            list.push();
        }
        tape.end_array(list);
        Ok(())
    }

    fn info(&mut self) -> Result<(), ErrorKind> {
        let now = self.ctx.now;
        let ov = overlay(self.src, &self.batch);
        let zone = |z| ov.count_live(Filter::Zone(z), now);
        let (surface, fluid, nodes) = (zone(Zone::Surface), zone(Zone::Fluid), zone(Zone::Nodes));
        let counts = [
            ("capacity", self.src.capacity()),
            ("stored", ov.stored_count()),
            ("live", surface + fluid + nodes),
            ("surface", surface),
            ("fluid", fluid),
            ("nodes", nodes),
        ];
        let (width_bits, kernel) = (self.src.width().bits(), self.ctx.kernel.name());
        self.tape.bulk_text(|out| {
            out.put("# bindspace\r\nwidth_bits:")?;
            text::put_uint(out, width_bits)?;
            for (name, n) in counts {
                out.put("\r\n")?;
                out.put(name)?;
                out.put(":")?;
                text::put_usize(out, n)?;
            }
            out.put("\r\nkernel:")?;
            out.put(kernel)?;
            out.put("\r\nnow:")?;
            text::put_uint(out, now)?;
            out.put("\r\n")
        })
    }
}

fn check_fluid(addr: Addr) -> Result<(), ErrorKind> {
    if addr.zone() == Zone::Fluid {
        Ok(())
    } else {
        Err(ErrorKind::NotFluid(addr))
    }
}
