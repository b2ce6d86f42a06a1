//! # footprint: what a device running bindspace needs
//!
//! The self-test (`src/main.rs`) carries its checks, oracles and the whole
//! command reference page, so its size says little about what bindspace
//! costs a device. This program is the smallest useful bindspace device:
//! it mounts the NOR-flash log (recovering the space from it), then
//! answers text commands the write-ahead way (execute, append the batch to
//! the log, apply it, reply), with the space, search, every command and
//! the log linked in. Its `.text` is the size the test step reports
//! against the 48 KiB goal, and its stack high-water mark is the stated
//! bound of such an application.
//!
//! The command lines are a built-in script passed through
//! `core::hint::black_box`, so the compiler cannot fold any command away:
//! every command's code is in the image, as it would be for input from a
//! serial line. The flash is a NOR flash in RAM (`ram_flash.rs`; a real device
//! passes its flash driver instead). Any error reply fails the run.
#![no_std]
#![no_main]

#[cfg(not(feature = "footprint-without-commands"))]
use bindspace_core::command::{self, Context, Input, Scratch, Session, TextBuf, TextSink};
use bindspace_core::log::flash::{Config, FlashLog};
use bindspace_core::space::{Lent, LentSpace, RowMeta, SlotPage, Space};
use bindspace_core::Width;
#[cfg(feature = "footprint-without-commands")]
use bindspace_core::{mutation::Mutation, Addr};
use core::ptr::addr_of_mut;
use cortex_m_rt::{entry, exception, ExceptionFrame};
use defmt_semihosting as _;

mod ram_flash;
// The self-test's own sources for the stack gauge and the exit: one copy.
#[path = "../../exit.rs"]
mod exit;
#[path = "../../stack.rs"]
#[allow(dead_code)] // the footprint reads the mark; it does not repaint
mod stack;

use exit::exit;

use ram_flash::RamFlash;

/// 2,048-bit fingerprints, 64 entries over up to 8 prefixes.
const WORDS: usize = 32;
const ROWS: usize = 64;
const PAGES: usize = 8;
/// Six sectors of 2 KiB (two kept free for garbage collection),
/// programmed in 8-byte words: a NOR flash in RAM with a driver's code
/// (a real device passes its flash driver instead).
type Flash = RamFlash;
const WIDTH: Width = match Width::from_words(WORDS) {
    Ok(w) => w,
    Err(_) => panic!("WORDS is not a valid width"),
};
const LOG_BUF: usize = FlashLog::<&mut Flash>::buffer_len(WIDTH);

/// What the device owns, in `.bss`/`.data`: the space's storage, the
/// flash, and what the command executor borrows.
struct Device {
    arena: [u64; ROWS * WORDS],
    meta: [RowMeta; ROWS],
    pages: [SlotPage; PAGES],
    flash: Flash,
    log_buf: [u8; LOG_BUF],
    #[cfg(not(feature = "footprint-without-commands"))]
    commands: CommandMemory,
}

/// What the command executor borrows: a client's MULTI queue, scratch
/// fingerprints and bytes, and the rendered reply.
#[cfg(not(feature = "footprint-without-commands"))]
struct CommandMemory {
    queue: [u8; 1024],
    words: [u64; 4 * WORDS],
    bytes: [u8; 2048],
    reply: [u8; 1024],
}

static mut DEVICE: Device = Device {
    arena: [0; ROWS * WORDS],
    meta: [RowMeta::EMPTY; ROWS],
    pages: [SlotPage::EMPTY; PAGES],
    flash: Flash::new(),
    log_buf: [0; LOG_BUF],
    #[cfg(not(feature = "footprint-without-commands"))]
    commands: CommandMemory {
        queue: [0; 1024],
        words: [0; 4 * WORDS],
        bytes: [0; 2048],
        reply: [0; 1024],
    },
};

type Log<'b> = FlashLog<'b, &'static mut Flash>;

/// The commands the device is sent.
const SCRIPT: &[&str] = &[
    "PING",
    "ENCODE 0x80:01 \"the cat sat on the mat\"",
    "ENCODE 0x80:02 \"the cat sat on a mat\"",
    "ENCODE 0x80:03 \"quantum chromodynamics lecture notes\"",
    "ENCODE 0x20:01 \"a note that expires\"",
    "EXPIRE 0x20:01 1000",
    "BIND 0x80:10 @0x80:01 @0x80:03",
    "BUNDLE 0x80:11 @0x80:01 @0x80:02 @0x80:03",
    "PERMUTE 0x80:12 @0x80:01 7",
    "HAMMING @0x80:01 @0x80:02",
    "SEARCH @0x80:01 COUNT 3 WITHDIST",
    "SEARCH @0x80:03 ZONE nodes MAXDIST 900",
    "DN.SET animals/cat @0x80:01",
    "DN.GET animals/cat",
    "DN.CHILDREN animals",
    "MULTI",
    "SET 0x80:20 @0x80:02",
    "DEL 0x80:12",
    "EXEC",
    "WATCH 0x80:01",
    "UNWATCH",
    "SCAN ZONE nodes COUNT 4",
    "EXISTS 0x80:01 0x80:12",
    "PERSIST 0x20:01",
    "COUNT",
    "INFO",
];

