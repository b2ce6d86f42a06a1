//! `exec(command)`: the command language of `docs/COMMANDS.md`, run by the
//! core's executor on this space, its mutations committed through the same
//! write path (and staging) as every other write.

use crate::errors::{js_error, ErrorKind};
use crate::space::{commit_to, writable, BindSpace};
use bindspace_core::command::{
    self, split_line, Command, Context, Input, Reply, Scratch, Session, ARGS_MAX, BATCH_MAX,
};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const REPLY_TS: &str = r#"
/** A command's reply: a status or bulk string, an integer, null, or an array of replies. */
export type Reply = string | number | null | Reply[];
"#;

/// Bytes of reply and line scratch besides the line itself: room for the
/// largest reply (a SCAN of 1,024 addresses, a 16,384-bit GET).
const REPLY_BYTES: usize = 128 * 1024;
/// Bytes of MULTI's queue.
const QUEUE_BYTES: usize = 256 * 1024;

/// One client's state for the command language: the MULTI/WATCH session
/// and the scratch memory commands run in.
#[derive(Debug)]
pub struct CommandState {
    session: Session<Vec<u8>>,
    scratch: Scratch<Vec<u64>, Vec<u8>>,
}

impl CommandState {
    fn new(words_per_fp: usize) -> CommandState {
        CommandState {
            session: Session::new(vec![0u8; QUEUE_BYTES]),
            // Every fingerprint a full transaction makes, plus operands.
            scratch: Scratch::new(
                vec![0u64; words_per_fp * (BATCH_MAX + ARGS_MAX)],
                vec![0u8; REPLY_BYTES],
            ),
        }
    }

    /// Makes sure the byte scratch holds `line` plus a full reply.
    fn fit_line(&mut self, line: usize) {
        let (words, mut bytes) =
            core::mem::replace(&mut self.scratch, Scratch::new(Vec::new(), Vec::new()))
                .into_parts();
        if bytes.len() < line + REPLY_BYTES {
            bytes.resize(line + REPLY_BYTES, 0);
        }
        self.scratch = Scratch::new(words, bytes);
    }
}

/// Whether `line`, run in `session`, may write: EXEC inside MULTI, or a
/// command that may write outside it (inside MULTI a command is only
/// queued). A line that does not parse writes nothing: the executor
/// refuses it.
fn may_write<Q>(line: &str, session: &Session<Q>) -> bool
where
    Q: AsRef<[u8]> + AsMut<[u8]>,
{
    // Splitting never makes an argument longer than the line.
    let mut buf = vec![0u8; line.len()];
    let mut args: [&[u8]; ARGS_MAX] = [&[]; ARGS_MAX];
    let Ok(n) = split_line(line.as_bytes(), &mut buf, &mut args) else {
        return false;
    };
    match Command::parse(&args[..n]) {
        Ok(Command::Exec) => session.in_multi(),
        Ok(cmd) => !session.in_multi() && cmd.may_write(),
        Err(_) => false,
    }
}

/// A reply as a JavaScript value: status and bulk as strings, integers as
/// numbers, nil as `null`, arrays as arrays.
fn reply_to_js(reply: Reply<'_>) -> JsValue {
    match reply {
        Reply::Status(s) => JsValue::from_str(s),
        Reply::Integer(n) => JsValue::from_f64(n as f64),
        Reply::Bulk(bytes) => JsValue::from_str(&String::from_utf8_lossy(bytes)),
        Reply::Nil => JsValue::NULL,
        Reply::Array(items) => items
            .iter()
            .map(reply_to_js)
            .collect::<js_sys::Array>()
            .into(),
    }
}

#[wasm_bindgen]
impl BindSpace {
    /// Runs one command of the command language (`SET 0x80:01 <hex>`,
    /// `SEARCH @0x80:01 COUNT 5`, `MULTI` ... `EXEC`, see COMMANDS.md) and
    /// returns its reply: a string for a status or bulk reply, a number,
    /// `null`, or an array. A refused command throws a `CommandError` and
    /// changes nothing. Writes go through the log like every other write.
    /// While no write may be made (a staged write waits, or the space
    /// belongs to a durable store), a command that may write throws a
    /// `LogError` before it runs, so the MULTI/WATCH session is as before;
    /// commands that write nothing still run.
    #[wasm_bindgen(unchecked_return_type = "Reply")]
    pub fn exec(&mut self, command: &str) -> Result<JsValue, JsValue> {
        let words = self.space.width().words();
        let ctx = Context::new(self.tick());
        let state = self
            .commands
            .get_or_insert_with(|| Box::new(CommandState::new(words)));
        if let Err(refused) = writable(&self.staging, self.staged_only) {
            if may_write(command, &state.session) {
                return Err(refused);
            }
        }
        state.fit_line(command.len());
        let outcome = command::execute(
            &self.space,
            &ctx,
            Input::Line(command.as_bytes()),
            &mut state.session,
            &mut state.scratch,
        )
        .map_err(|e| js_error(ErrorKind::Command, e))?;
        commit_to(
            &mut self.space,
            &mut self.journal,
            &mut self.staging,
            self.staged_only,
            outcome.mutations(),
        )?;
        Ok(reply_to_js(outcome.reply()))
    }
}
