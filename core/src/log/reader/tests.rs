//! The resynchronising scan: bounded work on crafted damage, and the same
//! walk as the plainest reading of docs/FORMAT.md section 5.

use std::format;
use std::vec;
use std::vec::Vec;

use super::*;
use crate::addr::Addr;
use crate::log::encode::Encoder;
use crate::log::record::FRAME_MAX;
use crate::mutation::Mutation;
use crate::space::Entry;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn width() -> Width {
    Width::from_words(3).unwrap()
}

/// A header, then `pattern` repeated over 64 KiB: at every aligned offset
/// a known kind and a frame length far beyond what the width allows.
fn crafted(align: usize, pattern: &[u8]) -> Vec<u8> {
    let mut img = vec![0u8; 40];
    let n = Header::new(width(), align, 0, 1).encode(&mut img).unwrap();
    img.truncate(n);
    img.extend(pattern.iter().cycle().take(64 * 1024));
    img
}

/// Seed defect "quadratic resync": the scan ran a full CRC at every
/// aligned offset before looking at the frame's structure, so an image
/// whose every offset claims a long frame cost its length times about
/// `FRAME_MAX / align` bytes of CRC (some 17 MB here). Now only the frame
/// at the walk's position is CRC-checked.
#[test]
fn damage_claiming_long_frames_everywhere_costs_one_frame_of_crc() {
    let huge = (FRAME_MAX as u32).to_le_bytes();
    let cases: [(usize, Vec<u8>); 2] = [
        // Set, no flags, address 0, length FRAME_MAX: at every 8 bytes.
        (8, [[1, 0, 0, 0].as_slice(), &huge].concat()),
        // Every 4 bytes: kind 1, and the length field is the same four
        // bytes, 0x0901 (2,305).
        (4, vec![1, 9, 0, 0]),
    ];
    for (align, pattern) in cases {
        let img = crafted(align, &pattern);
        let (_, mut reader) = Reader::open(&img).unwrap();
        assert_eq!(reader.next(), None, "align {align}: nothing valid");
        assert!(
            matches!(reader.end(), Some(End::Torn { offset: 40, .. })),
            "align {align}: {:?}",
            reader.end()
        );
        let crc = reader.crc_bytes.get();
        assert!(crc <= FRAME_MAX, "align {align}: {crc} bytes of CRC");
    }
}

/// The walk of docs/FORMAT.md section 5, tried in the plainest way: a
/// full check (CRC first) at every aligned offset.
fn naive(img: &[u8], align: usize) -> (Vec<Event<'_>>, End) {
    let mut events = vec![];
    let mut pos = 40;
    loop {
        let Some(rest) = img.get(pos..).filter(|r| !r.is_empty()) else {
            return (events, End::Clean { offset: pos });
        };
        let error = match Record::new_checked(rest, width()) {
            Ok(record) => {
                events.push(Event::Record {
                    offset: pos,
                    record,
                });
                pos += record.padded_len(align);
                continue;
            }
            Err(_) if is_erased(rest) => return (events, End::Clean { offset: pos }),
            Err(error) => error,
        };
        let next = (pos + align..)
            .step_by(align)
            .take_while(|p| p + RECORD_HEADER_LEN <= img.len())
            .find(|&p| Record::new_checked(&img[p..], width()).is_ok());
        let Some(next) = next else {
            let len = rest.len();
            return (
                events,
                End::Torn {
                    offset: pos,
                    len,
                    error,
                },
            );
        };
        events.push(Event::Corrupted {
            offset: pos,
            skipped: next - pos,
            error,
        });
        pos = next;
    }
}

/// An image of every record kind, then erased bytes.
fn sample(align: usize) -> Vec<u8> {
    let enc = Encoder::new(width(), align).unwrap();
    let f = [1u64, 2, 3];
    let a = Addr::new(0x80, 1);
    let mut img = vec![0xFFu8; 2048];
    let mut at = Header::new(width(), align, 0, 1).encode(&mut img).unwrap();
    let batch = [
        Mutation::Set { addr: a, fp: &f },
        Mutation::Meta {
            addr: a,
            label: "héllo".as_bytes(),
            parent: Some(Addr::new(0x80, 0)),
        },
        Mutation::Expire {
            addr: a,
            at: Some(9),
        },
        Mutation::Delete { addr: Addr(7) },
    ];
    at += enc.batch(&batch, 1, &mut img[at..]).unwrap();
    let e = Entry {
        addr: a,
        fp: &f,
        label: "x",
        parent: None,
        expires_at: None,
        version: 2,
    };
    at += enc.entry(&e, &mut img[at..]).unwrap();
    at += enc.retire(4, 2, &mut img[at..]).unwrap();
    at += enc.batch(&batch[..1], 3, &mut img[at..]).unwrap();
    img.truncate(at + 16);
    img
}

/// Checking the structure before the CRC changes no walk: every byte of a
/// sample image damaged in turn (a low bit, a high bit, all bits), the
/// reader yields the same events and end as the naive walk.
#[test]
fn the_walk_is_the_naive_walk_on_every_single_byte_damage() {
    let (mut resynced, mut torn) = (0, 0);
    for align in [1, 8] {
        let img = sample(align);
        for i in 40..img.len() {
            for mask in [0x01, 0x80, 0xFF] {
                let mut bad = img.clone();
                bad[i] ^= mask;
                let (_, mut reader) = Reader::open(&bad).unwrap();
                let events: Vec<_> = reader.by_ref().collect();
                let end = reader.end().unwrap();
                let case = format!("align {align}, byte {i} ^ {mask:#x}");
                assert_eq!((events.clone(), end), naive(&bad, align), "{case}");
                resynced += events.iter().any(|e| matches!(e, Event::Corrupted { .. })) as usize;
                torn += matches!(end, End::Torn { .. }) as usize;
            }
        }
    }
    assert!(
        resynced > 100 && torn > 100,
        "{resynced} resynced, {torn} torn"
    );
}
