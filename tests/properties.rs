//! Property tests of the position arithmetic everything else rests on:
//! code-point slices (`domain::text`), speaker turns (`domain::turns`),
//! how a coding splits over turns (`domain::attribution`), and the mapping
//! of REFI-QDA positions (UTF-16 units, CRLF) onto Parley's normalised text
//! (`formats::refi::positions`). Pure functions only: no database.

use parley::domain::attribution::{OPENING, Part, TurnSpan, label_len, parts, word_count};
use parley::domain::text::{self, Indexed, char_len, decode, normalise, slice};
use parley::domain::turns::{Turn, parse};
use parley::formats::refi::positions::{
    Crlf, MapError, Mapped, Unit, choose_unit, map, normalise_with_map,
};
use proptest::prelude::*;
use proptest::sample::select;
use unicode_normalization::UnicodeNormalization;

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

/// Characters that make positions interesting: ASCII, precomposed and
/// decomposed accents, CJK, astral characters (two UTF-16 units each), a
/// ZWJ sequence's joiner, CR, LF, tabs and other white space.
const TRICKY: &[char] = &[
    'a', 'e', 'q', 'Z', '1', ' ', ' ', '\t', '\n', '\r', '\r', ':', '.', 'é', '中', '😀', '👩',
    '\u{200d}', '𝔣', '\u{301}', '\u{323}', '\u{a0}', '\u{3000}',
];

/// Strings over [`TRICKY`], optionally with a leading byte-order mark.
fn tricky() -> impl Strategy<Value = String> {
    (any::<bool>(), prop::collection::vec(select(TRICKY), 0..48)).prop_map(|(bom, chars)| {
        let mut s = String::new();
        if bom {
            s.push('\u{feff}');
        }
        s.extend(chars);
        s
    })
}

/// Characters that each start a new character in NFC text and never
/// combine with what comes before: no combining marks.
const STARTERS: &[char] = &[
    'a', 'e', 'Z', '1', ' ', '\t', '\n', '\r', ':', 'é', '中', '😀', '𝔣', '\u{a0}',
];

fn starters() -> impl Strategy<Value = String> {
    prop::collection::vec(select(STARTERS), 0..48).prop_map(|v| v.into_iter().collect())
}

/// Pieces of transcript lines: labels, time marks, emphasis, headings,
/// brackets, tabs, so the parser's branches are reached often.
const FRAGMENTS: &[&str] = &[
    "Interviewer",
    "P07",
    "Carer 1 (Ruth)",
    "Dr. O'Neill",
    "the",
    "said",
    "Zoë",
    "李明",
    ": ",
    ":",
    "\t",
    " ",
    "  ",
    "\n",
    "\r\n",
    "[00:03:12]",
    "(01:02)",
    "00:10:00",
    "12:03.5",
    "9999999999:00",
    "**",
    "__",
    "*",
    "# ",
    "---",
    "(",
    ")",
    "[",
    "]",
    "-",
    "–",
    "😀",
    "e\u{301}",
    "Date",
    "http://x",
];

fn line_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(select(FRAGMENTS), 0..40).prop_map(|v| v.concat())
}

/// Labels the parser is known to accept.
const LABELS: &[&str] = &[
    "Interviewer",
    "P07",
    "Carer 2",
    "Dr Shah",
    "R1",
    "Zoë Müller",
    "李明",
];

/// Words of continuation lines: lower case, no colon, so never a label,
/// heading or time mark.
const WORDS: &[&str] = &[
    "so", "we", "met", "twice", "café", "naïve", "it", "was", "calm", "🙂", "—", "中文", "ok",
];

