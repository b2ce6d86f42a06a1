//! Shared by the `commands_*` integration tests: a space over leaked
//! `Vec`s (the library's growable storage needs the `alloc` feature, which
//! `cargo test -p bindspace-core` alone does not turn on), a session, a
//! scratch, and replies rendered as an interactive client prints them.

#![allow(dead_code)] // each test file uses its own part

use bindspace_core::command::{
    self, CommandError, Context, Input, Outcome, Reply, Scratch, Session, Unlogged,
};
use bindspace_core::space::{Lent, RowMeta, SlotPage, Space};
use bindspace_core::Width;

/// Every command of the language, as docs/COMMANDS.md names them.
pub(crate) const COMMAND_NAMES: &[&str] = &[
    "PING",
    "SET",
    "GET",
    "DEL",
    "EXISTS",
    "COUNT",
    "SCAN",
    "BIND",
    "BUNDLE",
    "PERMUTE",
    "HAMMING",
    "ENCODE",
    "SEARCH",
    "EXPIRE",
    "PERSIST",
    "DN.SET",
    "DN.GET",
    "DN.CHILDREN",
    "DN.PARENT",
    "MULTI",
    "EXEC",
    "DISCARD",
    "WATCH",
    "UNWATCH",
    "INFO",
];

/// A space leaked for the test's lifetime, with everything a front end holds.
pub(crate) struct Harness {
    pub(crate) space: Space<Lent<'static>>,
    pub(crate) session: Session<Vec<u8>>,
    pub(crate) scratch: Scratch<Vec<u64>, Vec<u8>>,
    pub(crate) versions: Unlogged,
    pub(crate) now: u64,
}

/// Leaked storage for `rows` rows of `width` over at most `pages` prefixes.
pub(crate) fn leaked_space(width: Width, rows: usize, pages: usize) -> Space<Lent<'static>> {
    let arena = Vec::leak(vec![0u64; rows * width.words()]);
    let meta = Vec::leak(vec![RowMeta::EMPTY; rows]);
    let pages = Vec::leak(vec![SlotPage::EMPTY; pages]);
    Space::new(width, Lent::new(arena, meta, pages))
}

impl Harness {
    /// A space of `bits`-bit fingerprints with room for `rows` entries in
    /// up to `pages` prefixes, and generous scratch.
    pub(crate) fn new(bits: u32, rows: usize, pages: usize) -> Self {
        let width = Width::from_bits(bits).unwrap();
        Harness {
            space: leaked_space(width, rows, pages),
            session: Session::new(vec![0u8; 16 * 1024]),
            scratch: Scratch::new(vec![0u64; 70 * width.words()], vec![0u8; 64 * 1024]),
            versions: Unlogged::new(1),
            now: 0,
        }
    }

    pub(crate) fn ctx(&self) -> Context {
        Context::new(self.now)
    }

    /// Runs a text line; renders the reply or the error.
    pub(crate) fn line(&mut self, line: &str) -> String {
        let ctx = self.ctx();
        render(command::run_unlogged(
            &mut self.space,
            &mut self.versions,
            &ctx,
            Input::Line(line.as_bytes()),
            &mut self.session,
            &mut self.scratch,
        ))
    }

    /// Runs an argument list; renders the reply or the error.
    pub(crate) fn argv(&mut self, args: &[&[u8]]) -> String {
        let ctx = self.ctx();
        render(command::run_unlogged(
            &mut self.space,
            &mut self.versions,
            &ctx,
            Input::Argv(args),
            &mut self.session,
            &mut self.scratch,
        ))
    }

    /// Executes a text line without applying anything: the outcome's
    /// rendering and its mutation count.
    pub(crate) fn dry(&mut self, line: &str) -> (String, usize) {
        let ctx = self.ctx();
        let out: Result<Outcome<'_>, CommandError> = command::execute(
            &self.space,
            &ctx,
            Input::Line(line.as_bytes()),
            &mut self.session,
            &mut self.scratch,
        );
        match out {
            Ok(o) => (o.reply().to_string(), o.mutations().len()),
            Err(e) => (render_error(&e), 0),
        }
    }
}

/// An error as an interactive client prints it.
pub(crate) fn render_error(e: &CommandError) -> String {
    format!("(error) {} {}", e.code(), e)
}

/// A reply or an error as an interactive client prints it.
pub(crate) fn render(r: Result<Reply<'_>, CommandError>) -> String {
    match r {
        Ok(reply) => reply.to_string(),
        Err(e) => render_error(&e),
    }
}

/// `n` as the hex of a `words`-word fingerprint whose first word is `n`.
pub(crate) fn hex_of(words: &[u64]) -> String {
    words
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .map(|b| format!("{b:02x}"))
        .collect()
}
