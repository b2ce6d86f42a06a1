//! Phase "search": exact k-nearest and range search on the space, against
//! a brute-force oracle (every distance by the one-line popcount, sorted by
//! distance then address), for several k, every zone filter, a maximum
//! distance and expiry; plus ties broken by address and a refused width.

use crate::buffers::{Buffers, Fp, ROWS, WORDS};
use crate::check::{ensure, ensure_eq, Failed};
use bindspace_core::fingerprint::from_seed;
use bindspace_core::mutation::Mutation;
use bindspace_core::prng::SplitMix64;
use bindspace_core::search::{Hit, SearchError, SearchOptions};
use bindspace_core::space::{Filter, LentSpace};
use bindspace_core::{Addr, Zone};

/// Entries stored: every row.
const ENTRIES: usize = ROWS;
/// Every tenth entry expires at this tick.
const EXPIRY: u64 = 1_000;

/// Where entry `i` lives: spread over one prefix of each zone.
fn addr_of(i: usize) -> Addr {
    let prefix = [0x02, 0x40, 0x90][i % 3];
    Addr::new(prefix, (i * 7 % 256) as u8)
}

/// Entry `i`'s fingerprint: random, except that the entries come in small
/// families (bits flipped off a shared base) so near neighbours exist, and
/// entries 60 and 61 are identical so distances tie.
fn fp_of(i: usize) -> Fp {
    let family = if i == 61 { 60 } else { i };
    let mut fp = [0; WORDS];
    let _ = from_seed(&mut fp, (family / 4) as u64);
    let mut rng = SplitMix64::new(family as u64);
    for _ in 0..(family % 4) * 40 {
        let bit = rng.below((WORDS * 64) as u64) as usize;
        fp[bit / 64] ^= 1 << (bit % 64);
    }
    fp
}

fn expires(i: usize) -> Option<u64> {
    i.is_multiple_of(10).then_some(EXPIRY)
}

/// The oracle: `k` best hits by brute force, in (distance, address) order.
fn oracle(query: &Fp, opts: &SearchOptions, k: usize, out: &mut [Hit; ENTRIES]) -> usize {
    let mut n = 0;
    for i in 0..ENTRIES {
        let addr = addr_of(i);
        let distance: u32 = query
            .iter()
            .zip(&fp_of(i))
            .map(|(a, b)| (a ^ b).count_ones())
            .sum();
        let live = match (opts.now, expires(i)) {
            (Some(now), Some(at)) => at > now,
            _ => true,
        };
        if opts.filter.matches(addr) && live && distance <= opts.max_distance.unwrap_or(u32::MAX) {
            out[n] = Hit { distance, addr };
            n += 1;
        }
    }
    out[..n].sort_unstable();
    n.min(k)
}

#[inline(never)] // its own frame, so the stack it needs is measured alone
pub(crate) fn run(buffers: &mut Buffers) -> Result<(), Failed> {
    let mut space = buffers.space();
    let mut version = 0;
    for i in 0..ENTRIES {
        let fp = fp_of(i);
        let addr = addr_of(i);
        version += 1;
        ensure!(
            space
                .apply(&Mutation::Set { addr, fp: &fp }, version)
                .is_ok(),
            "set refused"
        );
        if let Some(at) = expires(i) {
            version += 1;
            let expire = Mutation::Expire { addr, at: Some(at) };
            ensure!(space.apply(&expire, version).is_ok(), "expire refused");
        }
    }
    let mut rng = SplitMix64::new(0x5EA2C4);
    let mut compared = 0u32;
    for q in 0..12 {
        // Stored fingerprints (exact and near matches) and fresh ones.
        let query = if q < 8 {
            fp_of(q * 7 % ENTRIES)
        } else {
            seeded_query(rng.next())
        };
        for opts in option_sets(q) {
            for k in [1, 3, 10, ENTRIES, ENTRIES + 5] {
                compare(&space, &query, &opts, k)?;
                compared += 1;
            }
            within(&space, &query, &opts)?;
        }
    }
    defmt::info!(
        "search: {=u32} searches equal the brute-force oracle",
        compared
    );
    ties(&space)?;
    refusals(&space)?;
    Ok(())
}

