// bindspace/opfs: a BindSpace whose log is a file in the origin private
// file system, for dedicated workers (where the synchronous access handle
// exists).
//
// The file is the portable log image itself. Every write is write-ahead:
// the space frames it without applying it (space.stage()), the bytes are
// written at the end of the file and flushed (FileSystemSyncAccessHandle
// write + flush), and only then is the batch applied (commitStaged). A
// write or flush that throws discards the batch. Opening reads the file,
// replays it, and if a torn tail was cut (power failed mid-write) truncates
// the file to the last valid record, so the next write never lands after
// damaged bytes.
//
// The access handle is exclusive: a second open of the same file, from any
// worker or tab, fails until this one is closed.
//
// Durability: see DURABILITY.md in this package.
import { BindSpace, LogError, OptionsError } from './web.js';
import { LoggedWrites } from './writes.js';

/** A BindSpace kept in an OPFS file; only in a dedicated worker. */
export class OpfsBindSpace extends LoggedWrites {
  #handle;
  #space;

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
    const fileHandle = await root.getFileHandle(file, { create: true });
    const handle = await fileHandle.createSyncAccessHandle();
    try {
      const size = handle.getSize();
      let space;
      if (size === 0) {
        space = new BindSpace({ width, capacity });
        const header = space.exportLog();
        OpfsBindSpace.#writeAll(handle, header, 0);
        handle.flush();
      } else {
        const image = new Uint8Array(size);
        handle.read(image, { at: 0 });
        space = BindSpace.openLog(image, { capacity, repair });
        if (width !== undefined && width !== space.width) {
          const stored = space.width;
          space.free();
          throw new LogError(`${file} holds ${stored}-bit fingerprints, not ${width}`);
        }
        if (space.logLength !== size) {
          // A torn tail was cut: drop it from the file too.
          handle.truncate(space.logLength);
          handle.flush();
        }
      }
      return new OpfsBindSpace(handle, space);
    } catch (e) {
      handle.close();
      throw e;
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
   */
  write(fn) {
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
        const at = space.logLength;
        try {
          OpfsBindSpace.#writeAll(this.#handle, bytes, at);
          this.#handle.flush();
        } catch (e) {
          // Whatever part of the batch reached the file has no commit
          // record after it, so replay would drop it; cut it now anyway so
          // the file ends at the last applied batch.
          try {
            this.#handle.truncate(at);
          } catch {
            // The next open cuts the torn tail instead.
          }
          throw e;
        }
      }
    } catch (e) {
      space.discardStaged();
      throw e;
    }
    space.commitStaged();
    return result;
  }

  /** Closes the file (releasing its lock) and frees the space. */
  close() {
    this.#handle.close();
    this.#space.free();
  }
}
