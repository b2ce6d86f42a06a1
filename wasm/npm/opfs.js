// bindspace/opfs: a BindSpace whose log is a file in the origin private
// file system, for dedicated workers (where the synchronous access handle
// exists).
//
// The file is the portable log image itself. Every write is write-ahead:
// the space frames it without applying it (space.stage()), the bytes are
// written at the end of the file and flushed (FileSystemSyncAccessHandle
// write + flush), and only then is the batch applied (commitStaged). A
// write or flush that throws discards the batch and cuts its bytes from the
// file. A failed flush also makes the store read-only, as the host store
// does after a failed fsync: what the disk holds is then unknown, and a
// later flush that succeeded would not prove the earlier bytes durable.
// Later writes throw a LogError naming the failure, reads still work, and
// reopening (which replays what is really in the file) is the way back. A
// failed write whose bytes could not be cut does the same. Opening reads the file,
// replays it, and if a torn tail was cut (power failed mid-write) truncates
// the file to the last valid record, so the next write never lands after
// damaged bytes.
//
// The access handle is exclusive: a second open of the same file, from any
// worker or tab, fails until this one is closed. The space refuses writes
// made on it directly (requireStaging): only this object's write methods
// store and apply.
//
// A repair (open with `repair: true` that skipped damage) stores what it
// kept without ever leaving the file half-written: the compacted log goes
// to FILE.repairing, is flushed, renamed FILE.repaired (so a complete copy
// has that name), the damaged file is removed, and FILE.repaired becomes
// FILE. An open finishes an interrupted repair first (or drops an
// unfinished FILE.repairing). Opening runs holding FILE.lock's access
// handle (exclusive like every other), so two workers opening the same
// file at once never interleave a repair's steps: the second waits for
// nothing, it fails as a second open always does.
//
// Durability: see DURABILITY.md in this package.
import { BindSpace, LogError, OptionsError } from './web.js';
import { LoggedWrites } from './writes.js';

// A log header is 40 bytes (docs/FORMAT.md, section 2), starting "BSLG".
const HEADER_BYTES = 40;
const MAGIC = [0x42, 0x53, 0x4c, 0x47];
// Why writes are refused after `close()` (also: it was called already).
const CLOSED = 'this OpfsBindSpace is closed';

const describe = (e) => (e && e.name ? `${e.name}: ${e.message}` : String(e));

async function exists(dir, name) {
  try {
    await dir.getFileHandle(name);
    return true;
  } catch (e) {
    if (e && e.name === 'NotFoundError') return false;
    throw e;
  }
}

function readAll(handle, size) {
  const image = new Uint8Array(size);
  let done = 0;
  while (done < size) {
    const n = handle.read(image.subarray(done), { at: done });
    if (n <= 0) throw new LogError(`OPFS read made no progress at byte ${done} of ${size}`);
    done += n;
  }
  return image;
}

/** A BindSpace kept in an OPFS file; only in a dedicated worker. */
export class OpfsBindSpace extends LoggedWrites {
  #handle;
  #space;
  /** Why writes are refused (closed, or read-only after a failure), once they are. */
  #closed = null;

  constructor(handle, space) {
    super();
    this.#handle = handle;
    this.#space = space;
  }

  /**
   * Opens (or creates) the log file `file` in the origin private file
   * system. A new file gets a space of `width` bits; an existing one keeps
   * the width its log records.
   */
  static async open({ file = 'bindspace.log', width, capacity, repair = false } = {}) {
    if (typeof FileSystemFileHandle === 'undefined' || !('createSyncAccessHandle' in FileSystemFileHandle.prototype)) {
      throw new LogError('OPFS synchronous access needs a dedicated worker');
    }
    const root = await navigator.storage.getDirectory();
    const lock = await (await root.getFileHandle(`${file}.lock`, { create: true })).createSyncAccessHandle();
    try {
      return await OpfsBindSpace.#openLocked(root, file, width, capacity, repair);
    } finally {
      lock.close();
    }
  }

