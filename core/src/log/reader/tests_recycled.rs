//! Recycled images (docs/FORMAT.md, section 5.1): a file written again
//! over an earlier life of itself. The walk yields this life's records
//! only, ends cleanly at the end mark, and still reports damage and torn
//! writes as it does in a fresh image.

use std::vec;
use std::vec::Vec;

use super::*;
use crate::addr::Addr;
use crate::log::encode::Encoder;
use crate::mutation::Mutation;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const ALIGN: usize = 8;
const LEN: usize = 4096;

fn width() -> Width {
    Width::from_words(3).unwrap()
}

/// Appends one single-set batch of commit `seq`.
fn batch(img: &mut [u8], at: usize, seq: u64) -> usize {
    let f = [seq, !seq, seq.rotate_left(7)];
    let enc = Encoder::new(width(), ALIGN).unwrap();
    let m = [Mutation::Set {
        addr: Addr(seq as u16),
        fp: &f,
    }];
    at + enc.batch(&m, seq, &mut img[at..]).unwrap()
}

/// A file's first life: commits 1, 2, ... filling `LEN` bytes (a closed
/// segment, as a checkpoint hands it over for reuse).
fn first_life() -> Vec<u8> {
    let mut img = vec![0xFFu8; LEN];
    let mut at = Header::new(width(), ALIGN, 0, 1).encode(&mut img).unwrap();
    let mut seq = 1;
    while at + 128 <= LEN {
        at = batch(&mut img, at, seq);
        seq += 1;
    }
    img
}

/// The file written again as segment 1 from commit `first_seq`, with
/// `commits` batches, each write followed by the end mark when `mark`.
/// Returns the image and where its records end.
fn second_life(first_seq: u64, commits: u64, mark: bool) -> (Vec<u8>, usize) {
    let mut img = first_life();
    let header = Header {
        recycled: true,
        ..Header::new(width(), ALIGN, 1, first_seq)
    };
    let mut at = header.encode(&mut img).unwrap();
    img[at..at + END_MARK_LEN].fill(0xFF);
    for seq in first_seq..first_seq + commits {
        at = batch(&mut img, at, seq);
        if mark {
            img[at..at + END_MARK_LEN].fill(0xFF);
        }
    }
    (img, at)
}

fn walk(img: &[u8]) -> (Vec<u64>, Vec<usize>, Option<End>) {
    let (_, mut reader) = Reader::open(img).unwrap();
    let mut seqs = Vec::new();
    let mut corrupted = Vec::new();
    for event in reader.by_ref() {
        match event {
            Event::Record { record, .. } => seqs.push(record.seq()),
            Event::Corrupted { offset, .. } => corrupted.push(offset),
        }
    }
    (seqs, corrupted, reader.end())
}

/// Commit seqs `a..b`, twice each (a set record and its commit).
fn twice(a: u64, b: u64) -> Vec<u64> {
    (a..b).flat_map(|s| [s, s]).collect()
}

#[test]
fn a_recycled_image_yields_its_own_records_and_ends_at_the_mark() {
    // The earlier life went up to about commit 40: every one of its frames
    // is a valid frame, and the new records stop far before them.
    let (img, end) = second_life(1000, 5, true);
    let (seqs, corrupted, last) = walk(&img);
    assert_eq!(seqs, twice(1000, 1005));
    assert!(corrupted.is_empty(), "{corrupted:?}");
    assert_eq!(last, Some(End::Clean { offset: end }));
}

#[test]
fn a_recycled_image_with_only_its_header_is_empty_and_clean() {
    let (img, end) = second_life(1000, 0, true);
    assert_eq!(end, 40);
    assert_eq!(
        walk(&img),
        (vec![], vec![], Some(End::Clean { offset: 40 }))
    );
}

#[test]
fn without_the_flag_the_earlier_life_would_be_read_as_records() {
    // Why the flag exists: the same bytes read as a fresh image walk
    // straight into the stale frames.
    let (mut img, _) = second_life(1000, 5, true);
    let plain = Header::new(width(), ALIGN, 1, 1000);
    plain.encode(&mut img).unwrap();
    let (seqs, corrupted, _) = walk(&img);
    assert!(seqs.iter().any(|&s| s < 1000), "stale frames were skipped");
    assert!(!corrupted.is_empty());
}

#[test]
fn a_stale_frame_where_the_next_record_would_start_is_never_a_record() {
    // Same-sized records line up with the earlier life's: after commit
    // 1004 the next frame in the file is a whole, valid frame of the
    // earlier life. With the end mark (the previous test) that place is
    // the end; without it, the write there did not finish.
    let (img, end) = second_life(1000, 5, false);
    let (seqs, _, last) = walk(&img);
    assert_eq!(seqs, twice(1000, 1005));
    match last {
        Some(End::Torn { offset, error, .. }) => {
            assert_eq!(offset, end);
            assert!(
                matches!(
                    error,
                    FormatError::Stale {
                        first_seq: 1000,
                        ..
                    }
                ),
                "{error:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_torn_last_frame_reads_as_torn_not_as_the_end() {
    // The last batch's set record landed, its commit record did not.
    let (mut img, _) = second_life(1000, 5, true);
    let (_, before) = second_life(1000, 4, true);
    let set_len = 20 + 3 * 8 + 4;
    img[before + set_len + 5] ^= 0x10;
    let (seqs, corrupted, last) = walk(&img);
    let mut want = twice(1000, 1004);
    want.push(1004);
    assert_eq!(seqs, want);
    assert!(corrupted.is_empty());
    assert!(
        matches!(last, Some(End::Torn { offset, .. }) if offset == before + set_len),
        "{last:?}"
    );
}

#[test]
fn damage_before_later_records_of_this_life_is_corruption() {
    let (mut img, end) = second_life(1000, 6, true);
    let (_, third) = second_life(1000, 2, true);
    img[third + 25] ^= 0x01;
    let (seqs, corrupted, last) = walk(&img);
    assert_eq!(corrupted, vec![third]);
    // The set record of commit 1002 is damaged; its commit record is
    // still a valid frame (the batch rules above the reader drop it).
    let mut want = twice(1000, 1002);
    want.push(1002);
    want.extend(twice(1003, 1006));
    assert_eq!(seqs, want);
    assert_eq!(last, Some(End::Clean { offset: end }));
}

#[test]
fn the_earlier_life_costs_no_crc_after_the_end() {
    let (img, _) = second_life(1000, 1, true);
    let (_, mut reader) = Reader::open(&img).unwrap();
    let records = reader.by_ref().count();
    assert_eq!(records, 2);
    // This life's two frames, nothing of the earlier life's 4 KiB.
    let crc = reader.crc_bytes.get();
    assert!(crc < 200, "{crc} bytes of CRC");
}
