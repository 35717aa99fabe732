//! `formats::captions::read_vtt` and `read_srt` on any UTF-8 text: no panic,
//! and when captions are read, the turns are ranges of code points inside
//! the returned text, in order and not overlapping.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley::domain::text;
use parley::formats::CaptionTranscript;
use parley::formats::captions::{read_srt, read_vtt};

fn check(transcript: &CaptionTranscript) {
    let len = text::char_len(&transcript.text);
    let mut previous_end = 0;
    for turn in &transcript.turns {
        assert!(turn.start <= turn.end, "reversed turn {turn:?}");
        assert!(turn.end <= len, "turn {turn:?} beyond the text ({len})");
        assert!(turn.start >= previous_end, "turn {turn:?} overlaps or is out of order");
        previous_end = turn.end;
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(t) = read_vtt(&text) {
        check(&t);
    }
    if let Ok(t) = read_srt(&text) {
        check(&t);
    }
});