  static async #openLocked(root, file, width, capacity, repair) {
    await OpfsBindSpace.#finishRepair(root, file);
    const fileHandle = await root.getFileHandle(file, { create: true });
    let handle = await fileHandle.createSyncAccessHandle();
    let space;
    try {
      let size = handle.getSize();
      if (size > 0 && size < HEADER_BYTES) {
        // Creation was cut short before its header was whole (nothing was
        // ever stored after it): start again, if it is a header's start.
        const start = readAll(handle, size);
        if (!start.every((b, i) => i >= MAGIC.length || b === MAGIC[i])) {
          throw new LogError(`${file} is ${size} bytes and not the start of a bindspace log`);
        }
        handle.truncate(0);
        size = 0;
      }
      if (size === 0) {
        space = new BindSpace({ width, capacity });
        const header = space.exportLog();
        OpfsBindSpace.#writeAll(handle, header, 0);
        handle.flush();
      } else {
        const image = readAll(handle, size);
        space = BindSpace.openLog(image, { capacity, repair });
        if (width !== undefined && width !== space.width) {
          const stored = space.width;
          throw new LogError(`${file} holds ${stored}-bit fingerprints, not ${width}`);
        }
        const r = space.recovery;
        if (r.damagedRegions > 0 || r.brokenBatches > 0 || r.outOfOrder > 0) {
          // Repair skipped damage: store what it kept, so the damage is
          // not met again at the next open.
          const compacted = space.compactedLog();
          handle.close();
          handle = null;
          await OpfsBindSpace.#replace(root, file, compacted);
          handle = await (await root.getFileHandle(file)).createSyncAccessHandle();
          space.replaceLog(compacted);
        } else if (space.logLength !== size) {
          // A torn tail was cut: drop it from the file too.
          handle.truncate(space.logLength);
          handle.flush();
        }
      }
      space.requireStaging();
      return new OpfsBindSpace(handle, space);
    } catch (e) {
      if (handle) handle.close();
      if (space) space.free();
      throw e;
    }
  }

  // Replaces `file` by a file holding `image`, never leaving neither whole
  // (see the module comment); `file` must not be open.
  static async #replace(root, file, image) {
    const repairing = `${file}.repairing`;
    const temp = await root.getFileHandle(repairing, { create: true });
    const h = await temp.createSyncAccessHandle();
    try {
      h.truncate(0);
      OpfsBindSpace.#writeAll(h, image, 0);
      h.flush();
    } finally {
      h.close();
    }
    await temp.move(`${file}.repaired`);
    await OpfsBindSpace.#finishRepair(root, file);
  }

  // Completes a replacement that stopped after FILE.repaired was whole, or
  // drops one that stopped before.
  static async #finishRepair(root, file) {
    if (await exists(root, `${file}.repairing`)) {
      await root.removeEntry(`${file}.repairing`);
    }
    if (await exists(root, `${file}.repaired`)) {
      if (await exists(root, file)) await root.removeEntry(file);
      await (await root.getFileHandle(`${file}.repaired`)).move(file);
    }
  }

  static #writeAll(handle, bytes, at) {
    let done = 0;
    while (done < bytes.length) {
      const n = handle.write(bytes.subarray(done), { at: at + done });
      if (n <= 0) throw new LogError(`OPFS write made no progress at byte ${at + done}`);
      done += n;
    }
  }

  /** The space, for reads. Write through this object, not the space. */
  get space() {
    return this.#space;
  }

  /**
   * Runs one write `fn(space)` write-ahead: framed, written and flushed to
   * the file, then applied. Returns what `fn` returned. Synchronous.
   * Throws a LogError once the store is closed or read-only (a flush
   * failed); see the module comment.
   */
  write(fn) {
    if (this.#closed === CLOSED) throw new LogError(CLOSED);
    const space = this.#space;
    space.stage();
    let result;
    try {
      result = fn(space);
      if (result && typeof result.then === 'function') {
        // The write must be made while staging is armed, so fn cannot wait.
        throw new OptionsError('write(fn): fn must make its write synchronously (it returned a promise)');
      }
      const bytes = space.stagedBytes();
      if (bytes) {
        // A read-only store refuses what would write, and still answers
        // what writes nothing (`exec('GET ...')`, `exec('SEARCH ...')`).
        if (this.#closed) throw new LogError(this.#closed);
        this.#append(bytes, space.logLength);
      }
    } catch (e) {
      space.discardStaged();
      throw e;
    }
    space.commitStaged();
    return result;
  }

  // Writes `bytes` at byte `at` (the end of the log) and flushes them. If
  // either throws, cuts the file back to `at`, so that it ends at the last
  // applied batch again, and rethrows. After a failed flush, or a cut that
  // failed (the file may end in part of a record: the next open cuts that
  // torn tail), the store is read-only.
  #append(bytes, at) {
    const handle = this.#handle;
    let flushing = false;
    try {
      OpfsBindSpace.#writeAll(handle, bytes, at);
      flushing = true;
      handle.flush();
    } catch (e) {
      let cut = true;
      try {
        handle.truncate(at);
      } catch {
        cut = false;
      }
      if (flushing) {
        this.#closed = `this OpfsBindSpace is read-only after a failed flush (${describe(e)}); reopen it to recover`;
      } else if (!cut) {
        this.#closed =
          `this OpfsBindSpace is read-only: a write failed (${describe(e)}) and its bytes ` +
          'could not be cut from the file; reopen it to recover';
      }
      throw e;
    }
  }

  /** Closes the file (releasing its lock) and frees the space; a second call does nothing. */
  close() {
    if (this.#closed === CLOSED) return;
    this.#closed = CLOSED;
    this.#handle.close();
    this.#space.free();
  }
}
