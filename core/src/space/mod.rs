//! The space: 65,536 addresses over storage lent by the caller. (Being built.)
