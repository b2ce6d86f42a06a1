//! The `BindSpace` class: one space of 65,536 addresses, its log, and the
//! JavaScript face of both.
//!
//! Every write becomes [`Mutation`]s, is checked whole against the space,
//! appended to the log, and only then applied (see [`BindSpace::commit`]),
//! the same order as on every other front end.

use crate::convert::{
    addr_from_js, addr_to_js, fp_from_bytes, fp_to_bytes, zone_from_js, AddressArg, ZoneArg,
};
use crate::errors::{js_error, ErrorKind};
use crate::journal::{Framed, Journal};
use crate::options::{BindSpaceOptionsArg, SearchOptionsArg, SearchRequest, SpaceOptions};
use crate::storage::Capped;
use bindspace_core::mutation::Mutation;
use bindspace_core::search::{Hit, SearchOptions};
use bindspace_core::space::{Filter, Space, SpaceError};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const ENTRY_TS: &str = r#"
/** Everything stored at one address. */
export interface EntryInfo {
  /** The address, `"0x80:1F"`. */
  addr: string;
  /** The fingerprint. */
  fingerprint: Uint8Array;
  /** The label (empty when none), at most 32 bytes of UTF-8. */
  label: string;
  /** The parent address of a named path component, if any. */
  parent?: string;
  /** The tick at and after which the entry is gone, if it expires. */
  expiresAt?: number;
  /** The log sequence number of the last change to the entry. */
  version: number;
}
"#;

/// A bindspace: 65,536 addresses holding fingerprints of one width, with
/// exact Hamming search and a portable log.
#[wasm_bindgen]
pub struct BindSpace {
    pub(crate) space: Space<Capped>,
    /// The log: every committed batch, in order, as portable bytes.
    pub(crate) journal: Journal,
    /// Whether the next write is held back for the caller to make durable
    /// first (see `stage`).
    pub(crate) staging: Staging,
    /// Whether the space belongs to a durable store (`requireStaging`):
    /// then a write that is not staged is refused, since the store would
    /// never store it.
    pub(crate) staged_only: bool,
    /// The tick reads and searches are made at: entries whose expiry is at
    /// or before it are invisible.
    now: u64,
    /// What `openLog` found, for a space it made.
    pub(crate) recovery: Option<bindspace_core::log::Replayed>,
    /// The command session and scratch memory, made at the first `exec`.
    pub(crate) commands: Option<Box<crate::command::CommandState>>,
}

/// Where a write goes: straight through, or held until the caller has
/// made it durable elsewhere (IndexedDB, OPFS).
#[derive(Debug, Default)]
pub enum Staging {
    /// Writes are logged and applied at once.
    #[default]
    Off,
    /// The next write is framed and held, not applied.
    Armed,
    /// A framed write waits for `commitStaged` or `discardStaged`.
    Held(Framed),
}

/// Turns a refused space change into the JS error a caller can act on.
pub fn space_error(e: SpaceError) -> JsValue {
    let kind = match e {
        SpaceError::Full { .. } | SpaceError::PrefixesFull { .. } => ErrorKind::Capacity,
        SpaceError::WidthMismatch { .. } => ErrorKind::Fingerprint,
        SpaceError::NotFound { .. } | SpaceError::SelfParent { .. } => ErrorKind::Address,
        _ => ErrorKind::Options,
    };
    js_error(kind, e)
}

/// Whether a write may be made now: not while a staged write waits, and,
/// on a space a durable store owns, only staged. (`exec` asks before it
/// runs a command that may write, so a refused one changes no session.)
pub(crate) fn writable(staging: &Staging, staged_only: bool) -> Result<(), JsValue> {
    if matches!(staging, Staging::Held(_)) {
        return Err(js_error(
            ErrorKind::Log,
            "a staged write is waiting: call commitStaged() or discardStaged() first",
        ));
    }
    if staged_only && matches!(staging, Staging::Off) {
        return Err(js_error(
            ErrorKind::Log,
            "this space belongs to a durable store: write through the store \
             (set, delete, setLabel, expire, exec, write), which stores the write \
             before applying it",
        ));
    }
    Ok(())
}

