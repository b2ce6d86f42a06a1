//! Exact k-nearest and range search by Hamming distance. (Being built.)
