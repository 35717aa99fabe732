//! `domain::turns::parse` on any UTF-8 text: no panic, and every turn is a
//! non-empty range of code points inside the text, in order, not
//! overlapping, with a speaker label, starting and ending on a non-space
//! character (a turn starts after its line's indent and stops at the end of
//! its last non-blank line).
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley::domain::text;
use parley::domain::turns::parse;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let len = text::char_len(&text);
    let turns = parse(&text);
    let mut previous_end = 0;
    for turn in &turns {
        assert!(turn.start < turn.end, "empty turn {turn:?}");
        assert!(turn.end <= len, "turn {turn:?} beyond the text ({len})");
        assert!(turn.start >= previous_end, "turn {turn:?} overlaps or is out of order");
        previous_end = turn.end;
        assert!(turn.speaker.is_some(), "turn without a label {turn:?}");
        let body = text::slice(&text, turn.start, turn.end).expect("turn in range");
        assert_eq!(body.trim(), body, "turn {turn:?} has white space at an end");
    }
});
