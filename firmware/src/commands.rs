//! Phase "commands": every example of `docs/COMMANDS.md`, run on the
//! device through the flash log.
//!
//! The reference page of the command language is executable: each
//! ```` ```bindspace ```` block holds `> COMMAND` lines, each followed by
//! the reply exactly as printed (`# tick N` sets the clock, `# client N`
//! switches to another client's session). The host's test suite runs them;
//! here the same page, built into the image, runs against a space of 64-bit
//! fingerprints on the Cortex-M, and every reply must match byte for byte.
//!
//! The write path is the one a device uses: the core executes the command
//! into a reply and mutations, the mutations are appended to the NOR-flash
//! log as one batch, applied to the space with the batch's sequence
//! number, and only then is the reply taken. At the end the flash is
//! mounted into a fresh space, which must equal the live one.

use crate::buffers::Buffers;
use crate::check::{ensure, Failed};
use crate::flash::{Flash, SECTORS};
use crate::state::digest;
use bindspace_core::command::{self, Context, Input, Scratch, Session};
use bindspace_core::kernels::Kernel;
use bindspace_core::log::flash::{Config, FlashLog};
use bindspace_core::space::LentSpace;
use bindspace_core::Width;
use core::fmt::Write as _;
use core::ptr::addr_of_mut;
use core::sync::atomic::{AtomicBool, Ordering};

/// The reference page, as committed.
const DOC: &str = include_str!("../../docs/COMMANDS.md");
/// The page's examples run on 64-bit fingerprints...
const WIDTH_BITS: u32 = 64;
/// ...in a space of 64 rows over up to 16 prefixes (`INFO` prints it).
const PAGES: usize = 16;
/// Clients the page switches between (`# client N`).
const CLIENTS: usize = 2;
/// The host test requires at least this many examples; so does this one.
const EXAMPLES_MIN: u32 = 40;

const QUEUE: usize = 4096;
const WORDS: usize = 128;
const BYTES: usize = 8192;
const RENDER: usize = 4096;

/// What a front end lends the executor, and the rendered reply.
struct Memory {
    sessions: [[u8; QUEUE]; CLIENTS],
    words: [u64; WORDS],
    bytes: [u8; BYTES],
    render: [u8; RENDER],
}

static mut MEMORY: Memory = Memory {
    sessions: [[0; QUEUE]; CLIENTS],
    words: [0; WORDS],
    bytes: [0; BYTES],
    render: [0; RENDER],
};
static TAKEN: AtomicBool = AtomicBool::new(false);

fn memory() -> Option<&'static mut Memory> {
    if TAKEN.swap(true, Ordering::Relaxed) {
        return None;
    }
    // SAFETY: `TAKEN` was false, so this is the only borrow of `MEMORY`
    // for the life of the program.
    unsafe { Some(&mut *addr_of_mut!(MEMORY)) }
}

/// A reply rendered as an interactive client prints it, into a fixed
/// buffer (`core::fmt::Write`; too long a reply is an error).
struct Rendered<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl core::fmt::Write for Rendered<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A live example: its command's line number, what it printed, and how
/// much of that the documented reply lines have matched so far.
struct Pending {
    line_no: usize,
    len: usize,
    matched: usize,
}

