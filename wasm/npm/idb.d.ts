import type { BindSpace, Reply } from './web.js';

/** Options of `IdbBindSpace.open`. */
export interface IdbOpenOptions {
  /** The IndexedDB database name. Default "bindspace". */
  name?: string;
  /** Width in bits of a new store; an existing store must match. Default 8192. */
  width?: number;
  /** The most entries. Default 65536. */
  capacity?: number;
  /** IndexedDB transaction durability hint. Default "strict" (see DURABILITY.md). */
  durability?: 'strict' | 'relaxed' | 'default';
  /** Skip damage in the middle of the stored log instead of refusing to open. */
  repair?: boolean;
}

/** A BindSpace whose log lives in IndexedDB; writes are write-ahead and async. */
export class IdbBindSpace {
  private constructor();
  /** Opens or creates a store. Call `init()` from 'bindspace' first. */
  static open(options?: IdbOpenOptions): Promise<IdbBindSpace>;
  /**
   * Deletes a whole store; open instances close themselves and refuse
   * later writes. Rejects with a LogError if one stays open longer than
   * `blockedMs` (3000).
   */
  static destroy(name?: string, options?: { blockedMs?: number }): Promise<void>;
  /** The space, for reads. Write through this object, not the space. */
  readonly space: BindSpace;
  /** Runs one write on the space, stored in IndexedDB before it is applied. */
  write<T>(fn: (space: BindSpace) => T): Promise<T>;
  set(addr: string | number, fp: Uint8Array): Promise<void>;
  delete(addr: string | number): Promise<boolean>;
  setLabel(addr: string | number, label: string, parent?: string | number | null): Promise<void>;
  expire(addr: string | number, at?: number | null): Promise<void>;
  /** Rewrites the store as the compacted log, atomically; resolves with its length in bytes. */
  compact(): Promise<number>;
  /** Runs a command; its writes are stored before they are applied. Resolves with the reply. */
  exec(command: string): Promise<Reply>;
  /** Waits for queued writes, closes the database, frees the space. */
  close(): Promise<void>;
}

/** Asks the browser not to evict this origin's storage; resolves with its answer. */
export function requestPersistence(): Promise<boolean>;
