//! Associative recall, end to end: store a few hundred sentences as
//! fingerprints, then find them again from a damaged copy and from a
//! reworded sentence.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release -p bindspace-core --example nearest --features alloc
//! ```
//!
//! Everything is deterministic: the sentences come from small word lists
//! and a seeded generator, so every machine prints the same thing.

use bindspace_core::fingerprint::encode_text;
use bindspace_core::mutation::Mutation;
use bindspace_core::prng::SplitMix64;
use bindspace_core::search::{Hit, SearchOptions};
use bindspace_core::space::{Filter, Space};
use bindspace_core::{Addr, Width};

const SENTENCES: usize = 400;

const WHO: [&str; 12] = [
    "the old fisherman",
    "a young teacher",
    "my grandmother",
    "the night nurse",
    "a tired engineer",
    "the village baker",
    "our new neighbour",
    "the quiet student",
    "a travelling singer",
    "the ship's cook",
    "a retired pilot",
    "the head gardener",
];
const DOES: [&str; 12] = [
    "mends", "paints", "sells", "carries", "hides", "finds", "cleans", "measures", "forgets",
    "borrows", "sketches", "wraps",
];
const WHAT: [&str; 12] = [
    "a red net",
    "the broken clock",
    "a basket of apples",
    "the wooden chair",
    "an old map",
    "a blue umbrella",
    "the copper kettle",
    "a pile of letters",
    "the silver key",
    "a loaf of bread",
    "the garden gate",
    "a box of candles",
];
const WHERE: [&str; 12] = [
    "by the harbour",
    "in the kitchen",
    "at the station",
    "behind the church",
    "on the roof",
    "near the river",
    "in the market",
    "under the bridge",
    "at the school",
    "in the attic",
    "beside the lake",
    "on the night train",
];
const WHEN: [&str; 6] = [
    "every morning",
    "before dawn",
    "after the storm",
    "on sundays",
    "at midnight",
    "once a year",
];

/// The `i`-th sentence pick: indices into the word lists.
fn picks(g: &mut SplitMix64) -> [usize; 5] {
    [
        g.below(12) as usize,
        g.below(12) as usize,
        g.below(12) as usize,
        g.below(12) as usize,
        g.below(6) as usize,
    ]
}

fn sentence(p: [usize; 5]) -> String {
    format!(
        "{} {} {} {} {}.",
        WHO[p[0]], DOES[p[1]], WHAT[p[2]], WHERE[p[3]], WHEN[p[4]]
    )
}

/// Turns a stored sentence into a query that says it differently.
type Reword = fn(&str) -> String;

/// Where sentence `i` is stored: the fluid (working memory) zone.
fn addr_of(i: usize) -> Addr {
    Addr(0x1000 + i as u16)
}

