//! The REFI-QDA XML readers without the zip around them, so the fuzzer
//! mutates XML directly: `read_qdc` on any bytes, and `read_qde` on the same
//! bytes when they are UTF-8 (every `plainTextPath` resolves to a small
//! fixed text with CRLF, an emoji and a combining accent). No panic; when a
//! project is read, every selection that `positions` maps is a non-empty
//! range inside the normalised text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley::formats::refi::Exchange;
use parley::formats::refi::positions::{choose_unit, map, normalise_with_map};
use parley::formats::refi::read::{read_qdc, read_qde};

const SOURCE: &str = "Interviewer: Hello \u{1F600}\r\nP1: Cafe\u{301} au lait, please.\r\n";

fn check_positions(ex: &Exchange) {
    for source in &ex.sources {
        let Some(raw) = source.text.as_deref() else {
            continue;
        };
        let sels: Vec<(i64, i64, Option<&str>)> = source
            .selections
            .iter()
            .map(|s| (s.start, s.end, s.name.as_deref()))
            .collect();
        let (unit, crlf, _) = choose_unit(raw, &sels, ex.origin.as_deref());
        let (text, table) = normalise_with_map(raw, unit, crlf);
        let len = text.chars().count();
        assert!(table.windows(2).all(|w| w[0] <= w[1]), "table not monotonic");
        for &(start, end, _) in &sels {
            if let Ok(m) = map(&table, start, end) {
                assert!(m.start < m.end && m.end <= len, "{m:?} outside 0..{len}");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = read_qdc(data);
    if let Ok(xml) = std::str::from_utf8(data)
        && let Ok(ex) = read_qde(xml, |_| Some(SOURCE.as_bytes().to_vec()))
    {
        check_positions(&ex);
    }
});
