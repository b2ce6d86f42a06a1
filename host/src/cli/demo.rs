//! `bindspace demo`: the README's first command. Needs nothing set up: a
//! temporary store is created, filled with the bundled corpus, searched,
//! and removed.

use super::out::Out;
use super::print::render;
use super::CliError;
use crate::server::Engine;
use crate::store::{Durability, Options, SearchOptions, Store};
use bindspace_core::mutation::Mutation;
use bindspace_core::{fingerprint, Addr, Width};
use std::time::Instant;

/// The bundled corpus: one sentence per line.
pub(crate) const CORPUS: &str = include_str!("../../data/demo_corpus.txt");

/// The address of the `i`-th sentence: fluid zone, from 0x10:00 on.
pub(crate) fn corpus_addr(i: usize) -> Addr {
    Addr::new(0x10 + (i / 256) as u8, (i % 256) as u8)
}

/// Queries with typos and other word orders: trigram fingerprints still
/// find the sentences they resemble.
const QUERIES: [&str; 3] = [
    "the cat sleeps on a warm mat",
    "a rockett lands on the mooon",
    "storm hits the coast at night",
];

pub(crate) fn run(out: &mut Out) -> Result<(), CliError> {
    let dir = tempfile::tempdir()
        .map_err(|e| CliError(format!("cannot create a temporary directory: {e}")))?;
    let width = Width::DEFAULT;
    let store = Store::open(
        dir.path(),
        Options {
            width,
            durability: Durability::Never,
            ..Options::default()
        },
    )
    .map_err(|e| CliError(format!("cannot open a temporary store: {e}")))?;
    let sentences: Vec<&str> = CORPUS.lines().filter(|l| !l.trim().is_empty()).collect();
    writeln!(
        out,
        "bindspace demo: an associative memory of {}-bit fingerprints.\n",
        width.bits()
    )?;
    writeln!(
        out,
        "1. Encoding {} sentences. Each becomes a fingerprint of {} bits made from its\n   character trigrams, so similar texts get similar bits.",
        sentences.len(),
        width.bits()
    )?;
    let started = Instant::now();
    let words = width.words();
    let mut fps = vec![0u64; words * sentences.len()];
    for (fp, text) in fps.chunks_mut(words).zip(&sentences) {
        fingerprint::encode_text(fp, text)
            .map_err(|e| CliError(format!("encoding failed: {e}")))?;
    }
    let encoded = started.elapsed();
    let started = Instant::now();
    let mutations: Vec<Mutation<'_>> = fps
        .chunks(words)
        .enumerate()
        .map(|(i, fp)| Mutation::Set {
            addr: corpus_addr(i),
            fp,
        })
        .collect();
    for batch in mutations.chunks(64) {
        store.commit(batch)?;
    }
    writeln!(
        out,
        "2. Stored them at addresses 0x10:00 onwards through the write-ahead log\n   (temporary directory {}): encoded in {:.1} ms, stored in {:.1} ms.",
        dir.path().display(),
        encoded.as_secs_f64() * 1e3,
        started.elapsed().as_secs_f64() * 1e3
    )?;
    writeln!(
        out,
        "3. Searching: exact nearest neighbours by Hamming distance (bits that differ).\n"
    )?;
    let mut query = vec![0u64; words];
    for text in QUERIES {
        fingerprint::encode_text(&mut query, text)
            .map_err(|e| CliError(format!("encoding failed: {e}")))?;
        let started = Instant::now();
        let hits = store.search(&query, 3, &SearchOptions::new())?;
        let took = started.elapsed();
        writeln!(
            out,
            "   query \"{text}\"  ({:.2} ms over {} entries)",
            took.as_secs_f64() * 1e3,
            sentences.len()
        )?;
        for hit in hits {
            let i = (usize::from(hit.addr.prefix()) - 0x10) * 256 + usize::from(hit.addr.slot());
            let sentence = sentences.get(i).copied().unwrap_or("?");
            writeln!(
                out,
                "     {:>5} bits  {}  {}",
                hit.distance, hit.addr, sentence
            )?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "4. The same through the command language that `bindspace serve` speaks to redis-cli:"
    )?;
    let engine = Engine::new(store.clone());
    let (mut session, mut scratch) = engine.client_buffers();
    for line in [
        vec!["ENCODE", "0x80:01", "the cat sleeps on a warm mat"],
        vec![
            "SEARCH", "@0x80:01", "COUNT", "2", "ZONE", "fluid", "WITHDIST",
        ],
        vec!["COUNT", "ZONE", "fluid"],
    ] {
        let args: Vec<&[u8]> = line.iter().map(|a| a.as_bytes()).collect();
        let shown: Vec<String> = line
            .iter()
            .map(|a| {
                if a.contains(' ') {
                    format!("\"{a}\"")
                } else {
                    a.to_string()
                }
            })
            .collect();
        writeln!(out, "   > {}", shown.join(" "))?;
        match engine.run(&args, &mut session, &mut scratch) {
            Ok(reply) => writeln!(out, "   {}", render(&reply).replace('\n', "\n   "))?,
            Err(e) => writeln!(out, "   (error) {} {e}", e.code())?,
        }
    }
    writeln!(
        out,
        "\nNext: `bindspace serve` (port {}), then `redis-cli -p {} SEARCH ...`; see docs/SERVER.md.",
        crate::server::DEFAULT_PORT,
        crate::server::DEFAULT_PORT
    )?;
    drop(engine);
    store.close()?;
    Ok(())
}
