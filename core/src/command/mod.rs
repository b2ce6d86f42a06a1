//! The command language, parsed and executed on byte slices. (Being built.)
