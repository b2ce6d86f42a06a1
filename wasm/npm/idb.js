// bindspace/idb: a BindSpace whose log lives in IndexedDB.
//
// The log is the same portable byte format as everywhere else. It is kept
// as chunks in one object store, keyed by their byte offset in the log:
// chunk 0 is the header, and every write adds exactly one chunk holding its
// batch (never the whole log again). Opening concatenates the chunks and
// replays them with BindSpace.openLog.
//
// Every write is write-ahead: the space frames it without applying it
// (space.stage()), the chunk is added in a readwrite transaction, and only
// when that transaction completes is the batch applied (commitStaged) and
// the returned promise resolved. A failed transaction discards the batch:
// nothing was applied, nothing was acknowledged.
//
// Chunks are added with `add`, which refuses an existing key: if another
// tab (or a stale instance) already wrote at the same log offset, the write
// fails with a LogError instead of two writers interleaving their batches.
//
// Durability: see DURABILITY.md in this package.
import { BindSpace, LogError, OptionsError } from './web.js';
import { LoggedWrites } from './writes.js';

const STORE = 'log';

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function transactionDone(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    // A failed request's error reaches the transaction before tx.error is
    // set, so take it from the event's target.
    tx.onerror = (event) => reject(event.target.error || tx.error || new Error('IndexedDB request failed'));
    tx.onabort = () => reject(tx.error || new Error('IndexedDB transaction aborted'));
  });
}

function openDatabase(name) {
  const req = indexedDB.open(name, 1);
  req.onupgradeneeded = () => {
    req.result.createObjectStore(STORE);
  };
  return request(req);
}

/** A BindSpace kept in IndexedDB. Reads go to `space`; writes are async. */
export class IdbBindSpace extends LoggedWrites {
  #db;
  #space;
  #durability;
  #queue = Promise.resolve();
  #closed = false;

  constructor(db, space, durability) {
    super();
    this.#db = db;
    this.#space = space;
    this.#durability = durability;
  }

  /**
   * Opens (or creates) the store `name`. A new store gets a space of
   * `width` bits; an existing one keeps the width its log records, and
   * asking for another width is an error.
   */
  static async open({ name = 'bindspace', width, capacity, durability = 'strict', repair = false } = {}) {
    const db = await openDatabase(name);
    try {
      const tx = db.transaction(STORE, 'readonly');
      const store = tx.objectStore(STORE);
      const [keys, chunks] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
      let space;
      if (keys.length === 0) {
        space = new BindSpace({ width, capacity });
        await IdbBindSpace.#rewrite(db, space.exportLog(), durability);
      } else {
        const image = IdbBindSpace.#join(keys, chunks);
        space = BindSpace.openLog(image, { capacity, repair });
        if (width !== undefined && width !== space.width) {
          const stored = space.width;
          space.free();
          throw new LogError(`store "${name}" holds ${stored}-bit fingerprints, not ${width}`);
        }
        const r = space.recovery;
        if (r.damagedRegions > 0 || r.brokenBatches > 0) {
          // Repair was asked for and skipped damage: store what was kept,
          // compacted, so the damage is not met again at the next open.
          const compacted = space.compactedLog();
          await IdbBindSpace.#rewrite(db, compacted, durability);
          space.replaceLog(compacted);
        } else if (space.logLength !== image.length) {
          // A torn tail was cut (cannot come from IndexedDB's atomic
          // transactions, but a copied or edited store may have one):
          // keep only what was replayed.
          await IdbBindSpace.#rewrite(db, space.exportLog(), durability);
        }
      }
      return new IdbBindSpace(db, space, durability);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  /** Deletes the whole store `name` (close every instance first). */
  static async destroy(name = 'bindspace') {
    await request(indexedDB.deleteDatabase(name));
  }

  // Chunks must tile the log exactly: each starts where the one before ends.
  static #join(keys, chunks) {
    let total = 0;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] !== total) {
        throw new LogError(`IndexedDB log has a gap or overlap at byte ${total} (next chunk starts at ${keys[i]})`);
      }
      total += chunks[i].byteLength;
    }
    const image = new Uint8Array(total);
    chunks.forEach((chunk, i) => image.set(chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk), keys[i]));
    return image;
  }

  static async #rewrite(db, image, durability) {
    const tx = db.transaction(STORE, 'readwrite', { durability });
    const store = tx.objectStore(STORE);
    store.clear();
    store.add(image, 0);
    await transactionDone(tx);
  }

  /** The space, for reads (get, has, count, search, entry, addresses, ...). */
  get space() {
    return this.#space;
  }

  /**
   * Runs one write `fn(space)` (a single set, delete, setLabel, expire or
   * exec) write-ahead: framed, stored in IndexedDB, then applied. Resolves
   * with what `fn` returned once the write is durable as far as IndexedDB
   * promises (see DURABILITY.md). Writes run one at a time, in call order.
   */
  write(fn) {
    return this.#enqueue(() => this.#writeNow(fn));
  }

  // Runs `task` after every task queued before it, whether they failed or not.
  #enqueue(task) {
    const result = this.#queue.then(task, task);
    this.#queue = result.catch(() => {});
    return result;
  }

  /**
   * Rewrites the store as one chunk holding the compacted log (one record
   * per stored entry instead of the whole history), in one transaction:
   * either the old chunks or the new one are there, never a mix. Resolves
   * with the new log's length in bytes.
   */
  compact() {
    return this.#enqueue(async () => {
      if (this.#closed) throw new LogError('this IdbBindSpace is closed');
      const image = this.#space.compactedLog();
      await IdbBindSpace.#rewrite(this.#db, image, this.#durability);
      this.#space.replaceLog(image);
      return image.length;
    });
  }

  async #writeNow(fn) {
    if (this.#closed) throw new LogError('this IdbBindSpace is closed');
    const space = this.#space;
    space.stage();
    let result;
    let bytes;
    try {
      result = fn(space);
      if (result && typeof result.then === 'function') {
        // The write must be made while staging is armed, so fn cannot wait.
        throw new OptionsError('write(fn): fn must make its write synchronously (it returned a promise)');
      }
      bytes = space.stagedBytes();
      if (bytes) {
        const tx = this.#db.transaction(STORE, 'readwrite', { durability: this.#durability });
        tx.objectStore(STORE).add(bytes, space.logLength);
        await transactionDone(tx);
      }
    } catch (e) {
      space.discardStaged();
      if (e && e.name === 'ConstraintError') {
        throw new LogError('another writer (another tab?) already wrote at this log offset: reopen the store');
      }
      throw e;
    }
    space.commitStaged();
    return result;
  }

  /** Waits for queued writes, then closes the database and frees the space. */
  async close() {
    await this.#queue;
    this.#closed = true;
    this.#db.close();
    this.#space.free();
  }
}

/**
 * Asks the browser to keep this origin's storage under storage pressure
 * (navigator.storage.persist()). Resolves with whether it agreed; without
 * it the browser may evict the whole store.
 */
export async function requestPersistence() {
  if (typeof navigator !== 'undefined' && navigator.storage && navigator.storage.persist) {
    return navigator.storage.persist();
  }
  return false;
}
