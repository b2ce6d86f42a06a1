//! Golden log images: small logs whose bytes are committed under
//! `tests/golden/` and must open to the same space on every target (host,
//! aarch64, wasm32, the Cortex-M firmware). A log made on one platform
//! opens on every other.
//!
//! Each [`Vector`] is a script: batches, standalone copies as garbage
//! collection writes them, an abandoned batch, a torn tail; and the entries
//! the log must replay to. [`write`] turns a script into image bytes (the
//! generator, `cargo run -p bindspace-tests --bin make_golden`), [`check`]
//! replays committed bytes into a space on lent storage (no heap, about
//! 12 KiB of stack) and compares every entry, fingerprint bit for bit.
//!
//! ```
//! use bindspace_core::log::golden::{check, write, VECTORS};
//! let mut image = [0u8; 8192];
//! for v in VECTORS {
//!     let n = write(v, &mut image).unwrap();
//!     check(v, &image[..n]).unwrap();
//! }
//! ```

use core::fmt;

use super::encode::Encoder;
use super::error::EncodeError;
use super::header::Header;
use super::reader::End;
use super::replay::{replay, Policy, ReplayError};
use crate::addr::Addr;
use crate::fingerprint::{encode_text, from_seed};
use crate::mutation::Mutation;
use crate::space::{Entry, Lent, RowMeta, SlotPage, Space, SpaceError};
use crate::width::Width;

/// A fingerprint named by how it is made (the same bits on every platform).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fp {
    /// `fingerprint::from_seed(seed)`.
    Seed(u64),
    /// `fingerprint::encode_text(text)`.
    Text(&'static str),
}

impl Fp {
    fn make(self, out: &mut [u64]) {
        // Widths in the vectors are valid, so neither can fail.
        let _ = match self {
            Fp::Seed(s) => from_seed(out, s),
            Fp::Text(t) => encode_text(out, t),
        };
    }
}

