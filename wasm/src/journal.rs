//! The log of a `BindSpace`, held in memory as one portable image: the
//! same bytes (docs/FORMAT.md) a host segment file or a flash sector holds,
//! so `exportLog()` output opens on every platform and back.
//!
//! The binding writes no codec of its own: it frames batches with the
//! core's [`Encoder`] and reopens images with the core's [`replay`].

use bindspace_core::log::{replay, EncodeError, Encoder, Header, Policy, ReplayError, Replayed};
use bindspace_core::mutation::Mutation;
use bindspace_core::space::{Filter, Space, SpaceError, Storage};
use bindspace_core::width::Width;

/// Record alignment of the images the binding writes: 8, as for files
/// (docs/FORMAT.md section 1). Images of any alignment open.
pub const ALIGN: usize = 8;

/// One log image and the sequence number its next batch gets.
#[derive(Debug)]
pub struct Journal {
    image: Vec<u8>,
    /// Bytes of the header with its padding: where records start.
    header_len: usize,
    encoder: Encoder,
    next_seq: u64,
    /// Whether the image holds damage a repair skipped: it replays only
    /// with repair, so it is exported compacted (see [`Self::export`]).
    damaged: bool,
}

/// A batch framed for the log: its bytes and its sequence number.
#[derive(Debug)]
pub struct Framed {
    /// The records and the commit, padded.
    pub bytes: Vec<u8>,
    /// The batch's sequence number (every mutation's version).
    pub seq: u64,
}

impl Journal {
    /// An empty log for `width`: just its header.
    pub fn new(width: Width) -> Journal {
        let header = Header::new(width, ALIGN, 0, 1);
        let mut image = vec![0u8; header.padded_len()];
        // The buffer is exactly the header's padded length and ALIGN is
        // valid, so encoding cannot fail.
        let _ = header.encode(&mut image);
        Journal {
            header_len: image.len(),
            image,
            encoder: Encoder::for_header(&header),
            next_seq: 1,
            damaged: false,
        }
    }

    /// Opens `image`, replaying it into `space` (which must be empty).
    /// A torn tail is cut from the kept image, so later batches follow the
    /// last valid record; damage in the middle is an error unless `policy`
    /// is [`Policy::Repair`].
    pub fn open<S: Storage>(
        image: &[u8],
        space: &mut Space<S>,
        policy: Policy,
    ) -> Result<(Journal, Replayed), ReplayError<SpaceError>> {
        let replayed = replay(image, Some(space.width()), space, policy)?;
        let end = replayed.end.offset();
        let mut kept = image[..end.min(image.len())].to_vec();
        // An image that stops inside its last record's padding: the next
        // record still starts at the aligned end (the reader's offset).
        kept.resize(end, 0xFF);
        let journal = Journal {
            image: kept,
            header_len: replayed.header.padded_len(),
            encoder: Encoder::for_header(&replayed.header),
            next_seq: replayed.next_seq.max(1),
            damaged: !replayed.damage.is_none(),
        };
        Ok((journal, replayed))
    }

    /// The compacted image of `space`: a header, then one standalone entry
    /// record per stored entry (its fingerprint, label, parent, expiry and
    /// version), so it replays to exactly `space` and the next batch still
    /// gets this log's next sequence number (the header's `first_seq`).
    pub fn compacted<S: Storage>(&self, space: &Space<S>) -> Result<Vec<u8>, EncodeError> {
        let header = Header::new(self.encoder.width(), self.encoder.align(), 0, self.next_seq);
        let mut image = vec![0xFFu8; header.padded_len()];
        header.encode(&mut image)?;
        for entry in space.iter(Filter::All) {
            let at = image.len();
            image.resize(at + self.encoder.entry_len(entry.label.len()), 0xFF);
            let n = self.encoder.entry(&entry, &mut image[at..])?;
            image.truncate(at + n);
        }
        Ok(image)
    }

    /// The image to give away, of a log replayed into `space`: the whole
    /// image, or, when it holds damage a repair skipped (which a strict
    /// open refuses), the compacted image of `space`, which opens anywhere.
    pub fn export<S: Storage>(&self, space: &Space<S>) -> Result<Vec<u8>, EncodeError> {
        if self.damaged {
            self.compacted(space)
        } else {
            Ok(self.image.clone())
        }
    }

    /// Reads the header of `image` without replaying it.
    pub fn header_of(image: &[u8]) -> Result<Header, bindspace_core::log::FormatError> {
        Header::new_checked(image)
    }

    /// Frames `batch` as the next batch, changing nothing.
    pub fn frame(
        &self,
        batch: &[Mutation<'_>],
    ) -> Result<Framed, bindspace_core::log::EncodeError> {
        let mut bytes = vec![0xFFu8; self.encoder.batch_len(batch)];
        let n = self.encoder.batch(batch, self.next_seq, &mut bytes)?;
        bytes.truncate(n);
        Ok(Framed {
            bytes,
            seq: self.next_seq,
        })
    }

    /// Appends a framed batch (made by [`Self::frame`] for this log, with
    /// nothing appended since) and moves the sequence number on.
    pub fn append(&mut self, framed: &Framed) {
        self.image.extend_from_slice(&framed.bytes);
        self.next_seq = framed.seq + 1;
    }

    /// The header bytes, padded: what an image holding only `bytes` of
    /// records starts with.
    pub fn header_bytes(&self) -> &[u8] {
        &self.image[..self.header_len.min(self.image.len())]
    }

    /// The whole image.
    pub fn image(&self) -> &[u8] {
        &self.image
    }

    /// The sequence number the next batch gets.
    pub const fn next_seq(&self) -> u64 {
        self.next_seq
    }
}
