// The error classes bindspace throws. The Rust side builds them through
// `makeError(kind, message)` so every error is a real `Error` (with a stack)
// that callers can tell apart with `instanceof`.

/** Base class of every error bindspace throws; `message` is the core's text. */
export class BindSpaceError extends Error {
  constructor(message) {
    super(message);
    // Set explicitly rather than from the constructor name, which a
    // minifier may rename.
    this.name = 'BindSpaceError';
  }
}

/** An address that does not parse or is out of range. */
export class AddressError extends BindSpaceError {
  constructor(message) { super(message); this.name = 'AddressError'; }
}

/** A fingerprint of the wrong width or length, or an invalid operation on one. */
export class FingerprintError extends BindSpaceError {
  constructor(message) { super(message); this.name = 'FingerprintError'; }
}

/** The space is full: its capacity is reached; nothing was written. */
export class CapacityError extends BindSpaceError {
  constructor(message) { super(message); this.name = 'CapacityError'; }
}

/** A log image that is corrupt, truncated in the middle, or of another width. */
export class LogError extends BindSpaceError {
  constructor(message) { super(message); this.name = 'LogError'; }
}

/** A command of the command language that is malformed or failed. */
export class CommandError extends BindSpaceError {
  constructor(message) { super(message); this.name = 'CommandError'; }
}

/** Bad options or arguments: wrong type, out of range, unknown zone. */
export class OptionsError extends BindSpaceError {
  constructor(message) { super(message); this.name = 'OptionsError'; }
}

const CLASSES = {
  BindSpaceError,
  AddressError,
  FingerprintError,
  CapacityError,
  LogError,
  CommandError,
  OptionsError,
};

/** Builds the error of class `kind` (a key of the table above). */
export function makeError(kind, message) {
  const Class = CLASSES[kind] || BindSpaceError;
  return new Class(message);
}
