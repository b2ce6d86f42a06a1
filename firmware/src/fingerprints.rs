//! Phase "fingerprints": the PRNG and hash against published vectors, then
//! text encoding, bind, bundle, permute and hex by their defining
//! properties, and the errors bad shapes must give (never a panic).

use crate::check::{ensure, ensure_eq, Failed};
use bindspace_core::fingerprint::{
    self, bind, bundle, encode_text, from_hex, from_seed, permute, unpermute, FpError,
};
use bindspace_core::kernels::Kernel;
use bindspace_core::prng::{fnv1a, FNV_OFFSET};

/// Words per fingerprint in this phase (1,024 bits): wide enough for the
/// statistics below, small enough to keep several on the stack.
const W: usize = 16;
const BITS: u32 = (W * 64) as u32;

type Fp = [u64; W];

#[inline(never)] // its own frame, so the stack it needs is measured alone
pub(crate) fn run() -> Result<(), Failed> {
    published_vectors()?;
    text()?;
    bind_ops()?;
    bundle_ops()?;
    permute_ops()?;
    hex()?;
    refusals()?;
    Ok(())
}

fn distance(a: &[u64], b: &[u64]) -> u32 {
    // Lengths always agree here; a mismatch reads as "as far as can be".
    Kernel::scalar().distance(a, b).unwrap_or(u32::MAX)
}

fn seeded(seed: u64) -> Fp {
    let mut fp = [0; W];
    // W is a valid width, so this cannot fail; a zero fingerprint would
    // fail the checks that use it.
    let _ = from_seed(&mut fp, seed);
    fp
}

/// SplitMix64 and FNV-1a have published outputs: the same numbers must come
/// out of a 32-bit ARM build as out of every other.
fn published_vectors() -> Result<(), Failed> {
    ensure_eq!(
        seeded(0)[0],
        0xE220_A839_7B1D_CDAFu64,
        "SplitMix64 seed 0, first output"
    );
    ensure_eq!(
        fnv1a(FNV_OFFSET, b""),
        0xCBF2_9CE4_8422_2325u64,
        "FNV-1a of \"\""
    );
    ensure_eq!(
        fnv1a(FNV_OFFSET, b"a"),
        0xAF63_DC4C_8601_EC8Cu64,
        "FNV-1a of \"a\""
    );
    ensure_eq!(
        fnv1a(FNV_OFFSET, b"foobar"),
        0x8594_4171_F739_67E8u64,
        "FNV-1a of \"foobar\""
    );
    Ok(())
}

fn encoded(text: &str) -> Result<Fp, Failed> {
    let mut fp = [0; W];
    ensure!(
        encode_text(&mut fp, text).is_ok(),
        "encode_text refused {=str}",
        text
    );
    Ok(fp)
}

/// Same text, same bits; normalisation is applied; similar texts land near,
/// unrelated ones near half the width apart.
fn text() -> Result<(), Failed> {
    let a = encoded("the cat sat on the mat")?;
    ensure_eq!(
        a,
        encoded("the cat sat on the mat")?,
        "encode_text is deterministic"
    );
    ensure_eq!(
        a,
        encoded("  The CAT sat\ton   the mat ")?,
        "case and whitespace normalised"
    );
    let near = distance(&a, &encoded("the cat sat on a mat")?);
    let far = distance(&a, &encoded("quantum chromodynamics lecture notes")?);
    ensure!(near < BITS / 4, "similar texts {=u32} bits apart", near);
    ensure!(
        far > BITS * 3 / 8 && far < BITS * 5 / 8,
        "unrelated texts {=u32} bits apart, expected near {=u32}",
        far,
        BITS / 2
    );
    // Non-ASCII text is encoded by scalar values and is not normalised.
    let u = encoded("Ärger, 世界")?;
    ensure!(u != encoded("ärger, 世界")?, "non-ASCII case is kept");
    let one = encoded("x")?;
    ensure!(one != [0; W], "a one-character text still encodes");
    Ok(())
}

/// bind is XOR: self-inverse, and it preserves distances.
fn bind_ops() -> Result<(), Failed> {
    let (a, b, c) = (seeded(1), seeded(2), seeded(3));
    let mut ab = [0; W];
    let mut back = [0; W];
    ensure!(bind(&mut ab, &a, &b).is_ok(), "bind refused equal widths");
    ensure!(
        bind(&mut back, &ab, &b).is_ok(),
        "bind refused equal widths"
    );
    ensure_eq!(back, a, "bind(bind(a, b), b) == a");
    let mut zero = [0; W];
    ensure!(bind(&mut zero, &a, &a).is_ok(), "bind refused equal widths");
    ensure_eq!(zero, [0u64; W], "bind(a, a) == 0");
    let (mut ac, mut bc) = ([0; W], [0; W]);
    ensure!(
        bind(&mut ac, &a, &c).is_ok() && bind(&mut bc, &b, &c).is_ok(),
        "bind refused"
    );
    ensure_eq!(
        distance(&ac, &bc),
        distance(&a, &b),
        "binding preserves distance"
    );
    Ok(())
}