fn main() {
    let width = Width::DEFAULT;
    let words = width.words();
    let mut space = Space::growable(width);
    let opts = SearchOptions::new().filter(Filter::Zone(bindspace_core::Zone::Fluid));

    // 1. Store the sentences. Each write is a Mutation applied with a
    //    version, exactly as the log will replay it.
    let mut g = SplitMix64::new(2026);
    let mut texts: Vec<String> = Vec::new();
    while texts.len() < SENTENCES {
        let s = sentence(picks(&mut g));
        if texts.contains(&s) {
            continue;
        }
        let mut fp = vec![0u64; words];
        encode_text(&mut fp, &s).expect("the default width is valid");
        let i = texts.len();
        space
            .apply(
                &Mutation::Set {
                    addr: addr_of(i),
                    fp: &fp,
                },
                i as u64 + 1,
            )
            .expect("the growable space has room");
        texts.push(s);
    }
    println!(
        "Stored {} sentences as {}-bit fingerprints (character 3-grams, bundled by majority) \
         at addresses {}..{}.",
        space.len(),
        width.bits(),
        addr_of(0),
        addr_of(SENTENCES - 1)
    );
    println!(
        "Search kernel: {} (core picks it when compiled; the host crate detects the CPU at run time).",
        opts.kernel.name()
    );
    println!();

    let text_of = |a: Addr| &texts[(a.0 - 0x1000) as usize];
    let show = |hits: &[Hit]| {
        for (rank, h) in hits.iter().enumerate() {
            println!(
                "    {}. {}  distance {:>4}  \"{}\"",
                rank + 1,
                h.addr,
                h.distance,
                text_of(h.addr)
            );
        }
    };

    // 2. A noisy copy: the stored fingerprint with bits flipped at random.
    println!("A noisy copy finds its original:");
    let target = 137;
    let original = space
        .get(addr_of(target))
        .expect("stored above")
        .fp
        .to_vec();
    let mut all_found = true;
    for percent in [10u64, 25, 35] {
        let flips = width.bits() as u64 * percent / 100;
        let mut noisy = original.clone();
        let mut flip_gen = SplitMix64::new(percent);
        let mut flipped = 0;
        // Flip exactly `flips` distinct bits.
        while flipped < flips {
            let b = flip_gen.below(width.bits() as u64);
            let (w, bit) = ((b / 64) as usize, b % 64);
            if (noisy[w] ^ original[w]) >> bit & 1 == 0 {
                noisy[w] ^= 1 << bit;
                flipped += 1;
            }
        }
        let mut hits = [Hit::default(); 3];
        let n = space
            .nearest(&noisy, &opts, &mut hits)
            .expect("query has the space's width");
        let found = hits[0].addr == addr_of(target);
        all_found &= found;
        println!(
            "  {flips} of {} bits flipped ({percent}%) in the fingerprint of \"{}\": {}",
            width.bits(),
            texts[target],
            if found {
                "found first"
            } else {
                "NOT found first"
            }
        );
        show(&hits[..n]);
    }
    println!();

    // 3. Reworded queries: the same sentence said differently.
    println!("A reworded sentence finds its original:");
    let rewordings: [(usize, Reword); 4] = [
        (12, |s| s.replacen("the ", "The ", 1).replace('.', "!")),
        (250, |s| {
            // Move the time phrase to the front.
            let body = s.trim_end_matches('.');
            let when = WHEN
                .iter()
                .find(|w| body.ends_with(*w))
                .expect("every sentence ends with one");
            format!("{when}, {}", body.trim_end_matches(when).trim_end())
        }),
        (61, |s| {
            // Two typos: a dropped letter and a doubled one.
            let mut t: String = s.to_string();
            let i = t.len() / 3;
            t.remove(i);
            let j = 2 * t.len() / 3;
            let c = t.as_bytes()[j] as char;
            t.insert(j, c);
            t
        }),
        (333, |s| {
            // One word swapped for another.
            let who = WHO
                .iter()
                .find(|w| s.starts_with(*w))
                .expect("every sentence starts with one");
            s.replacen(who, "somebody", 1)
        }),
    ];
    for (i, reword) in rewordings {
        let query_text = reword(&texts[i]);
        let mut q = vec![0u64; words];
        encode_text(&mut q, &query_text).expect("the default width is valid");
        let mut hits = [Hit::default(); 3];
        let n = space
            .nearest(&q, &opts, &mut hits)
            .expect("query has the space's width");
        let found = hits[0].addr == addr_of(i);
        all_found &= found;
        println!(
            "  query \"{query_text}\" (original at {}): {}",
            addr_of(i),
            if found {
                "found first"
            } else {
                "NOT found first"
            }
        );
        show(&hits[..n]);
    }
    println!();

    // 4. Unrelated text lands far from everything.
    let mut q = vec![0u64; words];
    encode_text(&mut q, "quantum chromodynamics of gluon plasma").expect("valid width");
    let mut hits = [Hit::default(); 1];
    space
        .nearest(&q, &opts, &mut hits)
        .expect("query has the space's width");
    println!(
        "An unrelated query is {} bits from its nearest sentence (half the width is {}): \
         distance tells a match from a miss.",
        hits[0].distance,
        width.bits() / 2
    );

    if !all_found {
        eprintln!("some query did not find its original first");
        std::process::exit(1);
    }
}
