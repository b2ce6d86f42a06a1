//! A crash-simulating file system for tests.
//!
//! It keeps what was *written* apart from what is *durable*: a write or a
//! truncation is durable only after `sync_data` on its file; a creation,
//! rename or removal only after `sync_dir`. [`SimFs::crash`] then builds the
//! disk a power cut would leave: every unsynced write is independently
//! dropped, kept or kept garbled, and a random prefix of the unsynced
//! directory operations survives (journaling file systems persist metadata
//! in order). Faults (a failing fsync, a full disk, a failing read or
//! rename) can be armed to fire on the n-th matching call.

use super::vfs::{Vfs, VfsFile, VfsLock};
use bindspace_core::prng::SplitMix64;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// Which call a [`Fault`] fires on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultOp {
    /// `VfsFile::sync_data` fails with EIO (the data's fate stays unknown).
    Sync,
    /// `VfsFile::write_all_at` writes half its bytes, then fails with ENOSPC.
    Write,
    /// `Vfs::read` fails with EIO.
    Read,
    /// `Vfs::create` fails with EIO.
    Create,
    /// `Vfs::rename` fails with EIO.
    Rename,
    /// `Vfs::sync_dir` fails with EIO.
    SyncDir,
    /// `Vfs::remove` fails with EIO (the file stays).
    Remove,
}

/// A fault armed to fire on the `skip + 1`-th call of `op` from now, and
/// on every later call if `sticky`.
#[derive(Clone, Copy, Debug)]
pub struct Fault {
    /// The call that fails.
    pub op: FaultOp,
    /// How many matching calls succeed first.
    pub skip: u32,
    /// Keep failing after the first failure (a disk that stays full).
    pub sticky: bool,
}

#[derive(Clone, Debug)]
enum Op {
    Write { offset: u64, bytes: Vec<u8> },
    SetLen(u64),
}

#[derive(Clone, Debug, Default)]
struct Node {
    durable: Vec<u8>,
    live: Vec<u8>,
    pending: Vec<Op>,
}

#[derive(Clone, Debug)]
enum NsOp {
    Link(PathBuf, u64),
    Unlink(PathBuf),
    Rename(PathBuf, PathBuf),
}

#[derive(Debug, Default)]
struct State {
    nodes: BTreeMap<u64, Node>,
    next_node: u64,
    durable_dir: BTreeMap<PathBuf, u64>,
    live_dir: BTreeMap<PathBuf, u64>,
    pending_ns: Vec<NsOp>,
    dirs: BTreeSet<PathBuf>,
    locks: BTreeSet<PathBuf>,
    faults: Vec<Fault>,
    syncs: u64,
    /// `write_all_at` calls so far.
    writes: u64,
    /// How long each `sync_data` takes (a real disk's flush latency).
    sync_delay: core::time::Duration,
    /// Mutating calls so far (writes, truncations, syncs, directory changes).
    ops: u64,
    /// A power cut armed for mutating call number `.0`, with seed `.1`.
    cut_at: Option<(u64, u64)>,
    /// The disk that power cut left.
    cut: Option<Box<State>>,
}

impl State {
    /// Counts a mutating call, and takes the armed power cut's picture
    /// if this is its call (before the call has any effect).
    fn op(&mut self) {
        self.ops += 1;
        if let Some((at, seed)) = self.cut_at {
            if self.ops == at {
                self.cut = Some(Box::new(self.crashed(seed)));
                self.cut_at = None;
            }
        }
    }

    /// The disk a power cut now would leave.
    fn crashed(&self, seed: u64) -> State {
        let mut rng = SplitMix64::new(seed);
        let mut dir = self.durable_dir.clone();
        let keep_ns = rng.below(self.pending_ns.len() as u64 + 1) as usize;
        for op in &self.pending_ns[..keep_ns] {
            apply_ns(&mut dir, op);
        }
        let mut nodes = BTreeMap::new();
        for (&id, node) in &self.nodes {
            let mut content = node.durable.clone();
            for op in &node.pending {
                match rng.below(4) {
                    0 => {}
                    1 => apply(&mut content, op),
                    fate => {
                        let mut damaged = op.clone();
                        if let Op::Write { bytes, .. } = &mut damaged {
                            if fate == 2 && !bytes.is_empty() {
                                // Garbled: one byte changed.
                                let at = rng.below(bytes.len() as u64) as usize;
                                bytes[at] ^= (rng.below(255) + 1) as u8;
                            } else {
                                // Torn: only a prefix reached the medium.
                                let keep = rng.below(bytes.len() as u64 + 1) as usize;
                                bytes.truncate(keep);
                            }
                        }
                        apply(&mut content, &damaged);
                    }
                }
            }
            nodes.insert(
                id,
                Node {
                    durable: content.clone(),
                    live: content,
                    pending: Vec::new(),
                },
            );
        }
        State {
            nodes,
            next_node: self.next_node,
            durable_dir: dir.clone(),
            live_dir: dir,
            dirs: self.dirs.clone(),
            ..State::default()
        }
    }

