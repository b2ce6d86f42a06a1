//! Codec, reader and replay tests against a `BTreeMap` model.

use std::vec;
use std::vec::Vec;

use super::test_model::Model;

use super::*;

// On wasm32 every `#[test]` below (proptest's too) becomes a
// `#[wasm_bindgen_test]`, so one test body serves every target.
use crate::addr::Addr;
use crate::mutation::Mutation;
use crate::space::Entry;
use crate::width::Width;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const W: usize = 3;

fn width() -> Width {
    Width::from_words(W).unwrap()
}

fn fp(seed: u64) -> [u64; W] {
    [seed, seed.wrapping_mul(0x9E37_79B9_7F4A_7C15), !seed]
}

/// Builds an image of batches (sequence numbers 1, 2, ...) and returns it
/// with the frame offsets of every batch's first record and commit.
fn image(align: usize, batches: &[&[Mutation<'_>]]) -> (Vec<u8>, Vec<(usize, usize)>) {
    let enc = Encoder::new(width(), align).unwrap();
    let mut out = vec![0xFFu8; 64 * 1024];
    let mut at = Header::new(width(), align, 0, 1).encode(&mut out).unwrap();
    let mut spans = vec![];
    for (i, b) in batches.iter().enumerate() {
        let start = at;
        at += enc.batch(b, i as u64 + 1, &mut out[at..]).unwrap();
        spans.push((start, at - enc.commit_len()));
    }
    out.truncate(at);
    (out, spans)
}

fn expected(batches: &[&[Mutation<'_>]]) -> Model {
    let mut m = Model::default();
    for (i, b) in batches.iter().enumerate() {
        for mu in *b {
            m.apply(mu, i as u64 + 1).unwrap();
        }
    }
    m
}

fn a(p: u8, s: u8) -> Addr {
    Addr::new(p, s)
}

fn sample_batches() -> Vec<Vec<Mutation<'static>>> {
    static F1: [u64; W] = [1, 2, 3];
    static F2: [u64; W] = [4, 5, 6];
    static F3: [u64; W] = [7, 8, 9];
    vec![
        vec![Mutation::Set {
            addr: a(0x80, 1),
            fp: &F1,
        }],
        vec![
            Mutation::Set {
                addr: a(0x80, 2),
                fp: &F2,
            },
            Mutation::Meta {
                addr: a(0x80, 2),
                label: "two".as_bytes(),
                parent: Some(a(0x80, 1)),
            },
        ],
        vec![Mutation::Set {
            addr: a(0x10, 5),
            fp: &F3,
        }],
        vec![Mutation::Expire {
            addr: a(0x10, 5),
            at: Some(1000),
        }],
        vec![Mutation::Delete { addr: a(0x80, 1) }],
        vec![Mutation::Set {
            addr: a(0x80, 1),
            fp: &F3,
        }],
    ]
}

fn refs<'a, 'm>(b: &'a [Vec<Mutation<'m>>]) -> Vec<&'a [Mutation<'m>]> {
    b.iter().map(|v| v.as_slice()).collect()
}

#[test]
fn every_kind_round_trips() {
    let enc = Encoder::new(width(), 8).unwrap();
    let f = fp(77);
    let muts = [
        Mutation::Set {
            addr: a(0x80, 0x1F),
            fp: &f,
        },
        Mutation::Delete { addr: a(1, 2) },
        Mutation::Expire {
            addr: a(0x10, 3),
            at: Some(u64::MAX),
        },
        Mutation::Expire {
            addr: a(0x10, 3),
            at: None,
        },
        Mutation::Meta {
            addr: a(0x90, 4),
            label: "héllo".as_bytes(),
            parent: Some(a(0x80, 0)),
        },
        Mutation::Meta {
            addr: a(0x90, 4),
            label: b"",
            parent: None,
        },
    ];
    let mut buf = [0u8; 256];
    let mut words = [0u64; 256];
    for (i, m) in muts.iter().enumerate() {
        let n = enc.mutation(m, 1000 + i as u64, &mut buf).unwrap();
        assert_eq!(n, enc.mutation_len(m));
        assert_eq!(n % 8, 0);
        let r = Record::new_checked(&buf[..n], width()).unwrap();
        assert_eq!(r.seq(), 1000 + i as u64);
        assert!(r.in_batch());
        assert_eq!(r.mutation(&mut words), Some(*m));
    }
    let n = enc.commit(9, 3, &mut buf).unwrap();
    let r = Record::new_checked(&buf[..n], width()).unwrap();
    assert_eq!(r.body(), Body::Commit { count: 3 });
    let e = Entry {
        addr: a(0xA0, 1),
        fp: &f,
        label: "x",
        parent: Some(a(0xA0, 0)),
        expires_at: Some(5),
        version: 44,
    };
    let n = enc.entry(&e, &mut buf).unwrap();
    let r = Record::new_checked(&buf[..n], width()).unwrap();
    assert!(r.is_standalone());
    assert_eq!(r.entry(&mut words), Some(e));
    let n = enc.retire(12, 3, &mut buf).unwrap();
    let r = Record::new_checked(&buf[..n], width()).unwrap();
    assert_eq!(r.body(), Body::Retire { segment: 12 });
    let n = enc.copy(&muts[4], 50, &mut buf).unwrap();
    let r = Record::new_checked(&buf[..n], width()).unwrap();
    assert!(r.is_standalone() && !r.in_batch());
    assert_eq!(
        enc.copy(&muts[1], 50, &mut buf),
        Err(EncodeError::NotCopyable)
    );
    let n = enc.copy(&muts[0], 51, &mut buf).unwrap();
    let r = Record::new_checked(&buf[..n], width()).unwrap();
    assert!(r.is_standalone());
    assert_eq!(r.mutation(&mut words), Some(muts[0]));
}

#[test]
fn every_single_bit_flip_in_a_frame_is_refused() {
    let enc = Encoder::new(width(), 1).unwrap();
    let f = fp(5);
    let mut buf = [0u8; 128];
    let n = enc
        .mutation(
            &Mutation::Set {
                addr: a(0x80, 1),
                fp: &f,
            },
            7,
            &mut buf,
        )
        .unwrap();
    for bit in 0..n * 8 {
        let mut b = buf;
        b[bit / 8] ^= 1 << (bit % 8);
        assert!(Record::new_checked(&b[..n], width()).is_err(), "bit {bit}");
    }
}

#[test]
fn encoding_refuses_bad_input_without_panicking() {
    let enc = Encoder::new(width(), 4).unwrap();
    let mut buf = [0u8; 64];
    let short = [1u64; 2];
    assert_eq!(
        enc.mutation(
            &Mutation::Set {
                addr: a(1, 1),
                fp: &short
            },
            1,
            &mut buf
        ),
        Err(EncodeError::WidthMismatch {
            expected: 3,
            got: 2
        })
    );
    let long = [b'a'; 33];
    assert_eq!(
        enc.mutation(
            &Mutation::Meta {
                addr: a(1, 1),
                label: &long,
                parent: None
            },
            1,
            &mut buf
        ),
        Err(EncodeError::LabelTooLong { len: 33 })
    );
    assert_eq!(
        enc.mutation(
            &Mutation::Meta {
                addr: a(1, 1),
                label: &[0xFF],
                parent: None
            },
            1,
            &mut buf
        ),
        Err(EncodeError::LabelNotUtf8)
    );
    let f = fp(1);
    assert_eq!(
        enc.mutation(
            &Mutation::Set {
                addr: a(1, 1),
                fp: &f
            },
            1,
            &mut buf[..10]
        ),
        Err(EncodeError::BufferTooSmall { need: 48, have: 10 })
    );
    assert_eq!(enc.batch(&[], 1, &mut buf), Err(EncodeError::EmptyBatch));
    assert_eq!(
        Encoder::new(width(), 3),
        Err(EncodeError::BadAlign { align: 3 })
    );
    assert_eq!(
        Encoder::new(width(), 8192),
        Err(EncodeError::BadAlign { align: 8192 })
    );
}

#[test]
fn replay_applies_committed_batches_in_order() {
    let b = sample_batches();
    let b = refs(&b);
    for align in [1, 4, 8, 64] {
        let (img, _) = image(align, &b);
        let mut m = Model::default();
        let r = replay(&img, Some(width()), &mut m, Policy::Strict).unwrap();
        assert_eq!(m, expected(&b));
        assert_eq!(r.end, End::Clean { offset: img.len() });
        assert_eq!(r.counts.batches, b.len() as u64);
        assert_eq!(r.counts.mutations, 7);
        assert_eq!(r.next_seq, b.len() as u64 + 1);
        assert!(r.damage.is_none());
    }
}

#[test]
fn erased_space_after_the_last_record_is_a_clean_end() {
    let b = sample_batches();
    let b = refs(&b);
    let (mut img, _) = image(8, &b);
    let len = img.len();
    img.resize(len + 4096, 0xFF);
    let mut m = Model::default();
    let r = replay(&img, None, &mut m, Policy::Strict).unwrap();
    assert_eq!(r.end, End::Clean { offset: len });
    assert_eq!(m, expected(&b));
}

/// A regression test for the defect "a torn tail is taken for the end of
/// the file": every truncation of the image is a torn tail (or a clean end
/// exactly at a record boundary), and the state is the last whole commit.
#[test]
fn torn_tail_is_not_end_of_file() {
    let b = sample_batches();
    let b = refs(&b);
    let (img, spans) = image(8, &b);
    let header_end = Header::new(width(), 8, 0, 1).padded_len();
    for cut in header_end..img.len() {
        // The bytes of a write that stopped at `cut`, then erased flash.
        let mut torn = img.clone();
        torn[cut..].fill(0xFF);
        torn.truncate(img.len());
        let committed = spans
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                let end = spans.get(i + 1).map_or(img.len(), |s| s.0);
                end <= cut
            })
            .count();
        for image in [&img[..cut], &torn[..]] {
            let mut m = Model::default();
            let r = replay(image, None, &mut m, Policy::Strict).unwrap();
            assert_eq!(m, expected(&b[..committed]), "cut at {cut}");
            let boundary = r.end.offset();
            // Padding is never read: a frame complete before the cut ends
            // the valid log at its padded end.
            assert!(boundary <= padded_len(cut, 8), "cut at {cut}");
            if boundary < cut && !super::reader::is_erased(&image[boundary..]) {
                assert!(
                    matches!(r.end, End::Torn { .. }),
                    "cut at {cut}: {:?}",
                    r.end
                );
            }
        }
    }
}

