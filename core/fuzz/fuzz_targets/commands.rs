//! Fuzz target `commands`: the command parser and executor on a small
//! space with small buffers, fed newline-separated commands.
//!
//! Each line is one command. Its first byte picks how it arrives:
//! `0x00`/`0x01` as an argument list split on spaces (any bytes, no
//! quoting) for client 1/2, `0x02` as a text line for client 2, anything
//! else as a text line for client 1 (two clients, so WATCH races run).
//!
//! Checked on every command: nothing panics; a refused command leaves the
//! space unchanged (generation counter); the space never holds more than
//! its capacity; every reply renders.
#![no_main]

use bindspace_core::command::{self, Context, Input, Scratch, Session, Unlogged, ARGS_MAX};
use bindspace_core::space::{Lent, RowMeta, SlotPage, Space};
use bindspace_core::Width;
use core::fmt::Write;
use libfuzzer_sys::fuzz_target;

/// Discards what it is given: rendering is checked for panics only.
struct Sink;

impl Write for Sink {
    fn write_str(&mut self, _: &str) -> core::fmt::Result {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let width = Width::from_bits(64).unwrap();
    let mut arena = [0u64; 8];
    let mut meta = [RowMeta::EMPTY; 8];
    let mut pages = [SlotPage::EMPTY; 2];
    let mut space = Space::new(width, Lent::new(&mut arena, &mut meta, &mut pages));
    let mut versions = Unlogged::new(1);
    let mut sessions = [Session::new([0u8; 192]), Session::new([0u8; 192])];
    let mut scratch = Scratch::new([0u64; 8], [0u8; 512]);
    for (now, line) in data.split(|&b| b == b'\n').take(64).enumerate() {
        let (mode, body) = match line.split_first() {
            Some((&m @ 0..=2, rest)) => (m, rest),
            _ => (3, line),
        };
        let mut argv: [&[u8]; ARGS_MAX + 2] = [&[]; ARGS_MAX + 2];
        let input = if mode < 2 {
            let mut n = 0;
            for part in body.split(|&b| b == b' ').take(argv.len()) {
                argv[n] = part;
                n += 1;
            }
            Input::Argv(&argv[..n])
        } else {
            Input::Line(body)
        };
        let session = &mut sessions[usize::from(mode == 1 || mode == 2)];
        let before = space.generation();
        let ctx = Context::new(now as u64);
        match command::run_unlogged(
            &mut space,
            &mut versions,
            &ctx,
            input,
            session,
            &mut scratch,
        ) {
            Ok(reply) => {
                let _ = write!(Sink, "{reply}");
            }
            Err(e) => {
                let _ = write!(Sink, "{} {e}", e.code());
                assert_eq!(
                    space.generation(),
                    before,
                    "refused command changed the space: {e}"
                );
            }
        }
        assert!(space.len() <= space.capacity());
    }
});
