//! Adversarial input: random bytes as lines, random argument lists built
//! from command names and hostile tokens (NUL bytes, emoji, huge numbers,
//! wrong widths), on a tiny space with tiny buffers. Nothing may panic,
//! and a refused command must leave the space exactly as it was. The
//! cargo-fuzz target `commands` runs the same kind of input for longer.

mod commands_support;

use bindspace_core::command::{self, Context, Input, Scratch, Session, Unlogged};
use bindspace_core::Width;
use commands_support::{leaked_space, COMMAND_NAMES};
use proptest::prelude::*;

/// Command names in other cases too.
const LOWER_CASE_NAMES: &[&str] = &["set", "dn.get"];

fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"0x10:01".to_vec()),
        Just(b"0x80:01".to_vec()),
        Just(b"@0x10:01".to_vec()),
        Just(b"@0x10:02".to_vec()),
        Just(b"0f0f0f0f0f0f0f0f".to_vec()),
        Just(b"0x0f0f0f0f0f0f0f0f".to_vec()),
        Just(b"00".to_vec()),
        Just(b"ZONE".to_vec()),
        Just(b"fluid".to_vec()),
        Just(b"COUNT".to_vec()),
        Just(b"CURSOR".to_vec()),
        Just(b"MAXDIST".to_vec()),
        Just(b"WITHDIST".to_vec()),
        Just(b"-9223372036854775808".to_vec()),
        Just(b"18446744073709551616".to_vec()),
        Just(b"a/b/c".to_vec()),
        Just("🐞\0/x".as_bytes().to_vec()),
        (0..200u32).prop_map(|n| n.to_string().into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..40),
    ]
}

fn argv() -> impl Strategy<Value = Vec<Vec<u8>>> {
    (
        prop_oneof![
            9 => proptest::sample::select(COMMAND_NAMES.iter().chain(LOWER_CASE_NAMES).copied().collect::<Vec<_>>())
                .prop_map(|n| n.as_bytes().to_vec()),
            1 => proptest::collection::vec(any::<u8>(), 0..12),
        ],
        proptest::collection::vec(token(), 0..8),
    )
        .prop_map(|(name, mut rest)| {
            rest.insert(0, name);
            rest
        })
}

fn input() -> impl Strategy<Value = (bool, Vec<Vec<u8>>)> {
    prop_oneof![
        3 => argv().prop_map(|a| (false, a)),
        // As a line: the tokens joined, or plain random bytes.
        1 => argv().prop_map(|a| (true, vec![a.join(&b' ')])),
        1 => proptest::collection::vec(any::<u8>(), 0..80).prop_map(|l| (true, vec![l])),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn nothing_panics_and_refusals_change_nothing(
        inputs in proptest::collection::vec(input(), 1..12),
        words in 0..4usize,
        bytes in 0..160usize,
        queue in 0..96usize,
    ) {
        let width = Width::from_bits(64).unwrap();
        let mut space = leaked_space(width, 4, 2);
        let mut versions = Unlogged::new(1);
        let mut session = Session::new(vec![0u8; queue]);
        let mut scratch = Scratch::new(vec![0u64; words], vec![0u8; bytes]);
        for (i, (is_line, parts)) in inputs.iter().enumerate() {
            let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            let input = if *is_line { Input::Line(refs[0]) } else { Input::Argv(&refs) };
            let before = space.generation();
            let ctx = Context::new(i as u64);
            let r = command::run_unlogged(&mut space, &mut versions, &ctx, input, &mut session, &mut scratch);
            match r {
                Ok(reply) => {
                    // Every reply renders.
                    let _ = reply.to_string();
                }
                Err(e) => {
                    prop_assert!(!e.to_string().is_empty());
                    prop_assert_eq!(space.generation(), before, "{} changed the space", e);
                }
            }
            prop_assert!(space.len() <= 4);
        }
    }
}
