//! How a store is opened: durability, segment size, repair, search threads.

use bindspace_core::Width;
use core::time::Duration;

/// When a commit is made durable, and so what an acknowledgement promises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Durability {
    /// Every commit is on stable storage (fdatasync returned) before it is
    /// applied, made visible to readers and acknowledged. A power cut
    /// loses no acknowledged commit. Concurrent committers share one
    /// fdatasync (group commit).
    #[default]
    Always,
    /// A commit is written to the operating system (so it survives the
    /// process being killed) and acknowledged at once; a background thread
    /// makes everything durable every `interval`. A power cut can lose the
    /// commits of the last interval, always a suffix: never one in the
    /// middle, never part of a batch.
    Periodic(Duration),
    /// Like `Periodic` without the thread: data reaches stable storage only
    /// at [`crate::store::Store::sync`], a checkpoint, a compaction, a
    /// segment rotation or a clean close. A power cut can lose every commit
    /// since then (a suffix, whole batches). For caches and benchmarks.
    Never,
}

/// Options for [`crate::store::Store::open`].
#[derive(Clone, Debug)]
pub struct Options {
    /// The fingerprint width of a new store; an existing store must have
    /// been created with the same width.
    pub width: Width,
    /// When commits become durable.
    pub durability: Durability,
    /// A segment is closed and a new one started once it reaches this many
    /// bytes.
    pub segment_bytes: u64,
    /// How far ahead of the next record the active segment is filled with
    /// erased bytes (`0xFF`, which the log reads as a clean end), in
    /// steps of this many bytes; 0 turns prefilling off. A commit that
    /// overwrites bytes already in the file lets fdatasync flush data
    /// alone, where an append must also journal the file's new length:
    /// on ext4 that made a durable commit about 1.5 times faster.
    pub prefill_bytes: u64,
    /// How many segments a checkpoint has covered are kept, renamed
    /// `recycle-….log`, to be written again as later segments instead of
    /// being removed; 0 removes them all. A recycled segment's space is
    /// already the file's, so its commits need no prefill: half the bytes
    /// reach the disk per commit, and no sync carries a prefill step's
    /// writeback. Costs up to this many times `segment_bytes` of disk
    /// while the store is small (docs/HOST.md, "Recycled segments").
    pub recycle_segments: usize,
    /// A checkpoint runs by itself, on a background thread, once this
    /// many closed segments are on disk (counted when a commit rotates):
    /// the log, the time recovery takes and the disk the store uses stay
    /// bounded without anyone calling [`crate::store::Store::checkpoint`],
    /// and the covered segments are kept for reuse
    /// (`recycle_segments`). 0 leaves checkpoints to the caller. A failed
    /// one is reported by [`crate::store::Store::auto_checkpoints`] and
    /// tried again at the next rotation (a failed fsync poisons the
    /// store, as always).
    pub checkpoint_after_segments: usize,
    /// Open a store whose log is corrupt before its tail by keeping every
    /// valid record and reporting what was dropped, instead of refusing.
    pub repair: bool,
    /// Threads a search splits the arena across (at least 1).
    pub search_threads: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            width: Width::DEFAULT,
            durability: Durability::Always,
            segment_bytes: 64 << 20,
            prefill_bytes: 1 << 20,
            recycle_segments: 2,
            checkpoint_after_segments: 4,
            repair: false,
            search_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}