#[test]
fn mid_log_corruption_reports_offset_and_keeps_later_records() {
    let b = sample_batches();
    let b = refs(&b);
    let (img, spans) = image(8, &b);
    // Damage one byte of the fingerprint of batch 3 (index 2).
    let (start, _) = spans[2];
    let mut bad = img.clone();
    bad[start + 30] ^= 0x40;

    let (_, reader) = Reader::open(&bad).unwrap();
    let events: Vec<_> = reader.collect();
    let corrupted: Vec<_> = events
        .iter()
        .filter_map(|e| match *e {
            Event::Corrupted {
                offset, skipped, ..
            } => Some((offset, skipped)),
            _ => None,
        })
        .collect();
    assert_eq!(corrupted, vec![(start, 24 + 8 * W)]);
    let after = events
        .iter()
        .filter(|e| matches!(e, Event::Record { offset, .. } if *offset > start))
        .count();
    assert_eq!(
        after,
        1 + 2 * 3,
        "the commit of batch 3 and batches 4..=6 survive"
    );

    let mut m = Model::default();
    assert!(matches!(
        replay(&bad, None, &mut m, Policy::Strict),
        Err(ReplayError::Corrupted { offset, .. }) if offset == start
    ));

    let mut m = Model::default();
    let r = replay(&bad, None, &mut m, Policy::Repair).unwrap();
    assert_eq!(r.damage.regions, 1);
    assert_eq!(r.damage.first, Some((start, 24 + 8 * W)));
    assert_eq!(r.damage.broken_batches, 1);
    assert_eq!(r.counts.batches, 5);
    // Batch 3 (the set of 0x10:05) is lost whole, batch 4's expire then finds
    // nothing, and batches 5 and 6 still apply.
    let mut want = expected(&b[..2]);
    want.apply(&b[4][0], 5).unwrap();
    want.apply(&b[5][0], 6).unwrap();
    assert_eq!(m, want);
}