    /// Returns the error if an armed fault fires on this call of `op`.
    fn fault(&mut self, op: FaultOp) -> Option<io::Error> {
        let index = self.faults.iter().position(|f| f.op == op)?;
        let fault = &mut self.faults[index];
        if fault.skip > 0 {
            fault.skip -= 1;
            return None;
        }
        if !fault.sticky {
            self.faults.remove(index);
        }
        Some(match op {
            FaultOp::Write => io::Error::new(
                io::ErrorKind::StorageFull,
                "simulated: no space left on device",
            ),
            _ => io::Error::other(format!("simulated I/O error in {op:?}")),
        })
    }
}

fn apply(content: &mut Vec<u8>, op: &Op) {
    match op {
        Op::Write { offset, bytes } => {
            let start = *offset as usize;
            let end = start + bytes.len();
            if content.len() < end {
                content.resize(end, 0);
            }
            content[start..end].copy_from_slice(bytes);
        }
        Op::SetLen(len) => content.resize(*len as usize, 0),
    }
}

fn apply_ns(dir: &mut BTreeMap<PathBuf, u64>, op: &NsOp) {
    match op {
        NsOp::Link(path, node) => {
            dir.insert(path.clone(), *node);
        }
        NsOp::Unlink(path) => {
            dir.remove(path);
        }
        NsOp::Rename(from, to) => {
            if let Some(node) = dir.remove(from) {
                dir.insert(to.clone(), node);
            }
        }
    }
}

/// The crash-simulating file system; clones share one disk.
#[derive(Clone, Debug, Default)]
pub struct SimFs {
    state: Arc<Mutex<State>>,
}

impl SimFs {
    /// An empty disk.
    pub fn new() -> SimFs {
        SimFs::default()
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        // A test thread that panicked while holding the lock leaves the
        // disk as it was; keep using it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Arms a fault.
    pub fn arm(&self, fault: Fault) {
        self.lock_state().faults.push(fault);
    }

    /// Disarms every fault.
    pub fn disarm(&self) {
        self.lock_state().faults.clear();
    }

    /// Makes every `sync_data` take `delay` (outside the disk's lock, so
    /// other calls proceed meanwhile), like a real disk's flush.
    pub fn set_sync_delay(&self, delay: core::time::Duration) {
        self.lock_state().sync_delay = delay;
    }

    /// How many `sync_data` calls succeeded so far.
    pub fn syncs(&self) -> u64 {
        self.lock_state().syncs
    }

    /// How many `write_all_at` calls were made so far.
    pub fn writes(&self) -> u64 {
        self.lock_state().writes
    }

    /// The disk a power cut now would leave, as a new, independent file
    /// system (the old one keeps running for whoever still holds it).
    /// `seed` decides the fate of each unsynced write and directory change.
    pub fn crash(&self, seed: u64) -> SimFs {
        let crashed = self.lock_state().crashed(seed);
        SimFs {
            state: Arc::new(Mutex::new(crashed)),
        }
    }

    /// Arms a power cut just before mutating call number `op` (counted
    /// from the disk's creation, see [`SimFs::ops`]); the disk keeps
    /// running, and [`SimFs::take_cut`] returns what the cut left.
    pub fn arm_cut(&self, op: u64, seed: u64) {
        self.lock_state().cut_at = Some((op, seed));
    }

    /// The disk the armed power cut left, once it has happened.
    pub fn take_cut(&self) -> Option<SimFs> {
        let cut = self.lock_state().cut.take()?;
        Some(SimFs {
            state: Arc::new(Mutex::new(*cut)),
        })
    }

    /// Mutating calls so far.
    pub fn ops(&self) -> u64 {
        self.lock_state().ops
    }

    /// Flips the bits of `mask` in the byte at `offset` of the file at
    /// `path`, durably (a medium that went bad). Returns false if there is
    /// no such byte.
    pub fn corrupt(&self, path: &Path, offset: u64, mask: u8) -> bool {
        let mut state = self.lock_state();
        let Some(&id) = state.live_dir.get(path) else {
            return false;
        };
        let node = state.nodes.get_mut(&id).expect("a linked node exists");
        let at = offset as usize;
        if at >= node.live.len() || at >= node.durable.len() {
            return false;
        }
        node.live[at] ^= mask;
        node.durable[at] ^= mask;
        true
    }

    /// The current (not necessarily durable) length of the file at `path`.
    pub fn len_of(&self, path: &Path) -> Option<u64> {
        let state = self.lock_state();
        let id = state.live_dir.get(path)?;
        Some(state.nodes[id].live.len() as u64)
    }
}

#[derive(Debug)]
struct SimFile {
    fs: SimFs,
    node: u64,
}

impl VfsFile for SimFile {
    fn write_all_at(&self, bytes: &[u8], offset: u64) -> io::Result<()> {
        let mut state = self.fs.lock_state();
        state.op();
        state.writes += 1;
        let fault = state.fault(FaultOp::Write);
        let written = if fault.is_some() {
            &bytes[..bytes.len() / 2]
        } else {
            bytes
        };
        let op = Op::Write {
            offset,
            bytes: written.to_vec(),
        };
        let node = state.nodes.get_mut(&self.node).expect("open node exists");
        apply(&mut node.live, &op);
        node.pending.push(op);
        fault.map_or(Ok(()), Err)
    }