/// The write path over the parts of a `BindSpace` (so a caller holding a
/// borrow of its other fields, such as a command's outcome, can commit).
pub(crate) fn commit_to(
    space: &mut Space<Capped>,
    journal: &mut Journal,
    staging: &mut Staging,
    staged_only: bool,
    batch: &[Mutation<'_>],
) -> Result<(), JsValue> {
    // A batch that changes nothing (a read, through `exec`) is no write:
    // it goes through whatever is staged.
    if batch.is_empty() {
        return Ok(());
    }
    writable(staging, staged_only)?;
    space.check_batch(batch).map_err(space_error)?;
    let framed = journal
        .frame(batch)
        .map_err(|e| js_error(ErrorKind::Options, e))?;
    if matches!(staging, Staging::Armed) {
        *staging = Staging::Held(framed);
        return Ok(());
    }
    journal.append(&framed);
    for m in batch {
        // check_batch accepted the whole batch, so this cannot refuse; if
        // it ever did, the log would be ahead of memory, so say so.
        space.apply(m, framed.seq).map_err(|e| {
            js_error(
                ErrorKind::Log,
                format_args!("logged batch {} failed to apply: {e}", framed.seq),
            )
        })?;
    }
    Ok(())
}

/// Reads a tick (a non-negative integer number) from JavaScript.
fn tick_from_js(value: f64, what: &str) -> Result<u64, JsValue> {
    // 2^53: beyond it a JS number no longer holds every integer.
    if crate::convert::whole_number_in(value, 0.0..=crate::convert::SAFE_MAX) {
        Ok(value as u64)
    } else {
        Err(js_error(
            ErrorKind::Options,
            format_args!("{what} must be a non-negative integer tick, got {value}"),
        ))
    }
}

impl BindSpace {
    /// An empty space with these options.
    pub fn with_options(options: SpaceOptions) -> BindSpace {
        BindSpace::from_parts(
            Space::new(options.width, Capped::with_max_rows(options.capacity)),
            Journal::new(options.width),
        )
    }

    /// A space and the log it was replayed from.
    pub(crate) fn from_parts(space: Space<Capped>, journal: Journal) -> BindSpace {
        BindSpace {
            space,
            journal,
            staging: Staging::Off,
            staged_only: false,
            now: 0,
            recovery: None,
            commands: None,
        }
    }

    /// The space, read-only (for tests and the other binding modules).
    pub fn space(&self) -> &Space<Capped> {
        &self.space
    }

    /// The write path: checks the whole batch, frames it for the log,
    /// appends it, then applies it, every mutation with the batch's
    /// sequence number as its version. A refused batch changes nothing.
    /// While staging is armed the framed batch is held instead: it is
    /// applied only by `commitStaged`, after the caller made it durable.
    pub fn commit(&mut self, batch: &[Mutation<'_>]) -> Result<(), JsValue> {
        commit_to(
            &mut self.space,
            &mut self.journal,
            &mut self.staging,
            self.staged_only,
            batch,
        )
    }

    pub(crate) fn fp(&self, bytes: &[u8]) -> Result<Vec<u64>, JsValue> {
        fp_from_bytes(bytes, self.space.width())
    }

    /// The tick reads are made at.
    pub(crate) const fn tick(&self) -> u64 {
        self.now
    }

    pub(crate) fn zeroed(&self) -> Vec<u64> {
        vec![0u64; self.space.width().words()]
    }

    /// Refuses, as for an empty address, a change to an entry that is not
    /// live: an expired entry keeps its row (nothing purges it) but is
    /// absent to every read, and to EXPIRE and PERSIST in the command
    /// language, so it must not be revived or relabelled.
    fn require_live(&self, addr: bindspace_core::Addr) -> Result<(), JsValue> {
        if self.space.exists_live(addr, self.now) {
            Ok(())
        } else {
            Err(space_error(SpaceError::NotFound { addr }))
        }
    }
}

#[wasm_bindgen]
impl BindSpace {
    /// A new, empty space. `options`: `{ width, capacity }`, both optional
    /// (8,192 bits and 65,536 entries by default).
    #[wasm_bindgen(constructor)]
    pub fn new(options: Option<BindSpaceOptionsArg>) -> Result<BindSpace, JsValue> {
        let options = options.map_or(JsValue::UNDEFINED, JsValue::from);
        Ok(BindSpace::with_options(SpaceOptions::from_js(&options)?))
    }

    /// The fingerprint width in bits.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> u32 {
        self.space.width().bits()
    }

    /// The fingerprint width in bytes: the length of every `Uint8Array`
    /// fingerprint this space takes and returns.
    #[wasm_bindgen(getter, js_name = widthBytes)]
    pub fn width_bytes(&self) -> usize {
        self.space.width().bytes()
    }

    /// The most entries this space holds.
    #[wasm_bindgen(getter)]
    pub fn capacity(&self) -> usize {
        self.space.storage().max_rows()
    }

    /// The tick reads and searches are made at (entries expiring at or
    /// before it are invisible). Starts at 0; the caller moves it.
    #[wasm_bindgen(getter)]
    pub fn now(&self) -> f64 {
        self.now as f64
    }

    /// Moves the clock to `tick`.
    #[wasm_bindgen(setter)]
    pub fn set_now(&mut self, tick: f64) -> Result<(), JsValue> {
        self.now = tick_from_js(tick, "now")?;
        Ok(())
    }

    /// The sequence number the next write will get in the log.
    #[wasm_bindgen(getter, js_name = nextSequence)]
    pub fn next_sequence(&self) -> f64 {
        self.journal.next_seq() as f64
    }

    /// Stores `fp` at `addr`. A live entry there keeps its label, parent
    /// and expiry; one that has expired is replaced by a fresh entry (one
    /// logged batch: delete, then set), as `SET` does in the command
    /// language.
    pub fn set(&mut self, addr: &AddressArg, fp: &[u8]) -> Result<(), JsValue> {
        let addr = addr_from_js(addr)?;
        let fp = self.fp(fp)?;
        let set = Mutation::Set { addr, fp: &fp };
        if self.space.get(addr).is_some_and(|e| !e.is_live(self.now)) {
            self.commit(&[Mutation::Delete { addr }, set])
        } else {
            self.commit(&[set])
        }
    }

    /// The fingerprint at `addr`, or `undefined`.
    pub fn get(&self, addr: &AddressArg) -> Result<Option<Vec<u8>>, JsValue> {
        let addr = addr_from_js(addr)?;
        Ok(self
            .space
            .get_live(addr, self.now)
            .map(|e| fp_to_bytes(e.fp)))
    }

    /// Everything stored at `addr`, or `undefined`.
    #[wasm_bindgen(unchecked_return_type = "EntryInfo | undefined")]
    pub fn entry(&self, addr: &AddressArg) -> Result<JsValue, JsValue> {
        let addr = addr_from_js(addr)?;
        let Some(e) = self.space.get_live(addr, self.now) else {
            return Ok(JsValue::UNDEFINED);
        };
        let obj = js_sys::Object::new();
        let put = |k: &str, v: JsValue| js_sys::Reflect::set(&obj, &JsValue::from_str(k), &v);
        put("addr", addr_to_js(e.addr).into())?;
        put(
            "fingerprint",
            js_sys::Uint8Array::from(fp_to_bytes(e.fp).as_slice()).into(),
        )?;
        put("label", e.label.into())?;
        if let Some(p) = e.parent {
            put("parent", addr_to_js(p).into())?;
        }
        if let Some(at) = e.expires_at {
            put("expiresAt", (at as f64).into())?;
        }
        put("version", (e.version as f64).into())?;
        Ok(obj.into())
    }

    /// Removes the entry at `addr`; says whether there was one.
    pub fn delete(&mut self, addr: &AddressArg) -> Result<bool, JsValue> {
        let addr = addr_from_js(addr)?;
        if !self.space.exists(addr) {
            return Ok(false);
        }
        let live = self.space.exists_live(addr, self.now);
        self.commit(&[Mutation::Delete { addr }])?;
        Ok(live)
    }

    /// Whether an entry is stored at `addr`.
    pub fn has(&self, addr: &AddressArg) -> Result<bool, JsValue> {
        Ok(self.space.exists_live(addr_from_js(addr)?, self.now))
    }

    /// How many entries are stored, in one zone if `zone` is given.
    pub fn count(&self, zone: Option<ZoneArg>) -> Result<usize, JsValue> {
        let filter = match zone {
            None => Filter::All,
            Some(z) => Filter::Zone(zone_from_js(&z)?),
        };
        Ok(self.space.count_live(filter, self.now))
    }

    /// The addresses in use, in address order, as integers
    /// (`prefix << 8 | slot`): cheap enough to draw the whole space.
    pub fn addresses(&self) -> js_sys::Uint16Array {
        let now = self.now;
        let addrs: Vec<u16> = self
            .space
            .iter(Filter::All)
            .filter(|e| e.is_live(now))
            .map(|e| e.addr.0)
            .collect();
        js_sys::Uint16Array::from(addrs.as_slice())
    }

    /// The `k` stored fingerprints nearest to `query` by Hamming distance,
    /// best first, ties broken by the lower address. `options`:
    /// `{ k = 10, zone, prefix, maxDist }`.
    #[wasm_bindgen(unchecked_return_type = "SearchHit[]")]
    pub fn search(
        &self,
        query: &[u8],
        options: Option<SearchOptionsArg>,
    ) -> Result<js_sys::Array, JsValue> {
        let request = SearchRequest::from_js(&options.map_or(JsValue::UNDEFINED, JsValue::from))?;
        let query = self.fp(query)?;
        let mut opts = SearchOptions::new().filter(request.filter).now(self.now);
        if let Some(d) = request.max_distance {
            opts = opts.max_distance(d);
        }
        let mut hits = vec![Hit::default(); request.k.min(self.space.len())];
        let found = self
            .space
            .nearest(&query, &opts, &mut hits)
            .map_err(|e| js_error(ErrorKind::Fingerprint, e))?;
        let out = js_sys::Array::new_with_length(found as u32);
        for (i, hit) in hits[..found].iter().enumerate() {
            let obj = js_sys::Object::new();
            js_sys::Reflect::set(&obj, &"addr".into(), &addr_to_js(hit.addr).into())?;
            js_sys::Reflect::set(&obj, &"distance".into(), &hit.distance.into())?;
            out.set(i as u32, obj.into());
        }
        Ok(out)
    }

    /// Sets the label (at most 32 bytes of UTF-8) and parent of the entry at
    /// `addr`, which must exist and not have expired (else an
    /// `AddressError`, as for an empty address).
    #[wasm_bindgen(js_name = setLabel)]
    pub fn set_label(
        &mut self,
        addr: &AddressArg,
        label: &str,
        parent: Option<AddressArg>,
    ) -> Result<(), JsValue> {
        let addr = addr_from_js(addr)?;
        let parent = parent.map(|p| addr_from_js(&p)).transpose()?;
        self.require_live(addr)?;
        self.commit(&[Mutation::Meta {
            addr,
            label: label.as_bytes(),
            parent,
        }])
    }

    /// Makes the entry at `addr` disappear at tick `at`, or never when `at`
    /// is `null`/`undefined`. The entry must exist and not have expired
    /// (else an `AddressError`, as for an empty address): an expired entry
    /// is never revived.
    pub fn expire(&mut self, addr: &AddressArg, at: Option<f64>) -> Result<(), JsValue> {
        let addr = addr_from_js(addr)?;
        let at = at.map(|t| tick_from_js(t, "at")).transpose()?;
        self.require_live(addr)?;
        self.commit(&[Mutation::Expire { addr, at }])
    }
}
