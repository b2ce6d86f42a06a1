//! The golden log images open on this host to exactly the space their
//! scripts describe, and the format that writes them has not changed.

use bindspace_core::log::golden::{check, write, VECTORS};
use bindspace_core::log::{Event, Reader, HEADER_LEN};
use bindspace_tests::golden::{check_all, image_of, IMAGES};

#[test]
fn every_golden_image_opens_to_its_space() {
    let n = check_all().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, VECTORS.len());
    assert_eq!(IMAGES.len(), VECTORS.len(), "an image without a vector");
    println!("golden log images checked: {n}");
}

/// Writing the scripts again gives the committed bytes exactly: the log
/// format (header, frames, padding, CRC) is what it was.
#[test]
fn the_format_has_not_changed() {
    let mut buf = vec![0u8; 1 << 16];
    for v in VECTORS {
        let n = write(v, &mut buf).unwrap();
        assert!(
            image_of(v).unwrap() == &buf[..n],
            "{}: the encoder no longer writes the committed bytes; a format change needs a new \
             format version (docs/FORMAT.md)",
            v.file
        );
    }
}

/// Damage in a committed image is noticed: every single-bit flip inside
/// the header or a record fails the check; only flips in padding (which
/// no checksum covers and nothing reads) or in the torn tail (cut anyway)
/// leave the result unchanged.
#[test]
fn every_bit_flip_in_header_or_record_is_noticed() {
    let (mut noticed, mut harmless) = (0, 0);
    for v in VECTORS {
        let image = image_of(v).unwrap();
        let (_, reader) = Reader::open(image).unwrap();
        let mut covered = vec![false; image.len()];
        covered[..HEADER_LEN].fill(true);
        for event in reader {
            if let Event::Record { offset, record } = event {
                covered[offset..offset + record.frame_len()].fill(true);
            }
        }
        for bit in 0..image.len() * 8 {
            let mut bad = image.to_vec();
            bad[bit / 8] ^= 1 << (bit % 8);
            if check(v, &bad).is_err() {
                noticed += 1;
            } else {
                assert!(!covered[bit / 8], "{}: flip of bit {bit} unnoticed", v.file);
                harmless += 1;
            }
        }
    }
    println!("golden bit flips: {noticed} noticed, {harmless} in padding or a torn tail");
    assert!(noticed > 0);
}
