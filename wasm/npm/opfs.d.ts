import type { BindSpace, Reply } from './web.js';

/** Options of `OpfsBindSpace.open`. */
export interface OpfsOpenOptions {
  /** The file name in the origin private file system. Default "bindspace.log". */
  file?: string;
  /** Width in bits of a new file; an existing file must match. Default 8192. */
  width?: number;
  /** The most entries. Default 65536. */
  capacity?: number;
  /** Skip damage in the middle of the log instead of refusing to open. */
  repair?: boolean;
}

/** A BindSpace whose log is an OPFS file; writes are flushed before they apply. Dedicated workers only. */
export class OpfsBindSpace {
  private constructor();
  /** Opens or creates the log file. Call `init()` from 'bindspace' first. */
  static open(options?: OpfsOpenOptions): Promise<OpfsBindSpace>;
  /** The space, for reads. Write through this object, not the space. */
  readonly space: BindSpace;
  /**
   * Runs one write on the space, written and flushed before it is applied.
   * If the write or flush throws, nothing is applied; after a failed flush
   * (or after `close()`) every write throws a LogError: reopen the file.
   */
  write<T>(fn: (space: BindSpace) => T): T;
  set(addr: string | number, fp: Uint8Array): void;
  delete(addr: string | number): boolean;
  setLabel(addr: string | number, label: string, parent?: string | number | null): void;
  expire(addr: string | number, at?: number | null): void;
  exec(command: string): Reply;
  /** Closes the file and frees the space; a second call does nothing. */
  close(): void;
}
