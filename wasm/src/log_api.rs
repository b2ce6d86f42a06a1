//! The log side of `BindSpace`: export and reopen the portable log, and
//! the staged write path that lets JavaScript make a write durable
//! (IndexedDB, OPFS) before it is applied.
//!
//! Staged writes, step by step (what `bindspace/idb` does):
//!
//! 1. `space.stage()` arms staging;
//! 2. the next write (`set`, `delete`, ...) is checked and framed as log
//!    bytes, but not applied: reads still see the old state;
//! 3. `space.stagedBytes()` gives those bytes; the caller stores them
//!    durably;
//! 4. `space.commitStaged()` applies them (by replaying exactly those
//!    bytes) and appends them to the in-memory log, or
//!    `space.discardStaged()` forgets them if storing failed.
//!
//! So nothing is visible before it is durable: write-ahead, as on every
//! other front end.

use crate::errors::{js_error, ErrorKind};
use crate::journal::Journal;
use crate::options::{OpenLogOptions, OpenLogOptionsArg};
use crate::space::{BindSpace, Staging};
use crate::storage::Capped;
use bindspace_core::log::{replay, End, Policy, ReplayError, Replayed};
use bindspace_core::space::{Filter, Space, SpaceError};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const RECOVERY_TS: &str = r#"
/** What `BindSpace.openLog` found in the image it replayed. */
export interface Recovery {
  /** Committed batches applied. */
  batches: number;
  /** Mutations applied from them. */
  mutations: number;
  /** Standalone entry copies applied. */
  copies: number;
  /** Batches without a commit (in flight when the writer stopped): dropped. */
  abandoned: number;
  /** Bytes of a torn tail cut from the end (0 for a clean end). */
  tornBytes: number;
  /** Damaged regions skipped (only with `repair: true`). */
  damagedRegions: number;
  /** Bytes skipped in them. */
  damagedBytes: number;
  /** Batches not applied because damage broke them (only with `repair: true`). */
  brokenBatches: number;
  /** Batches not applied because their sequence number was not above the
   * one before (only with `repair: true`). */
  outOfOrder: number;
}
"#;

/// Turns a refused replay into the JS error a caller can act on.
fn replay_error(e: ReplayError<SpaceError>, capacity: usize) -> JsValue {
    match e {
        ReplayError::Apply {
            error: error @ (SpaceError::Full { .. } | SpaceError::PrefixesFull { .. }),
            seq,
            ..
        } => js_error(
            ErrorKind::Capacity,
            format_args!(
                "the log holds more than this space's capacity of {capacity} entries \
                 (batch {seq}: {error}); open it with a larger capacity"
            ),
        ),
        other => js_error(ErrorKind::Log, other),
    }
}

fn recovery_object(r: &Replayed) -> Result<JsValue, JsValue> {
    let obj = js_sys::Object::new();
    let torn = match r.end {
        End::Torn { len, .. } => len,
        End::Clean { .. } => 0,
    };
    let fields: [(&str, f64); 9] = [
        ("batches", r.counts.batches as f64),
        ("mutations", r.counts.mutations as f64),
        ("copies", r.counts.copies as f64),
        ("abandoned", r.counts.abandoned as f64),
        ("tornBytes", torn as f64),
        ("damagedRegions", f64::from(r.damage.regions)),
        ("damagedBytes", r.damage.bytes as f64),
        ("brokenBatches", f64::from(r.damage.broken_batches)),
        ("outOfOrder", f64::from(r.damage.out_of_order)),
    ];
    for (k, v) in fields {
        js_sys::Reflect::set(&obj, &JsValue::from_str(k), &JsValue::from_f64(v))?;
    }
    Ok(obj.into())
}

#[wasm_bindgen]
impl BindSpace {
    /// The whole log as portable bytes (docs/FORMAT.md): it opens with
    /// `BindSpace.openLog` here and in every other bindspace build. After
    /// an `openLog(..., { repair: true })` that skipped damage (and until
    /// `compactLog` or `replaceLog`), it is the compacted log instead
    /// (what `compactedLog` gives, so not `logLength` bytes): the held
    /// bytes keep the damage, and would open only with `repair` again.
    #[wasm_bindgen(js_name = exportLog)]
    pub fn export_log(&self) -> Result<Vec<u8>, JsValue> {
        self.journal
            .export(&self.space)
            .map_err(|e| js_error(ErrorKind::Log, e))
    }

    /// Bytes of the log held so far (header included; after a repair,
    /// the skipped damage too).
    #[wasm_bindgen(getter, js_name = logLength)]
    pub fn log_length(&self) -> usize {
        self.journal.image().len()
    }

    /// Rebuilds a space by replaying a log image. Its width comes from the
    /// log's header. A torn tail (a write cut short) is dropped; damage in
    /// the middle throws a `LogError` naming its offset, unless
    /// `{ repair: true }` asks to skip it (see `recovery` for what was
    /// skipped). `{ capacity }` as for the constructor.
    #[wasm_bindgen(js_name = openLog)]
    pub fn open_log(
        bytes: &[u8],
        options: Option<OpenLogOptionsArg>,
    ) -> Result<BindSpace, JsValue> {
        let options = OpenLogOptions::from_js(&options.map_or(JsValue::UNDEFINED, JsValue::from))?;
        let header = Journal::header_of(bytes)
            .map_err(|e| js_error(ErrorKind::Log, format_args!("log header: {e}")))?;
        let mut space = Space::new(header.width, Capped::with_max_rows(options.capacity));
        let policy = if options.repair {
            Policy::Repair
        } else {
            Policy::Strict
        };
        let (journal, replayed) = Journal::open(bytes, &mut space, policy)
            .map_err(|e| replay_error(e, options.capacity))?;
        let mut opened = BindSpace::from_parts(space, journal);
        opened.recovery = Some(replayed);
        Ok(opened)
    }

