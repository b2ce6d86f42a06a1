/** Base class of every error bindspace throws; `message` is the core's text. */
export class BindSpaceError extends Error {}
/** An address that does not parse or is out of range. */
export class AddressError extends BindSpaceError {}
/** A fingerprint of the wrong width or length, or a refused operation on one. */
export class FingerprintError extends BindSpaceError {}
/** The space is full: its capacity is reached; nothing was written. */
export class CapacityError extends BindSpaceError {}
/** A log image that is corrupt, truncated in the middle, or of another width. */
export class LogError extends BindSpaceError {}
/** A command of the command language that is malformed or failed. */
export class CommandError extends BindSpaceError {}
/** Bad options or arguments: wrong type, out of range, unknown zone. */
export class OptionsError extends BindSpaceError {}