#[derive(Debug, Clone)]
enum Line {
    /// A label line: which label, its words, its indent.
    Label(usize, Vec<&'static str>, usize),
    /// A line without a label, indented and with trailing spaces.
    Words(Vec<&'static str>, usize, usize),
    Blank(usize),
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        3 => (0..LABELS.len(), prop::collection::vec(select(WORDS), 0..6), 0..3usize)
            .prop_map(|(l, w, i)| Line::Label(l, w, i)),
        3 => (prop::collection::vec(select(WORDS), 1..6), 0..3usize, 0..3usize)
            .prop_map(|(w, i, t)| Line::Words(w, i, t)),
        1 => (0..3usize).prop_map(Line::Blank),
    ]
}

/// A transcript made of labelled lines, continuation lines and blank
/// lines, with the turns it must parse into (worked out independently, from
/// how the lines were made).
fn transcript() -> impl Strategy<Value = (String, Vec<Turn>)> {
    prop::collection::vec(line(), 0..14).prop_map(|lines| {
        let mut text = String::new();
        let mut turns: Vec<Turn> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                text.push('\n');
            }
            let pos = char_len(&text);
            match line {
                Line::Label(l, words, indent) => {
                    let content = format!("{}: {}", LABELS[*l], words.join(" "));
                    let content = content.trim_end();
                    text.push_str(&" ".repeat(*indent));
                    text.push_str(content);
                    turns.push(Turn {
                        speaker: Some(LABELS[*l].to_owned()),
                        start: pos + indent,
                        end: pos + indent + char_len(content),
                        time_ms: None,
                    });
                }
                Line::Words(words, indent, trailing) => {
                    let content = words.join(" ");
                    text.push_str(&" ".repeat(*indent));
                    text.push_str(&content);
                    text.push_str(&" ".repeat(*trailing));
                    if let Some(turn) = turns.last_mut() {
                        turn.end = pos + indent + char_len(&content);
                    }
                }
                Line::Blank(spaces) => text.push_str(&" ".repeat(*spaces)),
            }
        }
        (text, turns)
    })
}

/// A transcript with at least one turn.
fn transcript_with_turns() -> impl Strategy<Value = (String, Vec<Turn>)> {
    transcript().prop_filter("a turn", |(_, turns)| !turns.is_empty())
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// The UTF-16 offset of every code-point position `0..=n` of `text`.
fn utf16_offsets(text: &str) -> Vec<usize> {
    let mut out = Vec::with_capacity(text.len() + 1);
    let mut at = 0;
    for c in text.chars() {
        out.push(at);
        at += c.len_utf16();
    }
    out.push(at);
    out
}

/// How many positions `raw` has in `unit` with CRLF counted as `crlf`
/// (a leading byte-order mark counts one, like any BMP character).
fn units(raw: &str, unit: Unit, crlf: Crlf) -> usize {
    let mut n = 0;
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() == Some(&'\n') {
            chars.next();
            n += match crlf {
                Crlf::Two => 2,
                Crlf::One => 1,
            };
        } else {
            n += match unit {
                Unit::CodePoints => 1,
                Unit::Utf16 => c.len_utf16(),
            };
        }
    }
    n
}

/// A non-empty range `[start, end)` inside `0..n` (`n > 0`), from two
/// random indices, so no case is thrown away.
fn range(n: usize, a: prop::sample::Index, b: prop::sample::Index) -> (usize, usize) {
    let start = a.index(n);
    (start, start + 1 + b.index(n - start))
}

fn spans(turns: &[Turn]) -> Vec<TurnSpan<'_>> {
    turns
        .iter()
        .map(|t| TurnSpan {
            speaker: t.speaker.as_deref(),
            start: t.start,
            end: t.end,
        })
        .collect()
}

/// What the turn parser promises for any text.
fn check_turns(text: &str, turns: &[Turn]) -> Result<(), TestCaseError> {
    let n = char_len(text);
    let mut previous_end = 0;
    for t in turns {
        prop_assert!(t.start < t.end, "empty turn {t:?}");
        prop_assert!(t.end <= n, "turn {t:?} beyond the text ({n})");
        prop_assert!(
            t.start >= previous_end,
            "turn {t:?} overlaps the one before"
        );
        previous_end = t.end;
        prop_assert!(t.speaker.is_some(), "a turn without a label: {t:?}");
        let body = slice(text, t.start, t.end).unwrap();
        prop_assert_eq!(body.trim(), body, "turn {:?} has white space at an end", t);
    }
    Ok(())
}