#[test]
fn damaged_length_field_does_not_hide_later_records() {
    let b = sample_batches();
    let b = refs(&b);
    let (img, spans) = image(8, &b);
    let (start, _) = spans[1];
    let mut bad = img.clone();
    // A plausible but wrong length: it would skip batches 2 and 3.
    bad[start + 4..start + 8].copy_from_slice(&200u32.to_le_bytes());
    let mut m = Model::default();
    let r = replay(&bad, None, &mut m, Policy::Repair).unwrap();
    assert_eq!(r.damage.first.map(|d| d.0), Some(start));
    assert_eq!(r.counts.batches, 5, "only the damaged batch is lost");
}

#[test]
fn erased_hole_in_the_middle_is_corruption_not_the_end() {
    let b = sample_batches();
    let b = refs(&b);
    let (img, spans) = image(8, &b);
    let mut bad = img.clone();
    let (start, commit) = spans[3];
    bad[start..commit + 24].fill(0xFF);
    let mut m = Model::default();
    assert!(matches!(
        replay(&bad, None, &mut m, Policy::Strict),
        Err(ReplayError::Corrupted { offset, .. }) if offset == start
    ));
}

#[test]
fn a_batch_without_its_commit_is_dropped_whole() {
    let enc = Encoder::new(width(), 8).unwrap();
    let f = fp(3);
    let mut out = vec![0xFFu8; 1024];
    let mut at = Header::new(width(), 8, 0, 1).encode(&mut out).unwrap();
    at += enc
        .batch(
            &[Mutation::Set {
                addr: a(1, 1),
                fp: &f,
            }],
            1,
            &mut out[at..],
        )
        .unwrap();
    // Batch 2: two records, no commit (the writer was cut), then batch 3.
    at += enc
        .mutation(
            &Mutation::Set {
                addr: a(1, 2),
                fp: &f,
            },
            2,
            &mut out[at..],
        )
        .unwrap();
    at += enc
        .mutation(&Mutation::Delete { addr: a(1, 1) }, 2, &mut out[at..])
        .unwrap();
    let mid = at;
    at += enc
        .batch(
            &[Mutation::Set {
                addr: a(1, 3),
                fp: &f,
            }],
            3,
            &mut out[at..],
        )
        .unwrap();
    for (len, keys) in [(mid, vec![a(1, 1)]), (at, vec![a(1, 1), a(1, 3)])] {
        let mut m = Model::default();
        let r = replay(&out[..len], None, &mut m, Policy::Strict).unwrap();
        assert_eq!(m.0.keys().copied().collect::<Vec<_>>(), keys);
        assert_eq!(r.counts.abandoned, 1);
        assert_eq!(r.next_seq, if len == mid { 3 } else { 4 });
    }
}

