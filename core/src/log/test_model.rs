//! The `BTreeMap` model the log's tests check against: what every entry
//! should hold, changed by the same replay contract as the space.

use std::collections::BTreeMap;
use std::string::String;
use std::vec;
use std::vec::Vec;

use super::apply::{Apply, Live};
use crate::addr::Addr;
use crate::mutation::Mutation;
use crate::space::Entry;

/// What an entry holds in the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ModelEntry {
    pub(crate) fp: Vec<u64>,
    pub(crate) label: String,
    pub(crate) parent: Option<Addr>,
    pub(crate) expires_at: Option<u64>,
    pub(crate) version: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Model(pub(crate) BTreeMap<Addr, ModelEntry>);

impl Apply for Model {
    type Error = core::convert::Infallible;
    fn apply(&mut self, m: &Mutation<'_>, seq: u64) -> Result<(), Self::Error> {
        match *m {
            Mutation::Set { addr, fp } => {
                let e = self.0.entry(addr).or_insert(ModelEntry {
                    fp: vec![],
                    label: String::new(),
                    parent: None,
                    expires_at: None,
                    version: seq,
                });
                e.fp = fp.to_vec();
                e.version = seq;
            }
            Mutation::Delete { addr } => {
                self.0.remove(&addr);
            }
            Mutation::Expire { addr, at } => {
                if let Some(e) = self.0.get_mut(&addr) {
                    e.expires_at = at;
                    e.version = seq;
                }
            }
            Mutation::Meta {
                addr,
                label,
                parent,
            } => {
                if let Some(e) = self.0.get_mut(&addr) {
                    e.label = String::from_utf8(label.to_vec()).unwrap();
                    e.parent = parent;
                    e.version = seq;
                }
            }
        }
        Ok(())
    }
    fn restore(&mut self, e: &Entry<'_>) -> Result<(), Self::Error> {
        self.0.insert(
            e.addr,
            ModelEntry {
                fp: e.fp.to_vec(),
                label: e.label.into(),
                parent: e.parent,
                expires_at: e.expires_at,
                version: e.version,
            },
        );
        Ok(())
    }
}

impl Live for Model {
    fn entry(&self, addr: Addr) -> Option<Entry<'_>> {
        self.0.get(&addr).map(|e| Entry {
            addr,
            fp: &e.fp,
            label: &e.label,
            parent: e.parent,
            expires_at: e.expires_at,
            version: e.version,
        })
    }
}
