//! Replies printed as `redis-cli` prints them.

use bindspace_core::command::Reply;
use core::fmt::Write;

/// `reply` as text, nested arrays indented.
pub(crate) fn render(reply: &Reply<'_>) -> String {
    let mut s = String::new();
    write_reply(&mut s, reply, 0);
    s
}

fn write_reply(s: &mut String, reply: &Reply<'_>, indent: usize) {
    match reply {
        Reply::Status(t) => s.push_str(t),
        Reply::Integer(n) => {
            let _ = write!(s, "(integer) {n}");
        }
        Reply::Bulk(b) => {
            let _ = write!(s, "\"{}\"", String::from_utf8_lossy(b).escape_debug());
        }
        Reply::Nil => s.push_str("(nil)"),
        Reply::Array(items) if items.is_empty() => s.push_str("(empty array)"),
        Reply::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    s.push('\n');
                    s.push_str(&" ".repeat(indent));
                }
                let label = format!("{}) ", i + 1);
                s.push_str(&label);
                write_reply(s, &item, indent + label.len());
            }
        }
    }
}
