//! Mapping REFI-QDA selections onto Parley's text.
//!
//! A selection in an exchange file counts positions in the source's raw
//! `.txt` as its tool counted them: code points (the spec, ATLAS.ti) or
//! UTF-16 units (NVivo for Windows, QualCoder), a CRLF as two units (the
//! spec, NVivo) or as one (ATLAS.ti). Parley keeps the text normalised
//! (`domain::text::normalise`: NFC, `\n` line breaks, no trailing white
//! space) and counts code points in that. [`normalise_with_map`] gives the
//! normalised text with a table from every raw position to a Parley
//! position; [`choose_unit`] finds, per file, the reading under which the
//! selections fit best; [`map`] turns one selection into Parley positions or
//! says why it cannot.

use std::fmt;
use std::iter;

use unicode_normalization::char::{canonical_combining_class, is_combining_mark};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// What a position counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Unicode code points (Rust `char`s): the spec.
    CodePoints,
    /// UTF-16 code units: a character outside the BMP (most emoji) counts
    /// two. NVivo for Windows and QualCoder (Qt) count this way.
    Utf16,
}

/// How a CRLF line break counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Crlf {
    /// As two units, like any two characters: the spec, NVivo.
    Two,
    /// As one unit: ATLAS.ti.
    One,
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unit::CodePoints => "code points",
            Unit::Utf16 => "UTF-16 units",
        })
    }
}

impl fmt::Display for Crlf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Crlf::Two => "a CRLF line break counted as two",
            Crlf::One => "a CRLF line break counted as one",
        })
    }
}

/// A selection in Parley's positions: code points of the normalised text,
/// `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapped {
    pub start: usize,
    pub end: usize,
}

/// Why a selection cannot be placed; the importer lists these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    #[error("it has a negative position ({start} to {end})")]
    Negative { start: i64, end: i64 },
    #[error("it starts after it ends ({start} to {end})")]
    Reversed { start: i64, end: i64 },
    #[error("it is empty (starts and ends at {at})")]
    Empty { at: i64 },
    #[error("it ends at {end}, beyond the end of the text ({len})")]
    OutOfRange { start: i64, end: i64, len: usize },
    #[error(
        "it covers only characters Parley does not keep, such as white space at the very end ({start} to {end})"
    )]
    Collapsed { start: i64, end: i64 },
}

/// How well one reading fits a file's selections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Score {
    /// Selections considered.
    pub selections: usize,
    /// Selections inside the text (zero-length ones included).
    pub in_range: usize,
    /// Selections with a `name` that can be compared with their text.
    pub named: usize,
    /// Selections whose text equals their `name` (white space collapsed;
    /// a name ending in "…" must be a prefix of the text).
    pub name_matches: usize,
    /// Selections (non-empty, in range) whose both ends fall on word
    /// boundaries.
    pub word_bounded: usize,
}

impl Score {
    /// Names that match are the strongest evidence, then selections that
    /// fit at all, then clean word boundaries.
    fn key(&self) -> (usize, usize, usize) {
        (self.name_matches, self.in_range, self.word_bounded)
    }
}

fn width(c: char, unit: Unit) -> usize {
    match unit {
        Unit::CodePoints => 1,
        Unit::Utf16 => c.len_utf16(),
    }
}

