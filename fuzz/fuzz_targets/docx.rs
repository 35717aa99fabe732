//! `formats::docx::read` on any bytes, under small zip caps (so the fuzzer
//! does not spend its time inflating large entries): no panic, no hang, no
//! huge allocation; an error is a normal outcome.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley::formats::ZipLimits;
use parley::formats::docx::read;

const LIMITS: ZipLimits = ZipLimits {
    max_entries: 64,
    max_total_bytes: 1 << 20,
};

fuzz_target!(|data: &[u8]| {
    let _ = read(data, &LIMITS);
});
