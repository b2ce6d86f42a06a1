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
// One writer: every transaction that changes the stored log first checks,
// in that same transaction, that the log ends where this instance expects
// (a write adds at the stored end, a compaction replaces exactly what this
// instance stored). If another tab (or a stale instance) wrote or compacted
// meanwhile, the change fails with a LogError and nothing is stored, so
// two writers never interleave their batches or erase each other's. The
// space itself refuses writes made on it directly (requireStaging): only
// this object's write methods store and apply.
//
// Durability: see DURABILITY.md in this package.
import { BindSpace, LogError, OptionsError } from './web.js';
import { LoggedWrites } from './writes.js';

const STORE = 'log';
// Why writes are refused after `close()` (also: it was called already).
const CLOSED = 'this IdbBindSpace is closed';

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

/**
 * Changes the stored log in one readwrite transaction, after checking in
 * that transaction that it ends at byte `expectedEnd`: `change(store)` runs
 * only then. Rejects with a LogError, storing nothing, if it ends elsewhere
 * (another writer changed it).
 */
function changeAt(db, durability, expectedEnd, change) {
  const tx = db.transaction(STORE, 'readwrite', { durability });
  const store = tx.objectStore(STORE);
  const done = transactionDone(tx);
  let foundEnd;
  const last = store.openCursor(null, 'prev');
  last.onsuccess = () => {
    const cursor = last.result;
    const end = cursor ? cursor.key + cursor.value.byteLength : 0;
    if (end !== expectedEnd) {
      foundEnd = end;
      tx.abort();
      return;
    }
    change(store);
  };
  return done.catch((e) => {
    if (foundEnd !== undefined) {
      throw new LogError(
        `another writer (another tab?) changed this store: it ends at byte ${foundEnd}, ` +
          `this instance expected ${expectedEnd}; nothing was stored, reopen the store`,
      );
    }
    if (e && e.name === 'ConstraintError') {
      throw new LogError('another writer (another tab?) already wrote at this log offset: reopen the store');
    }
    throw e;
  });
}

/** A BindSpace kept in IndexedDB. Reads go to `space`; writes are async. */
export class IdbBindSpace extends LoggedWrites {
  #db;
  #space;
  #durability;
  #queue = Promise.resolve();
  /** Why the store is closed, once it is. */
  #closed = null;

  constructor(db, space, durability) {
    super();
    this.#db = db;
    this.#space = space;
    this.#durability = durability;
    // Another tab deletes (destroy) or upgrades the database: let it, and
    // refuse further writes here with the reason, rather than block it.
    db.onversionchange = () => {
      db.close();
      this.#closed ??= 'the store was deleted or upgraded in another tab: reopen it';
    };
  }

  #checkOpen() {
    if (this.#closed) throw new LogError(this.#closed);
  }

  /**
   * Opens (or creates) the store `name`. A new store gets a space of
   * `width` bits; an existing one keeps the width its log records, and
   * asking for another width is an error.
   */
  static async open({ name = 'bindspace', width, capacity, durability = 'strict', repair = false } = {}) {
    const db = await openDatabase(name);
    // Until the instance exists (and installs its own handler), a delete
    // or upgrade from elsewhere closes this connection, so it never waits.
    db.onversionchange = () => db.close();
    let space;
    try {
      const tx = db.transaction(STORE, 'readonly');
      const store = tx.objectStore(STORE);
      const [keys, chunks] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
      if (keys.length === 0) {
        space = new BindSpace({ width, capacity });
        // If another tab created it meanwhile, this fails (the log no
        // longer ends at 0) instead of replacing what that tab stored.
        await IdbBindSpace.#rewrite(db, space.exportLog(), durability, 0);
      } else {
        const image = IdbBindSpace.#join(keys, chunks);
        space = BindSpace.openLog(image, { capacity, repair });
        if (width !== undefined && width !== space.width) {
          throw new LogError(`store "${name}" holds ${space.width}-bit fingerprints, not ${width}`);
        }
        const r = space.recovery;
        if (r.damagedRegions > 0 || r.brokenBatches > 0 || r.outOfOrder > 0) {
          // Repair was asked for and skipped damage: store what was kept,
          // compacted, so the damage is not met again at the next open.
          const compacted = space.compactedLog();
          await IdbBindSpace.#rewrite(db, compacted, durability, image.length);
          space.replaceLog(compacted);
        } else if (space.logLength !== image.length) {
          // A torn tail was cut (cannot come from IndexedDB's atomic
          // transactions, but a copied or edited store may have one):
          // keep only what was replayed.
          await IdbBindSpace.#rewrite(db, space.exportLog(), durability, image.length);
        }
      }
      space.requireStaging();
      return new IdbBindSpace(db, space, durability);
    } catch (e) {
      db.close();
      if (space) space.free();
      throw e;
    }
  }

  /**
   * Deletes the whole store `name`. Open instances (in this tab or
   * others) close themselves and refuse further writes. If one stays open
   * (an older version of this package in another tab), this rejects with
   * a LogError after `blockedMs` instead of waiting for ever; the deletion
   * then happens once that instance closes.
   */
  static async destroy(name = 'bindspace', { blockedMs = 3000 } = {}) {
    const req = indexedDB.deleteDatabase(name);
    let timer;
    try {
      await new Promise((resolve, reject) => {
        req.onsuccess = () => resolve();
        req.onerror = () => reject(req.error);
        // "blocked" also fires while closing connections finish their last
        // transaction, so it is only a failure if it lasts.
        req.onblocked = () => {
          timer ??= setTimeout(
            () =>
              reject(
                new LogError(
                  `store "${name}" is still open elsewhere after ${blockedMs} ms: ` +
                    'close it there; it is deleted once it closes',
                ),
              ),
            blockedMs,
          );
        };
      });
    } finally {
      clearTimeout(timer);
    }
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

  // Replaces the stored log by `image`, if it still ends at `expectedEnd`.
  static #rewrite(db, image, durability, expectedEnd) {
    return changeAt(db, durability, expectedEnd, (store) => {
      store.clear();
      store.add(image, 0);
    });
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
      this.#checkOpen();
      const image = this.#space.compactedLog();
      await IdbBindSpace.#rewrite(this.#db, image, this.#durability, this.#space.logLength);
      this.#space.replaceLog(image);
      return image.length;
    });
  }

  async #writeNow(fn) {
    this.#checkOpen();
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
        const at = space.logLength;
        await changeAt(this.#db, this.#durability, at, (store) => store.add(bytes, at));
      }
    } catch (e) {
      space.discardStaged();
      throw e;
    }
    space.commitStaged();
    return result;
  }

  /** Waits for queued writes, then closes the database and frees the space. */
  async close() {
    await this.#queue;
    if (this.#closed === CLOSED) return;
    this.#closed = CLOSED;
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
