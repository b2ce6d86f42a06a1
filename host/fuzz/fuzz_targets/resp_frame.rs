//! The server's request framing on arbitrary bytes, used as the connection
//! uses it: cut a request, answer it, move on. Never panics, never reads
//! outside the buffer, always makes progress, and a request cut short is
//! "need more bytes", never a different request.
#![no_main]

use bindspace_host::server::frame::{next_frame, split_inline, Frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut pos = 0;
    let mut scratch = Vec::new();
    while pos < data.len() {
        let rest = &data[pos..];
        let used = match next_frame(rest) {
            Ok(None) | Err(_) => break,
            Ok(Some(Frame::Empty { used })) => used,
            Ok(Some(Frame::Inline { line, used })) => {
                assert!(line.0 <= line.1 && line.1 <= used);
                let _ = split_inline(&rest[line.0..line.1], &mut scratch);
                used
            }
            Ok(Some(Frame::Command { args, used })) => {
                for (a, b) in args {
                    assert!(a <= b && b <= used, "argument outside its request");
                }
                used
            }
        };
        assert!(used > 0 && used <= rest.len(), "no progress or overrun");
        // Every strict prefix of a whole request only asks for more.
        for cut in [used / 2, used - 1] {
            if let Ok(Some(_)) = next_frame(&rest[..cut]) {
                if !matches!(next_frame(&rest[..cut]), Ok(Some(Frame::Empty { .. }))) {
                    panic!("a cut request parsed as another one");
                }
            }
        }
        pos += used;
    }
});
