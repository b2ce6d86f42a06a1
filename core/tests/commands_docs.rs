//! docs/COMMANDS.md stays true: every example in a ```bindspace block is
//! run, in document order, against one 64-bit space, and its reply must be
//! the one printed under it.
//!
//! In a block, `> CMD` is a command, the lines up to the next `>` its
//! reply; `# tick N` sets the clock, `# client N` switches to another
//! client's session (for WATCH), other `#` lines are comments.
//!
//! `BINDSPACE_DOCS_PRINT=1 cargo test -p bindspace-core --test
//! commands_docs -- --nocapture` prints the transcript as it really runs.

mod commands_support;

use bindspace_core::command::{self, Context, Input, Scratch, Session, Unlogged};
use bindspace_core::Width;
use commands_support::{leaked_space, render, COMMAND_NAMES};
use std::collections::BTreeMap;

struct Example {
    line_no: usize,
    command: String,
    expected: String,
    tick: u64,
    client: u32,
}

/// The examples of every ```bindspace block, in order.
fn examples(doc: &str) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    let (mut inside, mut tick, mut client) = (false, 0, 1);
    for (i, line) in doc.lines().enumerate() {
        if line.starts_with("```") {
            inside = line.trim() == "```bindspace";
            continue;
        }
        if !inside {
            continue;
        }
        if let Some(n) = line.strip_prefix("# tick ") {
            tick = n.trim().parse().expect("# tick N");
        } else if let Some(n) = line.strip_prefix("# client ") {
            client = n.trim().parse().expect("# client N");
        } else if line.starts_with('#') {
        } else if let Some(cmd) = line.strip_prefix("> ") {
            out.push(Example {
                line_no: i + 1,
                command: cmd.to_string(),
                expected: String::new(),
                tick,
                client,
            });
        } else if let Some(last) = out.last_mut() {
            if !last.expected.is_empty() {
                last.expected.push('\n');
            }
            last.expected.push_str(line);
        }
    }
    out
}

#[test]
fn every_example_in_commands_md_replies_as_documented() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/COMMANDS.md");
    let doc = std::fs::read_to_string(path).expect("docs/COMMANDS.md");
    let examples = examples(&doc);
    assert!(
        examples.len() >= 40,
        "only {} examples found",
        examples.len()
    );
    let print = std::env::var_os("BINDSPACE_DOCS_PRINT").is_some();

    let width = Width::from_bits(64).unwrap();
    let mut space = leaked_space(width, 64, 16);
    let mut versions = Unlogged::new(1);
    let mut scratch = Scratch::new(vec![0u64; 128], vec![0u8; 8192]);
    let mut sessions: BTreeMap<u32, Session<Vec<u8>>> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut documented = std::collections::BTreeSet::new();
    for ex in &examples {
        let session = sessions
            .entry(ex.client)
            .or_insert_with(|| Session::new(vec![0u8; 4096]));
        let ctx = Context::new(ex.tick).kernel(bindspace_core::kernels::Kernel::scalar());
        let got = render(command::run_unlogged(
            &mut space,
            &mut versions,
            &ctx,
            Input::Line(ex.command.as_bytes()),
            session,
            &mut scratch,
        ));
        if let Some(name) = ex.command.split_whitespace().next() {
            documented.insert(name.to_ascii_uppercase());
        }
        if print {
            println!("> {}\n{}", ex.command, got);
        } else if got != ex.expected {
            failures.push(format!(
                "COMMANDS.md line {}: > {}\n  documented: {:?}\n  got:        {:?}",
                ex.line_no, ex.command, ex.expected, got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every command of the language has at least one example.
    for &name in COMMAND_NAMES {
        assert!(
            documented.contains(name),
            "no example of {name} in COMMANDS.md"
        );
        assert_eq!(command::command_name(name.as_bytes()), Some(name));
    }
}
