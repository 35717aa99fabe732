//! `formats::participants_csv::read` on any UTF-8 text, and the per-row
//! checks the import runs on what it reads (labels, groups, attributes):
//! no panic, and a row the checks accept holds no control character.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley::domain::participant;
use parley::formats::participants_csv::read;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(rows) = read(&text) else { return };
    for row in rows {
        let Ok(label) = participant::label(&row.label) else { continue };
        assert!(!label.chars().any(char::is_control), "{label:?}");
        if let Ok(attributes) =
            participant::attributes(row.attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        {
            for (k, v) in &attributes {
                assert!(!k.contains('\0') && !v.contains('\0'), "{k:?}={v:?}");
            }
        }
    }
});
