//! The binding against a model: random writes through the JS-facing
//! methods, checked after every one against a `BTreeMap` of what should be
//! stored, then the log exported, compacted and reopened, each time
//! compared with the model again.

mod common;

use bindspace_wasm::BindSpace;
use common::{n, space};
use std::collections::BTreeMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::wasm_bindgen_test;

/// What the model holds for one address: fingerprint bytes and label.
type Model = BTreeMap<u16, (Vec<u8>, String)>;

/// SplitMix64, so the sequence is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn check(s: &BindSpace, model: &Model) {
    assert_eq!(s.count(None).unwrap(), model.len());
    let addrs: Vec<u16> = model.keys().copied().collect();
    assert_eq!(s.addresses().to_vec(), addrs);
    for (&addr, (fp, label)) in model {
        let a = n(f64::from(addr));
        assert_eq!(s.get(&a).unwrap().as_ref(), Some(fp), "{addr:04x}");
        let e = s.entry(&a).unwrap();
        let got = js_sys::Reflect::get(&e, &"label".into()).unwrap();
        assert_eq!(
            got.as_string().as_deref(),
            Some(label.as_str()),
            "{addr:04x}"
        );
    }
}

#[wasm_bindgen_test]
fn random_writes_match_the_model_before_and_after_reopen() {
    const CAPACITY: usize = 24;
    let mut rng = Rng(0x5EED);
    let mut s = space(128, CAPACITY as u32);
    let mut model = Model::new();
    // A few prefixes, so addresses collide often and pages come and go.
    let pick = |rng: &mut Rng| -> u16 {
        let prefix = [0x00u16, 0x10, 0x7F, 0x80, 0xFF][rng.below(5) as usize];
        (prefix << 8) | rng.below(12) as u16
    };
    // How often each interesting path ran, so the test cannot pass by
    // never reaching them.
    let (mut refused_full, mut deleted, mut labelled) = (0, 0, 0);
    for step in 0..600 {
        let addr = pick(&mut rng);
        let a = n(f64::from(addr));
        match rng.below(10) {
            0..=5 => {
                let fp: Vec<u8> = (0..16).map(|_| rng.next() as u8).collect();
                let full = model.len() == CAPACITY && !model.contains_key(&addr);
                let result = s.set(&a, &fp);
                if full {
                    let name = common::error_of(result.unwrap_err()).0;
                    assert_eq!(name, "CapacityError", "step {step}");
                    refused_full += 1;
                } else {
                    result.unwrap();
                    model.entry(addr).or_insert((Vec::new(), String::new())).0 = fp;
                }
            }
            6..=7 => {
                let existed = s.delete(&a).unwrap();
                assert_eq!(existed, model.remove(&addr).is_some(), "step {step}");
                deleted += usize::from(existed);
            }
            _ => {
                let label = format!("l{}", rng.below(1000));
                let result = s.set_label(&a, &label, None);
                match model.get_mut(&addr) {
                    Some(entry) => {
                        result.unwrap();
                        entry.1 = label;
                        labelled += 1;
                    }
                    None => assert_eq!(common::error_of(result.unwrap_err()).0, "AddressError"),
                }
            }
        }
        check(&s, &model);
    }
    assert!(
        refused_full > 5 && deleted > 20 && labelled > 20,
        "{refused_full} {deleted} {labelled}"
    );
    let image = s.export_log().unwrap();
    let reopened = BindSpace::open_log(
        &image,
        Some(common::any(common::obj(&[(
            "capacity",
            JsValue::from(CAPACITY as u32),
        )]))),
    )
    .unwrap();
    check(&reopened, &model);
    assert_eq!(reopened.next_sequence(), s.next_sequence());
    let compacted = BindSpace::open_log(&s.compacted_log().unwrap(), None).unwrap();
    check(&compacted, &model);
    assert_eq!(compacted.next_sequence(), s.next_sequence());
}