#[test]
fn out_of_order_batches_are_corruption() {
    let enc = Encoder::new(width(), 8).unwrap();
    let mut out = vec![0xFFu8; 1024];
    let mut at = Header::new(width(), 8, 0, 1).encode(&mut out).unwrap();
    at += enc
        .batch(&[Mutation::Delete { addr: a(1, 1) }], 5, &mut out[at..])
        .unwrap();
    at += enc
        .batch(&[Mutation::Delete { addr: a(1, 2) }], 5, &mut out[at..])
        .unwrap();
    let mut m = Model::default();
    assert!(matches!(
        replay(&out[..at], None, &mut m, Policy::Strict),
        Err(ReplayError::OutOfOrder {
            seq: 5,
            previous: 5,
            ..
        })
    ));
}

#[test]
fn opening_with_another_width_is_a_clear_error() {
    let (img, _) = image(8, &[]);
    let mut m = Model::default();
    let err = replay(
        &img,
        Some(Width::from_words(4).unwrap()),
        &mut m,
        Policy::Strict,
    )
    .unwrap_err();
    assert_eq!(
        err,
        ReplayError::Format(FormatError::WidthMismatch {
            log: 3,
            expected: 4
        })
    );
    assert!(std::format!("{err}").contains("192-bit"));
}

proptest::proptest! {
    /// Replay of random batch sequences equals the model, and any cut of
    /// the image gives a committed prefix.
    #[test]
    fn random_batches_replay_to_the_model(
        ops in proptest::collection::vec(
            proptest::collection::vec((0u8..4, 0u8..6, proptest::num::u64::ANY), 1..4),
            1..12,
        ),
        cut_frac in 0.0f64..1.0,
    ) {
        let fps: Vec<[u64; W]> = ops.iter().flatten().map(|o| fp(o.2)).collect();
        let mut k = 0;
        let batches: Vec<Vec<Mutation<'_>>> = ops.iter().map(|b| b.iter().map(|&(kind, slot, v)| {
            let addr = a(0x80, slot);
            let m = match kind {
                0 => Mutation::Set { addr, fp: &fps[k] },
                1 => Mutation::Delete { addr },
                2 => Mutation::Expire { addr, at: (v % 2 == 0).then_some(v) },
                _ => Mutation::Meta { addr, label: b"lbl", parent: (v % 3 == 0).then(|| a(0x80, 9)) },
            };
            k += 1;
            m
        }).collect()).collect();
        let b = refs(&batches);
        let (img, spans) = image(8, &b);
        let mut m = Model::default();
        replay(&img, None, &mut m, Policy::Strict).unwrap();
        proptest::prop_assert_eq!(&m, &expected(&b));
        let cut = (img.len() as f64 * cut_frac) as usize;
        let whole = spans.iter().enumerate().filter(|(i, _)| spans.get(i + 1).map_or(img.len(), |s| s.0) <= cut).count();
        let mut m = Model::default();
        if cut >= 40 {
            replay(&img[..cut], None, &mut m, Policy::Strict).unwrap();
            proptest::prop_assert_eq!(&m, &expected(&b[..whole]));
        }
    }
}