    /// What `openLog` found (`undefined` for a space made with `new`).
    #[wasm_bindgen(getter, unchecked_return_type = "Recovery | undefined")]
    pub fn recovery(&self) -> Result<JsValue, JsValue> {
        self.recovery
            .as_ref()
            .map_or(Ok(JsValue::UNDEFINED), recovery_object)
    }

    /// The log compacted: one record per stored entry instead of the whole
    /// history, with the same next sequence number. Changes nothing; give
    /// it to `replaceLog` once it is stored where the log lives.
    #[wasm_bindgen(js_name = compactedLog)]
    pub fn compacted_log(&self) -> Result<Vec<u8>, JsValue> {
        if !matches!(self.staging, Staging::Off) {
            return Err(js_error(
                ErrorKind::Log,
                "cannot compact while a write is staged",
            ));
        }
        self.journal
            .compacted(&self.space)
            .map_err(|e| js_error(ErrorKind::Log, e))
    }

    /// Makes `image` (from `compactedLog`, or any log of this space) the
    /// log, after checking that it replays to exactly this space's entries
    /// and sequence number; throws a `LogError` and changes nothing if not.
    #[wasm_bindgen(js_name = replaceLog)]
    pub fn replace_log(&mut self, image: &[u8]) -> Result<(), JsValue> {
        if !matches!(self.staging, Staging::Off) {
            return Err(js_error(
                ErrorKind::Log,
                "cannot replace the log while a write is staged",
            ));
        }
        let mut check = Space::new(
            self.space.width(),
            Capped::with_max_rows(self.space.storage().max_rows()),
        );
        let (journal, _) = Journal::open(image, &mut check, Policy::Strict)
            .map_err(|e| replay_error(e, self.space.storage().max_rows()))?;
        let same = check.len() == self.space.len()
            && check
                .iter(Filter::All)
                .zip(self.space.iter(Filter::All))
                .all(|(a, b)| a == b)
            && journal.next_seq() == self.journal.next_seq()
            && journal.image().len() == image.len();
        if !same {
            return Err(js_error(
                ErrorKind::Log,
                "the new log does not replay to this space's entries and sequence number",
            ));
        }
        self.journal = journal;
        Ok(())
    }

    /// Compacts the in-memory log at once (`replaceLog(compactedLog())`);
    /// returns its new length in bytes. Refused for a space that belongs
    /// to a durable store (its log is the stored one: compact the store).
    #[wasm_bindgen(js_name = compactLog)]
    pub fn compact_log(&mut self) -> Result<usize, JsValue> {
        if self.staged_only {
            return Err(js_error(
                ErrorKind::Log,
                "this space belongs to a durable store: compact the store, not the space",
            ));
        }
        let image = self.compacted_log()?;
        self.replace_log(&image)?;
        Ok(image.len())
    }

    /// From now on, refuses every write that is not staged (and
    /// `compactLog`): for a durable store that owns this space (IndexedDB,
    /// OPFS), so that a write made on the space directly, which the store
    /// would never store, fails instead of showing an undurable change and
    /// leaving the stored log behind the space's. Cannot be undone.
    /// `replaceLog` stays open: the store itself uses it once it has stored
    /// a compacted log (one called from elsewhere makes the store's next
    /// write fail, as another writer would, rather than lose anything).
    #[wasm_bindgen(js_name = requireStaging)]
    pub fn require_staging(&mut self) {
        self.staged_only = true;
    }

    /// Holds the next write back: it is checked and framed but not applied
    /// until `commitStaged()`. See the module docs of the staged write path.
    pub fn stage(&mut self) -> Result<(), JsValue> {
        match self.staging {
            Staging::Off => {
                self.staging = Staging::Armed;
                Ok(())
            }
            _ => Err(js_error(
                ErrorKind::Log,
                "a write is already staged: call commitStaged() or discardStaged() first",
            )),
        }
    }

    /// The log bytes of the staged write, or `undefined` if the write
    /// changed nothing (so there is nothing to store).
    #[wasm_bindgen(js_name = stagedBytes)]
    pub fn staged_bytes(&self) -> Option<Vec<u8>> {
        match &self.staging {
            Staging::Held(framed) => Some(framed.bytes.clone()),
            _ => None,
        }
    }

    /// Applies the staged write (once the caller has stored its bytes) by
    /// replaying exactly those bytes, and appends them to the log.
    #[wasm_bindgen(js_name = commitStaged)]
    pub fn commit_staged(&mut self) -> Result<(), JsValue> {
        match core::mem::take(&mut self.staging) {
            Staging::Held(framed) => {
                let mut image = self.journal.header_bytes().to_vec();
                image.extend_from_slice(&framed.bytes);
                let replayed = replay(
                    &image,
                    Some(self.space.width()),
                    &mut self.space,
                    Policy::Strict,
                )
                .map_err(|e| replay_error(e, self.space.storage().max_rows()))?;
                if replayed.counts.batches != 1 {
                    return Err(js_error(
                        ErrorKind::Log,
                        format_args!("staged batch {} did not replay whole", framed.seq),
                    ));
                }
                self.journal.append(&framed);
                Ok(())
            }
            // Armed but no write came, or the write changed nothing.
            Staging::Armed => Ok(()),
            Staging::Off => Err(js_error(
                ErrorKind::Log,
                "nothing is staged: call stage() first",
            )),
        }
    }

    /// Forgets the staged write (storing it failed): nothing was applied
    /// and its sequence number is given to the next write.
    #[wasm_bindgen(js_name = discardStaged)]
    pub fn discard_staged(&mut self) {
        self.staging = Staging::Off;
    }
}