fn seeded_query(seed: u64) -> Fp {
    let mut fp = [0; WORDS];
    let _ = from_seed(&mut fp, seed);
    fp
}

/// Filters, a radius and a clock, varied with the query.
fn option_sets(q: usize) -> [SearchOptions; 6] {
    let base = SearchOptions::new();
    [
        base,
        base.filter(Filter::Zone(Zone::Surface)),
        base.filter(Filter::Zone(Zone::Fluid)).now(EXPIRY),
        base.filter(Filter::Zone(Zone::Nodes)).max_distance(900),
        base.filter(Filter::Prefix(0x40)).now(EXPIRY - 1),
        base.max_distance(200 + 40 * q as u32).now(EXPIRY + 1),
    ]
}

fn compare(
    space: &LentSpace<'_>,
    query: &Fp,
    opts: &SearchOptions,
    k: usize,
) -> Result<(), Failed> {
    let mut want = [Hit::default(); ENTRIES];
    let n = oracle(query, opts, k, &mut want);
    let mut got = [Hit::default(); ENTRIES + 5];
    let found = space.nearest(query, opts, &mut got[..k]);
    ensure!(
        found == Ok(n),
        "nearest found {:?} hits, the oracle {=usize}",
        found.ok(),
        n
    );
    for (g, w) in got[..n].iter().zip(&want[..n]) {
        ensure!(
            g == w,
            "k={=usize}: hit ({=u32}, {=u16:#06x}), oracle ({=u32}, {=u16:#06x})",
            k,
            g.distance,
            g.addr.0,
            w.distance,
            w.addr.0
        );
    }
    Ok(())
}

/// Range search: the best hits that fit, and the total within the radius.
fn within(space: &LentSpace<'_>, query: &Fp, opts: &SearchOptions) -> Result<(), Failed> {
    let radius = 1_000;
    let bounded = opts.max_distance(opts.max_distance.map_or(radius, |d| d.min(radius)));
    let mut want = [Hit::default(); ENTRIES];
    let total = oracle(query, &bounded, ENTRIES, &mut want);
    let mut got = [Hit::default(); 4];
    let counted = space
        .within(query, radius, opts, &mut got)
        .ok()
        .map(|c| (c.returned, c.total));
    ensure!(
        counted == Some((total.min(4), total)),
        "within: {:?} (returned, total), the oracle {=usize} in all",
        counted,
        total
    );
    ensure!(
        got[..total.min(4)] == want[..total.min(4)],
        "within returned other hits than the oracle"
    );
    Ok(())
}

/// Entries 60 and 61 hold the same fingerprint: the lower address wins.
fn ties(space: &LentSpace<'_>) -> Result<(), Failed> {
    let mut got = [Hit::default(); 2];
    let found = space.nearest(&fp_of(60), &SearchOptions::new(), &mut got);
    ensure_eq!(found.ok(), Some(2), "two hits");
    let (lo, hi) = if addr_of(60) < addr_of(61) {
        (addr_of(60), addr_of(61))
    } else {
        (addr_of(61), addr_of(60))
    };
    ensure!(
        got[0]
            == Hit {
                distance: 0,
                addr: lo
            },
        "a tie goes to the lower address first"
    );
    ensure!(
        got[1]
            == Hit {
                distance: 0,
                addr: hi
            },
        "then the higher address"
    );
    Ok(())
}

fn refusals(space: &LentSpace<'_>) -> Result<(), Failed> {
    let short = [0u64; WORDS - 1];
    let mut got = [Hit::default(); 1];
    ensure!(
        space.nearest(&short, &SearchOptions::new(), &mut got)
            == Err(SearchError::WidthMismatch {
                expected: WORDS,
                got: WORDS - 1
            }),
        "a query of another width must be refused"
    );
    Ok(())
}
