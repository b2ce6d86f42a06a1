//! The memory a command runs in, lent by the front end: words for the
//! fingerprints it makes, bytes for its reply.

use super::error::ErrorKind;
use crate::width::Width;

/// Working memory for [`execute`](super::execute), lent by the front end
/// and reused from command to command (an [`Outcome`](super::Outcome)
/// borrows it until the front end has committed and replied).
///
/// - `words` holds every fingerprint a command (or a whole transaction)
///   makes, plus its hex operands while it runs: `width.words()` words
///   per `SET`, `BIND`, `BUNDLE`, `PERMUTE`, `ENCODE` or `DN.SET`, and one
///   more per hex operand. [`Scratch::words_for`] gives a size.
/// - `bytes` holds the reply (a `GET` of an 8,192-bit fingerprint is 2,048
///   hex digits), the labels of `DN.SET` and, for a text line, the line.
///
/// Any sizes work: a command that needs more gets a clear error and
/// changes nothing.
///
/// ```
/// use bindspace_core::command::Scratch;
/// // On a microcontroller: static arrays, or arrays on the stack.
/// let mut scratch = Scratch::new([0u64; 64], [0u8; 1024]);
/// # let _ = &mut scratch;
/// ```
#[derive(Clone, Debug)]
pub struct Scratch<W, B> {
    pub(crate) words: W,
    pub(crate) bytes: B,
}

impl<W: AsMut<[u64]>, B: AsMut<[u8]>> Scratch<W, B> {
    /// Scratch over `words` and `bytes` (arrays, `Vec`s, or `&mut` slices).
    pub fn new(words: W, bytes: B) -> Self {
        Scratch { words, bytes }
    }

    /// Gives the buffers back.
    pub fn into_parts(self) -> (W, B) {
        (self.words, self.bytes)
    }

    /// Words enough for `fingerprints` fingerprints of `width` (say 66 for
    /// any single command: a BUNDLE of 62 hex inputs plus its result).
    pub const fn words_for(width: Width, fingerprints: usize) -> usize {
        width.words() * fingerprints
    }
}

/// The fingerprint scratch: carved from the front for results that live
/// as long as the outcome, or borrowed briefly for operands.
#[derive(Debug)]
pub(crate) struct Words<'a> {
    free: &'a mut [u64],
    capacity: usize,
}

impl<'a> Words<'a> {
    pub(crate) fn new(buf: &'a mut [u64]) -> Self {
        let capacity = buf.len();
        Words {
            free: buf,
            capacity,
        }
    }

    fn short(&self) -> ErrorKind {
        ErrorKind::ScratchWords {
            capacity: self.capacity,
        }
    }

    /// `n` words kept for the rest of the call.
    pub(crate) fn carve(&mut self, n: usize) -> Result<&'a mut [u64], ErrorKind> {
        if n > self.free.len() {
            return Err(self.short());
        }
        let (head, tail) = core::mem::take(&mut self.free).split_at_mut(n);
        self.free = tail;
        Ok(head)
    }

    /// `n` words borrowed until the borrow ends (operands).
    pub(crate) fn temp(&mut self, n: usize) -> Result<&mut [u64], ErrorKind> {
        if n > self.free.len() {
            return Err(self.short());
        }
        Ok(&mut self.free[..n])
    }
}
