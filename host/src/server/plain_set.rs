//! `SET addr hex`, the write clients send most, recognised and decoded
//! in the connection's own thread, so the writer commits the fingerprint
//! without running the command language (which would check the 2,048
//! digits of an 8,192-bit fingerprint when the command is queued, again
//! at EXEC, and then decode them).
//!
//! Only a command that the language would accept is taken: the name SET
//! (any case), a valid address and hex of exactly the space's width
//! (`0x` optional). Anything else, `@addr` operands and every error
//! included, goes the ordinary way, so replies and errors are the
//! language's own. What the command does is repeated in
//! [`PlainSet::push_onto`]; a test runs both on the same stores.

use crate::store::{Batch, Store, StoreError, View};
use bindspace_core::fingerprint::from_hex;
use bindspace_core::{Addr, Width};

/// A SET whose fingerprint is already decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PlainSet {
    pub(crate) addr: Addr,
    pub(crate) fp: Vec<u64>,
}

impl PlainSet {
    /// `Some` if `args` is a SET the language would accept for a space of
    /// `width`, decoded; `None` for anything else.
    pub(crate) fn parse(args: &[&[u8]], width: Width) -> Option<PlainSet> {
        let [name, addr, hex] = args else {
            return None;
        };
        if !name.eq_ignore_ascii_case(b"SET") {
            return None;
        }
        let addr = Addr::parse(addr).ok()?;
        let mut fp = vec![0u64; width.words()];
        from_hex(&mut fp, hex).ok()?;
        Some(PlainSet { addr, fp })
    }

    /// Commits `sets` in order as one batch at tick `now`, as the
    /// language commits `MULTI`, each SET, `EXEC`; returns the batch's
    /// sequence number.
    pub(crate) fn commit_all<E: From<StoreError>>(
        store: &Store,
        sets: &[&PlainSet],
        tick: impl FnOnce() -> Result<u64, E>,
    ) -> Result<u64, E> {
        store.commit_with(|view, batch| {
            // The tick is read holding the writer, as `Engine::run` reads
            // it: a tick taken before waiting for the writer could be
            // older than the state the SET then sees (an expiry passed
            // while it waited would read as still live).
            let now = tick()?;
            for (i, set) in sets.iter().enumerate() {
                set.push_onto(&sets[..i], view, now, batch);
            }
            Ok(())
        })
    }

    /// The SET's mutations, as the language makes them: an entry that is
    /// stored but expired at `now` is deleted first (the new one starts
    /// fresh); a live one keeps its label, parent and expiry.
    /// `earlier` are the SETs before this one in the same batch: after
    /// any of them the entry is live, so only the first SET of an address
    /// looks at `view`.
    fn push_onto(&self, earlier: &[&PlainSet], view: &View, now: u64, batch: &mut Batch) {
        let first = !earlier.iter().any(|e| e.addr == self.addr);
        if first && view.get(self.addr).is_some_and(|e| !e.is_live(now)) {
            batch.delete(self.addr);
        }
        batch.set(self.addr, &self.fp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bindspace_core::command::Reply;
    use proptest::prelude::*;

    /// One step of a script run on two stores.
    #[derive(Clone, Debug)]
    enum Step {
        /// SETs committed together: (address index, fingerprint).
        Sets(Vec<(usize, u64)>),
        /// EXPIRE: gone at once (`true`) or far in the future.
        Expire(usize, bool),
        Del(usize),
        /// DN.SET of a path, which labels a node (at 0x80:00 onwards).
        DnSet(usize, u64),
    }

    /// Addresses the script touches: two plain ones and the first node
    /// addresses DN.SET takes, so SETs also meet labelled entries.
    const ADDRS: [&str; 4] = ["0x10:01", "0x10:02", "0x80:00", "0x80:01"];
    const PATHS: [&str; 2] = ["a", "a/b"];

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => prop::collection::vec((0..ADDRS.len(), any::<u64>()), 1..5).prop_map(Step::Sets),
            2 => (0..ADDRS.len(), any::<bool>()).prop_map(|(a, now)| Step::Expire(a, now)),
            1 => (0..ADDRS.len()).prop_map(Step::Del),
            1 => (0..PATHS.len(), any::<u64>()).prop_map(|(p, fp)| Step::DnSet(p, fp)),
        ]
    }

    fn hex(fp: u64) -> Vec<u8> {
        let mut out = vec![0u8; 16];
        bindspace_core::fingerprint::to_hex(&[fp], &mut out).unwrap();
        out
    }

    /// One entry, comparable across stores: address, fingerprint, label,
    /// parent, whether it expires, version (expiry times differ by the
    /// milliseconds between the runs, so only whether there is one).
    type Seen = (Addr, Vec<u64>, String, Option<Addr>, bool, u64);

    /// Everything stored, and the last sequence number.
    fn picture(store: &Store) -> (u64, Vec<Seen>) {
        let view = store.view();
        let entries = view
            .iter(bindspace_core::space::Filter::All)
            .map(|e| {
                let expiring = e.expires_at.is_some();
                (
                    e.addr,
                    e.fp.to_vec(),
                    e.label.to_string(),
                    e.parent,
                    expiring,
                    e.version,
                )
            })
            .collect();
        (view.seq(), entries)
    }