#[entry]
fn main() -> ! {
    // SAFETY: `main` runs once and nothing else touches `DEVICE`: this is
    // the only reference to it for the life of the program.
    let dev = unsafe { &mut *addr_of_mut!(DEVICE) };
    let mut space = Space::new(
        WIDTH,
        Lent::new(&mut dev.arena, &mut dev.meta, &mut dev.pages),
    );
    let cfg = Config::new(WIDTH, ram_flash::SECTORS as u32);
    let mut log = match FlashLog::mount(&mut dev.flash, &mut dev.log_buf, cfg, &mut space) {
        Ok((log, recovery)) => {
            defmt::info!("mounted: {=u64} batches recovered", recovery.counts.batches);
            log
        }
        Err(_) => {
            defmt::error!("mounting the log failed");
            exit(false)
        }
    };
    #[cfg(not(feature = "footprint-without-commands"))]
    let errors = serve(&mut space, &mut log, &mut dev.commands);
    #[cfg(feature = "footprint-without-commands")]
    let errors = serve(&mut space, &mut log);
    let stack = stack::high_water_bytes();
    defmt::info!(
        "footprint: {=u32} error replies, stack high-water mark {=usize} bytes",
        errors,
        stack
    );
    exit(errors == 0)
}

/// Answers the script's commands the write-ahead way: execute, append the
/// batch to the log, apply it, render the reply. Returns the error count.
#[cfg(not(feature = "footprint-without-commands"))]
fn serve(space: &mut LentSpace<'_>, log: &mut Log<'_>, mem: &mut CommandMemory) -> u32 {
    let mut session = Session::new(&mut mem.queue[..]);
    let mut scratch = Scratch::new(&mut mem.words[..], &mut mem.bytes[..]);
    let mut errors = 0u32;
    for (tick, line) in core::hint::black_box(SCRIPT).iter().enumerate() {
        let ctx = Context::new(tick as u64);
        let mut out = TextBuf::new(&mut mem.reply);
        let outcome = command::execute(
            &*space,
            &ctx,
            Input::Line(line.as_bytes()),
            &mut session,
            &mut scratch,
        );
        let printed = match outcome {
            Err(e) => {
                errors += 1;
                out.put("(error) ")
                    .and_then(|()| out.put(e.code()))
                    .and_then(|()| out.put(" "))
                    .and_then(|()| e.write_text(&mut out))
            }
            Ok(outcome) => {
                let batch = outcome.mutations();
                if !batch.is_empty() {
                    // Durable first, then applied, then answered. The
                    // script is fixed and fits the log, so a refusal here
                    // fails the measurement; a device serving clients
                    // would answer it as an error reply (a full log says
                    // to delete entries) and carry on.
                    let Ok(seq) = log.append(batch, &*space) else {
                        defmt::error!("the log refused {=str}", line);
                        exit(false)
                    };
                    for m in batch {
                        if space.apply(m, seq).is_err() {
                            defmt::error!("a logged change did not apply");
                            exit(false)
                        }
                    }
                }
                outcome.reply().write_text(&mut out)
            }
        };
        if printed.is_err() {
            errors += 1;
        }
        defmt::info!("> {=str}\n{=str}", line, out.as_str());
    }
    errors
}

/// The same device without the command language: each script line is
/// encoded as text, stored through the log, and searched for, through the
/// core's API (no reply text, so no `core::fmt` beyond the panic handler). Built with `--features footprint-without-commands`, it
/// shows what the command language adds to the image.
#[cfg(feature = "footprint-without-commands")]
fn serve(space: &mut LentSpace<'_>, log: &mut Log<'_>) -> u32 {
    use bindspace_core::search::{Hit, SearchOptions};
    let mut errors = 0u32;
    let mut fp = [0u64; WORDS];
    for (i, line) in core::hint::black_box(SCRIPT).iter().enumerate() {
        if bindspace_core::fingerprint::encode_text(&mut fp, line).is_err() {
            errors += 1;
            continue;
        }
        // Eight addresses, overwritten in turn, as a device would.
        let addr = Addr::new(0x80, (i % 8) as u8);
        let batch = [Mutation::Set { addr, fp: &fp }];
        let Ok(seq) = log.append(&batch, &*space) else {
            defmt::error!("the log refused {=str}", line);
            exit(false)
        };
        if space.apply(&batch[0], seq).is_err() {
            errors += 1;
        }
        let mut hits = [Hit::default(); 3];
        match space.nearest(&fp, &SearchOptions::new(), &mut hits) {
            Ok(n) => defmt::info!(
                "{=str}: {=usize} hits, nearest {=u16:#06x}",
                line,
                n,
                hits[0].addr.0
            ),
            Err(_) => errors += 1,
        }
    }
    errors
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    match info.location() {
        Some(l) => defmt::error!("panic at {=str}:{=u32}", l.file(), l.line()),
        None => defmt::error!("panic"),
    }
    exit(false)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    defmt::error!("hard fault at pc {=u32:#010x}", frame.pc());
    exit(false)
}