/// One record of a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// A set.
    Set(Addr, Fp),
    /// A delete.
    Delete(Addr),
    /// An expire.
    Expire(Addr, Option<u64>),
    /// A meta (label, parent).
    Meta(Addr, &'static str, Option<Addr>),
    /// A whole-entry copy (standalone).
    Entry(Expected),
    /// A standalone set copy with this version.
    SetCopy(Addr, Fp, u64),
    /// A standalone meta copy with this version.
    MetaCopy(Addr, &'static str, Option<Addr>, u64),
    /// A standalone expire copy with this version.
    ExpireCopy(Addr, Option<u64>, u64),
    /// A retire record (flash bookkeeping; replay ignores it).
    Retire(u64),
}

/// A piece of a script. Batches are numbered 1, 2, ... in order (abandoned
/// and torn ones included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunk {
    /// Records of one batch, then its commit.
    Batch(&'static [Step]),
    /// One standalone record (a copy or a retire).
    Standalone(Step),
    /// Records of a batch whose commit was never written.
    Abandoned(&'static [Step]),
    /// Records of a batch, then its commit cut after this many bytes: the
    /// image ends in a torn tail.
    Torn(&'static [Step], usize),
}

/// An entry the image must replay to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expected {
    /// Where.
    pub addr: Addr,
    /// Its fingerprint.
    pub fp: Fp,
    /// Its label.
    pub label: &'static str,
    /// Its parent.
    pub parent: Option<Addr>,
    /// Its expiry tick.
    pub expires_at: Option<u64>,
    /// Its version.
    pub version: u64,
}

/// One golden image: how it is made and what it must open to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vector {
    /// File name under `tests/golden/`.
    pub file: &'static str,
    /// Fingerprint width in words.
    pub width_words: usize,
    /// Record alignment.
    pub align: usize,
    /// The script.
    pub chunks: &'static [Chunk],
    /// Every entry after replay, in address order.
    pub expect: &'static [Expected],
    /// Whether the image ends in a torn tail.
    pub torn: bool,
    /// Batches without a commit that replay must drop.
    pub abandoned: u64,
    /// The sequence number the next batch gets.
    pub next_seq: u64,
}

const fn a(prefix: u8, slot: u8) -> Addr {
    Addr::new(prefix, slot)
}

const fn want(
    addr: Addr,
    fp: Fp,
    label: &'static str,
    parent: Option<Addr>,
    expires_at: Option<u64>,
    version: u64,
) -> Expected {
    Expected {
        addr,
        fp,
        label,
        parent,
        expires_at,
        version,
    }
}

/// The golden vectors.
pub const VECTORS: &[Vector] = &[
    // 64-bit fingerprints, 8-byte alignment: every mutation kind, a batch
    // of three, and a torn commit at the end.
    Vector {
        file: "basic-w64-a8.bslog",
        width_words: 1,
        align: 8,
        chunks: &[
            Chunk::Batch(&[Step::Set(a(0x80, 0x01), Fp::Seed(1))]),
            Chunk::Batch(&[
                Step::Set(a(0x80, 0x02), Fp::Seed(2)),
                Step::Meta(a(0x80, 0x02), "two", Some(a(0x80, 0x01))),
            ]),
            Chunk::Batch(&[
                Step::Set(a(0x10, 0x05), Fp::Text("five")),
                Step::Expire(a(0x10, 0x05), Some(1_000)),
                Step::Set(a(0x00, 0x00), Fp::Seed(u64::MAX)),
            ]),
            Chunk::Batch(&[Step::Delete(a(0x80, 0x01))]),
            Chunk::Batch(&[Step::Set(a(0x80, 0x01), Fp::Text("hello, world"))]),
            Chunk::Torn(&[Step::Delete(a(0x80, 0x02))], 13),
        ],
        expect: &[
            want(a(0x00, 0x00), Fp::Seed(u64::MAX), "", None, None, 3),
            want(a(0x10, 0x05), Fp::Text("five"), "", None, Some(1_000), 3),
            want(a(0x80, 0x01), Fp::Text("hello, world"), "", None, None, 5),
            want(
                a(0x80, 0x02),
                Fp::Seed(2),
                "two",
                Some(a(0x80, 0x01)),
                None,
                2,
            ),
        ],
        torn: true,
        abandoned: 1,
        next_seq: 7,
    },
    // The default 8,192-bit width: text fingerprints, garbage-collection
    // copies of every kind, an abandoned batch in the middle.
    Vector {
        file: "default-w8192-a8.bslog",
        width_words: 128,
        align: 8,
        chunks: &[
            Chunk::Batch(&[
                Step::Set(a(0x80, 0x00), Fp::Text("the cat sat on the mat")),
                Step::Meta(a(0x80, 0x00), "cat", None),
            ]),
            Chunk::Batch(&[
                Step::Set(a(0x80, 0x01), Fp::Text("the dog sat on the log")),
                Step::Meta(a(0x80, 0x01), "dog", Some(a(0x80, 0x00))),
                Step::Expire(a(0x80, 0x01), Some(99)),
            ]),
            Chunk::Abandoned(&[Step::Delete(a(0x80, 0x00))]),
            Chunk::Standalone(Step::Entry(want(
                a(0x20, 0x07),
                Fp::Seed(7),
                "copied",
                Some(a(0x80, 0x00)),
                Some(12_345),
                2,
            ))),
            Chunk::Standalone(Step::SetCopy(a(0x20, 0x08), Fp::Seed(8), 1)),
            Chunk::Standalone(Step::MetaCopy(a(0x20, 0x08), "eight", None, 1)),
            Chunk::Standalone(Step::ExpireCopy(a(0x80, 0x01), None, 2)),
            Chunk::Standalone(Step::Retire(41)),
            Chunk::Batch(&[Step::Set(a(0x80, 0xFF), Fp::Text("λ unicode ✓"))]),
        ],
        expect: &[
            want(
                a(0x20, 0x07),
                Fp::Seed(7),
                "copied",
                Some(a(0x80, 0x00)),
                Some(12_345),
                2,
            ),
            want(a(0x20, 0x08), Fp::Seed(8), "eight", None, None, 1),
            want(
                a(0x80, 0x00),
                Fp::Text("the cat sat on the mat"),
                "cat",
                None,
                None,
                1,
            ),
            want(
                a(0x80, 0x01),
                Fp::Text("the dog sat on the log"),
                "dog",
                Some(a(0x80, 0x00)),
                None,
                2,
            ),
            want(a(0x80, 0xFF), Fp::Text("λ unicode ✓"), "", None, None, 4),
        ],
        torn: false,
        abandoned: 1,
        next_seq: 5,
    },
    // 256-bit fingerprints with no padding at all (alignment 1).
    Vector {
        file: "packed-w256-a1.bslog",
        width_words: 4,
        align: 1,
        chunks: &[
            Chunk::Batch(&[
                Step::Set(a(0x80, 0x10), Fp::Seed(16)),
                Step::Set(a(0x80, 0x11), Fp::Seed(17)),
                Step::Meta(a(0x80, 0x11), "a", Some(a(0x80, 0x10))),
            ]),
            Chunk::Batch(&[
                Step::Expire(a(0x80, 0x10), Some(u64::MAX)),
                Step::Expire(a(0x80, 0x10), None),
                Step::Set(a(0x80, 0x10), Fp::Seed(160)),
            ]),
            Chunk::Batch(&[
                Step::Delete(a(0x80, 0x11)),
                Step::Set(a(0x80, 0x11), Fp::Seed(170)),
            ]),
        ],
        expect: &[
            want(a(0x80, 0x10), Fp::Seed(160), "", None, None, 2),
            want(a(0x80, 0x11), Fp::Seed(170), "", None, None, 3),
        ],
        torn: false,
        abandoned: 0,
        next_seq: 4,
    },
];

/// Why a golden image does not check out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GoldenError {
    /// The vector needs more than this check's lent storage (8 rows of up
    /// to 128 words).
    TooLarge,
    /// Encoding failed (generator).
    Encode(EncodeError),
    /// Replay failed.
    Replay(ReplayError<SpaceError>),
    /// The header is not the vector's.
    Header,
    /// Replay gave another number of entries.
    Count {
        /// Entries expected.
        want: usize,
        /// Entries replayed.
        got: usize,
    },
    /// An entry differs (or is missing).
    Entry {
        /// Its address.
        addr: Addr,
    },
    /// The image does not end as the vector says (clean or torn).
    End,
    /// Replay dropped another number of uncommitted batches.
    Abandoned,
    /// Replay gives another next sequence number.
    NextSeq {
        /// Expected.
        want: u64,
        /// Replayed.
        got: u64,
    },
}