/// What every split of a coding promises, whatever the turns.
fn check_parts(text: &str, start: usize, end: usize, got: &[Part]) -> Result<(), TestCaseError> {
    // Labels once each, in order of first appearance, inside the coding.
    for (i, p) in got.iter().enumerate() {
        prop_assert!(
            p.first >= start && p.first < end,
            "{p:?} outside {start}..{end}"
        );
        if i > 0 {
            prop_assert!(got[i - 1].first < p.first, "parts out of order: {got:?}");
        }
        prop_assert!(
            got[..i].iter().all(|q| q.label != p.label),
            "a label twice: {got:?}"
        );
    }
    // Labels and line breaks are not words, and no word counts twice.
    let total: usize = got.iter().map(|p| p.words).sum();
    let in_range = word_count(slice(text, start, end).unwrap());
    prop_assert!(
        total <= in_range,
        "{total} words attributed, {in_range} in the range: {got:?}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// domain::text
// ---------------------------------------------------------------------------

proptest! {
    #[test]
    fn adjacent_slices_concatenate(s in tricky(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 3)) {
        let n = char_len(&s);
        let mut c: Vec<usize> = cuts.iter().map(|i| i.index(n + 1)).collect();
        c.sort_unstable();
        let (a, b, d) = (c[0], c[1], c[2]);
        let left = slice(&s, a, b).unwrap();
        let right = slice(&s, b, d).unwrap();
        prop_assert_eq!(format!("{left}{right}"), slice(&s, a, d).unwrap());
        prop_assert_eq!(char_len(left), b - a);
        prop_assert_eq!(slice(&s, 0, n), Some(s.as_str()));
    }

    #[test]
    fn out_of_range_and_reversed_slices_are_none(s in tricky(), a in 0usize..64, b in 0usize..64) {
        let n = char_len(&s);
        let got = slice(&s, a, b);
        if a > b || b > n {
            prop_assert_eq!(got, None);
        } else {
            prop_assert!(got.is_some());
        }
    }

    #[test]
    fn indexed_slices_equal_slices_and_clip(s in tricky(), a in 0usize..64, b in 0usize..64) {
        let ix = Indexed::new(s.clone());
        let n = char_len(&s);
        if a <= b && b <= n {
            prop_assert_eq!(ix.slice(a, b), slice(&s, a, b).unwrap());
        }
        // Clipped to the text: a range running past the end stops there,
        // a reversed or wholly outside one is empty.
        let (ca, cb) = (a.min(n), b.min(n));
        let want = if ca <= cb { slice(&s, ca, cb).unwrap() } else { "" };
        prop_assert_eq!(ix.slice(a, b), want);
    }

    #[test]
    fn normalised_text_has_no_cr_no_trailing_space_and_is_nfc(s in tricky()) {
        let t = normalise(&s);
        prop_assert!(!t.contains('\r'));
        prop_assert_eq!(t.trim_end(), t.as_str());
        prop_assert!(unicode_normalization::is_nfc(&t));
        if !s.starts_with('\u{feff}') {
            // Nothing else is dropped: the same text once line breaks are
            // unified and it is composed, up to trailing white space.
            let unified: String = s.replace("\r\n", "\n").replace('\r', "\n").nfc().collect();
            prop_assert_eq!(unified.trim_end(), t.as_str());
        }
    }

    #[test]
    fn utf16_with_a_bom_decodes_to_the_same_text(s in tricky()) {
        prop_assume!(!s.contains('\0'));
        let le: Vec<u8> = [0xFF, 0xFE].into_iter()
            .chain(s.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF].into_iter()
            .chain(s.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        prop_assert_eq!(decode(&le).unwrap(), s.clone());
        prop_assert_eq!(decode(&be).unwrap(), s.clone());
        let mut utf8 = vec![0xEF, 0xBB, 0xBF];
        utf8.extend_from_slice(s.as_bytes());
        prop_assert_eq!(decode(&utf8).unwrap(), s);
    }

    #[test]
    fn an_odd_number_of_utf16_bytes_is_refused(s in tricky()) {
        let mut le: Vec<u8> = [0xFF, 0xFE].into_iter()
            .chain(s.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        le.push(b'x');
        prop_assert_eq!(decode(&le), Err(text::TextError::BadUtf16));
    }
}

// ---------------------------------------------------------------------------
// domain::turns
// ---------------------------------------------------------------------------

proptest! {
    #[test]
    fn turns_of_any_text_are_ordered_ranges_inside_it(s in any::<String>()) {
        check_turns(&s, &parse(&s))?;
    }

    #[test]
    fn turns_of_label_like_text_are_ordered_ranges_inside_it(s in line_soup()) {
        check_turns(&s, &parse(&s))?;
    }

    #[test]
    fn generated_transcripts_parse_into_their_turns((text, want) in transcript()) {
        let got = parse(&text);
        check_turns(&text, &got)?;
        prop_assert_eq!(&got, &want, "{:?}", text);
        for t in &got {
            let body = slice(&text, t.start, t.end).unwrap();
            let label = format!("{}:", t.speaker.as_deref().unwrap());
            prop_assert!(body.starts_with(&label), "{body:?} does not start with {label:?}");
        }
    }
}

// ---------------------------------------------------------------------------
// domain::attribution
// ---------------------------------------------------------------------------

proptest! {
    #[test]
    fn word_counts_add_over_white_space(a in tricky(), b in tricky()) {
        prop_assert_eq!(word_count(&format!("{a} {b}")), word_count(&a) + word_count(&b));
        prop_assert!(word_count(&a) <= a.split_whitespace().count());
    }

    #[test]
    fn a_label_and_its_colon_open_the_turn(l in 0..LABELS.len(), rest in tricky()) {
        let label = LABELS[l];
        let opening = format!("{label}: {rest}");
        prop_assert_eq!(label_len(&opening, label), char_len(label) + 1);
        prop_assume!(!rest.contains(label));
        prop_assert_eq!(label_len(&rest, label), 0);
    }

    #[test]
    fn parts_of_a_coding_are_ordered_distinct_and_no_more_words_than_it_has(
        (text, _) in transcript_with_turns(),
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
    ) {
        let n = char_len(&text);
        let (start, end) = range(n, a, b);
        let turns = parse(&text);
        let got = parts(&text, 0, start, end, &spans(&turns));
        check_parts(&text, start, end, &got)?;
        // Every part is a turn's speaker met by the coding, or nobody's.
        for p in &got {
            if let Some(label) = &p.label {
                prop_assert!(turns.iter().any(|t| t.speaker.as_ref() == Some(label)
                    && t.start < end && t.end > start));
            }
        }
    }

    #[test]
    fn a_coding_inside_one_turn_is_that_speaker_s_alone(
        (text, _) in transcript_with_turns(),
        which in any::<prop::sample::Index>(),
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
    ) {
        let turns = parse(&text);
        let t = &turns[which.index(turns.len())];
        let (start, end) = range(t.end - t.start, a, b);
        let (start, end) = (t.start + start, t.start + end);
        let got = parts(&text, 0, start, end, &spans(&turns));
        prop_assert_eq!(got.len(), 1, "{:?}", got);
        prop_assert_eq!(&got[0].label, &t.speaker);
        prop_assert_eq!(got[0].first, start);
        check_parts(&text, start, end, &got)?;
    }

    #[test]
    fn the_window_may_be_any_that_covers_the_coding_and_the_turn_openings(
        (text, _) in transcript_with_turns(),
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
        back in 0usize..10,
    ) {
        let n = char_len(&text);
        let (start, end) = range(n, a, b);
        let turns = parse(&text);
        let spans = spans(&turns);
        let met: Vec<&TurnSpan> = spans.iter().filter(|t| t.start < end && t.end > start).collect();
        // The smallest window the contract allows, widened a little at the start.
        let from = met.iter().map(|t| t.start).chain([start]).min().unwrap().saturating_sub(back);
        let to = met
            .iter()
            .map(|t| t.end.min(t.start + OPENING))
            .chain([end])
            .max()
            .unwrap()
            .min(n);
        let window = slice(&text, from, to).unwrap();
        prop_assert_eq!(
            parts(window, from, start, end, &spans),
            parts(&text, 0, start, end, &spans)
        );
    }

    #[test]
    fn without_turns_a_coding_is_one_unlabelled_part(s in tricky().prop_filter("text", |s| !s.is_empty()), a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
        let n = char_len(&s);
        let (start, end) = range(n, a, b);
        let got = parts(&s, 0, start, end, &[]);
        let stretch = slice(&s, start, end).unwrap();
        if stretch.trim().is_empty() {
            prop_assert!(got.is_empty(), "{got:?}");
        } else {
            prop_assert_eq!(got, vec![Part { label: None, first: start, words: word_count(stretch) }]);
        }
    }
}

// ---------------------------------------------------------------------------
// formats::refi::positions
// ---------------------------------------------------------------------------

const READINGS: [(Unit, Crlf); 4] = [
    (Unit::CodePoints, Crlf::Two),
    (Unit::CodePoints, Crlf::One),
    (Unit::Utf16, Crlf::Two),
    (Unit::Utf16, Crlf::One),
];

proptest! {
    #[test]
    fn the_mapped_text_is_the_stored_text_and_the_table_is_monotonic(raw in tricky()) {
        for (unit, crlf) in READINGS {
            let (t, table) = normalise_with_map(&raw, unit, crlf);
            prop_assert_eq!(&t, &normalise(&raw));
            prop_assert_eq!(table.len(), units(&raw, unit, crlf) + 1);
            prop_assert!(table.windows(2).all(|w| w[0] <= w[1]));
            prop_assert_eq!(table.last().copied(), Some(char_len(&t) as u32));
        }
    }

    /// Where the raw text has an ASCII character (which starts a new
    /// character whatever precedes it), its position maps to the number of
    /// characters NFC makes of everything before it (capped at the end of
    /// the stored text, as trailing white space is dropped).
    #[test]
    fn positions_before_ascii_characters_map_exactly(raw in tricky()) {
        let body = raw.strip_prefix('\u{feff}').unwrap_or(&raw);
        let bom = raw.len() - body.len();
        for (unit, crlf) in READINGS {
            let (t, table) = normalise_with_map(&raw, unit, crlf);
            let n = char_len(&t);
            let mut previous = None;
            for (i, c) in body.char_indices() {
                let inside_crlf = c == '\n' && previous == Some('\r');
                previous = Some(c);
                if !c.is_ascii() || (inside_crlf && crlf == Crlf::One) {
                    continue;
                }
                let at = units(&raw[..bom + i], unit, crlf);
                // Inside a CRLF (counted as two) is where the break starts.
                let before = if inside_crlf { &body[..i - 1] } else { &body[..i] };
                let unified = before.replace("\r\n", "\n").replace('\r', "\n");
                let want = unified.nfc().count().min(n);
                prop_assert_eq!(table[at] as usize, want, "{:?} at {} ({:?} {:?})", raw, at, unit, crlf);
            }
        }
    }

    /// On stored text (already normalised), a code-point range converted to
    /// UTF-16 units maps back to itself, and so does the identity reading.
    #[test]
    fn code_point_ranges_round_trip_through_utf16(raw in starters().prop_filter("text", |r| !normalise(r).is_empty()), a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
        let stored = normalise(&raw);
        let n = char_len(&stored);
        let (start, end) = range(n, a, b);
        let u = utf16_offsets(&stored);
        for crlf in [Crlf::Two, Crlf::One] {
            let (t, table) = normalise_with_map(&stored, Unit::Utf16, crlf);
            prop_assert_eq!(&t, &stored);
            prop_assert_eq!(
                map(&table, u[start] as i64, u[end] as i64),
                Ok(Mapped { start, end })
            );
            let (_, identity) = normalise_with_map(&stored, Unit::CodePoints, crlf);
            prop_assert_eq!(identity, (0..=n as u32).collect::<Vec<_>>());
        }
    }

    /// A UTF-16 position between the two halves of a surrogate pair is
    /// where that character starts: a start is pulled back over the whole
    /// character, an end leaves the character out.
    #[test]
    fn positions_inside_a_surrogate_pair_snap_to_the_character_start(raw in starters().prop_filter("text", |r| !normalise(r).is_empty()), a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
        let stored = normalise(&raw);
        let chars: Vec<char> = stored.chars().collect();
        let n = chars.len();
        let (start, end) = range(n, a, b);
        let u = utf16_offsets(&stored);
        let (_, table) = normalise_with_map(&stored, Unit::Utf16, Crlf::Two);
        let astral = |p: usize| chars.get(p).is_some_and(|c| c.len_utf16() == 2);
        if astral(start) {
            prop_assert_eq!(table[u[start] + 1] as usize, start);
            let got = map(&table, u[start] as i64 + 1, u[end] as i64);
            if u[start] + 1 < u[end] {
                prop_assert_eq!(got, Ok(Mapped { start, end }));
            }
        }
        if astral(end) {
            prop_assert_eq!(table[u[end] + 1] as usize, end);
            prop_assert_eq!(
                map(&table, u[start] as i64, u[end] as i64 + 1),
                Ok(Mapped { start, end })
            );
        }
    }

    /// A raw text with CRLF, read with either CRLF count, maps each position
    /// after a line break to the same stored position.
    #[test]
    fn crlf_counted_either_way_maps_to_the_same_place(lines in prop::collection::vec("[a-z😀 ]{0,6}", 1..6)) {
        let raw = lines.join("\r\n");
        let (stored, two) = normalise_with_map(&raw, Unit::Utf16, Crlf::Two);
        let (_, one) = normalise_with_map(&raw, Unit::Utf16, Crlf::One);
        let n = char_len(&stored);
        let (mut at_two, mut at_one) = (0usize, 0usize);
        let mut at = 0usize;
        for (i, l) in lines.iter().enumerate() {
            if i > 0 {
                // Inside the CRLF (counted as two) is the break itself.
                prop_assert_eq!(two[at_two + 1] as usize, at.min(n));
                at_two += 2;
                at_one += 1;
                at += 1;
            }
            prop_assert_eq!(two[at_two] as usize, at.min(n));
            prop_assert_eq!(one[at_one] as usize, at.min(n));
            at_two += units(l, Unit::Utf16, Crlf::Two);
            at_one += units(l, Unit::Utf16, Crlf::One);
            at += char_len(l);
        }
    }

    #[test]
    fn map_refuses_what_it_cannot_place(raw in tricky(), start in -3i64..60, end in -3i64..60) {
        for (unit, crlf) in READINGS {
            let (t, table) = normalise_with_map(&raw, unit, crlf);
            let n = char_len(&t);
            let len = table.len() - 1;
            let got = map(&table, start, end);
            match got {
                Ok(m) => {
                    prop_assert!(m.start < m.end && m.end <= n, "{m:?} outside 0..{n}");
                    prop_assert_eq!(m.start, table[start as usize] as usize);
                    prop_assert_eq!(m.end, table[end as usize] as usize);
                }
                Err(MapError::Negative { .. }) => prop_assert!(start < 0 || end < 0),
                Err(MapError::Reversed { .. }) => prop_assert!(start >= 0 && end >= 0 && start > end),
                Err(MapError::Empty { at }) => prop_assert!(start == end && at == start),
                Err(MapError::OutOfRange { len: l, .. }) => {
                    prop_assert_eq!(l, len);
                    prop_assert!(end as usize > len);
                }
                Err(MapError::Collapsed { .. }) => {
                    prop_assert!(0 <= start && start < end && end as usize <= len);
                    prop_assert_eq!(table[start as usize], table[end as usize]);
                }
            }
        }
    }

    #[test]
    fn scores_count_within_their_selections(
        raw in tricky(),
        sels in prop::collection::vec((-2i64..60, -2i64..60, prop::option::of("[a-z ]{0,8}")), 0..8),
        atlas in any::<bool>(),
    ) {
        let sels: Vec<(i64, i64, Option<&str>)> =
            sels.iter().map(|(a, b, n)| (*a, *b, n.as_deref())).collect();
        let origin = atlas.then_some("ATLAS.ti 9");
        let (unit, crlf, score) = choose_unit(&raw, &sels, origin);
        prop_assert_eq!(score.selections, sels.len());
        prop_assert!(score.in_range <= score.selections);
        prop_assert!(score.named <= score.in_range);
        prop_assert!(score.name_matches <= score.named);
        prop_assert!(score.word_bounded <= score.in_range);
        // Only readings that can differ for this text are chosen.
        if unit == Unit::Utf16 {
            prop_assert!(raw.chars().any(|c| c.len_utf16() == 2));
        }
        if !raw.contains("\r\n") && !atlas {
            prop_assert_eq!(crlf, Crlf::Two);
        }
    }
}
