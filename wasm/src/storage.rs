//! The storage a `BindSpace` lives in: the core's growable storage, capped
//! at the capacity the JavaScript caller asked for, so a full space
//! answers `CapacityError` instead of growing without bound.

/// Vec-backed storage that grows on demand up to the caller's capacity.
pub type Capped = bindspace_core::space::Growable;