impl fmt::Display for GoldenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GoldenError::TooLarge => f.write_str("golden vector larger than the check's storage"),
            GoldenError::Encode(e) => write!(f, "golden image cannot be encoded: {e}"),
            GoldenError::Replay(e) => write!(f, "golden image does not replay: {e}"),
            GoldenError::Header => f.write_str("golden image header differs from its vector"),
            GoldenError::Count { want, got } => {
                write!(f, "golden image replays to {got} entries, {want} expected")
            }
            GoldenError::Entry { addr } => write!(f, "golden image entry {addr} differs"),
            GoldenError::End => f.write_str("golden image does not end as expected"),
            GoldenError::Abandoned => f.write_str("golden image drops another number of batches"),
            GoldenError::NextSeq { want, got } => {
                write!(
                    f,
                    "golden image next sequence number {got}, {want} expected"
                )
            }
        }
    }
}

const ROWS: usize = 8;
const WORDS_MAX: usize = 128;

/// Writes `vector`'s image into `out`; returns its length.
pub fn write(vector: &Vector, out: &mut [u8]) -> Result<usize, GoldenError> {
    let width = Width::from_words(vector.width_words).map_err(|_| GoldenError::TooLarge)?;
    let enc = Encoder::new(width, vector.align).map_err(GoldenError::Encode)?;
    let mut at = Header::new(width, vector.align, 0, 1)
        .encode(out)
        .map_err(GoldenError::Encode)?;
    let mut seq = 1;
    let mut fp = [0u64; 256];
    let fp = &mut fp[..vector.width_words];
    for chunk in vector.chunks {
        let err = GoldenError::Encode;
        match *chunk {
            Chunk::Batch(steps) | Chunk::Abandoned(steps) | Chunk::Torn(steps, _) => {
                for step in steps {
                    at += record(&enc, step, seq, fp, &mut out[at..])?;
                }
                let count = steps.len() as u32;
                match *chunk {
                    Chunk::Batch(_) => at += enc.commit(seq, count, &mut out[at..]).map_err(err)?,
                    Chunk::Torn(_, keep) => {
                        let n = enc.commit(seq, count, &mut out[at..]).map_err(err)?;
                        at += keep.min(n - 1);
                    }
                    _ => {}
                }
                seq += 1;
            }
            Chunk::Standalone(step) => at += record(&enc, &step, 0, fp, &mut out[at..])?,
        }
    }
    Ok(at)
}