/// Where NFC may split the text: before a starter that cannot combine with
/// what precedes it (canonical combining class 0, not a mark, NFC quick
/// check "yes"). Everything else (combining marks, Hangul medial vowels
/// and final consonants, characters that decompose to non-starters) stays
/// with the character before it, so normalising each group alone gives
/// the same text as normalising the whole.
fn starts_group(c: char) -> bool {
    c.is_ascii()
        || (canonical_combining_class(c) == 0
            && !is_combining_mark(c)
            && is_nfc_quick(iter::once(c)) == IsNormalized::Yes)
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The text as Parley stores it (`domain::text::normalise`: a leading BOM
/// dropped, CRLF and lone CR as `\n`, NFC, trailing white space removed),
/// and for every position `0..=len` of `raw` counted in `unit` (with CRLF
/// counted as `crlf` says) the code-point position in that text.
///
/// A position inside a CRLF (only with [`Crlf::Two`]), inside a surrogate
/// pair (only with [`Unit::Utf16`]) or inside a base character with its
/// combining marks maps to where that character starts; positions in the
/// removed trailing white space map to the end.
pub fn normalise_with_map(raw: &str, unit: Unit, crlf: Crlf) -> (String, Vec<u32>) {
    // Line breaks unified, each character with the raw position it starts at.
    let mut pre: Vec<(char, usize)> = Vec::with_capacity(raw.len());
    let mut pos = 0usize;
    let mut chars = raw.chars().peekable();
    if chars.peek() == Some(&'\u{feff}') {
        chars.next();
        pos += 1;
    }
    while let Some(c) = chars.next() {
        let start = pos;
        match c {
            '\r' if chars.peek() == Some(&'\n') => {
                chars.next();
                pos += match crlf {
                    Crlf::Two => 2,
                    Crlf::One => 1,
                };
                pre.push(('\n', start));
            }
            '\r' => {
                pos += 1;
                pre.push(('\n', start));
            }
            _ => {
                pos += width(c, unit);
                pre.push((c, start));
            }
        }
    }
    let raw_len = pos;

    let mut out = String::with_capacity(raw.len());
    let mut out_len = 0usize;
    let mut map = vec![0u32; raw_len + 1];
    let mut group = String::new();
    let mut i = 0;
    while i < pre.len() {
        let mut j = i + 1;
        while j < pre.len() && !starts_group(pre[j].0) {
            j += 1;
        }
        let raw_start = pre[i].1;
        let raw_end = pre.get(j).map_or(raw_len, |p| p.1);
        let at = to_u32(out_len);
        for slot in &mut map[raw_start..raw_end] {
            *slot = at;
        }
        if j == i + 1 && starts_group(pre[i].0) {
            out.push(pre[i].0);
            out_len += 1;
        } else {
            group.clear();
            group.extend(pre[i..j].iter().map(|p| p.0));
            for c in group.nfc() {
                out.push(c);
                out_len += 1;
            }
        }
        i = j;
    }
    map[raw_len] = to_u32(out_len);

    let kept = out.trim_end().len();
    if kept < out.len() {
        out_len -= out[kept..].chars().count();
        out.truncate(kept);
        let end = to_u32(out_len);
        for slot in &mut map {
            *slot = (*slot).min(end);
        }
    }
    (out, map)
}

/// One selection in Parley's positions, through a table from
/// [`normalise_with_map`]. Positions are `[start, end)`.
pub fn map(map: &[u32], start: i64, end: i64) -> Result<Mapped, MapError> {
    if start < 0 || end < 0 {
        return Err(MapError::Negative { start, end });
    }
    if start > end {
        return Err(MapError::Reversed { start, end });
    }
    if start == end {
        return Err(MapError::Empty { at: start });
    }
    let len = map.len().saturating_sub(1);
    let index = |p: i64| {
        usize::try_from(p)
            .ok()
            .filter(|&p| p <= len && !map.is_empty())
    };
    let (Some(a), Some(b)) = (index(start), index(end)) else {
        return Err(MapError::OutOfRange { start, end, len });
    };
    let mapped = Mapped {
        start: map[a] as usize,
        end: map[b] as usize,
    };
    if mapped.start >= mapped.end {
        return Err(MapError::Collapsed { start, end });
    }
    Ok(mapped)
}

/// The readings worth trying for this text, most preferred first: the
/// spec (code points, CRLF = 2), or CRLF = 1 first for ATLAS.ti. A reading
/// that cannot differ from an earlier one for this text is left out.
fn candidates(raw: &str, origin: Option<&str>) -> Vec<(Unit, Crlf)> {
    let atlas = origin.is_some_and(|o| o.to_ascii_lowercase().contains("atlas"));
    let crlfs: &[Crlf] = match (atlas, raw.contains("\r\n")) {
        (false, true) => &[Crlf::Two, Crlf::One],
        (true, true) => &[Crlf::One, Crlf::Two],
        (false, false) => &[Crlf::Two],
        (true, false) => &[Crlf::One],
    };
    let units: &[Unit] = if raw.chars().any(|c| c.len_utf16() > 1) {
        &[Unit::CodePoints, Unit::Utf16]
    } else {
        &[Unit::CodePoints]
    };
    units
        .iter()
        .flat_map(|&u| crlfs.iter().map(move |&c| (u, c)))
        .collect()
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || is_combining_mark(c)
}

fn on_word_boundary(chars: &[char], p: usize) -> bool {
    p == 0 || p >= chars.len() || !(is_word(chars[p - 1]) && is_word(chars[p]))
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether the selected text fits the selection's name; `None` when the
/// name says nothing about the text (absent or blank).
fn name_fits(selected: &str, name: &str) -> Option<bool> {
    let name = collapse(&name.nfc().collect::<String>());
    if name.is_empty() {
        return None;
    }
    let selected = collapse(selected);
    // ATLAS.ti and others shorten long names to a preview ending in "…".
    let preview = name
        .strip_suffix('…')
        .or_else(|| name.strip_suffix("..."))
        .map(str::trim_end);
    if let Some(prefix) = preview
        && prefix.chars().count() >= 8
    {
        return Some(selected.starts_with(prefix));
    }
    Some(selected == name)
}

fn score(raw: &str, unit: Unit, crlf: Crlf, selections: &[(i64, i64, Option<&str>)]) -> Score {
    let (text, table) = normalise_with_map(raw, unit, crlf);
    let chars: Vec<char> = text.chars().collect();
    let mut score = Score {
        selections: selections.len(),
        ..Score::default()
    };
    for &(start, end, name) in selections {
        match map(&table, start, end) {
            Ok(m) => {
                score.in_range += 1;
                if on_word_boundary(&chars, m.start) && on_word_boundary(&chars, m.end) {
                    score.word_bounded += 1;
                }
                let fits = name.filter(|n| !n.trim().is_empty()).and_then(|n| {
                    let selected: String = chars[m.start..m.end].iter().collect();
                    name_fits(&selected, n)
                });
                match fits {
                    Some(true) => {
                        score.named += 1;
                        score.name_matches += 1;
                    }
                    Some(false) => score.named += 1,
                    None => {}
                }
            }
            Err(MapError::Empty { .. } | MapError::Collapsed { .. }) => score.in_range += 1,
            Err(_) => {}
        }
    }
    score
}

/// The reading of one file's positions that fits its selections best
/// (`(start, end, name)` each, as written), with its score so the import
/// report can say which reading was chosen and how many selections fit.
///
/// Candidates are code points and UTF-16 units (the latter only when the
/// text has characters outside the BMP) × CRLF as two or one (the latter
/// only when the text has CRLF). The best has the most selections whose
/// text equals their name, then the most in range, then the most on word
/// boundaries; ties go to the spec (code points, CRLF = 2), except that for
/// an `origin` naming ATLAS.ti CRLF = 1 is preferred.
pub fn choose_unit(
    raw: &str,
    selections: &[(i64, i64, Option<&str>)],
    origin: Option<&str>,
) -> (Unit, Crlf, Score) {
    let mut best: Option<(Unit, Crlf, Score)> = None;
    for (unit, crlf) in candidates(raw, origin) {
        let s = score(raw, unit, crlf, selections);
        if best.is_none_or(|(_, _, b)| s.key() > b.key()) {
            best = Some((unit, crlf, s));
        }
    }
    // candidates() always yields at least one reading.
    best.unwrap_or((Unit::CodePoints, Crlf::Two, Score::default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::normalise;

    /// Position of `needle` in `hay`, counted in `unit` with CRLF as `crlf`.
    fn offset(hay: &str, needle: &str, unit: Unit, crlf: Crlf) -> i64 {
        let byte = hay.find(needle).expect("needle in text");
        units(&hay[..byte], unit, crlf)
    }

    fn units(text: &str, unit: Unit, crlf: Crlf) -> i64 {
        let mut n = 0;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\r' && chars.peek() == Some(&'\n') && crlf == Crlf::One {
                chars.next();
                n += 1;
            } else {
                n += width(c, unit);
            }
        }
        i64::try_from(n).unwrap()
    }

    /// A selection of `needle`, as a tool counting this way would write it.
    fn select(hay: &str, needle: &str, unit: Unit, crlf: Crlf) -> (i64, i64) {
        let start = offset(hay, needle, unit, crlf);
        (start, start + units(needle, unit, crlf))
    }

    fn text_of(raw: &str, unit: Unit, crlf: Crlf, sel: (i64, i64)) -> String {
        let (text, table) = normalise_with_map(raw, unit, crlf);
        let m = map(&table, sel.0, sel.1).unwrap();
        text.chars().skip(m.start).take(m.end - m.start).collect()
    }

    #[test]
    fn the_normalised_text_is_what_parley_stores() {
        let samples = [
            "",
            "plain ascii",
            "Cafe\u{301}\r\nline\rend\n\n",
            "\u{feff}BOM then text",
            "\u{feff}\u{feff}two BOMs",
            "emoji 😀👩‍👩‍👧 and flags 🇫🇷\r\n",
            "trailing   \t\r\n  ",
            "\r\n\u{301} a mark after a line break",
            "\u{301}starts with a mark",
            "e\u{301}\u{302}\u{323} stacked marks out of order",
            "Hangul jamo \u{1100}\u{1161}\u{11a8} and \u{ac00}\u{11a8}",
            "Angstrom \u{212b} ohm \u{2126} singletons",
            "Tibetan \u{0f73} Oriya \u{0b47}\u{0b3e} Devanagari \u{0958}",
            "mixed\r\r\n\n\r",
            "   ",
            "\u{feff}",
        ];
        for raw in samples {
            for unit in [Unit::CodePoints, Unit::Utf16] {
                for crlf in [Crlf::Two, Crlf::One] {
                    let (text, table) = normalise_with_map(raw, unit, crlf);
                    assert_eq!(text, normalise(raw), "{raw:?}");
                    assert_eq!(
                        table.len() as i64,
                        units(raw, unit, crlf) + 1,
                        "{raw:?} {unit:?} {crlf:?}"
                    );
                    let len = text.chars().count() as u32;
                    assert!(table.windows(2).all(|w| w[0] <= w[1]), "{raw:?}");
                    assert!(table.iter().all(|&p| p <= len), "{raw:?}");
                    assert_eq!(table.last(), Some(&len));
                }
            }
        }
    }

    #[test]
    fn the_normalised_text_matches_on_random_tricky_text() {
        // Characters that interact under NFC, line breaks and emoji, in
        // every order a small deterministic generator produces.
        let alphabet = [
            'a', 'e', ' ', '\r', '\n', '\u{301}', '\u{302}', '\u{323}', '\u{1100}', '\u{1161}',
            '\u{11a8}', '\u{ac00}', '\u{212b}', '\u{0f73}', '\u{0f71}', '\u{0b47}', '\u{0b3e}',
            '😀', '\u{200d}', '\u{fe0f}', '\u{feff}', 'é', 'A', '\u{30a}', '\t',
        ];
        let mut state = 0x2545_f491_u64;
        for _ in 0..3000 {
            let len = (state % 12) as usize;
            let raw: String = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            for unit in [Unit::CodePoints, Unit::Utf16] {
                let (text, table) = normalise_with_map(&raw, unit, Crlf::Two);
                assert_eq!(text, normalise(&raw), "{raw:?}");
                assert!(table.windows(2).all(|w| w[0] <= w[1]), "{raw:?}");
            }
        }
    }

    #[test]
    fn utf16_offsets_from_nvivo_on_emoji_text_are_recognised_and_exact() {
        let raw = "\u{1F600} So happy today!! \u{1F389}\u{1F389} #party\r\n\
                   \u{1F62D}\u{1F62D} worst service ever \u{1F621} never again\r\n\
                   Loved the staff \u{2764}\u{FE0F} they were kind \u{1F44D}\r\n";
        let phrases = [
            "So happy today",
            "party",
            "worst service ever",
            "never again",
            "Loved the staff",
            "they were kind",
        ];
        let sels: Vec<(i64, i64, Option<&str>)> = phrases
            .iter()
            .map(|p| {
                let (s, e) = select(raw, p, Unit::Utf16, Crlf::Two);
                // NVivo writes empty names.
                (s, e, Some(""))
            })
            .collect();
        let (unit, crlf, score) = choose_unit(raw, &sels, Some("NVivo 12.6"));
        assert_eq!((unit, crlf), (Unit::Utf16, Crlf::Two));
        assert_eq!(score.selections, 6);
        assert_eq!(score.in_range, 6);
        assert_eq!(score.word_bounded, 6);
        for (p, s) in phrases.iter().zip(&sels) {
            assert_eq!(text_of(raw, unit, crlf, (s.0, s.1)), *p);
        }
        // Read as code points the same offsets drift right.
        let drift = text_of(raw, Unit::CodePoints, Crlf::Two, (sels[2].0, sels[2].1));
        assert_ne!(drift, "worst service ever");
    }

    #[test]
    fn code_point_offsets_on_emoji_text_stay_code_points() {
        let raw = "\u{1F600} So happy today!! \u{1F389}\u{1F389} #party\n\
                   \u{1F62D}\u{1F62D} worst service ever \u{1F621} never again\n";
        let sels: Vec<(i64, i64, Option<&str>)> = ["happy", "party", "worst service", "again"]
            .iter()
            .map(|p| {
                let (s, e) = select(raw, p, Unit::CodePoints, Crlf::Two);
                (s, e, None)
            })
            .collect();
        let (unit, crlf, score) = choose_unit(raw, &sels, None);
        assert_eq!((unit, crlf), (Unit::CodePoints, Crlf::Two));
        assert_eq!(score.word_bounded, 4);
    }

    #[test]
    fn names_holding_the_selected_text_decide_the_unit() {
        // QualCoder: Qt's UTF-16 positions, the selected text as the name.
        let raw = "a😀 b😀 c😀 d😀 e😀 one two three four five six\n";
        let (s, e) = select(raw, "two three", Unit::Utf16, Crlf::Two);
        let sels = [(s, e, Some("two  three"))];
        let (unit, _, score) = choose_unit(raw, &sels, Some("QualCoder 3.5"));
        assert_eq!(unit, Unit::Utf16);
        assert_eq!((score.named, score.name_matches), (1, 1));
    }

    #[test]
    fn crlf_counted_as_two_maps_exactly() {
        let raw = "Interviewer: How was it?\r\nP1: It was fine.\r\nP2: Not for me.\r\n";
        let sels: Vec<(i64, i64, Option<&str>)> = ["It was fine.", "Not for me."]
            .iter()
            .map(|p| {
                let (s, e) = select(raw, p, Unit::CodePoints, Crlf::Two);
                (s, e, None)
            })
            .collect();
        let (unit, crlf, score) = choose_unit(raw, &sels, Some("NVivo 12.6"));
        assert_eq!((unit, crlf), (Unit::CodePoints, Crlf::Two));
        assert_eq!(score.word_bounded, 2);
        assert_eq!(
            text_of(raw, unit, crlf, (sels[1].0, sels[1].1)),
            "Not for me."
        );
        // A position between \r and \n is the line break itself.
        let (_, table) = normalise_with_map(raw, Unit::CodePoints, Crlf::Two);
        let cr = offset(raw, "\r\n", Unit::CodePoints, Crlf::Two) as usize;
        assert_eq!(table[cr], table[cr + 1]);
        assert_eq!(table[cr + 2], table[cr] + 1);
    }

    #[test]
    fn atlas_counts_a_crlf_as_one() {
        let raw = "Mabel: I have Coke for breakfast.\r\nInterviewer: Really?\r\nMabel: Every day, diet Coke.\r\n";
        let phrases = ["Every day", "diet Coke", "Really"];
        let sels: Vec<(i64, i64, Option<&str>)> = phrases
            .iter()
            .map(|p| {
                let (s, e) = select(raw, p, Unit::CodePoints, Crlf::One);
                (s, e, Some("Quotation 1:1"))
            })
            .collect();
        let (unit, crlf, _) = choose_unit(raw, &sels, Some("ATLAS.ti 8.4.0"));
        assert_eq!((unit, crlf), (Unit::CodePoints, Crlf::One));
        for (p, s) in phrases.iter().zip(&sels) {
            assert_eq!(text_of(raw, unit, crlf, (s.0, s.1)), *p);
        }
        // Even without the origin, word boundaries find it.
        let (_, crlf, _) = choose_unit(raw, &sels, None);
        assert_eq!(crlf, Crlf::One);
    }

    #[test]
    fn ties_go_to_the_spec_or_to_crlf_one_for_atlas() {
        let raw = "one\r\ntwo\r\n";
        let none: [(i64, i64, Option<&str>); 0] = [];
        assert_eq!(
            choose_unit(raw, &none, None),
            (Unit::CodePoints, Crlf::Two, Score::default())
        );
        assert_eq!(choose_unit(raw, &none, Some("ATLAS.ti 9")).1, Crlf::One);
        // "one" fits under both readings.
        let sels = [(0, 3, Some("one"))];
        assert_eq!(choose_unit(raw, &sels, None).1, Crlf::Two);
        assert_eq!(choose_unit(raw, &sels, Some("atlas.ti")).1, Crlf::One);
    }

    #[test]
    fn a_byte_order_mark_left_in_the_text_is_dropped_and_counted() {
        let raw = "\u{feff}Hello world";
        let (text, table) = normalise_with_map(raw, Unit::CodePoints, Crlf::Two);
        assert_eq!(text, "Hello world");
        assert_eq!(map(&table, 7, 12), Ok(Mapped { start: 6, end: 11 }));
        assert_eq!(map(&table, 0, 6), Ok(Mapped { start: 0, end: 5 }));
    }

    #[test]
    fn decomposed_accents_map_to_the_composed_character() {
        // "Cafe\u{301} au lait": the raw text has 13 code points, Parley 12.
        let raw = "Cafe\u{301} au lait";
        let (text, table) = normalise_with_map(raw, Unit::CodePoints, Crlf::Two);
        assert_eq!(text, "Caf\u{e9} au lait");
        assert_eq!(table, vec![0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        // "Café" (0..5 raw) → 0..4; "au" (6..8) → 5..7.
        assert_eq!(map(&table, 0, 5), Ok(Mapped { start: 0, end: 4 }));
        assert_eq!(map(&table, 6, 8), Ok(Mapped { start: 5, end: 7 }));
        // Ending between the e and its accent leaves the é out.
        assert_eq!(map(&table, 0, 4), Ok(Mapped { start: 0, end: 3 }));
        // Hangul jamo compose into one syllable.
        let (text, table) =
            normalise_with_map("\u{1100}\u{1161}\u{11a8}x", Unit::CodePoints, Crlf::Two);
        assert_eq!(text, "\u{ac01}x");
        assert_eq!(table, vec![0, 0, 0, 1, 2]);
    }

    #[test]
    fn surrogate_pairs_and_trailing_space() {
        let raw = "😀x  \n";
        let (text, table) = normalise_with_map(raw, Unit::Utf16, Crlf::Two);
        assert_eq!(text, "😀x");
        assert_eq!(table, vec![0, 0, 1, 2, 2, 2, 2]);
        assert_eq!(
            map(&table, 3, 5),
            Err(MapError::Collapsed { start: 3, end: 5 })
        );
    }

    #[test]
    fn bad_selections_are_reported() {
        let (_, table) = normalise_with_map("short text", Unit::CodePoints, Crlf::Two);
        assert_eq!(
            map(&table, -1, 3),
            Err(MapError::Negative { start: -1, end: 3 })
        );
        assert_eq!(
            map(&table, 5, 2),
            Err(MapError::Reversed { start: 5, end: 2 })
        );
        assert_eq!(map(&table, 4, 4), Err(MapError::Empty { at: 4 }));
        assert_eq!(
            map(&table, 6, 11),
            Err(MapError::OutOfRange {
                start: 6,
                end: 11,
                len: 10
            })
        );
        assert_eq!(
            map(&table, i64::MAX - 1, i64::MAX),
            Err(MapError::OutOfRange {
                start: i64::MAX - 1,
                end: i64::MAX,
                len: 10
            })
        );
        assert_eq!(map(&table, 6, 10), Ok(Mapped { start: 6, end: 10 }));
        assert_eq!(
            map(&[], 0, 1),
            Err(MapError::OutOfRange {
                start: 0,
                end: 1,
                len: 0
            })
        );
        assert!(
            MapError::OutOfRange {
                start: 6,
                end: 11,
                len: 10
            }
            .to_string()
            .contains("beyond the end")
        );
    }

    #[test]
    fn zero_length_and_out_of_range_selections_count_in_scores() {
        let raw = "alpha beta gamma";
        let sels = [(0, 5, None), (6, 6, None), (100, 120, None), (-3, 2, None)];
        let (_, _, score) = choose_unit(raw, &sels, Some("ATLAS.ti"));
        assert_eq!(score.selections, 4);
        assert_eq!(score.in_range, 2);
        assert_eq!(score.word_bounded, 1);
    }

    #[test]
    fn previews_ending_in_an_ellipsis_match_as_prefixes() {
        assert_eq!(
            name_fits("For some reason babies aren't supposed", "For some reason…"),
            Some(true)
        );
        assert_eq!(name_fits("something else", "For some reason…"), Some(false));
        assert_eq!(name_fits("x", "  "), None);
        assert_eq!(name_fits("Caf\u{e9}", "Cafe\u{301}"), Some(true));
    }
}
