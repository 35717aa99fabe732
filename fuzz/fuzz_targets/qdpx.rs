//! `formats::refi::read::read_qdpx` on any bytes, under small zip caps: no
//! panic, no hang, no huge allocation. When a project is read, its text
//! sources' selections also go through `positions` (the unit is chosen and
//! each selection mapped), and every mapped selection must be a non-empty
//! range inside the normalised text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley::formats::ZipLimits;
use parley::formats::refi::Exchange;
use parley::formats::refi::positions::{choose_unit, map, normalise_with_map};
use parley::formats::refi::read::read_qdpx;

const LIMITS: ZipLimits = ZipLimits {
    max_entries: 64,
    max_total_bytes: 1 << 20,
};

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
        let (unit, crlf, score) = choose_unit(raw, &sels, ex.origin.as_deref());
        assert_eq!(score.selections, sels.len());
        assert!(score.in_range <= score.selections);
        let (text, table) = normalise_with_map(raw, unit, crlf);
        let len = text.chars().count();
        assert!(table.windows(2).all(|w| w[0] <= w[1]), "table not monotonic");
        assert_eq!(table.last().map(|&p| p as usize), Some(len));
        for &(start, end, _) in &sels {
            if let Ok(m) = map(&table, start, end) {
                assert!(m.start < m.end && m.end <= len, "{m:?} outside 0..{len}");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(ex) = read_qdpx(data, &LIMITS) {
        check_positions(&ex);
    }
});