/// Encodes one step (`seq` for batch records; copies carry their own).
fn record(
    enc: &Encoder,
    step: &Step,
    seq: u64,
    fp: &mut [u64],
    out: &mut [u8],
) -> Result<usize, GoldenError> {
    let err = GoldenError::Encode;
    match *step {
        Step::Set(addr, f) => {
            f.make(fp);
            enc.mutation(&Mutation::Set { addr, fp }, seq, out)
                .map_err(err)
        }
        Step::Delete(addr) => enc
            .mutation(&Mutation::Delete { addr }, seq, out)
            .map_err(err),
        Step::Expire(addr, at) => enc
            .mutation(&Mutation::Expire { addr, at }, seq, out)
            .map_err(err),
        Step::Meta(addr, label, parent) => {
            let m = Mutation::Meta {
                addr,
                label: label.as_bytes(),
                parent,
            };
            enc.mutation(&m, seq, out).map_err(err)
        }
        Step::Entry(e) => {
            e.fp.make(fp);
            let entry = Entry {
                addr: e.addr,
                fp,
                label: e.label,
                parent: e.parent,
                expires_at: e.expires_at,
                version: e.version,
            };
            enc.entry(&entry, out).map_err(err)
        }
        Step::SetCopy(addr, f, version) => {
            f.make(fp);
            enc.copy(&Mutation::Set { addr, fp }, version, out)
                .map_err(err)
        }
        Step::MetaCopy(addr, label, parent, version) => {
            let m = Mutation::Meta {
                addr,
                label: label.as_bytes(),
                parent,
            };
            enc.copy(&m, version, out).map_err(err)
        }
        Step::ExpireCopy(addr, at, version) => enc
            .copy(&Mutation::Expire { addr, at }, version, out)
            .map_err(err),
        Step::Retire(segment) => enc.retire(segment, 0, out).map_err(err),
    }
}

/// Replays `image` (the committed bytes of `vector.file`) into a space and
/// checks it against the vector: header, how the log ends, the batches
/// dropped, the next sequence number, and every entry bit for bit.
pub fn check(vector: &Vector, image: &[u8]) -> Result<(), GoldenError> {
    if vector.width_words > WORDS_MAX || vector.expect.len() > ROWS {
        return Err(GoldenError::TooLarge);
    }
    let width = Width::from_words(vector.width_words).map_err(|_| GoldenError::TooLarge)?;
    let mut arena = [0u64; ROWS * WORDS_MAX];
    let mut meta = [RowMeta::EMPTY; ROWS];
    let mut pages = [SlotPage::EMPTY; 4];
    let mut space = Space::new(
        width,
        Lent::new(
            &mut arena[..ROWS * vector.width_words],
            &mut meta,
            &mut pages,
        ),
    );
    let r = replay(image, Some(width), &mut space, Policy::Strict).map_err(GoldenError::Replay)?;
    if r.header.align != vector.align || r.header.width != width {
        return Err(GoldenError::Header);
    }
    if matches!(r.end, End::Torn { .. }) != vector.torn {
        return Err(GoldenError::End);
    }
    if r.counts.abandoned != vector.abandoned {
        return Err(GoldenError::Abandoned);
    }
    if r.next_seq != vector.next_seq {
        return Err(GoldenError::NextSeq {
            want: vector.next_seq,
            got: r.next_seq,
        });
    }
    if space.len() != vector.expect.len() {
        return Err(GoldenError::Count {
            want: vector.expect.len(),
            got: space.len(),
        });
    }
    let mut fp = [0u64; WORDS_MAX];
    let fp = &mut fp[..vector.width_words];
    for e in vector.expect {
        e.fp.make(fp);
        let ok = space.get(e.addr).is_some_and(|got| {
            got.fp == &fp[..]
                && got.label == e.label
                && got.parent == e.parent
                && got.expires_at == e.expires_at
                && got.version == e.version
        });
        if !ok {
            return Err(GoldenError::Entry { addr: e.addr });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn every_vector_writes_and_checks() {
        let mut image = [0u8; 8192];
        for v in VECTORS {
            let n = write(v, &mut image).unwrap();
            assert_eq!(check(v, &image[..n]), Ok(()), "{}", v.file);
        }
    }

    #[test]
    fn a_flipped_fingerprint_bit_fails_the_check() {
        let mut image = [0u8; 8192];
        let v = &VECTORS[2];
        let n = write(v, &mut image).unwrap();
        // The first record's fingerprint (header 40, record header 20).
        image[40 + 20] ^= 1;
        assert!(check(v, &image[..n]).is_err());
    }
}
