//! `formats::codebook_csv::read` on any UTF-8 text: no panic, and every row
//! read has a path of non-empty names and a line number past the header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley::formats::codebook_csv::read;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(rows) = read(&text) {
        for row in rows {
            assert!(row.line >= 2, "row {} is the header's line", row.line);
            assert!(!row.path.is_empty(), "a row without a path");
            assert!(row.path.iter().all(|n| !n.trim().is_empty()), "{:?}", row.path);
        }
    }
});