/// bundle is the bitwise majority; an even split takes the tie fingerprint.
fn bundle_ops() -> Result<(), Failed> {
    let (a, b, c) = (seeded(10), seeded(11), seeded(12));
    let mut out = [0; W];
    ensure!(
        bundle(&mut out, &[&a, &a, &b]).is_ok(),
        "bundle of three refused"
    );
    ensure_eq!(out, a, "majority of [a, a, b] is a");
    ensure!(
        bundle(&mut out, &[&a, &b, &c]).is_ok(),
        "bundle of three refused"
    );
    for (name, input) in [("a", &a), ("b", &b), ("c", &c)] {
        let d = distance(&out, input);
        // Each bit of a 3-way majority agrees with a given input 3/4 of
        // the time, so the bundle sits near a quarter of the width away.
        ensure!(
            d < BITS * 3 / 8,
            "bundle is {=u32} bits from input {=str}",
            d,
            name
        );
    }
    let mut tie = [0; W];
    ensure!(
        from_seed(&mut tie, fingerprint::TIE_SEED).is_ok(),
        "from_seed refused"
    );
    ensure!(bundle(&mut out, &[&a, &b]).is_ok(), "bundle of two refused");
    for w in 0..W {
        let agree = !(a[w] ^ b[w]);
        let expected = (a[w] & agree) | (tie[w] & !agree);
        ensure_eq!(
            out[w],
            expected,
            "two-way bundle: agreed bits kept, ties from TIE_SEED"
        );
    }
    Ok(())
}

/// permute rotates bits; unpermute undoes it for any shift.
fn permute_ops() -> Result<(), Failed> {
    let a = seeded(20);
    let mut p = [0; W];
    let mut back = [0; W];
    for n in [
        0i64,
        1,
        7,
        63,
        64,
        65,
        500,
        -1,
        -64,
        -777,
        i64::MAX,
        i64::MIN,
    ] {
        ensure!(
            permute(&mut p, &a, n).is_ok(),
            "permute by {=i64} refused",
            n
        );
        ensure!(
            unpermute(&mut back, &p, n).is_ok(),
            "unpermute by {=i64} refused",
            n
        );
        ensure!(back == a, "unpermute(permute(a, {=i64})) != a", n);
    }
    ensure!(
        permute(&mut p, &a, i64::from(BITS)).is_ok(),
        "permute refused"
    );
    ensure_eq!(p, a, "permute by the width is the identity");
    // Bit i moves to bit i + 1: the top bit of word k lands in bit 0 of k + 1.
    let mut one = [0u64; W];
    one[3] = 1 << 63;
    ensure!(permute(&mut p, &one, 1).is_ok(), "permute refused");
    let mut expected = [0u64; W];
    expected[4] = 1;
    ensure_eq!(
        p,
        expected,
        "permute by 1 carries the top bit into the next word"
    );
    ensure!(permute(&mut p, &a, 1).is_ok(), "permute refused");
    let d = distance(&p, &a);
    ensure!(
        d > BITS * 3 / 8,
        "a permuted random fingerprint is {=u32} bits from itself",
        d
    );
    Ok(())
}

/// Hex round-trips, and malformed hex is an error.
fn hex() -> Result<(), Failed> {
    let a = seeded(30);
    let mut text = [0u8; W * 16];
    let mut back = [0u64; W];
    let len = match fingerprint::to_hex(&a, &mut text) {
        Ok(s) => s.len(),
        Err(_) => 0,
    };
    ensure_eq!(len, W * 16, "to_hex writes two digits per byte");
    ensure!(
        from_hex(&mut back, &text[..len]).is_ok(),
        "from_hex refused to_hex output"
    );
    ensure_eq!(back, a, "from_hex(to_hex(a)) == a");
    text[5] = b'g';
    ensure!(
        from_hex(&mut back, &text[..len]).is_err(),
        "from_hex accepted a non-hex digit"
    );
    ensure!(
        from_hex(&mut back, &text[..len - 2]).is_err(),
        "from_hex accepted a short string"
    );
    let mut small = [0u8; 8];
    ensure!(
        fingerprint::to_hex(&a, &mut small).is_err(),
        "to_hex overflowed a short buffer"
    );
    Ok(())
}

/// Bad shapes are errors with the numbers in them, never panics.
fn refusals() -> Result<(), Failed> {
    let a = seeded(40);
    let short = [0u64; W - 1];
    let mut out = [0u64; W];
    ensure!(
        bind(&mut out, &a, &short)
            == Err(FpError::WidthMismatch {
                expected: W,
                got: W - 1
            }),
        "bind with a short input must be a width mismatch"
    );
    ensure!(
        bundle(&mut out, &[]) == Err(FpError::NoInputs),
        "bundle of nothing must say it has no inputs"
    );
    ensure!(
        from_seed(&mut [], 1) == Err(FpError::BadWidth { words: 0 }),
        "a zero-word fingerprint must be a bad width"
    );
    ensure!(
        Kernel::scalar().distance(&a, &short).is_err(),
        "distance between different widths"
    );
    Ok(())
}
