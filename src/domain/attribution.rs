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

/// A turn's text without the speaker label (and any time mark) it starts
/// with: "[00:03:12] P07: It was" → " It was". The label is not speech.
fn without_label<'t>(text: &'t str, label: &str) -> &'t str {
    match text.find(label) {
        Some(i) if i < 40 => {
            let rest = &text[i + label.len()..];
            match rest.find(':') {
                Some(j) if j <= 2 => &rest[j + 1..],
                _ => rest,
            }
        }
        _ => text,
    }
}

/// Split the coding `[start, end)`, whose text is `coded` (the document's
/// characters `start..end`), over `turns` (in document order, not
/// overlapping). Text between or outside turns goes to the `None` part.
/// Labels come out once each, in order of first appearance.
pub fn parts(coded: &str, start: usize, end: usize, turns: &[TurnSpan<'_>]) -> Vec<Part> {
    let chars: Vec<char> = coded.chars().collect();
    let slice = |a: usize, b: usize| -> String {
        chars[(a - start).min(chars.len())..(b - start).min(chars.len())]
            .iter()
            .collect()
    };
    // (label, first, text) pieces in order, then merged by label.
    let mut pieces: Vec<(Option<&str>, usize, String)> = Vec::new();
    let mut pos = start;
    for t in turns.iter().filter(|t| t.start < end && t.end > start) {
        let a = t.start.max(start);
        let b = t.end.min(end);
        if a > pos {
            pieces.push((None, pos, slice(pos, a)));
        }
        let mut text = slice(a, b);
        if a == t.start
            && let Some(label) = t.speaker
        {
            text = without_label(&text, label).to_owned();
        }
        pieces.push((t.speaker, a, text));
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
        let coded: String = body.chars().skip(start).take(end - start).collect();
        parts(&coded, start, end, &spans)
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
    fn text_outside_turns_is_nobody_s() {
        let body = "Notes from the ward visit\n\nP01: It was calm.";
        let parts = split(body, 0, body.chars().count());
        assert_eq!(parts[0].label, None);
        assert_eq!(parts[0].words, 5);
        assert_eq!(parts[1].label.as_deref(), Some("P01"));
    }

    #[test]
    fn a_document_without_turns_gives_one_unlabelled_part() {
        let parts = parts("plain words here", 10, 26, &[]);
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
