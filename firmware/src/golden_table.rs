//! Golden digests written by `firmware/golden-gen` on the host: do not edit.
//! One per case of `golden_recipe::CASES`, in order.

/// FNV-1a 64 of each case's fingerprint bytes.
pub(crate) const EXPECTED: [u64; 10] = [
    0xAB2158089A8ADEDF, // encode_text 64 bits: hello world
    0xD9680E355518F2A8, // encode_text 8192 bits: hello world
    0x709749156C8A45CF, // encode_text 8192 bits: empty text
    0x86377222734F354A, // encode_text 8192 bits: quick brown fox
    0x346D75A861B62500, // encode_text 8192 bits: non-ASCII
    0x29692B6199503BC8, // encode_text 16384 bits: bindspace
    0x85E30F2D22A7DFD2, // from_seed 8192 bits: 42
    0x6EF39E612F582A95, // bind 2048 bits: text cat, text dog
    0x017D2656E20EADDC, // bundle 2048 bits: seeds 1, 2, 3, 4
    0x7966BDFDDBD7AB1A, // permute 2048 bits: seed 5 by -1000
];