#[inline(never)] // its own frame, so the stack it needs is measured alone
pub(crate) fn run(
    flash: &mut Flash,
    buf: &mut [u8],
    live: &mut Buffers,
    recovered: &mut Buffers,
) -> Result<(), Failed> {
    let Some(mem) = memory() else {
        defmt::error!("command memory taken twice");
        return Err(Failed);
    };
    let width = Width::from_bits(WIDTH_BITS).map_err(|_| Failed)?;
    let cfg = Config::new(width, SECTORS as u32);
    flash.power_on();
    let Ok(mut log) = FlashLog::format(&mut *flash, &mut *buf, cfg) else {
        defmt::error!("formatting the flash failed");
        return Err(Failed);
    };
    let mut space = live.space_of(width, PAGES);
    let [q1, q2] = &mut mem.sessions;
    let mut sessions = [Session::new(&mut q1[..]), Session::new(&mut q2[..])];
    let mut scratch = Scratch::new(&mut mem.words[..], &mut mem.bytes[..]);
    let render = &mut mem.render;

    let (mut inside, mut tick, mut client) = (false, 0u64, 1usize);
    let mut pending: Option<Pending> = None;
    let (mut examples, mut writes) = (0u32, 0u32);
    for (i, line) in DOC.lines().enumerate() {
        if line.starts_with("```") {
            finish(pending.take(), render)?;
            inside = line.trim() == "```bindspace";
        } else if !inside {
        } else if let Some(n) = line.strip_prefix("# tick ") {
            tick = n.trim().parse().map_err(|_| bad_line(i))?;
        } else if let Some(n) = line.strip_prefix("# client ") {
            client = n.trim().parse().map_err(|_| bad_line(i))?;
            ensure!(
                (1..=CLIENTS).contains(&client),
                "COMMANDS.md line {=usize}: client {=usize}",
                i + 1,
                client
            );
        } else if line.starts_with('#') {
        } else if let Some(cmd) = line.strip_prefix("> ") {
            finish(pending.take(), render)?;
            let ctx = Context::new(tick).kernel(Kernel::scalar());
            let (len, wrote) = execute(
                &mut space,
                &mut log,
                &ctx,
                cmd,
                &mut sessions[client - 1],
                &mut scratch,
                render,
            )?;
            pending = Some(Pending {
                line_no: i + 1,
                len,
                matched: 0,
            });
            examples += 1;
            writes += u32::from(wrote);
        } else if let Some(p) = pending.as_mut() {
            // One documented reply line: the next line of what was printed.
            let got = &render[..p.len];
            let start = p.matched + usize::from(p.matched > 0);
            let end = start + line.len();
            let same = got.get(start..end) == Some(line.as_bytes())
                && (end == got.len() || got.get(end) == Some(&b'\n'));
            ensure!(
                same,
                "COMMANDS.md line {=usize}: documented {=str}, printed {=str}",
                i + 1,
                line,
                core::str::from_utf8(got).unwrap_or("(not UTF-8)")
            );
            p.matched = end;
        }
    }
    finish(pending.take(), render)?;
    ensure!(
        examples >= EXAMPLES_MIN,
        "only {=u32} examples found in COMMANDS.md",
        examples
    );
    defmt::info!(
        "commands: {=u32} documented examples replied as printed, {=u32} of them committed through the flash log",
        examples,
        writes
    );

    // Durable: the flash alone gives back the same space.
    let expected = digest(&space);
    let flash = log.into_flash();
    let mut again = recovered.space_of(width, PAGES);
    let mounted = FlashLog::mount(flash, buf, cfg, &mut again);
    ensure!(mounted.is_ok(), "mounting the commands' log failed");
    ensure!(
        digest(&again) == expected,
        "the space recovered from flash differs from the live one"
    );
    Ok(())
}

fn bad_line(i: usize) -> Failed {
    defmt::error!("COMMANDS.md line {=usize} is not understood", i + 1);
    Failed
}

/// Every printed line of the previous example was documented.
fn finish(pending: Option<Pending>, render: &[u8]) -> Result<(), Failed> {
    if let Some(p) = pending {
        ensure!(
            p.matched == p.len,
            "COMMANDS.md line {=usize}: printed more than documented: {=str}",
            p.line_no,
            core::str::from_utf8(&render[..p.len]).unwrap_or("(not UTF-8)")
        );
    }
    Ok(())
}

/// Executes one command the write-ahead way and renders its reply (or
/// error) into `render`; returns the rendered length and whether it wrote.
fn execute(
    space: &mut LentSpace<'_>,
    log: &mut FlashLog<'_, &mut Flash>,
    ctx: &Context,
    cmd: &str,
    session: &mut Session<&mut [u8]>,
    scratch: &mut Scratch<&mut [u64], &mut [u8]>,
    render: &mut [u8],
) -> Result<(usize, bool), Failed> {
    let mut out = Rendered {
        buf: render,
        len: 0,
    };
    let outcome = command::execute(&*space, ctx, Input::Line(cmd.as_bytes()), session, scratch);
    let (written, wrote) = match outcome {
        Err(e) => (write!(out, "(error) {} {}", e.code(), e), false),
        Ok(outcome) => {
            let batch = outcome.mutations();
            if !batch.is_empty() {
                // Durable first; only then applied, then answered.
                let Ok(seq) = log.append(batch, &*space) else {
                    defmt::error!("the flash log refused the batch of {=str}", cmd);
                    return Err(Failed);
                };
                for m in batch {
                    ensure!(
                        space.apply(m, seq).is_ok(),
                        "a logged change of {=str} did not apply",
                        cmd
                    );
                }
            }
            (write!(out, "{}", outcome.reply()), !batch.is_empty())
        }
    };
    ensure!(
        written.is_ok(),
        "the reply to {=str} does not fit the render buffer",
        cmd
    );
    Ok((out.len, wrote))
}