    fn sync_data(&self) -> io::Result<()> {
        // A flush covers the writes issued before it started.
        let (covered, delay) = {
            let state = self.fs.lock_state();
            (state.nodes[&self.node].pending.len(), state.sync_delay)
        };
        std::thread::sleep(delay);
        let mut state = self.fs.lock_state();
        state.op();
        if let Some(e) = state.fault(FaultOp::Sync) {
            return Err(e);
        }
        state.syncs += 1;
        let node = state.nodes.get_mut(&self.node).expect("open node exists");
        let covered = covered.min(node.pending.len());
        for op in node.pending.drain(..covered) {
            apply(&mut node.durable, &op);
        }
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut state = self.fs.lock_state();
        state.op();
        let node = state.nodes.get_mut(&self.node).expect("open node exists");
        let op = Op::SetLen(len);
        apply(&mut node.live, &op);
        node.pending.push(op);
        Ok(())
    }
}

#[derive(Debug)]
struct SimLock {
    fs: SimFs,
    dir: PathBuf,
}

impl VfsLock for SimLock {}

impl Drop for SimLock {
    fn drop(&mut self) {
        self.fs.lock_state().locks.remove(&self.dir);
    }
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{}: no such file", path.display()),
    )
}

impl Vfs for SimFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.lock_state().dirs.insert(dir.to_path_buf());
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let state = self.lock_state();
        if !state.dirs.contains(dir) {
            return Err(not_found(dir));
        }
        Ok(state
            .live_dir
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
            .collect())
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let mut state = self.lock_state();
        if let Some(e) = state.fault(FaultOp::Read) {
            return Err(e);
        }
        let id = *state.live_dir.get(path).ok_or_else(|| not_found(path))?;
        Ok(state.nodes[&id].live.clone())
    }

    fn size(&self, path: &Path) -> io::Result<u64> {
        self.len_of(path).ok_or_else(|| not_found(path))
    }

    fn create(&self, path: &Path) -> io::Result<Arc<dyn VfsFile>> {
        let mut state = self.lock_state();
        state.op();
        if let Some(e) = state.fault(FaultOp::Create) {
            return Err(e);
        }
        let id = state.next_node;
        state.next_node += 1;
        state.nodes.insert(id, Node::default());
        state.live_dir.insert(path.to_path_buf(), id);
        state.pending_ns.push(NsOp::Link(path.to_path_buf(), id));
        Ok(Arc::new(SimFile {
            fs: self.clone(),
            node: id,
        }))
    }

    fn open_write(&self, path: &Path) -> io::Result<Arc<dyn VfsFile>> {
        let state = self.lock_state();
        let id = *state.live_dir.get(path).ok_or_else(|| not_found(path))?;
        Ok(Arc::new(SimFile {
            fs: self.clone(),
            node: id,
        }))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut state = self.lock_state();
        state.op();
        if let Some(e) = state.fault(FaultOp::Rename) {
            return Err(e);
        }
        let id = state.live_dir.remove(from).ok_or_else(|| not_found(from))?;
        state.live_dir.insert(to.to_path_buf(), id);
        state
            .pending_ns
            .push(NsOp::Rename(from.to_path_buf(), to.to_path_buf()));
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut state = self.lock_state();
        state.op();
        if let Some(e) = state.fault(FaultOp::Remove) {
            return Err(e);
        }
        state.live_dir.remove(path).ok_or_else(|| not_found(path))?;
        state.pending_ns.push(NsOp::Unlink(path.to_path_buf()));
        Ok(())
    }

    fn sync_dir(&self, _dir: &Path) -> io::Result<()> {
        // The store keeps everything in one directory, so syncing it makes
        // every pending directory change durable.
        let mut state = self.lock_state();
        state.op();
        if let Some(e) = state.fault(FaultOp::SyncDir) {
            return Err(e);
        }
        let pending = core::mem::take(&mut state.pending_ns);
        for op in &pending {
            apply_ns(&mut state.durable_dir, op);
        }
        Ok(())
    }

    fn lock(&self, dir: &Path) -> io::Result<Box<dyn VfsLock>> {
        let mut state = self.lock_state();
        if !state.locks.insert(dir.to_path_buf()) {
            // One simulated file system is one process's view of it.
            return Err(io::Error::new(
                io::ErrorKind::ResourceBusy,
                "a store on this file system has it open",
            ));
        }
        Ok(Box::new(SimLock {
            fs: self.clone(),
            dir: dir.to_path_buf(),
        }))
    }
}
