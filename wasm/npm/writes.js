// The write methods the durable stores (idb.js, opfs.js) share. Each store
// implements `write(fn)`: log what `fn` writes to the space, durably,
// then apply it. Everything here is one write through it.

/** Base of the durable stores: the named writes, each one `write`. */
export class LoggedWrites {
  /** Stores `fp` at `addr`. */
  set(addr, fp) {
    return this.write((s) => s.set(addr, fp));
  }

  /** Removes the entry at `addr`; resolves with whether there was one. */
  delete(addr) {
    return this.write((s) => s.delete(addr));
  }

  /** Sets the label (and parent) of the entry at `addr`. */
  setLabel(addr, label, parent) {
    return this.write((s) => s.setLabel(addr, label, parent));
  }

  /** Makes the entry at `addr` expire at tick `at` (or never: null). */
  expire(addr, at) {
    return this.write((s) => s.expire(addr, at));
  }

  /**
   * Runs a command of the command language; its writes (if any) are stored
   * before they are applied. Resolves with the command's reply.
   */
  exec(command) {
    return this.write((s) => s.exec(command));
  }
}
