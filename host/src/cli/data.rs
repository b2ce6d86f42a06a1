//! The data-directory subcommands: import, export, search, get, check,
//! compact, repair, stats.

use super::out::Out;
use super::print::render;
use super::replace_file::replace_file;
use super::{no_store, CliError, StoreArgs};
use crate::server::engine::{client_buffers, context};
use crate::store::{Batch, Durability, Options, RecoveryReport, Store, View};
use bindspace_core::command::{self, Input, SEARCH_K_MAX};
use bindspace_core::log::{replay, Encoder, End, Header, Policy};
use bindspace_core::space::{Filter, GrowableSpace};
use bindspace_core::{fingerprint, Addr, Width, Zone};
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What an import file holds.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// One text per line, each encoded into a fingerprint.
    Text,
    /// Raw fingerprints: width/8 bytes each, 64-bit words little-endian.
    Raw,
    /// A portable log file (`bindspace export`, the flash and wasm logs);
    /// one that ends in a torn, cut-short record is refused whole.
    Log,
}

/// Options of `bindspace import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The file to read.
    file: PathBuf,
    /// What the file holds.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// The first address to fill (text and raw): consecutive from here.
    #[arg(long, default_value = "0x10:00")]
    start: String,
}

/// Options of `bindspace export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The log file to write. It is replaced whole and synced: an export
    /// that fails leaves an earlier file there as it was. `-` (or
    /// /dev/stdout) writes the log to standard output, and the line that
    /// reports it to standard error.
    file: PathBuf,
}

/// Options of `bindspace search`.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// A text to encode, or with --hex a fingerprint in hex.
    query: String,
    /// The query is a fingerprint in hex.
    #[arg(long)]
    hex: bool,
    /// How many entries (1 to 128).
    #[arg(short = 'k', long = "count", value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=SEARCH_K_MAX as i64))]
    k: u32,
}

/// Options of `bindspace get`.
#[derive(Debug, clap::Args)]
pub struct GetArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The address, e.g. 0x10:01.
    addr: String,
}

/// Options of `bindspace check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    store: StoreArgs,
}

/// An address as every command writes it (`Addr::parse`, the same rule
/// as GET's), with what is wrong said in the error.
fn parse_addr(s: &str) -> Result<Addr, CliError> {
    s.parse::<Addr>().map_err(|e| {
        CliError(format!(
            "'{s}' is not an address ({e}): write prefix:slot in hex, e.g. 0x10:01"
        ))
    })
}

fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(what.to_string());
    bar
}

/// Runs one reading command of the language (GET, SEARCH) on `view` and
/// prints its reply.
fn run_read(out: &mut Out, view: &View, args: &[&[u8]]) -> Result<(), CliError> {
    let (mut session, mut scratch) = client_buffers(view.width());
    let outcome = command::execute(
        view,
        &context().map_err(|e| CliError(e.to_string()))?,
        Input::Argv(args),
        &mut session,
        &mut scratch,
    )
    .map_err(|e| CliError(e.to_string()))?;
    if !outcome.mutations().is_empty() {
        return Err(CliError(
            "internal error: a read-only command made changes; none were kept".into(),
        ));
    }
    writeln!(out, "{}", render(&outcome.reply()))
}

/// Reads the store in the directory without changing anything on disk
/// (no torn tail cut, no file created or removed); a directory that does
/// not exist or holds no store is an error, not a new empty store.
fn inspect(args: &StoreArgs) -> Result<(View, RecoveryReport), CliError> {
    let dir = args.dir()?;
    if !Store::exists(&dir).map_err(|e| CliError(e.to_string()))? {
        return Err(no_store(&dir));
    }
    args.at_stored_width(|width| {
        let options = Options {
            width,
            ..Options::default()
        };
        Store::inspect(&dir, options)
    })
}

/// The width an import writes at: the one asked for, else the existing
/// store's, else (a new store) the log file's own or the default.
fn import_width(args: &ImportArgs, bytes: &[u8]) -> Result<Width, CliError> {
    if args.store.width.is_some() {
        return args.store.width();
    }
    let dir = args.store.dir()?;
    if Store::exists(&dir).map_err(|e| CliError(e.to_string()))? {
        return Ok(inspect(&args.store)?.0.width());
    }
    if let Format::Log = args.format {
        // A header that does not read is reported by the replay that follows.
        if let Ok(header) = Header::new_checked(bytes) {
            return Ok(header.width);
        }
    }
    Ok(Width::DEFAULT)
}

