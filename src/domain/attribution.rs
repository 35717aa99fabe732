//! Who a coding belongs to: how a coded range splits over the document's
//! speaker turns, and how many words of it each speaker said. Computed once
//! when a coding is written (turns never change); the speaker → participant
//! mapping, which can change, is applied when counting.

/// A turn, as attribution needs it: its speaker label (`None` for text that
/// names no one) and its code-point range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TurnSpan<'a> {
    pub speaker: Option<&'a str>,
    pub start: usize,
    pub end: usize,
}

/// The share of a coding spoken by one speaker label (`None`: text outside
/// any labelled turn, which counts as "Unassigned").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub label: Option<String>,
    /// Where the coding first meets this speaker (code points into the
    /// document), to list speakers in order.
    pub first: usize,
    pub words: usize,
}

/// Words in a stretch of text: white-space separated tokens that contain a
/// letter or a digit (so "—" and "🙂" alone are not words, "naïve," is one).
pub fn word_count(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

/// How many characters open a turn before its speech: the time mark and
/// speaker label ("[00:03:12] P07: It was" → 16). They are not speech.
/// `opening` is the turn's first characters (80 are plenty).
pub fn label_len(opening: &str, label: &str) -> usize {
    match opening.find(label) {
        Some(i) if i < 40 => {
            let after = i + label.len();
            let end = match opening[after..].find(':') {
                Some(j) if j <= 2 => after + j + 1,
                _ => after,
            };
            opening[..end].chars().count()
        }
        _ => 0,
    }
}

/// How many characters of a turn's start [`parts`] needs to see in its
/// window to find the turn's label.
pub const OPENING: usize = 80;

/// Split the coding `[start, end)` over `turns` (in document order, not
/// overlapping). `window` is the document's text from `window_start`; it
/// must cover the coding and the first [`OPENING`] characters of every turn
/// the coding overlaps (or up to the end of the text). Text between or
/// outside turns goes to the `None` part. Labels come out once each, in
/// order of first appearance.
pub fn parts(
    window: &str,
    window_start: usize,
    start: usize,
    end: usize,
    turns: &[TurnSpan<'_>],
) -> Vec<Part> {
    let chars: Vec<char> = window.chars().collect();
    let at = |p: usize| p.saturating_sub(window_start).min(chars.len());
    let slice = |a: usize, b: usize| -> String {
        if b <= a {
            return String::new();
        }
        chars[at(a)..at(b)].iter().collect()
    };
    // (label, first, speech) pieces in order, then merged by label.
    let mut pieces: Vec<(Option<&str>, usize, String)> = Vec::new();
    let mut pos = start;
    for t in turns.iter().filter(|t| t.start < end && t.end > start) {
        let a = t.start.max(start);
        let b = t.end.min(end);
        if a > pos {
            pieces.push((None, pos, slice(pos, a)));
        }
        let speech_from = match t.speaker {
            Some(label) => {
                t.start + label_len(&slice(t.start, t.end.min(t.start + OPENING)), label)
            }
            None => t.start,
        };
        pieces.push((t.speaker, a, slice(a.max(speech_from), b)));
        pos = pos.max(b);
    }
    if pos < end {
        pieces.push((None, pos, slice(pos, end)));
    }
    let mut out: Vec<Part> = Vec::new();
    for (label, first, text) in pieces {
        // White space between turns (the newline after a turn) makes no
        // one a speaker of the coding.
        if label.is_none() && text.trim().is_empty() {
            continue;
        }
        let words = word_count(&text);
        match out.iter_mut().find(|p| p.label.as_deref() == label) {
            Some(p) => p.words += words,
            None => out.push(Part {
                label: label.map(str::to_owned),
                first,
                words,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turns(body: &str) -> Vec<(Option<String>, usize, usize)> {
        crate::domain::turns::parse(body)
            .into_iter()
            .map(|t| (t.speaker, t.start, t.end))
            .collect()
    }

    fn split(body: &str, start: usize, end: usize) -> Vec<Part> {
        let owned = turns(body);
        let spans: Vec<TurnSpan> = owned
            .iter()
            .map(|(s, a, b)| TurnSpan {
                speaker: s.as_deref(),
                start: *a,
                end: *b,
            })
            .collect();
        parts(body, 0, start, end, &spans)
    }

    fn cp(body: &str, needle: &str) -> usize {
        body[..body.find(needle).unwrap()].chars().count()
    }

    #[test]
    fn words_are_tokens_with_a_letter_or_digit() {
        assert_eq!(word_count("It felt like a sanctuary 🙂 — naïve, café!"), 7);
        assert_eq!(word_count("  \n "), 0);
        assert_eq!(word_count("2004 was 𝔣𝔞𝔫𝔠𝔶"), 3);
    }

    #[test]
    fn a_coding_inside_one_turn_belongs_to_its_speaker() {
        let body = "Interviewer: Why?\nP01: It felt like a café 🙂 to me.\n";
        let s = cp(body, "felt");
        let parts = split(body, s, s + "felt like a café".chars().count());
        assert_eq!(
            parts,
            vec![Part {
                label: Some("P01".into()),
                first: s,
                words: 4
            }]
        );
    }

    #[test]
    fn a_coding_across_turns_splits_by_speaker_and_skips_line_breaks() {
        let body = "P01: one two three\nInterviewer: four five\nC02: six\nP01: seven eight";
        let parts = split(body, cp(body, "two"), body.chars().count());
        let got: Vec<(Option<&str>, usize)> = parts
            .iter()
            .map(|p| (p.label.as_deref(), p.words))
            .collect();
        // P01's two stretches are one part; speaker labels are not words.
        assert_eq!(
            got,
            vec![
                (Some("P01"), 2 + 2),
                (Some("Interviewer"), 2),
                (Some("C02"), 1)
            ]
        );
        assert_eq!(parts[0].first, cp(body, "two"));
    }

    #[test]
    fn time_marks_and_labels_are_not_words() {
        let body = "[00:03:12] Dr Shah: We met twice.";
        let parts = split(body, 0, body.chars().count());
        assert_eq!(parts[0].label.as_deref(), Some("Dr Shah"));
        assert_eq!(parts[0].words, 3);
    }

    #[test]
    fn a_label_is_no_words_wherever_a_coding_cuts_it() {
        let body = "I: Go on.\n[00:00:07] C01: As a carer I never felt listened to.\n";
        let words = |from: &str, to: &str| -> usize {
            let a = cp(body, from);
            let b = body[..body.find(to).unwrap() + to.len()].chars().count();
            split(body, a, b)
                .iter()
                .filter(|p| p.label.as_deref() == Some("C01"))
                .map(|p| p.words)
                .sum()
        };
        assert_eq!(words("[00:00:07]", "a carer"), 3);
        assert_eq!(words("01: As", "a carer"), 3);
        assert_eq!(words("00:07]", "a carer"), 3);
        assert_eq!(words("C01: As", "C01: As"), 1);
        assert_eq!(words("[00:00:07]", "C0"), 0);
        assert_eq!(words("Go on", "[00:00:07]"), 0);
        assert_eq!(label_len("[00:03:12] Dr Shah: We met", "Dr Shah"), 19);
        assert_eq!(label_len("no label here", "P01"), 0);
    }

    #[test]
    fn text_outside_turns_is_nobody_s() {
        let body = "Notes from the ward visit\n\nP01: It was calm.";
        let parts = split(body, 0, body.chars().count());
        assert_eq!(parts[0].label, None);
        assert_eq!(parts[0].words, 5);
        assert_eq!(parts[1].label.as_deref(), Some("P01"));
    }

    #[test]
    fn a_document_without_turns_gives_one_unlabelled_part() {
        let parts = parts("plain words here", 10, 10, 26, &[]);
        assert_eq!(
            parts,
            vec![Part {
                label: None,
                first: 10,
                words: 3
            }]
        );
    }
}