    /// Runs a command alone; its reply or error, as text.
    fn run(engine: &crate::server::Engine, args: &[&[u8]]) -> String {
        let (mut session, mut scratch) = engine.client_buffers();
        match engine.run(args, &mut session, &mut scratch) {
            Ok(reply) => format!("{reply:?}"),
            Err(e) => format!("error: {e}"),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// The same script on two stores: SETs through the language
        /// (alone, or MULTI ... EXEC when several) on one, through
        /// [`PlainSet::commit_all`] on the other. Every entry, version,
        /// label and sequence number must come out the same.
        #[test]
        fn plain_sets_commit_what_the_language_commits(
            script in prop::collection::vec(step(), 1..24)
        ) {
            let w = Width::from_bits(64).unwrap();
            let options = crate::store::Options {
                width: w,
                durability: crate::store::Durability::Never,
                ..Default::default()
            };
            let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
            let language = crate::server::Engine::new(Store::open(dirs[0].path(), options.clone()).unwrap());
            let plain = crate::server::Engine::new(Store::open(dirs[1].path(), options).unwrap());
            for step in &script {
                match step {
                    Step::Sets(sets) => {
                        let args: Vec<[Vec<u8>; 3]> = sets
                            .iter()
                            .map(|&(a, fp)| [b"SET".to_vec(), ADDRS[a].as_bytes().to_vec(), hex(fp)])
                            .collect();
                        let (mut session, mut scratch) = language.client_buffers();
                        if args.len() > 1 {
                            language.run(&[b"MULTI"], &mut session, &mut scratch).unwrap();
                        }
                        for a in &args {
                            let argv: Vec<&[u8]> = a.iter().map(Vec::as_slice).collect();
                            let reply = language.run(&argv, &mut session, &mut scratch).unwrap();
                            let expected = if args.len() > 1 { "QUEUED" } else { "OK" };
                            prop_assert_eq!(reply, Reply::Status(expected));
                        }
                        if args.len() > 1 {
                            let reply = language.run(&[b"EXEC"], &mut session, &mut scratch).unwrap();
                            prop_assert!(matches!(reply, Reply::Array(_)), "{:?}", reply);
                        }
                        let parsed: Vec<PlainSet> = args
                            .iter()
                            .map(|a| {
                                let argv: Vec<&[u8]> = a.iter().map(Vec::as_slice).collect();
                                PlainSet::parse(&argv, w).unwrap()
                            })
                            .collect();
                        let refs: Vec<&PlainSet> = parsed.iter().collect();
                        let tick = || Ok::<u64, StoreError>(crate::server::engine::now_ms().unwrap());
                        PlainSet::commit_all(plain.store(), &refs, tick).unwrap();
                    }
                    other => {
                        let (a, b, c) = match other {
                            Step::Expire(a, now) => {
                                let ticks = if *now { "0" } else { "100000000" };
                                (b"EXPIRE".to_vec(), ADDRS[*a].as_bytes().to_vec(), Some(ticks.as_bytes().to_vec()))
                            }
                            Step::Del(a) => (b"DEL".to_vec(), ADDRS[*a].as_bytes().to_vec(), None),
                            Step::DnSet(p, fp) => (b"DN.SET".to_vec(), PATHS[*p].as_bytes().to_vec(), Some(hex(*fp))),
                            Step::Sets(_) => unreachable!(),
                        };
                        let mut argv: Vec<&[u8]> = vec![&a, &b];
                        argv.extend(c.as_deref());
                        prop_assert_eq!(run(&language, &argv), run(&plain, &argv));
                    }
                }
                prop_assert_eq!(picture(language.store()), picture(plain.store()), "after {:?}", step);
            }
        }
    }

    #[test]
    fn only_a_well_formed_set_is_taken() {
        let w = Width::from_bits(64).unwrap();
        let hex: &[u8] = b"0f0f0f0f0f0f0f0f";
        let set = PlainSet::parse(&[b"set", b"0x10:01", hex], w).unwrap();
        assert_eq!(set.addr, Addr::new(0x10, 1));
        assert_eq!(set.fp, vec![0x0f0f_0f0f_0f0f_0f0f]);
        assert!(PlainSet::parse(&[b"SET", b"10:01", b"0x0f0f0f0f0f0f0f0f"], w).is_some());
        for args in [
            &[b"SET".as_slice(), b"10:01", b"@10:02"][..],
            &[b"SET", b"10:01", b"0f0f"],
            &[b"SET", b"10:01", b"0X0f0f0f0f0f0f0f0f"],
            &[b"SET", b"10:01", b"0f0f0f0f0f0f0f0g"],
            &[b"SET", b"1001", hex],
            &[b"SET", b"10:100", hex],
            &[b"SET", b"10:01"],
            &[b"SET", b"10:01", hex, b"extra"],
            &[b"GET", b"10:01", hex],
        ] {
            assert_eq!(PlainSet::parse(args, w), None, "{args:?}");
        }
    }
}