pub(crate) fn import(args: ImportArgs, out: &mut Out) -> Result<(), CliError> {
    let bytes = std::fs::read(&args.file)
        .map_err(|e| CliError(format!("cannot read {}: {e}", args.file.display())))?;
    // Everything about the input is checked before the store is opened:
    // a refused import creates no store and changes none.
    let start = parse_addr(&args.start)?;
    let width = import_width(&args, &bytes)?;
    let words = width.words();
    match args.format {
        Format::Log => {
            let entries = read_log(&args.file, &bytes, width)?;
            let store = open_for_import(&args, width)?;
            let started = Instant::now();
            import_log(&store, &entries)?;
            finish_import(&args, out, &store, entries.len(), started)
        }
        Format::Text | Format::Raw => {
            let texts: Vec<&[u8]> = match args.format {
                Format::Text => bytes
                    .split(|&b| b == b'\n')
                    .filter(|l| !l.is_empty())
                    .collect(),
                _ => {
                    if bytes.len() % (words * 8) != 0 {
                        return Err(CliError(format!(
                            "{} holds {} bytes, not a whole number of {}-byte fingerprints (is --width right?)",
                            args.file.display(),
                            bytes.len(),
                            words * 8
                        )));
                    }
                    bytes.chunks(words * 8).collect()
                }
            };
            let first = usize::from(start.0);
            if first + texts.len() > 0x10000 {
                return Err(CliError(format!(
                    "{} records do not fit between {} and 0xFF:FF",
                    texts.len(),
                    start
                )));
            }
            let store = open_for_import(&args, width)?;
            let started = Instant::now();
            let bar = progress(texts.len() as u64, "importing");
            let mut fp = vec![0u64; words];
            for (n, chunk) in texts.chunks(256).enumerate() {
                let mut batch = Batch::new();
                for (i, item) in chunk.iter().enumerate() {
                    match args.format {
                        Format::Text => {
                            let text = String::from_utf8_lossy(item);
                            fingerprint::encode_text(&mut fp, text.trim_end_matches('\r'))
                                .map_err(|e| CliError(format!("cannot encode a line: {e}")))?;
                        }
                        _ => {
                            for (w, b) in fp.iter_mut().zip(item.chunks(8)) {
                                let mut le = [0u8; 8];
                                le.copy_from_slice(b);
                                *w = u64::from_le_bytes(le);
                            }
                        }
                    }
                    batch.set(Addr((first + n * 256 + i) as u16), &fp);
                }
                store.commit(&batch.mutations())?;
                bar.inc(chunk.len() as u64);
            }
            bar.finish_and_clear();
            finish_import(&args, out, &store, texts.len(), started)
        }
    }
}

/// "1 entry", "2 entries".
fn entries(n: usize) -> String {
    if n == 1 {
        "1 entry".into()
    } else {
        format!("{n} entries")
    }
}

/// Opens (or creates) the store an import writes to, at `width`.
fn open_for_import(args: &ImportArgs, width: Width) -> Result<Store, CliError> {
    let asked = StoreArgs {
        data_dir: Some(args.store.dir()?),
        width: Some(width.bits()),
        ..args.store.clone()
    };
    asked.open(Durability::Never)
}

/// Syncs and closes an import's store, and says what it did (closed
/// first: a reader of the output that went away stops nothing).
fn finish_import(
    args: &ImportArgs,
    out: &mut Out,
    store: &Store,
    count: usize,
    started: Instant,
) -> Result<(), CliError> {
    store.sync()?;
    let secs = started.elapsed().as_secs_f64();
    store.close()?;
    writeln!(
        out,
        "imported {} in {:.2} s ({:.0} entries/s) into {}",
        entries(count),
        secs,
        count as f64 / secs.max(1e-9),
        args.store.dir()?.display()
    )
}

/// Replays the portable log `file` (read into `image`) into a scratch
/// space of `width`. A torn tail is refused, not cut as recovery cuts
/// one: an export ends cleanly, so bytes after the last whole record mean
/// the file was cut short (a failed copy, a full disk) and the entries
/// they held would be missing without a word.
fn read_log(file: &Path, image: &[u8], width: Width) -> Result<GrowableSpace, CliError> {
    let mut space = GrowableSpace::growable(width);
    let replayed = replay(image, Some(width), &mut space, Policy::Strict).map_err(|e| {
        CliError(format!(
            "{} is not a readable bindspace log: {e}",
            file.display()
        ))
    })?;
    if let End::Torn { offset, len, error } = replayed.end {
        return Err(CliError(format!(
            "{} is cut short or damaged: its last {len} bytes, from byte {offset} on, are not a \
             whole record ({error}); nothing was imported. To import the records before byte \
             {offset}, import a copy cut there (truncate -s {offset} COPY)",
            file.display()
        )));
    }
    Ok(space)
}

/// Commits the entries of a replayed portable log.
fn import_log(store: &Store, space: &GrowableSpace) -> Result<(), CliError> {
    let entries: Vec<_> = space.iter(Filter::All).collect();
    let bar = progress(entries.len() as u64, "importing");
    for chunk in entries.chunks(128) {
        let mut batch = Batch::new();
        for e in chunk {
            batch.set(e.addr, e.fp);
            if !e.label.is_empty() || e.parent.is_some() {
                batch.meta(e.addr, e.label, e.parent);
            }
            if e.expires_at.is_some() {
                batch.expire(e.addr, e.expires_at);
            }
        }
        store.commit(&batch.mutations())?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(())
}

pub(crate) fn export(args: ExportArgs, out: &mut Out) -> Result<(), CliError> {
    let (view, _) = inspect(&args.store)?;
    let encoder = Encoder::new(view.width(), 8).map_err(|e| CliError(e.to_string()))?;
    let header = Header::new(view.width(), 8, 0, view.seq() + 1);
    let mut image = vec![0xFFu8; header.padded_len()];
    header
        .encode(&mut image)
        .map_err(|e| CliError(e.to_string()))?;
    for entry in view.iter(Filter::All) {
        let at = image.len();
        image.resize(at + encoder.entry_len(entry.label.len()), 0xFF);
        let n = encoder
            .entry(&entry, &mut image[at..])
            .map_err(|e| CliError(e.to_string()))?;
        image.truncate(at + n);
    }
    let said = format!(
        "exported {} ({} bytes) to {}",
        entries(view.len()),
        image.len(),
        args.file.display()
    );
    if Out::is_stdout(&args.file) {
        // The log is the output: written to it as it is (a file the shell
        // redirected it to is not replaced, an append stays one), and the
        // line saying so goes to standard error, not after the log.
        out.write_bytes(&image)?;
        // Only a report: a closed standard error loses nothing.
        let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{said}\n").as_bytes());
        return Ok(());
    }
    replace_file(&args.file, &image)?;
    writeln!(out, "{said}")
}

pub(crate) fn search(args: SearchArgs, out: &mut Out) -> Result<(), CliError> {
    let (view, _) = inspect(&args.store)?;
    let hex = if args.hex {
        args.query.clone()
    } else {
        let mut fp = vec![0u64; view.width().words()];
        fingerprint::encode_text(&mut fp, &args.query).map_err(|e| CliError(e.to_string()))?;
        let mut out = vec![0u8; fp.len() * 16];
        fingerprint::to_hex(&fp, &mut out)
            .map_err(|e| CliError(e.to_string()))?
            .to_string()
    };
    let k = args.k.to_string();
    run_read(
        out,
        &view,
        &[
            b"SEARCH",
            hex.as_bytes(),
            b"COUNT",
            k.as_bytes(),
            b"WITHDIST",
        ],
    )
}

pub(crate) fn get(args: GetArgs, out: &mut Out) -> Result<(), CliError> {
    let (view, _) = inspect(&args.store)?;
    run_read(out, &view, &[b"GET", args.addr.as_bytes()])
}

pub(crate) fn check(args: CheckArgs, out: &mut Out) -> Result<(), CliError> {
    let dir = args.store.dir()?;
    let started = Instant::now();
    // Replays every record and checks every CRC as opening does (strict:
    // damage anywhere but the last segment's tail is refused), and
    // changes nothing.
    let (view, r) = inspect(&args.store)?;
    writeln!(out, "data directory: {}", dir.display())?;
    match &r.snapshot {
        Some(s) => writeln!(out, "snapshot:       {} (read and verified)", s.display())?,
        None => writeln!(out, "snapshot:       none")?,
    }
    writeln!(out, "log segments:   {}", r.segments)?;
    writeln!(
        out,
        "batches:        {} replayed, every record's CRC verified",
        r.batches
    )?;
    writeln!(out, "bytes read:     {}", r.bytes_read)?;
    writeln!(out, "last sequence:  {}", r.seq)?;
    match &r.torn_tail {
        Some((file, at, len)) => writeln!(
            out,
            "torn tail:      {} at byte {at} ({len} bytes from there to the end, prefill or a recycled file's earlier life included: an unfinished write, as a crash leaves it; the next open cuts it, keeping the bytes beside the segment if whole frames follow the damage)",
            file.display()
        )?,
        None => writeln!(out, "torn tail:      none")?,
    }
    if let Some(note) = &r.tail_note {
        writeln!(out, "note:           {note}")?;
    }
    writeln!(out, "entries:        {}", view.len())?;
    writeln!(
        out,
        "checked in {:.2} s: OK",
        started.elapsed().as_secs_f64()
    )?;
    Ok(())
}

pub(crate) fn compact(args: &StoreArgs, out: &mut Out) -> Result<(), CliError> {
    let store = args.open_existing(Durability::Always, false)?;
    let r = store.compact()?;
    writeln!(
        out,
        "compacted to sequence {}: {} -> {} bytes, {} records kept, {} files removed, {:.1} ms",
        r.seq,
        r.bytes_before,
        r.bytes_after,
        r.records_kept,
        r.files_removed,
        r.elapsed.as_secs_f64() * 1e3
    )?;
    Ok(())
}

pub(crate) fn repair(args: &StoreArgs, out: &mut Out) -> Result<(), CliError> {
    let store = args.open_existing(Durability::Always, true)?;
    let notes = store.recovery().notes();
    if notes.is_empty() {
        writeln!(out, "no damage found")?;
    }
    for note in notes {
        writeln!(out, "{note}")?;
    }
    // A snapshot of what was kept covers every segment, the damaged ones
    // too: they are removed, and the next plain open reads no damage.
    let r = store.compact()?;
    writeln!(
        out,
        "kept {} (sequence {}); the directory was rewritten: {} -> {} bytes",
        entries(r.records_kept),
        r.seq,
        r.bytes_before,
        r.bytes_after
    )?;
    Ok(())
}

pub(crate) fn stats(args: &StoreArgs, out: &mut Out) -> Result<(), CliError> {
    let dir = args.dir()?;
    let (view, _) = inspect(args)?;
    let disk: u64 = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    writeln!(out, "data directory: {}", dir.display())?;
    // Counted as reads see them: an entry whose expiry has passed is gone
    // for GET and COUNT, so it is not counted here either.
    let now = context().map_err(|e| CliError(e.to_string()))?.now;
    let live = |filter: Filter| view.iter(filter).filter(|e| e.is_live(now)).count();
    let all_live = live(Filter::All);
    writeln!(out, "width:          {} bits", view.width().bits())?;
    writeln!(out, "entries:        {all_live}")?;
    for (name, zone) in [
        ("surface", Zone::Surface),
        ("fluid", Zone::Fluid),
        ("nodes", Zone::Nodes),
    ] {
        writeln!(out, "  {name:<8}      {}", live(Filter::Zone(zone)))?;
    }
    let expired = view.len() - all_live;
    if expired > 0 {
        writeln!(
            out,
            "expired:        {expired} (kept on disk until a compaction)"
        )?;
    }
    writeln!(out, "last sequence:  {}", view.seq())?;
    writeln!(out, "bytes on disk:  {disk}")?;
    Ok(())
}
